import Foundation
import LoyaltyCore
import Postgres

/// Named limits of the store; every one is configurable and tested at its edge.
public struct StoreLimits: Sendable, Equatable {
    /// Lines one BATCH may queue before COMMIT.
    public var batchLinesMax: Int = 100_000
    /// STATEMENT LIMIT default and ceiling.
    public var statementLimitDefault: Int = 50
    public var statementLimitMax: Int = 1_000
    /// HOLD ttl-seconds default and ceiling.
    public var holdTTLSecondsDefault: Int = 900
    public var holdTTLSecondsMax: Int = 7 * 24 * 3600
    /// REDEEM quantity ceiling.
    public var redeemQuantityMax: Int = 100
    /// Wrong member PINs within the window that lock sign-in, and for how long.
    public var pinFailuresMax: Int = 5
    public var pinLockSeconds: Int = 15 * 60
    /// Longest member name and email, in UTF-8 bytes (email: RFC 5321's path limit).
    public var memberNameBytesMax: Int = 200
    public var memberEmailBytesMax: Int = 254
    /// Retries of a transaction that lost a race (serialization failure, deadlock, unique key).
    public var transactionRetriesMax: Int = 5
    /// Combined BALANCE queries running at once (`ReadCombiner`); reads arriving meanwhile wait
    /// for the next one. One measured best at 8 clients on 2 cores (docs/benchmarks.md): rounds
    /// carry 3-6 keys instead of 2, which costs PostgreSQL and loyaltyd fewer round trips.
    public var balanceRoundsInFlightMax: Int = 1
    /// BALANCEs that must be waiting before a further combined query starts beside a running one.
    public var balanceRoundKeysMin: Int = 1
    /// Events one EVENTS FROM (or one read of `events tail`) returns at most.
    public var eventsCountMax: Int = 1_000

    public init() {}
}

/// The loyalty domain mapped onto PostgreSQL. Every method is one durable step: it returns only
/// after COMMIT, and a thrown error means nothing was applied.
public final class LoyaltyStore: Sendable {
    /// The primary: every write, and every read a write decides on.
    public let pool: ConnectionPool
    /// Where reads that tolerate staleness go (`staleRead`): a streaming replica, or `pool` itself.
    public let readPool: ConnectionPool
    public let limits: StoreLimits
    /// Seconds since the Unix epoch; injected so that runs and tests can fix "today".
    let clock: @Sendable () -> Int64
    let programBox: ProgramBox
    let availableReader: ReadCombiner<Int64>
    /// Told every database failure with libpq's own words, for the operator's log; clients get
    /// only the error code and a message that reveals nothing of the database.
    let databaseFailed: @Sendable (PostgresError) -> Void

    /// `readPool`, when given, serves only what a client displays (BALANCE, MEMBER, TIER,
    /// STATEMENT, reports) and may lag the primary; without it everything reads the primary.
    public init(pool: ConnectionPool, readPool: ConnectionPool? = nil, limits: StoreLimits = StoreLimits(),
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
                databaseFailed: @escaping @Sendable (PostgresError) -> Void = { _ in }) {
        let readPool = readPool ?? pool
        self.pool = pool
        self.readPool = readPool
        self.limits = limits
        self.clock = clock
        self.databaseFailed = databaseFailed
        self.programBox = ProgramBox()
        self.availableReader = ReadCombiner(roundsInFlightMax: limits.balanceRoundsInFlightMax,
                                             keysForAnotherRoundMin: limits.balanceRoundKeysMin) { [pool, readPool] body in
            try Self.onReadPool(readPool, primary: pool) { conn in try body(AvailableRounds(conn)) }
        }
    }

    /// Closes both pools (one, when reads share the primary's).
    public func close() {
        pool.close()
        if readPool !== pool { readPool.close() }
    }

    /// The program in force today; loaded from the database on first use and after `reloadProgram()`.
    public func program() throws(LoyaltyError) -> Program {
        try programVersionInForce().program
    }

    /// The cached version in force today, with its number and effective date.
    public func programVersionInForce() throws(LoyaltyError) -> ProgramVersion {
        let timeline = try programTimeline()
        return timeline.version(on: Self.today(clock(), timeline))
    }

    /// The generation the cached versions were read at (0 before the first load).
    public var programGeneration: Int64 { programBox.value?.generation ?? 0 }

