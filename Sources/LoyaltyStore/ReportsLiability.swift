import LoyaltyCore
import Postgres

/// Points owed to the members of one tier.
public struct LiabilityRow: Sendable, Equatable {
    public var tierCode: String
    public var tierName: String
    /// Members of any status holding the tier now.
    public var members: Int64
    /// Balances as of the as-of date (ledger entries dated up to it).
    public var outstanding: Int64
    /// Reserved by active holds now (holds live minutes to days, so they are not dated).
    public var held: Int64
    /// Points that expire by as-of + each horizon (settings' `expiryHorizonsDays`), overdue included.
    public var expiring: [Int64]
    /// Accruals less reversals dated in the window.
    public var earned: Int64
    /// Expiry entries dated in the window.
    public var expired: Int64

    /// Breakage: the share of points earned in the window that expired in it, in basis points.
    public var breakageBasisPoints: Int64 { basisPoints(expired, of: earned) }
}

/// Outstanding points at one date of the liability history.
public struct LiabilityPoint: Sendable, Equatable {
    public var date: LocalDate
    public var outstanding: Int64
    /// Points expired after the first date of the history, up to this date.
    public var expiredSinceStart: Int64
}

/// The `liability` report.
public struct LiabilityReport: Sendable, Equatable {
    public var period: ReportPeriod
    public var horizonsDays: [Int]
    /// One row per tier, by rank.
    public var tiers: [LiabilityRow]
    /// Month ends of the window and the as-of date itself, oldest first.
    public var history: [LiabilityPoint]

    /// All tiers together.
    public var total: LiabilityRow {
        tiers.reduce(LiabilityRow(tierCode: "ALL", tierName: "all", members: 0, outstanding: 0, held: 0,
                                  expiring: horizonsDays.map { _ in 0 }, earned: 0, expired: 0)) { sum, row in
            LiabilityRow(tierCode: sum.tierCode, tierName: sum.tierName, members: sum.members + row.members,
                         outstanding: sum.outstanding + row.outstanding, held: sum.held + row.held,
                         expiring: zip(sum.expiring, row.expiring).map(+), earned: sum.earned + row.earned,
                         expired: sum.expired + row.expired)
        }
    }
}

extension LoyaltyStore {
    /// What the program owes its members, by tier: outstanding, held, expiring soon, and breakage.
    public func liabilityReport(asOf: LocalDate? = nil, settings: ReportSettings = ReportSettings()) throws(LoyaltyError) -> LiabilityReport {
        let program = try program()
        let period = try reportPeriod(asOf: asOf, settings: settings)
        let horizons = settings.expiryHorizonsDays
        let expiring = Self.expiringSQL(program, runDays: horizons.map { period.asOf.adding(days: $0) })
        let historyDates = (0...settings.windowMonths).map { k in
            k == settings.windowMonths ? period.asOf : period.asOf.adding(months: k - settings.windowMonths).endOfMonth
        }
        return try reportSnapshot(settings) { conn in
            let rows = try conn.query(Self.liabilitySQL(expiring),
                                      [period.asOf.description, period.windowStart.description] + expiring.parameters).rows.map { row in
                LiabilityRow(tierCode: try row.string("code"), tierName: try row.string("name"), members: try row.int64("members"),
                             outstanding: try row.int64("outstanding"), held: try row.int64("held"),
                             expiring: try horizons.indices.map { try row.int64("expiring\($0)") },
                             earned: try row.int64("earned"), expired: try row.int64("expired"))
            }
            let months = try conn.query("""
                SELECT date_trunc('month', activity_date)::date::text AS month, sum(points)::bigint AS net,
                       coalesce(-sum(points) FILTER (WHERE kind = 'expiry'), 0)::bigint AS expired
                FROM ledger_entries WHERE activity_date <= $1::date GROUP BY 1 ORDER BY 1
                """, [period.asOf.description]).rows.map { row in
                (month: try row.date("month") ?? period.asOf, net: try row.int64("net"), expired: try row.int64("expired"))
            }
            return LiabilityReport(period: period, horizonsDays: horizons, tiers: rows,
                                   history: Self.liabilityHistory(months: months, dates: historyDates))
        }
    }

    /// Outstanding at each date from month totals: every month up to the date's month counts
    /// (the last date is the as-of date, and nothing after it was summed).
    static func liabilityHistory(months: [(month: LocalDate, net: Int64, expired: Int64)], dates: [LocalDate]) -> [LiabilityPoint] {
        guard let first = dates.first else { return [] }
        return dates.map { date in
            let upTo = months.filter { $0.month <= date }
            return LiabilityPoint(date: date, outstanding: upTo.reduce(0) { $0 + $1.net },
                                  expiredSinceStart: upTo.filter { $0.month > first }.reduce(0) { $0 + $1.expired })
        }
    }

    /// How a policy's expiring points are computed: aggregates `per_member` adds over the member's
    /// ledger entries (`e`), one expression per horizon over `pm` (that row), `m` (the member) and
    /// `t` (its tier), and the parameters both use, numbered from $3.
    struct ExpiringSQL {
        var aggregates: [String] = []
        var perHorizon: [String]
        var parameters: [String?] = []
    }

