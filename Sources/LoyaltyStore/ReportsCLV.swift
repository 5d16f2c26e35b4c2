import LoyaltyCore
import Postgres

/// The forward-value model of the `clv` report: how many years ahead, at what discount rate.
/// docs/reports.md states the model; both knobs are bounded so that a typo cannot ask for a
/// thousand-year sum.
public struct CLVModel: Sendable, Equatable {
    public static let horizonYearsRange = 1...30
    /// 0 % to 100 % a year, in basis points.
    public static let discountBasisPointsRange: ClosedRange<Int64> = 0...10_000

    public var horizonYears: Int = 5
    public var discountBasisPoints: Int64 = 1_000

    public init() {}

    public init(horizonYears: Int, discountBasisPoints: Int64) {
        self.horizonYears = horizonYears
        self.discountBasisPoints = discountBasisPoints
    }

    func validate() throws(LoyaltyError) {
        guard Self.horizonYearsRange.contains(horizonYears) else {
            throw .invalid("horizon must be \(Self.horizonYearsRange.lowerBound) to \(Self.horizonYearsRange.upperBound) years")
        }
        guard Self.discountBasisPointsRange.contains(discountBasisPoints) else {
            throw .invalid("discount rate must be 0 to 1 (0 % to 100 % a year)")
        }
    }
}

/// How a group of members is cut in the `clv` report.
public enum CLVDimension: String, Sendable, CaseIterable {
    /// The tier members hold now.
    case tier
    /// The RFM segment as of the as-of date; members not active are `closed`.
    case rfm
    /// The calendar year the relationship began.
    case cohort
    /// Every member: the customer equity.
    case total
}

/// A cohort's observed retention: of the members who accrued in the year before the window, how
/// many accrued again in the window. `pooled` when the cohort had nobody to observe and the
/// rate of all cohorts together stands in.
public struct CLVRetention: Sendable, Equatable {
    public var base: Int64
    public var retained: Int64
    public var pooled: Bool

    /// Rounded down; nothing observed is 0.
    public var rateBasisPoints: Int64 { basisPoints(retained, of: base) }
}

/// One group's value: the relationship so far and the discounted value ahead.
public struct CLVRow: Sendable, Equatable {
    public var dimension: CLVDimension
    /// Tier code, RFM segment, cohort year, or `all`.
    public var segment: String
    public var members: Int64
    /// Members with an accrual in the window.
    public var activeMembers: Int64
    /// Partner spend of every accrual up to the as-of date, program-currency minor units.
    public var spendMinor: Int64
    /// Points earned up to the as-of date: accruals and promotions less their reversals.
    public var pointsEarned: Int64
    /// Spend in the window.
    public var windowSpendMinor: Int64
    /// The discounted spend expected over the horizon (see docs/reports.md, "clv").
    public var forwardMinor: Int64
    /// The rate the model used, on cohort rows only.
    public var retention: CLVRetention? = nil
}

/// The `clv` report: every dimension's groups, then the total, whose forward value is the customer equity.
public struct CLVReport: Sendable, Equatable {
    public var period: ReportPeriod
    /// First day of the year before the window, where retention is observed from.
    public var previousWindowStart: LocalDate
    public var currency: String
    public var model: CLVModel
    /// Tiers by rank, RFM segments in their order then `closed`, cohorts by year, then the total.
    public var rows: [CLVRow]

    public var customerEquityMinor: Int64 { rows.last(where: { $0.dimension == .total })?.forwardMinor ?? 0 }
}

/// One member's value, from the same model (and the same cost) as the whole report.
public struct CLVMember: Sendable, Equatable {
    public var period: ReportPeriod
    public var previousWindowStart: LocalDate
    public var number: String
    public var status: String
    public var tierCode: String
    /// RFM segment, `no_activity`, or `closed` for members who are not active.
    public var rfmSegment: String
    /// When the relationship began; nil when it began after the as-of date.
    public var since: LocalDate?
    public var spendMinor: Int64
    public var pointsEarned: Int64
    public var windowSpendMinor: Int64
    public var retention: CLVRetention?
    public var forwardMinor: Int64
}