    /// Every version of the program, as last loaded.
    public func programTimeline() throws(LoyaltyError) -> ProgramTimeline {
        if let loaded = programBox.value { return loaded.timeline }
        return try reloadProgram()
    }

    @discardableResult
    public func reloadProgram() throws(LoyaltyError) -> ProgramTimeline {
        let loaded = try read { conn in try ProgramRecords.load(conn) }
        programBox.value = loaded
        return loaded.timeline
    }

    /// Reloads the program when an operator changed it (a new version, a partner's state) since it
    /// was loaded: one read of one row, cheap enough to poll every second. True when it reloaded.
    @discardableResult
    public func followProgramChanges() throws(LoyaltyError) -> Bool {
        let current = try read { conn in try ProgramRecords.generation(conn) }
        guard current != programBox.value?.generation else { return false }
        try reloadProgram()
        return true
    }

    /// Today in the program's time zone (the latest version's).
    public func today() throws(LoyaltyError) -> LocalDate {
        Self.today(clock(), try programTimeline())
    }

    static func today(_ epochSeconds: Int64, _ timeline: ProgramTimeline) -> LocalDate {
        LocalDate(epochSeconds: epochSeconds, utcOffsetSeconds: timeline.latest.program.utcOffsetSeconds)
    }

    // MARK: - Running work on a connection

    /// A read on a pooled connection, with database failures mapped to domain errors.
    func read<T>(_ body: (Connection) throws -> T) throws(LoyaltyError) -> T {
        do {
            return try pool.withConnection(body)
        } catch {
            throw domainError(error)
        }
    }

    /// A read that may be behind the primary by the replica's lag: only for what is shown to a
    /// client, never for what a write decides on (writes re-read under the member's row lock).
    func staleRead<T>(_ body: (Connection) throws -> T) throws(LoyaltyError) -> T {
        do {
            return try Self.onReadPool(readPool, primary: pool, body)
        } catch {
            throw domainError(error)
        }
    }

    /// Runs `body` on the read pool; when the replica cannot be reached the primary answers, so a
    /// replica outage costs no availability. A busy read pool (`poolTimeout`) is not an outage and
    /// is not moved onto the primary, which has its own work.
    static func onReadPool<T>(_ readPool: ConnectionPool, primary: ConnectionPool, _ body: (Connection) throws -> T) throws -> T {
        guard readPool !== primary else { return try primary.withConnection(body) }
        do {
            return try readPool.withConnection(body)
        } catch let error as PostgresError where error.isUnavailable && error.code != .poolTimeout {
            return try primary.withConnection(body)
        }
    }

    /// One transaction, retried when it lost a race that a retry resolves.
    func write<T>(_ body: (Connection) throws -> T) throws(LoyaltyError) -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try pool.withConnection { conn in try conn.transaction { c in try body(c) } }
            } catch let error as PostgresError
                where (error.isSerializationFailure || error.isUniqueViolation) && attempt < limits.transactionRetriesMax {
                continue
            } catch {
                throw domainError(error)
            }
        }
    }

    func domainError(_ error: any Error) -> LoyaltyError {
        if let error = error as? LoyaltyError { return error }
        if let error = error as? PostgresError {
            databaseFailed(error)
            if error.isUnavailable { return .init(.unavailable, "database unavailable; nothing was applied, safe to retry") }
            if error.code == .commitOutcomeUnknown {
                return .init(.unavailable, "the connection to the database was lost during COMMIT: whether the change was "
                             + "applied is unknown; resend with the same id (it applies once), or check the member's "
                             + "STATEMENT or `loyaltyctl audit --member N` before repeating")
            }
            return .init(.syntax, "internal error (SQLSTATE \(error.sqlState ?? "none")); nothing was applied")
        }
        return .init(.syntax, "internal error: \(error)")
    }
}

/// The cached program versions and the generation they were read at; replaced whole, read often.
final class ProgramBox: @unchecked Sendable {
    private let lock = NSLock()
    private var loaded: (timeline: ProgramTimeline, generation: Int64)?
    var value: (timeline: ProgramTimeline, generation: Int64)? {
        get { lock.withLock { loaded } }
        set { lock.withLock { loaded = newValue } }
    }
}
