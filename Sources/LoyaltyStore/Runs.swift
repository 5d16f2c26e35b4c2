import Foundation
import LoyaltyCore
import Postgres

/// Limits of the tier and expiry runs.
public struct RunLimits: Sendable, Equatable {
    /// Members per chunk: one transaction each, so no row stays locked for more than about a
    /// second, and the unit the progress bar advances by.
    public var chunkMembers: Int = 50_000
    /// Chunks in flight at once, each on its own database connection (one is the connection that
    /// holds the run's lock; the others are taken from the pool if it has them to spare).
    public var workers: Int = 2
    /// How long a chunk waits for a member row a request holds before it gives up and retries.
    public var lockTimeoutMilliseconds: Int = 5_000
    /// Retries of a chunk that lost a race (deadlock, serialization failure, lock timeout).
    public var chunkRetriesMax: Int = 5
    /// Passes over a chunk for the members a request changed while the chunk's statement ran.
    public var chunkPassesMax: Int = 3
    /// Chunks one run may take: far beyond any real member count, a stop for a runaway loop.
    public var chunksMax: Int = 1_000_000
    /// How far ahead the daily runs announce points expiring (`points.expiring`, written by
    /// `expire`) and tiers lapsing (`tier.lapsing`, written by `tiers evaluate`) as outbound events.
    public var expiringNoticeDays: Int = 30
    public var lapsingNoticeDays: Int = 60

    public init() {}
}

/// Progress of a run, reported as chunks of members commit.
public struct RunProgress: Sendable, Equatable {
    public var membersDone: Int
    public var membersTotal: Int
}

/// The two kinds of run: at most one of each at a time across all processes.
enum RunKind: String {
    case tiers, expire

    /// `pg_try_advisory_lock` key, next to the migrator's 7480001.
    var lockKey: Int64 {
        switch self {
        case .tiers: return 7_480_010
        case .expire: return 7_480_011
        }
    }

    func runID(asOf: LocalDate) -> String { "\(rawValue)-\(asOf)" }

    /// How a finished run is named on the audit trail: the loyaltyctl verb.
    var auditAction: String { self == .tiers ? "tiers.evaluate" : "expire" }
}

/// The members of one chunk: `first...last` in member_number order, `count` of them.
struct RunChunk: Sendable {
    var first: String
    var last: String
    var count: Int
}

/// What a chunk (or a whole run) did.
struct RunCounts: Sendable, Equatable {
    var members: Int64 = 0
    var points: Int64 = 0
    var grants: Int64 = 0

    static func + (lhs: RunCounts, rhs: RunCounts) -> RunCounts {
        RunCounts(members: lhs.members + rhs.members, points: lhs.points + rhs.points, grants: lhs.grants + rhs.grants)
    }
}

/// How a run ended.
struct RunOutcome {
    var counts: RunCounts
    var membersScanned: Int
    /// A finished run for the same kind and date existed; `counts` are its figures.
    var alreadyDone: Bool
    var elapsedMilliseconds: Int64
}

/// The work of a run on one chunk, in the chunk's transaction; returns what it did.
typealias ChunkWork = @Sendable (Connection, RunChunk) throws -> RunCounts

/// Runs a chunked, resumable, one-at-a-time job over all members: the frame shared by
/// `tiers evaluate` and `expire`. The job's SQL is set-based over a chunk and idempotent; this
/// only deals out chunks. Each chunk commits together with its counts and the run's cursor in
/// `runs`, so a run that stopped half way resumes after the chunks it committed in order, and a
/// finished one is not repeated. Chunks committed out of order before a stop are simply done
/// again, finding nothing left to do.
struct RunDriver {
    var kind: RunKind
    var asOf: LocalDate
    var limits: RunLimits
    /// Who started the run; the audit trail names it when the run finishes.
    var actor: Principal

