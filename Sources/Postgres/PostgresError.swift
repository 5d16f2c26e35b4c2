/// The one error type of this module.
///
/// Shaped like postgres-nio's `PSQLError`: a struct whose `Code` wraps a private enum, so adding a
/// case never breaks a caller's `switch`; callers compare codes (`error.code == .server`) or use the
/// predicates below. Server errors carry the diagnostic fields PostgreSQL sent.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case connectionFailed
            case connectionLost
            case server
            case poolTimeout
            case poolClosed
            case unexpectedResult
            case copyFailed
            case invalidParameter
            case commitOutcomeUnknown
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The connection could not be made (bad conninfo, server down, authentication failed).
        public static let connectionFailed = Code(.connectionFailed)
        /// The connection broke while in use (server restarted, backend terminated, network).
        public static let connectionLost = Code(.connectionLost)
        /// The server rejected a statement; see `sqlState`.
        public static let server = Code(.server)
        /// No pooled connection became free within the acquire timeout.
        public static let poolTimeout = Code(.poolTimeout)
        /// The pool was closed.
        public static let poolClosed = Code(.poolClosed)
        /// The server answered with something the caller did not ask for (a NULL where a value was
        /// required, a non-integer, a COPY state from `query`, a transaction silently rolled back).
        public static let unexpectedResult = Code(.unexpectedResult)
        /// A COPY could not be carried out on the client side (wrong column count, not COPY FROM STDIN).
        public static let copyFailed = Code(.copyFailed)
        /// A parameter or COPY value cannot be sent: it holds a NUL byte, which PostgreSQL text cannot store.
        public static let invalidParameter = Code(.invalidParameter)
        /// The connection broke while COMMIT was in flight: the transaction may or may not have
        /// been applied, so this is not `isUnavailable` (which promises nothing ran).
        public static let commitOutcomeUnknown = Code(.commitOutcomeUnknown)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// Five-character SQLSTATE the server sent (`PG_DIAG_SQLSTATE`), e.g. "23505".
    public var sqlState: String?
    /// The primary message (`PG_DIAG_MESSAGE_PRIMARY`, else libpq's `PQerrorMessage`).
    public var message: String
    /// The server's detail line (`PG_DIAG_MESSAGE_DETAIL`).
    public var detail: String?
    /// The violated constraint's name (`PG_DIAG_CONSTRAINT_NAME`).
    public var constraint: String?
    /// The server's suggestion what to do about it (`PG_DIAG_MESSAGE_HINT`).
    public var hint: String?

    public init(
        code: Code, message: String, sqlState: String? = nil, detail: String? = nil, constraint: String? = nil, hint: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.constraint = constraint
        self.hint = hint
    }

    /// A connection-level failure: the statement never ran, so a retry on another connection is safe.
    ///
    /// True for a failed or lost connection, SQLSTATE class 08 (connection exception), 57P01/57P02/57P03
    /// (admin shutdown, crash shutdown, cannot connect now) and a pool timeout. One caveat libpq cannot
    /// remove: a connection lost while a COMMIT was in flight leaves the outcome unknown, so writes that
    /// are retried should carry their own idempotency key; `transaction()` reports that case as
    /// `.commitOutcomeUnknown`.
    public var isUnavailable: Bool {
        switch code {
        case .connectionFailed, .connectionLost, .poolTimeout:
            return true
        default:
            guard let sqlState else { return false }
            return sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(sqlState)
        }
    }

    /// SQLSTATE 23505: a unique or primary key constraint rejected the row.
    public var isUniqueViolation: Bool { sqlState == "23505" }

    /// SQLSTATE 40001 (serialization failure) or 40P01 (deadlock): the transaction should be retried.
    public var isSerializationFailure: Bool { sqlState == "40001" || sqlState == "40P01" }

    public var description: String {
        var text = "PostgresError(\(code)"
        if let sqlState { text += " \(sqlState)" }
        text += "): \(message)"
        if let detail { text += " (\(detail))" }
        if let hint { text += " HINT: \(hint)" }
        return text
    }
}
