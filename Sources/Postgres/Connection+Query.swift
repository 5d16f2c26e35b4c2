import CLibPQ

/// Statements: simple-protocol `execute` and prepared, parameterized `query`.
extension Connection {
    /// Runs a parameterized statement with text parameters and text results.
    ///
    /// Prepared automatically: the first use of a SQL text on this connection prepares it under a
    /// generated name, later uses only execute it. At most `preparedStatementsMax` stay prepared;
    /// the least recently used is deallocated to make room.
    public func query(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> QueryResult {
        // A transaction's first statement takes its BEGIN along, in one round trip.
        if pendingBegin != nil { return try pipeline([(sql, parameters)])[0] }
        return try runPrepared(sql, parameters).copyOut()
    }

    /// Runs a statement as `query` does and hands `body` its result in place, with no copy of any
    /// value: for a large result read once. With `binary`, every column comes in PostgreSQL's
    /// binary form (`ResultView.int64`), which the server writes with less work than text. A
    /// pending BEGIN is sent on its own first.
    public func query<T>(_ sql: String, _ parameters: [String?] = [], binary: Bool = false,
                         reading body: (consuming ResultView) throws -> T) throws -> T {
        try sendPendingBegin()
        return try runPrepared(sql, parameters, binary: binary).read(body)
    }

    /// Executes `sql` prepared (preparing it on first use) and returns its result.
    private func runPrepared(_ sql: String, _ parameters: [String?], binary: Bool = false) throws(PostgresError) -> OwnedResult {
        let name = try preparedName(for: sql)
        let buffer = try ParameterBuffer(parameters)
        do {
            return try run { PQexecPrepared($0, name, Int32(parameters.count), buffer.values, nil, nil, binary ? 1 : 0) }
        } catch {
            if Self.invalidatesStatement(error) { statements.remove(sql) }
            throw error
        }
    }

    /// Sends a parameterized statement (prepared as `query` prepares it) without waiting for its
    /// result, so that the caller can work while the server does; `receive` reads the result. Until
    /// then the connection runs nothing else (the pool drops one returned with a result unread).
    public func send(_ sql: String, _ parameters: [String?]) throws(PostgresError) -> SentQuery {
        precondition(pendingBegin == nil, "send cannot carry a transaction's BEGIN")
        let name = try preparedName(for: sql)
        let buffer = try ParameterBuffer(parameters)
        guard PQsendQueryPrepared(live, name, Int32(parameters.count), buffer.values, nil, nil, 0) == 1 else {
            throw failureWithoutResult()
        }
        return SentQuery(sql: sql)
    }

    /// The result of a statement `send` sent; blocks until it is in.
    public func receive(_ sent: consuming SentQuery) throws(PostgresError) -> QueryResult {
        let result = OwnedResult(PQgetResult(live))
        // One statement, one result: what follows until NULL is only the end of it.
        while let extra = PQgetResult(live) { PQclear(extra) }
        guard let result else { throw failureWithoutResult() }
        guard result.succeeded else {
            let error = failure(result)
            if Self.invalidatesStatement(error) { statements.remove(sent.sql) }
            throw error
        }
        return result.copyOut()
    }

    /// Errors after which a prepared statement must be prepared anew: it no longer exists (26000,
    /// e.g. after `DEALLOCATE ALL`), or the schema changed its result type (0A000, "cached plan must
    /// not change result type"). The server may keep the stale one until the connection closes.
    static func invalidatesStatement(_ error: PostgresError) -> Bool {
        error.sqlState == "26000" || error.sqlState == "0A000"
    }

    /// Runs one or more statements without parameters through the simple protocol, for
    /// migrations and DDL. Only the last statement's result is kept, so it returns nothing.
    public func execute(_ sql: String) throws(PostgresError) {
        precondition(!sql.utf8.contains(0), "SQL text contains a NUL byte")
        try sendPendingBegin()
        _ = try run { PQexec($0, sql) }
    }

    /// Sends a transaction's BEGIN on its own, before a statement that cannot take it along.
    func sendPendingBegin() throws(PostgresError) {
        guard let begin = pendingBegin else { return }
        pendingBegin = nil
        _ = try run { PQexec($0, begin) }
    }

    /// Runs one synchronous libpq call; returns its result when the statement ran, else throws
    /// and leaves the connection idle again.
    func run(_ call: (OpaquePointer) -> OpaquePointer?) throws(PostgresError) -> OwnedResult {
        guard let result = OwnedResult(call(live)) else { throw failureWithoutResult() }
        guard result.succeeded else {
            let error = failure(result)
            abandonCopy(result.status)
            throw error
        }
        return result
    }

    /// The prepared name for `sql`, preparing it first when this connection has not yet.
    private func preparedName(for sql: String) throws(PostgresError) -> String {
        if let name = statements.lookup(sql) { return name }
        precondition(!sql.utf8.contains(0), "SQL text contains a NUL byte")
        try deallocate(statements.victims(toFit: 1))
        let name = statements.makeName()
        _ = try run { PQprepare($0, name, sql, 0, nil) }
        statements.insert(sql, name: name)
        return name
    }

    /// Deallocates prepared statements on the server in one round trip, then forgets them.
    func deallocate(_ victims: [(sql: String, name: String)]) throws(PostgresError) {
        guard !victims.isEmpty else { return }
        // Names are generated here ("stmt_N"), so they need no quoting.
        let sql = victims.map { "DEALLOCATE \($0.name)" }.joined(separator: "; ")
        _ = try run { PQexec($0, sql) }
        for victim in victims {
            statements.remove(victim.sql)
        }
    }
}

/// A statement sent by `Connection.send` whose result is still on its way; `receive` consumes it,
/// so a result can be read only once.
public struct SentQuery: ~Copyable {
    fileprivate let sql: String
}
