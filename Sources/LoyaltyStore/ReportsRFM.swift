import LoyaltyCore
import Postgres

/// RFM segments, tested in this order; the first that matches wins. Scores are quintiles 1-5
/// (5 = most recent, most frequent, highest spend) over active members with an accrual.
public enum RFMSegment: String, Sendable, CaseIterable {
    /// R ≥ 4, F ≥ 4 and M ≥ 4: recent, frequent, high spend.
    case champions
    /// First accrual within `newMemberDays` of the as-of date.
    case new
    /// R ≥ 3 and F ≥ 3.
    case loyal
    /// R ≤ 2 and F ≥ 3: used to come often, has not lately.
    case atRisk = "at_risk"
    /// R ≤ 2 and F ≤ 2.
    case hibernating
    /// R ≥ 3 and F ≤ 2: recent but seldom.
    case promising
    /// Active members without any accrual up to the as-of date; not scored.
    case noActivity = "no_activity"
}

/// One RFM segment's size and value over the window.
public struct RFMSegmentRow: Sendable, Equatable {
    public var segment: RFMSegment
    public var members: Int64
    /// Accruals in the window.
    public var accruals: Int64
    /// Partner spend in the window, program-currency minor units.
    public var spendMinor: Int64
}

/// The `rfm` report: every active member in exactly one segment.
public struct RFMReport: Sendable, Equatable {
    public var period: ReportPeriod
    public var currency: String
    /// One row per segment, in `RFMSegment.allCases` order, empty segments included.
    public var segments: [RFMSegmentRow]

    public var members: Int64 { segments.reduce(0) { $0 + $1.members } }
    public var spendMinor: Int64 { segments.reduce(0) { $0 + $1.spendMinor } }
}

/// One member's RFM figures; scores are nil for members without an accrual or not active.
public struct RFMMemberScore: Sendable, Equatable {
    public var period: ReportPeriod
    public var number: String
    public var status: String
    public var firstAccrual: LocalDate?
    public var lastAccrual: LocalDate?
    /// Days from the last accrual to the as-of date.
    public var recencyDays: Int64?
    /// Accruals in the window.
    public var frequency: Int64
    /// Spend in the window, program-currency minor units.
    public var monetaryMinor: Int64
    public var recencyScore: Int?
    public var frequencyScore: Int?
    public var monetaryScore: Int?
    /// nil for members that are not active (closed, merged): they are not scored.
    public var segment: RFMSegment?
}

extension LoyaltyStore {
    /// Recency, frequency and monetary value of every active member, scored and segmented in one
    /// set-based query (see docs/reports.md for the rules).
    public func rfmReport(asOf: LocalDate? = nil, settings: ReportSettings = ReportSettings()) throws(LoyaltyError) -> RFMReport {
        let program = try program()
        let period = try reportPeriod(asOf: asOf, settings: settings)
        let found: [RFMSegment: RFMSegmentRow] = try reportSnapshot(settings) { conn in
            let rows = try conn.query("""
                \(Self.rfmScoredSQL)
                SELECT segment, count(*) AS members, coalesce(sum(frequency), 0) AS accruals,
                       coalesce(sum(monetary), 0) AS spend
                FROM scored GROUP BY segment
                """, Self.rfmParameters(program: program, period: period, settings: settings)).rows
            var bySegment: [RFMSegment: RFMSegmentRow] = [:]
            for row in rows {
                let name = try row.string("segment")
                guard let segment = RFMSegment(rawValue: name) else {
                    throw PostgresError(code: .unexpectedResult, message: "unknown RFM segment \(name)")
                }
                bySegment[segment] = RFMSegmentRow(segment: segment, members: try row.int64("members"),
                                                   accruals: try row.int64("accruals"), spendMinor: try row.int64("spend"))
            }
            let active = try conn.query("SELECT count(*) AS n FROM members WHERE status = 'active'").first?.int64("n") ?? 0
            let scored = bySegment.values.reduce(0) { $0 + $1.members }
            bySegment[.noActivity] = RFMSegmentRow(segment: .noActivity, members: active - scored, accruals: 0, spendMinor: 0)
            return bySegment
        }
        return RFMReport(period: period, currency: program.currency, segments: RFMSegment.allCases.map {
            found[$0] ?? RFMSegmentRow(segment: $0, members: 0, accruals: 0, spendMinor: 0)
        })
    }