    /// Runs `work` over every member, holding the kind's advisory lock.
    func run(_ pool: ConnectionPool, progress: ((RunProgress) -> Void)?, work: @escaping ChunkWork) throws -> RunOutcome {
        let started = ContinuousClock.now
        return try pool.withConnection { conn in
            try withAdvisoryLock(conn) {
                _ = try conn.query("""
                    INSERT INTO runs (kind, as_of, run_id) VALUES ($1, $2, $3) ON CONFLICT (kind, as_of) DO NOTHING
                    """, [kind.rawValue, asOf.description, kind.runID(asOf: asOf)])
                guard let row = try conn.query("""
                    SELECT done_through, finished_at IS NOT NULL AS finished, members, points, grants FROM runs
                    WHERE kind = $1 AND as_of = $2
                    """, [kind.rawValue, asOf.description]).first else {
                    throw PostgresError(code: .unexpectedResult, message: "run row missing after insert")
                }
                let earlier = RunCounts(members: try row.int64("members"), points: try row.int64("points"), grants: try row.int64("grants"))
                if try row.bool("finished") {
                    return RunOutcome(counts: earlier, membersScanned: 0, alreadyDone: true, elapsedMilliseconds: started.millisecondsSince)
                }
                let dealer = try ChunkDealer(conn, after: try row.string("done_through"), counts: earlier, limits: limits)
                try deal(dealer, pool: pool, coordinator: conn, progress: progress) { conn, sequence, chunk in
                    try retrying {
                        try conn.transaction { conn in
                            try conn.execute("SET LOCAL lock_timeout = \(limits.lockTimeoutMilliseconds); "
                                             + "SET LOCAL plan_cache_mode = force_custom_plan")
                            let done = try work(conn, chunk)
                            _ = try conn.query("""
                                UPDATE runs SET done_through = greatest(done_through, $3), members = members + $4,
                                                points = points + $5, grants = grants + $6
                                WHERE kind = $1 AND as_of = $2
                                """, [kind.rawValue, asOf.description, dealer.doneThrough(committing: sequence, last: chunk.last),
                                      String(done.members), String(done.points), String(done.grants)])
                            return done
                        }
                    }
                }
                try conn.transaction { conn in
                    _ = try conn.query("UPDATE runs SET finished_at = now(), done_through = $3 WHERE kind = $1 AND as_of = $2",
                                       [kind.rawValue, asOf.description, dealer.lastDealt])
                    try Audit.record(conn, actor: actor, action: kind.auditAction,
                                     details: ["as_of": asOf.description, "members": String(dealer.counts.members),
                                               "points": String(dealer.counts.points), "grants": String(dealer.counts.grants)])
                }
                return RunOutcome(counts: dealer.counts, membersScanned: dealer.visited, alreadyDone: false,
                                  elapsedMilliseconds: started.millisecondsSince)
            }
        }
    }

    /// Runs `work` over every member without recording anything and without the lock (a dry run).
    func dryRun(_ pool: ConnectionPool, progress: ((RunProgress) -> Void)?, work: @escaping ChunkWork) throws -> RunOutcome {
        let started = ContinuousClock.now
        return try pool.withConnection { conn in
            let dealer = try ChunkDealer(conn, after: "", counts: RunCounts(), limits: limits)
            try deal(dealer, pool: pool, coordinator: conn, progress: progress) { conn, _, chunk in try work(conn, chunk) }
            return RunOutcome(counts: dealer.counts, membersScanned: dealer.visited, alreadyDone: false,
                              elapsedMilliseconds: started.millisecondsSince)
        }
    }

