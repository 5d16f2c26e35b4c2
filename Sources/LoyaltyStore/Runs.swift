import LoyaltyCore
import Postgres

/// Limits of the tier and expiry runs.
public struct RunLimits: Sendable, Equatable {
    /// Members per chunk: one transaction each, so row locks last about a second, and the unit the
    /// progress bar advances by.
    public var chunkMembers: Int = 50_000
    /// How long a chunk waits for a member row a request holds before it gives up and retries.
    public var lockTimeoutMilliseconds: Int = 5_000
    /// Retries of a chunk that lost a race (deadlock, serialization failure, lock timeout).
    public var chunkRetriesMax: Int = 5
    /// Chunks one run may take: far beyond any real member count, a stop for a runaway loop.
    public var chunksMax: Int = 1_000_000

    public init() {}
}

/// Progress of a run, reported after each chunk of members.
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
}

/// The members of one chunk: `first...last` in member_number order, `count` of them.
struct RunChunk {
    var first: String
    var last: String
    var count: Int
}

/// What a chunk (or a whole run) did.
struct RunCounts: Equatable {
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

/// Runs a chunked, resumable, one-at-a-time job over all members: the frame shared by
/// `tiers evaluate` and `expire`. The job's SQL is set-based over a chunk; this only moves the
/// cursor. Each chunk commits together with the run's cursor and counts in `runs`, so a run that
/// stopped half way resumes after the last committed chunk, and a finished one is not repeated.
struct RunDriver {
    var kind: RunKind
    var asOf: LocalDate
    var limits: RunLimits

    /// Runs `chunk` over every member, in a transaction per chunk, holding the kind's advisory lock.
    func run(_ pool: ConnectionPool, progress: ((RunProgress) -> Void)?,
             chunk: (Connection, RunChunk) throws -> RunCounts) throws -> RunOutcome {
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
                var counts = RunCounts(members: try row.int64("members"), points: try row.int64("points"),
                                       grants: try row.int64("grants"))
                if try row.bool("finished") {
                    return RunOutcome(counts: counts, membersScanned: 0, alreadyDone: true, elapsedMilliseconds: started.millisecondsSince)
                }
                var cursor = try row.string("done_through")
                let scanned = try walk(conn, after: cursor, progress: progress) { next in
                    let done = try retrying {
                        try conn.transaction { conn in
                            try setChunkLimits(conn)
                            let done = try chunk(conn, next)
                            _ = try conn.query("""
                                UPDATE runs SET done_through = $3, members = members + $4, points = points + $5, grants = grants + $6
                                WHERE kind = $1 AND as_of = $2
                                """, [kind.rawValue, asOf.description, next.last, String(done.members), String(done.points),
                                      String(done.grants)])
                            return done
                        }
                    }
                    counts = counts + done
                    cursor = next.last
                }
                _ = try conn.query("UPDATE runs SET finished_at = now() WHERE kind = $1 AND as_of = $2",
                                   [kind.rawValue, asOf.description])
                return RunOutcome(counts: counts, membersScanned: scanned, alreadyDone: false,
                                  elapsedMilliseconds: started.millisecondsSince)
            }
        }
    }

    /// Runs `chunk` over every member without writing: no lock, no run record (a dry run).
    func dryRun(_ pool: ConnectionPool, progress: ((RunProgress) -> Void)?,
                chunk: (Connection, RunChunk) throws -> RunCounts) throws -> RunOutcome {
        let started = ContinuousClock.now
        return try pool.withConnection { conn in
            var counts = RunCounts()
            let scanned = try walk(conn, after: "", progress: progress) { next in
                counts = counts + (try chunk(conn, next))
            }
            return RunOutcome(counts: counts, membersScanned: scanned, alreadyDone: false, elapsedMilliseconds: started.millisecondsSince)
        }
    }

    /// Calls `body` for each chunk of members after `cursor`, reporting progress; returns the members visited.
    private func walk(_ conn: Connection, after cursor: String, progress: ((RunProgress) -> Void)?,
                      _ body: (RunChunk) throws -> Void) throws -> Int {
        let counts = try conn.query("""
            SELECT count(*) AS total, count(*) FILTER (WHERE member_number <= $1) AS done FROM members
            """, [cursor]).first
        let total = try counts?.int("total") ?? 0
        var done = try counts?.int("done") ?? 0
        var visited = 0
        var cursor = cursor
        progress?(RunProgress(membersDone: done, membersTotal: total))
        for _ in 0..<limits.chunksMax {
            guard let next = try nextChunk(conn, after: cursor) else { return visited }
            try body(next)
            cursor = next.last
            visited += next.count
            done += next.count
            progress?(RunProgress(membersDone: done, membersTotal: max(total, done)))
        }
        throw LoyaltyError.limit("\(kind.rawValue) run: more than \(limits.chunksMax) chunks of \(limits.chunkMembers) members")
    }

    /// The next `chunkMembers` members after `cursor`, nil when none are left. Members enrolled
    /// behind the cursor while the run goes on are skipped: they have nothing to lapse or expire.
    private func nextChunk(_ conn: Connection, after cursor: String) throws -> RunChunk? {
        guard let row = try conn.query("""
            SELECT min(member_number) AS first, max(member_number) AS last, count(*) AS count
            FROM (SELECT member_number FROM members WHERE member_number > $1 ORDER BY member_number LIMIT $2) chunk
            """, [cursor, String(limits.chunkMembers)]).first, let first = row["first"], let last = row["last"] else { return nil }
        return RunChunk(first: first, last: last, count: try row.int("count"))
    }

    /// Bounded waits for rows that requests hold, and plans made for this chunk's own values.
    private func setChunkLimits(_ conn: Connection) throws {
        try conn.execute("SET LOCAL lock_timeout = \(limits.lockTimeoutMilliseconds); SET LOCAL plan_cache_mode = force_custom_plan")
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
            "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
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
