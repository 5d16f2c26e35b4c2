import CLibPQ

/// COPY ... FROM STDIN in text format.
extension Connection {
    /// Bytes gathered before each `PQputCopyData`: few calls, bounded memory.
    static let copyChunkBytes = 64 * 1024
    /// Results a single command can leave behind; draining stops past it.
    static let resultsPerCommandMax = 16

    /// Streams `rows` into `copySQL` (a `COPY table (columns) FROM STDIN`) in text format and
    /// returns the number of rows copied. Values are escaped (`\\`, `\t`, `\n`, `\r`; nil is `\N`),
    /// so any text round-trips exactly. Each row must have one value per copied column.
    public func copyIn(_ copySQL: String, rows: some Sequence<[String?]>) throws(PostgresError) -> Int {
        precondition(!copySQL.utf8.contains(0), "SQL text contains a NUL byte")
        try sendPendingBegin()
        let columnCount: Int
        do {
            guard let start = OwnedResult(PQexec(live, copySQL)) else { throw failureWithoutResult() }
            guard start.status == PGRES_COPY_IN else {
                let error = start.status == PGRES_FATAL_ERROR
                    ? failure(start)
                    : PostgresError(code: .copyFailed, message: "not a COPY FROM STDIN: \(copySQL)")
                abandonCopy(start.status)
                throw error
            }
            columnCount = Int(PQnfields(start.pointer))
        }
        var encoder = CopyTextEncoder(reservingCapacity: Self.copyChunkBytes + Self.copyChunkBytes / 4)
        for (index, row) in rows.enumerated() {
            guard row.count == columnCount else {
                abortCopy("row \(index + 1) has \(row.count) values, COPY expects \(columnCount)")
                throw PostgresError(
                    code: .copyFailed, message: "row \(index + 1) has \(row.count) values, COPY expects \(columnCount)")
            }
            do {
                try encoder.append(row)
            } catch {
                abortCopy(error.message)
                throw error
            }
            if encoder.bytes.count >= Self.copyChunkBytes {
                try putCopyData(encoder.bytes)
                encoder.removeAll()
            }
        }
        if !encoder.bytes.isEmpty {
            try putCopyData(encoder.bytes)
        }
        guard PQputCopyEnd(live, nil) == 1 else {
            throw failureWithoutResult()
        }
        return try finishCopy().affectedRows
    }

    private func putCopyData(_ bytes: [UInt8]) throws(PostgresError) {
        let sent = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { PQputCopyData(live, $0.baseAddress, Int32($0.count)) }
        }
        guard sent == 1 else {
            // The server may have ended the COPY with an error (a bad value); that error says why.
            let libpqError = failureWithoutResult()
            _ = try finishCopy()
            throw libpqError
        }
    }

    /// Reads the COPY's final result and whatever follows it; throws the server's error if any.
    private func finishCopy() throws(PostgresError) -> OwnedResult {
        do {
            let result = try run { PQgetResult($0) }
            drainResults()
            return result
        } catch {
            drainResults()
            throw error
        }
    }

    /// Ends a COPY IN with an error, so the server discards what was sent.
    private func abortCopy(_ reason: String) {
        PQputCopyEnd(live, reason)
        drainResults()
    }

    /// Leaves a COPY state a statement entered unasked, so the connection is usable again.
    func abandonCopy(_ status: ExecStatusType) {
        switch status {
        case PGRES_COPY_IN:
            abortCopy("COPY FROM STDIN is only supported through copyIn")
        case PGRES_COPY_OUT:
            var buffer: UnsafeMutablePointer<CChar>?
            while PQgetCopyData(live, &buffer, 0) > 0 {
                PQfreemem(buffer)
            }
            drainResults()
        default:
            return
        }
    }

    /// Reads and clears results until libpq has none left for the current command.
    func drainResults() {
        for _ in 0..<Self.resultsPerCommandMax {
            guard let result = PQgetResult(live) else { return }
            PQclear(result)
        }
        assertionFailure("more than \(Self.resultsPerCommandMax) results for one command")
    }
}
