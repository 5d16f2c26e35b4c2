import CLibPQ

/// Many statements in one round trip through libpq's pipeline mode.
extension Connection {
    /// Statements one `pipeline` call may carry; callers batch larger work into several calls.
    public static let pipelineStatementsMax = 1_000

    /// What each result read back from the pipeline belongs to, in send order.
    private enum Step {
        case prepare(sql: String, name: String)
        case execute(sql: String)
    }

    /// Runs the statements in order in one round trip (pipeline mode, one `PQpipelineSync`) and
    /// returns one result per statement, or throws the first error.
    ///
    /// Outside an explicit transaction the statements form one implicit transaction, so an error
    /// leaves none of them applied; statements after the failing one are not run. SQL texts are
    /// prepared in the same round trip and kept in the statement cache like `query`'s.
    public func pipeline(_ statements: [(sql: String, parameters: [String?])]) throws(PostgresError) -> [QueryResult] {
        precondition(statements.count <= Self.pipelineStatementsMax, "pipeline of \(statements.count) statements")
        guard !statements.isEmpty else { return [] }
        // A transaction's pending BEGIN goes first; its (empty) result is not returned.
        if let begin = pendingBegin {
            pendingBegin = nil
            return Array(try pipeline([(begin, [])] + statements).dropFirst())
        }
        // Refuse the whole batch up front: once queued, earlier statements would commit at the sync.
        for statement in statements {
            precondition(!statement.sql.utf8.contains(0), "SQL text contains a NUL byte")
            try ParameterBuffer.validate(statement.parameters)
        }
        let room = try makeRoom(for: statements.map(\.sql))
        guard PQenterPipelineMode(live) == 1 else { throw failureWithoutResult() }
        var steps: [Step] = []
        var sendError = send(statements, prepareAtMost: room, steps: &steps)
        if PQpipelineSync(live) != 1 {
            sendError = sendError ?? failureWithoutResult()
        }
        let (results, resultError) = receive(steps, statementCount: statements.count)
        // Still in pipeline mode only when the server went away mid-pipeline (a FATAL result
        // arrives before libpq has seen the socket close): the connection fails `isHealthy`, so
        // the pool drops it, and the caller gets the error.
        let exited = PQexitPipelineMode(live) == 1
        if let error = resultError ?? sendError { throw error }
        guard exited else { throw failureWithoutResult() }
        assert(results.count == statements.count)
        return results
    }

    /// Evicts cached statements this pipeline does not use, so that its new SQL texts can be
    /// prepared; returns how many new texts may be prepared (the rest run unnamed).
    private func makeRoom(for sqls: [String]) throws(PostgresError) -> Int {
        let used = Set(sqls)
        let newCount = used.filter { statements.lookup($0) == nil }.count
        let room = min(newCount, statements.room(sparing: used))
        try deallocate(statements.victims(toFit: room, sparing: used))
        return room
    }

    /// Queues every statement; stops at the first that libpq cannot queue and returns its error.
    private func send(
        _ statements: [(sql: String, parameters: [String?])], prepareAtMost room: Int, steps: inout [Step]
    ) -> PostgresError? {
        var pending: [String: String] = [:]
        var room = room
        for statement in statements {
            var name = self.statements.lookup(statement.sql) ?? pending[statement.sql]
            if name == nil, room > 0 {
                let newName = self.statements.makeName()
                guard PQsendPrepare(live, newName, statement.sql, 0, nil) == 1 else { return failureWithoutResult() }
                steps.append(.prepare(sql: statement.sql, name: newName))
                pending[statement.sql] = newName
                room -= 1
                name = newName
            }
            let buffer: ParameterBuffer
            do {
                buffer = try ParameterBuffer(statement.parameters)
            } catch {
                return error
            }
            let count = Int32(statement.parameters.count)
            let queued = if let name {
                PQsendQueryPrepared(live, name, count, buffer.values, nil, nil, 0)
            } else {
                PQsendQueryParams(live, statement.sql, count, nil, buffer.values, nil, nil, 0)
            }
            guard queued == 1 else { return failureWithoutResult() }
            steps.append(.execute(sql: statement.sql))
        }
        return nil
    }

    /// Reads one result per step and then the sync point; returns the results of the statements
    /// and the first error. Statements the server skipped after an error report PIPELINE_ABORTED.
    private func receive(_ steps: [Step], statementCount: Int) -> ([QueryResult], PostgresError?) {
        var results: [QueryResult] = []
        results.reserveCapacity(statementCount)
        var firstError: PostgresError?
        for step in steps {
            guard let result = OwnedResult(PQgetResult(live)) else {
                return (results, firstError ?? failureWithoutResult())
            }
            if result.succeeded {
                switch step {
                case .prepare(let sql, let name): statements.insert(sql, name: name)
                case .execute: results.append(result.copyOut())
                }
            } else if result.status != PGRES_PIPELINE_ABORTED {
                let error = failure(result)
                if case .execute(let sql) = step, Self.invalidatesStatement(error) { statements.remove(sql) }
                firstError = firstError ?? error
            }
            // Each step's results end with a NULL from PQgetResult.
            drainResults()
            if PQstatus(live) != CONNECTION_OK {
                return (results, firstError ?? failureWithoutResult())
            }
        }
        for _ in 0..<Self.resultsPerCommandMax {
            guard let result = OwnedResult(PQgetResult(live)) else { break }
            if result.status == PGRES_PIPELINE_SYNC { break }
        }
        return (results, firstError)
    }
}
