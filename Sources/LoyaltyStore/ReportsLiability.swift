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
        let (expirySQL, expiryParameters) = Self.expiringItemsSQL(program.expiry)
        let historyDates = (0...settings.windowMonths).map { k in
            k == settings.windowMonths ? period.asOf : period.asOf.adding(months: k - settings.windowMonths).endOfMonth
        }
        return try reportSnapshot(settings) { conn in
            let rows = try conn.query(Self.liabilitySQL(expiringItems: expirySQL, horizonsDays: horizons),
                                      [period.asOf.description, period.windowStart.description] + expiryParameters).rows.map { row in
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

    /// `expiring_items(tier_code, expires_on, points)`: what expires when under the policy, with
    /// its parameters (numbered from $3).
    static func expiringItemsSQL(_ policy: ExpiryPolicy) -> (String, [String?]) {
        switch policy {
        case .none:
            return ("SELECT NULL::text AS tier_code, NULL::date AS expires_on, 0::bigint AS points WHERE false", [])
        case let .inactivity(months, exemptFromRank):
            // The whole balance, on the last activity plus the months; exempt while the member holds a
            // tier of the exempt rank that is still valid on that day.
            return ("""
                SELECT m.tier_code, d.expires_on, pm.balance AS points
                FROM per_member pm JOIN members m USING (member_number) JOIN tiers t ON t.code = m.tier_code
                CROSS JOIN LATERAL (SELECT (pm.last_activity + make_interval(months => $3::int))::date AS expires_on) d
                WHERE pm.balance > 0 AND pm.last_activity IS NOT NULL
                  AND NOT ($4::int IS NOT NULL AND t.rank >= $4::int AND (m.tier_until IS NULL OR m.tier_until >= d.expires_on))
                """, [String(months), exemptFromRank.map(String.init)])
        case let .lot(months):
            // First in, first out: every credit is a lot dated by its activity date, every debit
            // consumes the oldest lots first; a lot's remainder expires the months after its date.
            return ("""
                SELECT m.tier_code, (l.activity_date + make_interval(months => $3::int))::date AS expires_on,
                       greatest(0, least(l.points, l.through - coalesce(c.used, 0)))::bigint AS points
                FROM (SELECT member_number, activity_date, points,
                             sum(points) OVER (PARTITION BY member_number ORDER BY activity_date, entry_id
                                               ROWS UNBOUNDED PRECEDING) AS through
                      FROM ledger_entries WHERE points > 0 AND activity_date <= $1::date) l
                LEFT JOIN (SELECT member_number, -sum(points) AS used FROM ledger_entries
                           WHERE points < 0 AND activity_date <= $1::date GROUP BY member_number) c USING (member_number)
                JOIN members m USING (member_number)
                """, [String(months)])
        }
    }

    /// $1 as-of, $2 window start; horizons are validated integers written into the text.
    /// Each part is summed per tier on its own (at most a handful of groups) and joined last.
    static func liabilitySQL(expiringItems: String, horizonsDays: [Int]) -> String {
        let horizons = horizonsDays.enumerated().map { index, days in
            "coalesce(sum(points) FILTER (WHERE expires_on <= $1::date + \(days)), 0)::bigint AS expiring\(index)"
        }.joined(separator: ", ")
        let horizonColumns = horizonsDays.indices.map { "coalesce(x.expiring\($0), 0) AS expiring\($0)" }.joined(separator: ", ")
        return """
            WITH per_member AS (
                SELECT member_number, sum(points) AS balance,
                       max(activity_date) FILTER (WHERE kind IN \(ReportSQL.activityKinds)) AS last_activity,
                       coalesce(sum(points) FILTER (WHERE kind IN ('accrual', 'reversal') AND activity_date >= $2::date), 0) AS earned,
                       coalesce(-sum(points) FILTER (WHERE kind = 'expiry' AND activity_date >= $2::date), 0) AS expired
                FROM ledger_entries WHERE activity_date <= $1::date
                GROUP BY member_number
            ),
            ledger AS (
                SELECT m.tier_code, count(*) AS members, coalesce(sum(pm.balance), 0)::bigint AS outstanding,
                       coalesce(sum(pm.earned), 0)::bigint AS earned, coalesce(sum(pm.expired), 0)::bigint AS expired
                FROM members m LEFT JOIN per_member pm USING (member_number)
                GROUP BY m.tier_code
            ),
            held AS (
                SELECT m.tier_code, sum(h.points)::bigint AS held
                FROM holds h JOIN members m USING (member_number)
                WHERE h.status = 'active' AND h.expires_at > now()
                GROUP BY m.tier_code
            ),
            expiring_items AS (\(expiringItems)),
            expiring AS (
                SELECT tier_code, \(horizons) FROM expiring_items GROUP BY tier_code
            )
            SELECT t.code, t.name, coalesce(l.members, 0) AS members, coalesce(l.outstanding, 0) AS outstanding,
                   coalesce(h.held, 0) AS held, \(horizonColumns),
                   coalesce(l.earned, 0) AS earned, coalesce(l.expired, 0) AS expired
            FROM tiers t
            LEFT JOIN ledger l ON l.tier_code = t.code
            LEFT JOIN held h ON h.tier_code = t.code
            LEFT JOIN expiring x ON x.tier_code = t.code
            ORDER BY t.rank
            """
    }
}
