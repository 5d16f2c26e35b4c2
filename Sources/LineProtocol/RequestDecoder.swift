/// Incremental request decoder: a value-type state machine with no I/O.
///
/// Feed it whatever chunks the socket delivered with `append`, then call `next()` until it
/// returns nil. It accepts RESP arrays of bulk strings (what Redis clients send) and inline lines
/// (what a person types into `nc`), decided per request by the first byte, as Redis does: `*`
/// starts a RESP array, anything else an inline line. `*0` and `*-1` arrays and blank lines
/// produce no request. The result never depends on how the bytes were chunked.
///
/// Work is linear in the bytes received: the decoder remembers how far it has scanned an
/// incomplete line, and drops consumed bytes only once they are at least half the buffer.
public struct RequestDecoder: Sendable {
    /// May change between requests: a server applies tighter limits before a client signs in.
    public var limits: ProtocolLimits {
        didSet { limits.assertValid() }
    }
    private var buffer: [UInt8] = []
    /// Bytes before this index belong to requests already returned or to arguments already taken.
    private var readIndex = 0
    private var state: State = .awaitingRequest

    private enum State {
        /// Between requests: the next byte decides the request's kind.
        case awaitingRequest
        /// In an inline line whose first `scannedBytes` bytes hold no `\n`.
        case inline(scannedBytes: Int)
        /// In a RESP array, its header consumed.
        case multibulk(MultibulkProgress)
        /// A framing or limit error: the stream cannot be resynchronised.
        case failed(ProtocolError)
    }

    private struct MultibulkProgress {
        var argumentCount: Int
        var arguments: [[UInt8]] = []
        /// The length announced by the current bulk's `$len` header, while its payload is pending.
        var pendingBulkBytes: Int?
        /// Wire bytes of this request known so far, counted against `maxBufferedBytes`.
        var requestBytes: Int
    }

    private enum Step {
        case needMoreBytes
        /// Consumed something that is not a request (blank line, empty array); go on.
        case progressed
        case request(Request)
    }

    /// A RESP header is `*` or `$`, an optional sign, at most 19 digits and CRLF; any line
    /// longer than this cannot be valid, so the decoder need not wait for its CRLF.
    static let maxHeaderLineBytes = 32
    /// Consumed bytes are not moved out of the buffer before there are at least this many.
    static let compactionMinBytes = 4096
    /// An emptied buffer keeps its allocation for the next reads only up to this size, so one
    /// large request does not pin memory for the rest of a connection.
    static let retainedCapacityMaxBytes = 256 * 1024

    public init(limits: ProtocolLimits = .default) {
        limits.assertValid()
        self.limits = limits
    }