extension LoyaltyStore {
    /// Historical and forward value per tier, RFM segment and enrolment cohort, and the customer
    /// equity, in one set-based query over the ledger.
    public func clvReport(asOf: LocalDate? = nil, model: CLVModel = CLVModel(),
                          settings: ReportSettings = ReportSettings()) throws(LoyaltyError) -> CLVReport {
        try model.validate()
        let program = try program()
        let period = try reportPeriod(asOf: asOf, settings: settings)
        let previous = period.windowStart.adding(months: -settings.windowMonths)
        let rows: [CLVRow] = try reportSnapshot(settings) { conn in
            try conn.query("""
                \(Self.clvValuedSQL)
                SELECT CASE WHEN grouping(tier_code) = 0 THEN 'tier' WHEN grouping(rfm) = 0 THEN 'rfm'
                            WHEN grouping(cohort) = 0 THEN 'cohort' ELSE 'total' END AS dimension,
                       coalesce(tier_code, rfm, cohort::text, 'all') AS segment,
                       count(*) AS members, count(*) FILTER (WHERE active_now) AS active,
                       sum(spend)::bigint AS spend, sum(points)::bigint AS points,
                       sum(window_spend)::bigint AS window_spend, sum(forward)::bigint AS forward,
                       min(base) AS base, min(retained) AS retained, bool_and(pooled) AS pooled
                FROM valued
                GROUP BY GROUPING SETS ((tier_code), (rfm), (cohort), ())
                """, Self.clvParameters(program: program, period: period, previous: previous, model: model, settings: settings))
            .rows.map { row in
                let dimension = CLVDimension(rawValue: try row.string("dimension")) ?? .total
                return CLVRow(
                    dimension: dimension, segment: try row.string("segment"), members: try row.int64("members"),
                    activeMembers: try row.int64("active"), spendMinor: try row.int64("spend"),
                    pointsEarned: try row.int64("points"), windowSpendMinor: try row.int64("window_spend"),
                    forwardMinor: try row.int64("forward"),
                    retention: dimension == .cohort ? try Self.clvRetention(row) : nil)
            }
        }
        return CLVReport(period: period, previousWindowStart: previous, currency: program.currency, model: model,
                         rows: Self.clvOrdered(rows, tiers: program.tiers.map(\.code)))
    }

    /// One member's historical and forward value; costs as much as the whole report, since the
    /// retention rates and RFM scores are computed over all members.
    public func clvMember(number: String, asOf: LocalDate? = nil, model: CLVModel = CLVModel(),
                          settings: ReportSettings = ReportSettings()) throws(LoyaltyError) -> CLVMember {
        try model.validate()
        let program = try program()
        let period = try reportPeriod(asOf: asOf, settings: settings)
        let previous = period.windowStart.adding(months: -settings.windowMonths)
        let member: CLVMember? = try reportSnapshot(settings) { conn in
            let parameters = Self.clvParameters(program: program, period: period, previous: previous, model: model, settings: settings)
            guard let row = try conn.query("""
                \(Self.clvValuedSQL)
                SELECT m.member_number, m.status, m.tier_code, v.since::text, v.rfm, coalesce(v.spend, 0) AS spend,
                       coalesce(v.points, 0) AS points, coalesce(v.window_spend, 0) AS window_spend,
                       coalesce(v.forward, 0) AS forward, v.base, v.retained, v.pooled
                FROM members m LEFT JOIN valued v USING (member_number) WHERE m.member_number = $\(parameters.count + 1)
                """, parameters + [number]).first else { return nil }
            let since = try row.date("since")
            let status = try row.string("status")
            return CLVMember(
                period: period, previousWindowStart: previous, number: number, status: status, tierCode: try row.string("tier_code"),
                rfmSegment: row["rfm"] ?? (status == "active" ? RFMSegment.noActivity.rawValue : "closed"),
                since: since, spendMinor: try row.int64("spend"), pointsEarned: try row.int64("points"),
                windowSpendMinor: try row.int64("window_spend"), retention: since == nil ? nil : try Self.clvRetention(row),
                forwardMinor: try row.int64("forward"))
        }
        guard let member else { throw .notFound("no member \(number)") }
        return member
    }

    private static func clvRetention(_ row: Row) throws -> CLVRetention {
        CLVRetention(base: try row.int64("base"), retained: try row.int64("retained"), pooled: try row.bool("pooled"))
    }

    /// Every tier (empty ones too) by rank, RFM segments in the report's order then `closed`, cohorts
    /// by year, the total last.
    static func clvOrdered(_ found: [CLVRow], tiers: [String]) -> [CLVRow] {
        let rows = found + tiers.filter { tier in !found.contains { $0.dimension == .tier && $0.segment == tier } }.map {
            CLVRow(dimension: .tier, segment: $0, members: 0, activeMembers: 0, spendMinor: 0, pointsEarned: 0,
                   windowSpendMinor: 0, forwardMinor: 0)
        }
        let segments = RFMSegment.allCases.map(\.rawValue) + ["closed"]
        func key(_ row: CLVRow) -> (Int, Int) {
            let dimension = CLVDimension.allCases.firstIndex(of: row.dimension) ?? 0
            switch row.dimension {
            case .tier: return (dimension, tiers.firstIndex(of: row.segment) ?? tiers.count)
            case .rfm: return (dimension, segments.firstIndex(of: row.segment) ?? segments.count)
            case .cohort: return (dimension, Int(row.segment) ?? 0)
            case .total: return (dimension, 0)
            }
        }
        return rows.sorted { key($0) < key($1) }
    }