    /// Works through the dealer's chunks on the calling thread (with `coordinator`, reporting
    /// progress) and on up to `workers - 1` threads with connections of their own; returns when
    /// all are done, or throws the first failure once every worker has stopped.
    private func deal(_ dealer: ChunkDealer, pool: ConnectionPool, coordinator: Connection, progress: ((RunProgress) -> Void)?,
                      _ apply: @escaping @Sendable (Connection, Int, RunChunk) throws -> RunCounts) throws {
        for _ in 1..<max(1, limits.workers) {
            dealer.workerStarted()
            let thread = Thread {
                // No connection to spare is no failure: the other workers do this one's share.
                try? pool.withConnection { conn in dealer.work(conn, apply) }
                dealer.workerFinished()
            }
            thread.start()
        }
        var reported = dealer.progress
        progress?(reported)
        dealer.work(coordinator, apply) { now in
            reported = now
            progress?(now)
        }
        dealer.waitForWorkers(reported: reported.membersDone) { progress?($0) }
        if let failure = dealer.failure { throw failure }
    }

    /// Retries a chunk that lost a race with requests; the chunk rolled back, so it is simply done again.
    private func retrying<T>(_ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try body()
            } catch let error as PostgresError where (error.isSerializationFailure || error.sqlState == "55P03")
                                                      && attempt < limits.chunkRetriesMax {
                continue
            }
        }
    }

    /// One run of a kind at a time across processes: a second one fails at once with a clear message.
    private func withAdvisoryLock<T>(_ conn: Connection, _ body: () throws -> T) throws -> T {
        let key = String(kind.lockKey)
        guard try conn.query("SELECT pg_try_advisory_lock($1::bigint) AS locked", [key]).first?.bool("locked") == true else {
            throw LoyaltyError.conflict("another \(kind.rawValue) run is in progress; try again when it has finished")
        }
        defer { _ = try? conn.query("SELECT pg_advisory_unlock($1::bigint)", [key]) }
        return try body()
    }
}

/// Deals out chunks of members to the workers of one run, in member order, and keeps what they
/// did: counts, members done, the cursor a resumed run may start from, the first failure.
final class ChunkDealer: @unchecked Sendable {
    // @unchecked: every field below is read and written with `condition`'s lock held.
    private let condition = NSCondition()
    private let limits: RunLimits
    private var cursor: String
    private var dealt = 0
    /// Chunks committed after a gap, by sequence: their last member.
    private var committedAhead: [Int: String] = [:]
    /// Every chunk up to this sequence has committed, the last of them ending at `prefixLast`.
    private var prefixSequence = -1
    private var prefixLast: String
    private var running = 0
    private var total: Int
    private var done: Int
    private var counted: RunCounts
    private var scanned = 0
    private var firstFailure: (any Error)?

    /// Starts after `cursor` (all members up to it are done), with the counts of earlier work.
    init(_ conn: Connection, after cursor: String, counts: RunCounts, limits: RunLimits) throws {
        let row = try conn.query("""
            SELECT count(*) AS total, count(*) FILTER (WHERE member_number <= $1) AS done FROM members
            """, [cursor]).first
        self.cursor = cursor
        self.prefixLast = cursor
        self.counted = counts
        self.limits = limits
        self.total = try row?.int("total") ?? 0
        self.done = try row?.int("done") ?? 0
    }

    var counts: RunCounts { condition.withLock { counted } }
    /// The last member of the last chunk dealt: with every chunk committed, the run is done through it.
    var lastDealt: String { condition.withLock { cursor } }
    var visited: Int { condition.withLock { scanned } }
    var failure: (any Error)? { condition.withLock { firstFailure } }
    var progress: RunProgress { condition.withLock { RunProgress(membersDone: done, membersTotal: max(total, done)) } }

    /// Claims and applies chunks until none are left or a worker failed; reports progress after each.
    func work(_ conn: Connection, _ apply: (Connection, Int, RunChunk) throws -> RunCounts,
              progress: (RunProgress) -> Void = { _ in }) {
        do {
            while let (sequence, chunk) = try claim(conn) {
                let counts = try apply(conn, sequence, chunk)
                committed(sequence, chunk, counts)
                progress(self.progress)
            }
        } catch {
            condition.withLock {
                if firstFailure == nil { firstFailure = error }
                condition.broadcast()
            }
        }
    }

