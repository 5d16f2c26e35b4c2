import LoyaltyCore
import Postgres

/// What `expire` did, or would do (`dryRun`).
public struct ExpiryRunSummary: Sendable, Equatable {
    public var asOf: LocalDate
    /// The reference of the run's `expiry` ledger entries.
    public var runID: String
    public var dryRun: Bool
    /// Members whose points expired, and how many points in all.
    public var membersExpired: Int64
    public var pointsExpired: Int64
    /// Members this invocation went through (0 when the run was already done).
    public var membersScanned: Int
    /// A finished run for this date existed, so nothing was done; the figures are that run's.
    public var alreadyDone: Bool
    public var elapsedMilliseconds: Int64
    public var pointsName: String

    /// "expire: as of 2026-11-23: 1234 members, 5678900 miles expired in 3.2 s"
    public var summaryLine: String {
        let figures = "\(membersExpired) members, \(pointsExpired) \(pointsName)"
        if alreadyDone { return "expire: as of \(asOf): already done (\(figures) expired); nothing changed" }
        return "expire: as of \(asOf): \(figures) \(dryRun ? "would expire (dry run)" : "expired") in \(secondsText(elapsedMilliseconds))"
    }
}

extension LoyaltyStore {
    /// The daily expiry run as of `asOf` (default today), under the program's policy: each
    /// member's expired points leave in one `expiry` ledger entry (source `system`, reference the
    /// run id) in the same statement that lowers its balance. Set-based, in chunks of members,
    /// resumable, once per date, one run at a time (else `.conflict`). A dry run only counts. The
    /// finished run is on the audit trail as `actor`'s (by default the server's own daily run).
    public func expirePoints(asOf: LocalDate? = nil, dryRun: Bool = false, limits: RunLimits = RunLimits(),
                             actor: Principal = .admin(user: "loyaltyd"),
                             progress: ((RunProgress) -> Void)? = nil) throws(LoyaltyError) -> ExpiryRunSummary {
        let program = try program()
        let asOf = try runDate(asOf)
        let runID = RunKind.expire.runID(asOf: asOf)
        let driver = RunDriver(kind: .expire, asOf: asOf, limits: limits, actor: actor)
        do {
            let outcome: RunOutcome
            if dryRun {
                outcome = try driver.dryRun(pool, progress: progress) { conn, chunk in
                    guard let due = Expiry.due(program, asOf: asOf, first: chunk.first, last: chunk.last) else { return RunCounts() }
                    let row = try conn.query(due.sql + "SELECT count(*) AS members, coalesce(sum(points), 0)::bigint AS points FROM due",
                                             due.parameters).first
                    return RunCounts(members: try row?.int64("members") ?? 0, points: try row?.int64("points") ?? 0)
                }
            } else {
                let passesMax = limits.chunkPassesMax, expiringDays = limits.expiringNoticeDays
                outcome = try driver.run(pool, progress: progress) { conn, chunk in
                    var counts = RunCounts()
                    // Another pass for the members a request changed meanwhile, if they still have points due.
                    for _ in 0..<passesMax {
                        let pass = try Self.expire(conn, program: program, asOf: asOf, runID: runID, chunk: chunk)
                        counts = counts + pass.expired
                        if pass.expired.members == pass.due { break }
                    }
                    try DailyNotices.announceExpiring(conn, program: program, asOf: asOf, days: expiringDays, chunk: chunk)
                    return counts
                }
            }
            return ExpiryRunSummary(asOf: asOf, runID: runID, dryRun: dryRun, membersExpired: outcome.counts.members,
                                    pointsExpired: outcome.counts.points, membersScanned: outcome.membersScanned,
                                    alreadyDone: outcome.alreadyDone, elapsedMilliseconds: outcome.elapsedMilliseconds,
                                    pointsName: program.pointsName)
        } catch {
            throw domainError(error)
        }
    }

    /// One pass over a chunk: each member's points due leave in one `expiry` entry, made from the
    /// rows the UPDATE changed, so balance and ledger always move together. UPDATE ... FROM locks
    /// only the rows it changes; a row a request changed after the statement began is left alone
    /// (its row version moved on), which the returned count of members due shows.
    private static func expire(_ conn: Connection, program: Program, asOf: LocalDate, runID: String,
                               chunk: RunChunk) throws -> (expired: RunCounts, due: Int64) {
        guard let due = Expiry.due(program, asOf: asOf, first: chunk.first, last: chunk.last) else { return (RunCounts(), 0) }
        let reference = due.parameters.count + 1, activityDate = due.parameters.count + 2
        let row = try conn.query(due.sql + """
            , expired AS (
                UPDATE members m SET balance = m.balance - d.points FROM due d
                WHERE m.member_number BETWEEN $1 AND $2 AND m.member_number = d.member_number AND m.xmin = d.row_version
                RETURNING d.member_number, d.points
            ), entries AS (
                INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference)
                SELECT member_number, 'expiry', -points, $\(activityDate)::date, 'system', $\(reference) FROM expired
            )
            SELECT count(*) AS members, coalesce(sum(points), 0)::bigint AS points, (SELECT count(*) FROM due) AS due
            FROM expired
            """, due.parameters + [runID, asOf.description]).first
        return (RunCounts(members: try row?.int64("members") ?? 0, points: try row?.int64("points") ?? 0), try row?.int64("due") ?? 0)
    }
}