    /// Bytes received but not yet consumed: parsed headers, completed arguments and returned
    /// requests no longer count.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Adds received bytes. Ignored once the decoder has failed.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        bytes.withMemoryRebound(to: UInt8.self) { append(contiguous: $0) }
    }

    /// Adds received bytes. Ignored once the decoder has failed.
    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append(contiguous: $0) }
    }

    /// The next complete request, or nil if more bytes are needed.
    ///
    /// After a throw the decoder is poisoned: it drops its buffer and every later call throws
    /// the same error, because the server replies once (`error.reply`) and closes.
    public mutating func next() throws(ProtocolError) -> Request? {
        while true {
            let step: Step
            do throws(ProtocolError) {
                step = try advance()
            } catch {
                fail(error)
                throw error
            }
            switch step {
            case .needMoreBytes: return nil
            case .progressed: continue
            case .request(let request): return request
            }
        }
    }

    private mutating func append(contiguous bytes: UnsafeBufferPointer<UInt8>) {
        if case .failed = state { return }
        discardConsumedBytes()
        buffer.append(contentsOf: bytes)
    }

    /// Moves each unconsumed byte at most about once per byte consumed, keeping appends O(1)
    /// amortised.
    private mutating func discardConsumedBytes() {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= Self.retainedCapacityMaxBytes)
            readIndex = 0
        } else if readIndex >= Self.compactionMinBytes && readIndex >= buffer.count - readIndex {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }

    private mutating func fail(_ error: ProtocolError) {
        state = .failed(error)
        buffer = []
        readIndex = 0
    }

    private mutating func advance() throws(ProtocolError) -> Step {
        switch state {
        case .failed(let error):
            throw error
        case .awaitingRequest:
            guard readIndex < buffer.count else { return .needMoreBytes }
            if buffer[readIndex] == ASCII.asterisk { return try startMultibulk() }
            state = .inline(scannedBytes: 0)
            return .progressed
        case .inline(let scannedBytes):
            return try continueInline(scannedBytes: scannedBytes)
        case .multibulk(var progress):
            // Release the state's copy so appending to `progress.arguments` does not copy it.
            state = .awaitingRequest
            return try continueMultibulk(&progress)
        }
    }

    // MARK: Inline lines

    private mutating func continueInline(scannedBytes: Int) throws(ProtocolError) -> Step {
        let scanStart = readIndex + scannedBytes
        guard let newline = buffer.firstIndex(of: ASCII.lf, in: scanStart..<buffer.count) else {
            let pendingBytes = buffer.count - readIndex
            // A trailing CR may be the first half of the terminator, so it does not count yet.
            let lineBytes = buffer.last == ASCII.cr ? pendingBytes - 1 : pendingBytes
            guard lineBytes <= limits.maxInlineLineBytes else {
                throw .lineTooLong(max: limits.maxInlineLineBytes)
            }
            state = .inline(scannedBytes: pendingBytes)
            return .needMoreBytes
        }
        var lineEnd = newline
        if lineEnd > readIndex && buffer[lineEnd - 1] == ASCII.cr { lineEnd -= 1 }
        guard lineEnd - readIndex <= limits.maxInlineLineBytes else {
            throw .lineTooLong(max: limits.maxInlineLineBytes)
        }
        let lineStart = readIndex
        let maxArguments = limits.maxArguments
        let words: [[UInt8]]
        do throws(ProtocolError) {
            words = try buffer.withUnsafeBufferPointer { (bytes) throws(ProtocolError) in
                try splitInlineWords(
                    UnsafeBufferPointer(rebasing: bytes[lineStart..<lineEnd]), maxArguments: maxArguments
                )
            }
        } catch where error.kind == .syntax {
            // The line is whole, so the stream is still in step: only this request fails.
            readIndex = newline + 1
            state = .awaitingRequest
            return .request(Request(arguments: [], isInline: true, malformation: error))
        }
        readIndex = newline + 1
        state = .awaitingRequest
        return words.isEmpty ? .progressed : .request(Request(arguments: words, isInline: true))
    }

    // MARK: RESP arrays

    private mutating func startMultibulk() throws(ProtocolError) -> Step {
        guard let header = try readHeader(invalid: .invalidMultibulkLength) else {
            return .needMoreBytes
        }
        // Like Redis, an empty or null array is skipped; other negative counts are malformed.
        if header.value == 0 || header.value == -1 {
            readIndex += header.lineBytes
            return .progressed
        }
        guard header.value > 0 else { throw .invalidMultibulkLength }
        guard header.value <= limits.maxArguments else {
            throw .tooManyArguments(max: limits.maxArguments)
        }
        var progress = MultibulkProgress(argumentCount: header.value, requestBytes: 0)
        try charge(header.lineBytes, to: &progress)
        progress.arguments.reserveCapacity(header.value)
        readIndex += header.lineBytes
        state = .multibulk(progress)
        return .progressed
    }

    private mutating func continueMultibulk(
        _ progress: inout MultibulkProgress
    ) throws(ProtocolError) -> Step {
        while progress.arguments.count < progress.argumentCount {
            let length: Int
            if let pending = progress.pendingBulkBytes {
                length = pending
            } else {
                guard readIndex < buffer.count else { return waitForBytes(progress) }
                guard buffer[readIndex] == ASCII.dollar else {
                    throw .expectedBulk(got: buffer[readIndex])
                }
                guard let header = try readHeader(invalid: .invalidBulkLength) else {
                    return waitForBytes(progress)
                }
                guard header.value >= 0 else { throw .invalidBulkLength }
                // Checked on the header, before the client can make us buffer the payload.
                guard header.value <= limits.maxBulkBytes else {
                    throw .bulkTooLong(max: limits.maxBulkBytes)
                }
                try charge(header.lineBytes + header.value + 2, to: &progress)
                readIndex += header.lineBytes
                length = header.value
                progress.pendingBulkBytes = length
            }
            guard buffer.count - readIndex >= length + 2 else { return waitForBytes(progress) }
            guard buffer[readIndex + length] == ASCII.cr, buffer[readIndex + length + 1] == ASCII.lf
            else { throw .missingBulkTerminator }
            progress.arguments.append(Array(buffer[readIndex..<(readIndex + length)]))
            readIndex += length + 2
            progress.pendingBulkBytes = nil
        }
        state = .awaitingRequest
        return .request(Request(arguments: progress.arguments, isInline: false))
    }

    private mutating func waitForBytes(_ progress: MultibulkProgress) -> Step {
        state = .multibulk(progress)
        return .needMoreBytes
    }

    private func charge(_ bytes: Int, to progress: inout MultibulkProgress) throws(ProtocolError) {
        progress.requestBytes += bytes
        guard progress.requestBytes <= limits.maxBufferedBytes else {
            throw .requestTooLarge(max: limits.maxBufferedBytes)
        }
    }

    /// Parses the `*N` or `$N` line at `readIndex`, whose marker the caller has checked.
    /// Nil until its CRLF has arrived; throws `invalid` as soon as it cannot become valid.
    private func readHeader(
        invalid: ProtocolError
    ) throws(ProtocolError) -> (value: Int, lineBytes: Int)? {
        let digitsStart = readIndex + 1
        let searchEnd = min(buffer.count, readIndex + Self.maxHeaderLineBytes - 1)
        guard let cr = buffer.firstIndex(of: ASCII.cr, in: digitsStart..<searchEnd) else {
            if buffer.count - readIndex >= Self.maxHeaderLineBytes - 1 { throw invalid }
            return nil
        }
        guard cr + 1 < buffer.count else { return nil }
        guard buffer[cr + 1] == ASCII.lf, let value = parseDecimal(buffer[digitsStart..<cr]) else {
            throw invalid
        }
        return (value, cr + 2 - readIndex)
    }
}
