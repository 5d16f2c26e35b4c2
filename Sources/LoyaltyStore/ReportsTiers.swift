import LoyaltyCore
import Postgres

/// One tier's members, who is close to the next tier, and who is about to lose it.
public struct TierReportRow: Sendable, Equatable {
    public var tierCode: String
    public var tierName: String
    public var rank: Int
    public var threshold: Int64
    /// Active members holding the tier now.
    public var members: Int64
    /// Members whose qualifying points this period are within `upgradeProximityPercent` below the
    /// next tier's threshold (none for the top tier).
    public var upgradeCandidates: Int64
    /// Members whose tier validity ends within `tierLapseHorizonDays` of the as-of date (or has
    /// ended and awaits the next tier run); the base tier never lapses.
    public var lapsing: Int64
}

/// The `tiers` report.
public struct TierReport: Sendable, Equatable {
    public var period: ReportPeriod
    /// The qualification period containing the as-of date; qualifying points count from its first
    /// day through the as-of date.
    public var qualificationStart: LocalDate
    public var upgradeProximityPercent: Int64
    public var lapseHorizonDays: Int
    /// By rank, base tier first.
    public var tiers: [TierReportRow]

    public var members: Int64 { tiers.reduce(0) { $0 + $1.members } }
}

extension LoyaltyStore {
    /// Members per tier, upgrade candidates and lapsing tiers, as of a date.
    public func tierReport(asOf: LocalDate? = nil, settings: ReportSettings = ReportSettings()) throws(LoyaltyError) -> TierReport {
        let program = try program()
        let period = try reportPeriod(asOf: asOf, settings: settings)
        let qualificationStart = program.period(containing: period.asOf).lowerBound
        let rows = try reportSnapshot(settings) { conn in
            try conn.query(Self.tierReportSQL, [
                period.asOf.description, qualificationStart.description, String(settings.upgradeProximityPercent),
                String(settings.tierLapseHorizonDays),
            ]).rows.map { row in
                TierReportRow(tierCode: try row.string("code"), tierName: try row.string("name"), rank: try row.int("rank"),
                              threshold: try row.int64("qualifying_threshold"), members: try row.int64("members"),
                              upgradeCandidates: try row.int64("upgrade_candidates"), lapsing: try row.int64("lapsing"))
            }
        }
        return TierReport(period: period, qualificationStart: qualificationStart,
                          upgradeProximityPercent: settings.upgradeProximityPercent,
                          lapseHorizonDays: settings.tierLapseHorizonDays, tiers: rows)
    }

    /// `qualifying` (q per member in the period from $2 through $1) and `ladder` (each tier with the
    /// next one's code and threshold).
    static let tierProgressSQL = """
        WITH qualifying AS (
            SELECT member_number, sum(qualifying) AS q FROM ledger_entries
            WHERE qualifying <> 0 AND activity_date BETWEEN $2::date AND $1::date
            GROUP BY member_number
        ),
        ladder AS (
            SELECT t.code, t.name, t.rank, t.qualifying_threshold, n.code AS next_code, n.qualifying_threshold AS next_threshold
            FROM tiers t
            LEFT JOIN LATERAL (SELECT code, qualifying_threshold FROM tiers n WHERE n.rank > t.rank ORDER BY n.rank LIMIT 1) n ON true
        )
        """

    /// A candidate has q < next threshold and q × 100 ≥ next threshold × (100 − proximity $3): integers only.
    static let upgradeCandidateSQL = """
        l.next_threshold IS NOT NULL AND coalesce(q.q, 0) < l.next_threshold
        AND coalesce(q.q, 0) * 100 >= l.next_threshold * (100 - $3::bigint)
        """

    /// Member `m` holds a tier of rank `rank` above the base whose validity ends within the days of
    /// parameter `days` after the as-of date $1 (or has ended and awaits the next tier run).
    static func lapsingSQL(rank: String, days: Int) -> String {
        "\(rank) > 0 AND m.tier_until IS NOT NULL AND m.tier_until < $1::date + $\(days)::int"
    }

    /// $1 as-of, $2 qualification period start, $3 proximity percent, $4 lapse horizon days.
    static let tierReportSQL = """
        \(tierProgressSQL)
        SELECT l.code, l.name, l.rank, l.qualifying_threshold, count(m.member_number) AS members,
               count(m.member_number) FILTER (WHERE \(upgradeCandidateSQL)) AS upgrade_candidates,
               count(m.member_number) FILTER (
                   WHERE \(lapsingSQL(rank: "l.rank", days: 4))) AS lapsing
        FROM ladder l
        LEFT JOIN members m ON m.tier_code = l.code AND m.status = 'active'
        LEFT JOIN qualifying q ON q.member_number = m.member_number
        GROUP BY l.code, l.name, l.rank, l.qualifying_threshold
        ORDER BY l.rank
        """
}
