import LoyaltyCore
import Postgres

/// What `tiers evaluate` did.
public struct TierRunSummary: Sendable, Equatable {
    public var asOf: LocalDate
    /// Members whose tier in force changed: lapsed, landed softly, gained or lost lifetime status.
    public var membersChanged: Int64
    /// Soft landing and lifetime grants the run made.
    public var grantsMade: Int64
    /// Members this invocation went through (0 when the run was already done).
    public var membersScanned: Int
    /// A finished run for this date existed, so nothing was done; the figures are that run's.
    public var alreadyDone: Bool
    public var elapsedMilliseconds: Int64

    /// "tiers evaluate: as of 2028-03-01: 1234 members changed tier, 56 grants made in 3.2 s"
    public var summaryLine: String {
        let figures = "\(membersChanged) members changed tier, \(grantsMade) grants made"
        if alreadyDone { return "tiers evaluate: as of \(asOf): already done (\(figures)); nothing changed" }
        return "tiers evaluate: as of \(asOf): \(figures) in \(secondsText(elapsedMilliseconds))"
    }
}

extension LoyaltyStore {
    /// The daily tier run as of `asOf` (default today): lifetime status from all-time qualifying
    /// points, soft landings, and every member's tier in force recomputed from its grants, so
    /// tiers whose validity ended before `asOf` lapse to the best tier still valid. Set-based, in
    /// chunks of members, resumable, once per date, one run at a time (else `.conflict`). The
    /// finished run is on the audit trail as `actor`'s (by default the server's own daily run).
    public func evaluateTiers(asOf: LocalDate? = nil, limits: RunLimits = RunLimits(), actor: Principal = .admin(user: "loyaltyd"),
                              progress: ((RunProgress) -> Void)? = nil) throws(LoyaltyError) -> TierRunSummary {
        let program = try program()
        let asOf = try runDate(asOf)
        do {
            let passesMax = limits.chunkPassesMax, lapsingDays = limits.lapsingNoticeDays
            let outcome = try RunDriver(kind: .tiers, asOf: asOf, limits: limits, actor: actor).run(pool, progress: progress) { conn, chunk in
                var counts = RunCounts()
                counts.grants += Int64(try TierKeeper.settleLifetime(conn, program: program, first: chunk.first, last: chunk.last))
                counts.grants += Int64(try TierKeeper.softLand(conn, program: program, first: chunk.first, last: chunk.last, asOf: asOf))
                // Another pass for the members a request changed meanwhile, if they are still stale.
                for _ in 0..<passesMax {
                    let pass = try TierKeeper.refresh(conn, program: program, first: chunk.first, last: chunk.last, asOf: asOf, reason: nil)
                    counts.members += Int64(pass.changed)
                    if pass.changed == pass.stale { break }
                }
                try DailyNotices.announceLapsing(conn, program: program, asOf: asOf, days: lapsingDays, chunk: chunk)
                return counts
            }
            return TierRunSummary(asOf: asOf, membersChanged: outcome.counts.members, grantsMade: outcome.counts.grants,
                                  membersScanned: outcome.membersScanned, alreadyDone: outcome.alreadyDone,
                                  elapsedMilliseconds: outcome.elapsedMilliseconds)
        } catch {
            throw domainError(error)
        }
    }
}