    /// The RFM query's five parameters, then $6 start of the year before the window, $7 horizon
    /// years, $8 discount rate in basis points, $9 the program's UTC offset in seconds.
    static func clvParameters(program: Program, period: ReportPeriod, previous: LocalDate, model: CLVModel,
                              settings: ReportSettings) -> [String?] {
        rfmParameters(program: program, period: period, settings: settings)
            + [previous.description, String(model.horizonYears), String(model.discountBasisPoints), String(program.utcOffsetSeconds)]
    }

    /// Points earned: accruals and promotion bonuses less their reversals.
    static let earnedKinds = "('accrual', 'reversal', 'promotion', 'promotion_reversal')"

    /// `valued`: one row per member whose relationship began by the as-of date, with its history,
    /// cohort, the cohort's retention and the forward value.
    ///
    /// Forward value of an active member: its window spend s, its cohort's retention r = retained / base
    /// and the discount rate d, over H years: ⌊s × Σ_{t=1..H} (r / (1 + d))^t⌋. The sum is one fraction
    /// Σ a^t b^(H−t) / b^H with a = retained × 10000 and b = base × (10000 + d in basis points): integers,
    /// whose powers PostgreSQL's numeric computes exactly, so the one rounding is the floor per member.
    /// `factors` is materialized: one sum per cohort, not one per member (PostgreSQL would inline it).
    /// One pass over the ledger gives both this report's history and the RFM scores' `activity`.
    static let clvValuedSQL = """
        WITH rates AS (\(ReportSQL.rates(3))),
        history AS (
            SELECT e.member_number, min(e.activity_date) AS first_activity,
                   coalesce(sum(\(ReportSQL.spend)), 0)::bigint AS spend,
                   coalesce(sum(e.points) FILTER (WHERE e.kind IN \(earnedKinds)), 0)::bigint AS points,
                   coalesce(sum(\(ReportSQL.spend)) FILTER (WHERE e.activity_date >= $2::date), 0)::bigint AS window_spend,
                   min(e.activity_date) FILTER (WHERE e.kind = 'accrual') AS first_accrual,
                   max(e.activity_date) FILTER (WHERE e.kind = 'accrual') AS last_accrual,
                   count(*) FILTER (WHERE e.kind = 'accrual' AND e.activity_date >= $2::date) AS frequency,
                   bool_or(e.kind = 'accrual' AND e.activity_date >= $6::date AND e.activity_date < $2::date) AS active_before
            FROM ledger_entries e LEFT JOIN rates r ON r.currency = e.currency
            WHERE e.activity_date <= $1::date
            GROUP BY e.member_number
        ),
        activity AS (
            SELECT member_number, first_accrual, last_accrual, frequency, window_spend AS monetary
            FROM history WHERE first_accrual IS NOT NULL
        ),
        \(rfmRankedSQL),
        customers AS (
            SELECT * , extract(year FROM since)::int AS cohort FROM (
                SELECT m.member_number, m.status, m.tier_code,
                       \(ReportSQL.since(firstEntry: "h.first_activity", offset: 9)) AS since,
                       coalesce(h.spend, 0) AS spend, coalesce(h.points, 0) AS points,
                       coalesce(h.window_spend, 0) AS window_spend,
                       coalesce(h.frequency > 0, false) AS active_now, coalesce(h.active_before, false) AS active_before
                FROM members m LEFT JOIN history h USING (member_number)
            ) c WHERE since <= $1::date
        ),
        observed AS (
            SELECT cohort, count(*) FILTER (WHERE active_before) AS base,
                   count(*) FILTER (WHERE active_before AND active_now) AS retained
            FROM customers GROUP BY cohort
        ),
        model AS (
            SELECT o.cohort, o.base = 0 AS pooled,
                   CASE WHEN o.base > 0 THEN o.base ELSE p.base END AS base,
                   CASE WHEN o.base > 0 THEN o.retained ELSE p.retained END AS retained
            FROM observed o CROSS JOIN (SELECT sum(base)::bigint AS base, sum(retained)::bigint AS retained FROM observed) p
        ),
        factors AS MATERIALIZED (
            SELECT m.*, (SELECT sum(power(m.retained * 10000::numeric, t) * power(greatest(m.base, 1) * (10000 + $8::numeric), $7::int - t))
                         FROM generate_series(1, $7::int) t) AS numerator,
                   power(greatest(m.base, 1) * (10000 + $8::numeric), $7::int) AS denominator
            FROM model m
        ),
        valued AS (
            SELECT c.*, f.base, f.retained, f.pooled,
                   CASE WHEN c.status <> 'active' THEN 'closed' ELSE coalesce(s.segment, 'no_activity') END AS rfm,
                   CASE WHEN c.status = 'active' AND c.window_spend > 0 THEN div(c.window_spend * f.numerator, f.denominator)::bigint
                        ELSE 0 END AS forward
            FROM customers c JOIN factors f USING (cohort) LEFT JOIN scored s USING (member_number)
        )
        """
}
