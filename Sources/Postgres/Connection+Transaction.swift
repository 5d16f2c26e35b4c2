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
    public func transaction<T>(
        _ isolation: IsolationLevel = .readCommitted, _ body: (Connection) throws -> T
    ) throws -> T {
        precondition(PQtransactionStatus(live) == PQTRANS_IDLE, "transaction() inside a transaction")
        try execute("BEGIN ISOLATION LEVEL \(isolation.sql)")
        let value: T
        do {
            value = try body(self)
        } catch {
            rollbackIfOpen()
            throw error
        }
        precondition(PQtransactionStatus(live) != PQTRANS_IDLE, "the body of transaction() ended the transaction")
        let commit = try run { PQexec($0, "COMMIT") }
        guard commit.commandStatus == "COMMIT" else {
            throw PostgresError(
                code: .unexpectedResult,
                message: "transaction rolled back at COMMIT because a statement in it failed")
        }
        return value
    }

    /// Best effort: a broken connection has no transaction left to roll back.
    private func rollbackIfOpen() {
        guard PQstatus(live) == CONNECTION_OK, PQtransactionStatus(live) != PQTRANS_IDLE else { return }
        _ = try? run { PQexec($0, "ROLLBACK") }
    }
}