    /// One member's RFM figures, scored against all active members.
    public func rfmMember(number: String, asOf: LocalDate? = nil,
                          settings: ReportSettings = ReportSettings()) throws(LoyaltyError) -> RFMMemberScore {
        let program = try program()
        let period = try reportPeriod(asOf: asOf, settings: settings)
        let score: RFMMemberScore? = try reportSnapshot(settings) { conn in
            guard let row = try conn.query("""
                \(Self.rfmScoredSQL)
                SELECT m.member_number, m.status, s.first_accrual::text, s.last_accrual::text, s.recency_days,
                       coalesce(s.frequency, 0) AS frequency, coalesce(s.monetary, 0) AS monetary, s.r, s.f, s.m, s.segment
                FROM members m LEFT JOIN scored s USING (member_number) WHERE m.member_number = $6
                """, Self.rfmParameters(program: program, period: period, settings: settings) + [number]).first else { return nil }
            return RFMMemberScore(
                period: period, number: number, status: try row.string("status"), firstAccrual: try row.date("first_accrual"),
                lastAccrual: try row.date("last_accrual"), recencyDays: try row.optionalInt64("recency_days"),
                frequency: try row.int64("frequency"), monetaryMinor: try row.int64("monetary"),
                recencyScore: try row.optionalInt64("r").map(Int.init), frequencyScore: try row.optionalInt64("f").map(Int.init),
                monetaryScore: try row.optionalInt64("m").map(Int.init),
                segment: try row.string("status") != "active" ? nil : row["segment"].flatMap(RFMSegment.init) ?? .noActivity)
        }
        guard let score else { throw .notFound("no member \(number)") }
        return score
    }

    /// Quintiles: the segment rules' thresholds (4 and up is the top two fifths) assume five.
    static let rfmScoreBuckets = 5

    static func rfmParameters(program: Program, period: ReportPeriod, settings: ReportSettings) -> [String?] {
        [period.asOf.description, period.windowStart.description, ratesJSON(program),
         period.asOf.adding(days: -settings.newMemberDays).description, String(rfmScoreBuckets)]
    }

    /// `scored`: one row per active member with an accrual: its figures, scores and segment.
    /// (Active members without one are `no_activity`: counted, not ranked.)
    /// $1 as-of, $2 window start, $3 rates, $4 last day before "new", $5 number of score buckets.
    /// A score is the member's rank bucket: 1 + buckets × (rank − 1) / members, so equal values always
    /// share a score (plain ntile would split ties by chance).
    static let rfmScoredSQL = """
        WITH rates AS (\(ReportSQL.rates(3))),
        activity AS (
            SELECT e.member_number, min(e.activity_date) AS first_accrual, max(e.activity_date) AS last_accrual,
                   count(*) FILTER (WHERE e.activity_date >= $2::date) AS frequency,
                   coalesce(sum(\(ReportSQL.spend)) FILTER (WHERE e.activity_date >= $2::date), 0)::bigint AS monetary
            FROM ledger_entries e LEFT JOIN rates r ON r.currency = e.currency
            WHERE e.kind = 'accrual' AND e.activity_date <= $1::date
            GROUP BY e.member_number
        ),
        \(rfmRankedSQL)
        """

    /// `population`, `ranked` and `scored` from `activity` (one row per member with an accrual:
    /// first_accrual, last_accrual, frequency, monetary), with the parameters of `rfmScoredSQL`.
    static let rfmRankedSQL = """
        population AS (
            SELECT a.* FROM activity a JOIN members m USING (member_number) WHERE m.status = 'active'
        ),
        ranked AS (
            SELECT p.*, $1::date - p.last_accrual AS recency_days,
                   1 + $5::int * (rank() OVER (ORDER BY p.last_accrual) - 1) / count(*) OVER () AS r,
                   1 + $5::int * (rank() OVER (ORDER BY p.frequency) - 1) / count(*) OVER () AS f,
                   1 + $5::int * (rank() OVER (ORDER BY p.monetary) - 1) / count(*) OVER () AS m
            FROM population p
        ),
        scored AS (
            SELECT ranked.*, CASE
                    WHEN r >= 4 AND f >= 4 AND m >= 4 THEN 'champions'
                    WHEN first_accrual > $4::date THEN 'new'
                    WHEN r >= 3 AND f >= 3 THEN 'loyal'
                    WHEN r <= 2 AND f >= 3 THEN 'at_risk'
                    WHEN r <= 2 THEN 'hibernating'
                    ELSE 'promising' END AS segment
            FROM ranked
        )
        """
}