    /// What the program's expiry run would take on each of `runDays` if nothing else happened until
    /// then: the rules of `Expiry.due`, evaluated for a run on that day (and not capped by holds,
    /// which are released or captured long before).
    static func expiringSQL(_ program: Program, runDays: [LocalDate]) -> ExpiringSQL {
        switch program.expiry {
        case .none:
            return ExpiringSQL(perHorizon: runDays.map { _ in "0" })
        case .inactivity(_, let exemptFromRank):
            // The whole balance once the last activity (else the enrollment) is on or before the run's
            // cutoff, unless the member then still holds a tier of the exempt rank.
            var parameters: [String?] = [String(program.utcOffsetSeconds), exemptFromRank.map(String.init)]
            let perHorizon = runDays.map { day -> String in
                parameters += [program.inactivityCutoff(asOf: day)?.description, day.description]
                let cutoff = parameters.count + 1, run = parameters.count + 2
                return """
                    CASE WHEN pm.balance > 0
                          AND coalesce(pm.last_activity, ((m.enrolled_at AT TIME ZONE 'UTC') + make_interval(secs => $3::int))::date)
                              <= $\(cutoff)::date
                          AND NOT ($4::int IS NOT NULL AND t.rank >= $4::int AND (m.tier_until IS NULL OR m.tier_until >= $\(run)::date))
                         THEN pm.balance ELSE 0 END
                    """
            }
            return ExpiringSQL(perHorizon: perHorizon, parameters: parameters)
        case .lot:
            // Lots matured by the run's cutoff, less everything spent or expired, never below zero
            // and never more than the balance.
            let cutoffs = runDays.map { program.lotExpiryCutoff(asOf: $0)?.description }
            let aggregates = ["coalesce(sum(e.points) FILTER (WHERE NOT \(Expiry.lotCreditSQL)), 0) AS spent"]
                + cutoffs.indices.map {
                    "coalesce(sum(e.points) FILTER (WHERE \(Expiry.lotCreditSQL) AND e.activity_date <= $\($0 + 3)::date), 0) AS matured\($0)"
                }
            let perHorizon = cutoffs.indices.map { "greatest(0, least(pm.matured\($0) + pm.spent, pm.balance))" }
            return ExpiringSQL(aggregates: aggregates, perHorizon: perHorizon, parameters: cutoffs)
        }
    }

    /// $1 as-of, $2 window start, then the expiry parameters. One pass over the ledger gives every
    /// member's figures; they are summed per tier (a handful of groups), holds apart.
    static func liabilitySQL(_ expiring: ExpiringSQL) -> String {
        let aggregates = expiring.aggregates.map { ",\n" + $0 }.joined()
        let horizons = expiring.perHorizon.enumerated().map { index, points in
            "coalesce(sum(\(points)), 0)::bigint AS expiring\(index)"
        }.joined(separator: ",\n")
        let horizonColumns = expiring.perHorizon.indices.map { "coalesce(l.expiring\($0), 0) AS expiring\($0)" }
            .joined(separator: ", ")
        return """
            WITH per_member AS (
                SELECT e.member_number, sum(e.points) AS balance,
                       max(e.activity_date) FILTER (WHERE e.kind IN \(ReportSQL.activityKinds)) AS last_activity,
                       coalesce(sum(e.points) FILTER (WHERE e.kind IN ('accrual', 'reversal', 'promotion', 'promotion_reversal') AND e.activity_date >= $2::date), 0) AS earned,
                       coalesce(-sum(e.points) FILTER (WHERE e.kind = 'expiry' AND e.activity_date >= $2::date), 0) AS expired\(aggregates)
                FROM ledger_entries e WHERE e.activity_date <= $1::date
                GROUP BY e.member_number
            ),
            ledger AS (
                SELECT m.tier_code, count(*) AS members, coalesce(sum(pm.balance), 0)::bigint AS outstanding,
                       coalesce(sum(pm.earned), 0)::bigint AS earned, coalesce(sum(pm.expired), 0)::bigint AS expired,
                       \(horizons)
                FROM members m JOIN tiers t ON t.code = m.tier_code LEFT JOIN per_member pm USING (member_number)
                GROUP BY m.tier_code
            ),
            held AS (
                SELECT m.tier_code, sum(h.points)::bigint AS held
                FROM holds h JOIN members m USING (member_number)
                WHERE h.status = 'active' AND h.expires_at > now()
                GROUP BY m.tier_code
            )
            SELECT t.code, t.name, coalesce(l.members, 0) AS members, coalesce(l.outstanding, 0) AS outstanding,
                   coalesce(h.held, 0) AS held, \(horizonColumns),
                   coalesce(l.earned, 0) AS earned, coalesce(l.expired, 0) AS expired
            FROM tiers t
            LEFT JOIN ledger l ON l.tier_code = t.code
            LEFT JOIN held h ON h.tier_code = t.code
            ORDER BY t.rank
            """
    }
}
