import CLibPQ

/// The isolation level a transaction runs at.
public enum IsolationLevel: Sendable {
    case readCommitted, repeatableRead, serializable

    var sql: String {
        switch self {
        case .readCommitted: return "READ COMMITTED"
        case .repeatableRead: return "REPEATABLE READ"
        case .serializable: return "SERIALIZABLE"
        }
    }
}

extension Connection {
    /// Runs `body` between BEGIN and COMMIT; if `body` throws, rolls back and rethrows its error.
    ///
    /// If a statement failed inside `body` but `body` swallowed the error, PostgreSQL turns the
    /// COMMIT into a ROLLBACK; that is reported as `.unexpectedResult` rather than passing as success.
    /// A serialization failure (`isSerializationFailure`) may also surface from the COMMIT itself.
    /// A connection lost during the COMMIT is `.commitOutcomeUnknown`: it may have been applied.
    public func transaction<T>(
        _ isolation: IsolationLevel = .readCommitted, _ body: (Connection) throws -> T
    ) throws -> T {
        precondition(PQtransactionStatus(live) == PQTRANS_IDLE && pendingBegin == nil, "transaction() inside a transaction")
        // Sent with the body's first statement: one round trip fewer for every transaction.
        pendingBegin = "BEGIN ISOLATION LEVEL \(isolation.sql)"
        beforeCommit.removeAll()
        channelsAfterCommit.removeAll()
        let value: T
        do {
            value = try body(self)
            let channels = channelsAfterCommit.sorted()
            channelsAfterCommit.removeAll()
            if commitNotifier == nil {
                beforeCommit += channels.map { (sql: "SELECT pg_notify($1, '')", parameters: [$0]) }
            }
            do {
                try commit()
                for channel in channels { commitNotifier?.post(channel) }
            } catch let error as PostgresError where error.isUnavailable {
                // The COMMIT may have been applied before the connection went: nobody can tell.
                throw PostgresError(code: .commitOutcomeUnknown, message: "the connection was lost during COMMIT (\(error.message))")
            }
        } catch {
            pendingBegin = nil
            beforeCommit.removeAll()
            channelsAfterCommit.removeAll()
            rollbackIfOpen()
            throw error
        }
        return value
    }

    /// Asks for a NOTIFY on `channel` if and when the open transaction commits: through the
    /// `commitNotifier` after the commit when there is one, else with the COMMIT itself.
    public func notifyAfterCommit(_ channel: String) {
        precondition(pendingBegin != nil || PQtransactionStatus(live) != PQTRANS_IDLE, "notifyAfterCommit outside a transaction")
        channelsAfterCommit.insert(channel)
    }

    /// Queues a statement whose result nobody reads (a log row, say) to go with the transaction's
    /// COMMIT, in the same round trip; an error in it rolls the whole transaction back.
    public func executeBeforeCommit(_ sql: String, _ parameters: [String?]) {
        precondition(pendingBegin != nil || PQtransactionStatus(live) != PQTRANS_IDLE, "executeBeforeCommit outside a transaction")
        beforeCommit.append((sql, parameters))
    }

    private func commit() throws {
        if pendingBegin != nil && beforeCommit.isEmpty {
            pendingBegin = nil  // the body ran no statement: there is nothing to commit
            return
        }
        precondition(pendingBegin != nil || PQtransactionStatus(live) != PQTRANS_IDLE,
                     "the body of transaction() ended the transaction")
        if !beforeCommit.isEmpty {
            let statements = beforeCommit + [(sql: "COMMIT", parameters: [])]
            beforeCommit.removeAll()
            _ = try pipeline(statements)
            return
        }
        let commit = try run { PQexec($0, "COMMIT") }
        guard commit.commandStatus == "COMMIT" else {
            throw PostgresError(
                code: .unexpectedResult,
                message: "transaction rolled back at COMMIT because a statement in it failed")
        }
    }

    /// Best effort: a broken connection has no transaction left to roll back.
    private func rollbackIfOpen() {
        guard PQstatus(live) == CONNECTION_OK, PQtransactionStatus(live) != PQTRANS_IDLE else { return }
        _ = try? run { PQexec($0, "ROLLBACK") }
    }
}