    /// The next chunk after the cursor, with its sequence number; nil when none are left or a
    /// worker failed. Members enrolled behind the cursor while the run goes on are not visited:
    /// they have nothing to lapse or expire yet.
    private func claim(_ conn: Connection) throws -> (Int, RunChunk)? {
        try condition.withLock {
            guard firstFailure == nil else { return nil }
            guard dealt < limits.chunksMax else {
                throw LoyaltyError.limit("run: more than \(limits.chunksMax) chunks of \(limits.chunkMembers) members")
            }
            guard let row = try conn.query("""
                SELECT min(member_number) AS first, max(member_number) AS last, count(*) AS count
                FROM (SELECT member_number FROM members WHERE member_number > $1 ORDER BY member_number LIMIT $2) chunk
                """, [cursor, String(limits.chunkMembers)]).first, let first = row["first"], let last = row["last"] else { return nil }
            cursor = last
            dealt += 1
            return (dealt - 1, RunChunk(first: first, last: last, count: try row.int("count")))
        }
    }

    /// The cursor to record with chunk `sequence` as it commits: the end of the run of committed
    /// chunks it completes, or the current one if an earlier chunk is still open. Chunks commit
    /// concurrently, so it may lag behind what committed: a lower bound, which is all resuming needs.
    func doneThrough(committing sequence: Int, last: String) -> String {
        condition.withLock {
            guard sequence == prefixSequence + 1 else { return prefixLast }
            var through = last, next = sequence + 1
            while let ahead = committedAhead[next] {
                through = ahead
                next += 1
            }
            return through
        }
    }

    private func committed(_ sequence: Int, _ chunk: RunChunk, _ counts: RunCounts) {
        condition.withLock {
            committedAhead[sequence] = chunk.last
            while let last = committedAhead.removeValue(forKey: prefixSequence + 1) {
                prefixSequence += 1
                prefixLast = last
            }
            counted = counted + counts
            scanned += chunk.count
            done += chunk.count
            condition.broadcast()
        }
    }

    func workerStarted() { condition.withLock { running += 1 } }

    func workerFinished() {
        condition.withLock {
            running -= 1
            condition.broadcast()
        }
    }

    /// Waits for the other workers, reporting progress as their chunks commit, through the last:
    /// `reported` is what the caller reported so far (workers may have committed since).
    func waitForWorkers(reported: Int, progress: (RunProgress) -> Void) {
        condition.lock()
        var reported = reported
        while true {
            if done != reported {
                reported = done
                let now = RunProgress(membersDone: done, membersTotal: max(total, done))
                condition.unlock()
                progress(now)
                condition.lock()
                continue
            }
            guard running > 0 else { break }
            condition.wait()
        }
        condition.unlock()
    }
}

extension LoyaltyStore {
    /// The date a run is for: the one given, else today in the program's time zone.
    func runDate(_ asOf: LocalDate?) throws(LoyaltyError) -> LocalDate {
        if let asOf { return asOf }
        return try today()
    }
}

/// PostgreSQL array literals for array parameters (`unnest($1::text[])`).
enum SQLArray {
    /// `{"a","b"}`, each element quoted with its quotes and backslashes escaped.
    static func literal(_ values: [String]) -> String {
        let elements = values.map { value in
            // Codes and dates hold neither, and Foundation's replacing costs microseconds a call.
            guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") }) else { return "\"" + value + "\"" }
            return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return "{" + elements.joined(separator: ",") + "}"
    }
}

extension ContinuousClock.Instant {
    var millisecondsSince: Int64 {
        let elapsed = ContinuousClock.now - self
        return elapsed.components.seconds * 1_000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }
}

/// Elapsed time as a summary line shows it: "3.2 s".
func secondsText(_ milliseconds: Int64) -> String {
    "\(milliseconds / 1_000).\(milliseconds % 1_000 / 100) s"
}
