import LoyaltyCore
import Postgres

/// What one partner owes for one month of accruals.
public struct SettlementRow: Sendable, Equatable {
    public var partnerCode: String
    /// `YYYY-MM`, the month the entries were posted in, in the program's time zone.
    public var month: String
    public var accruals: Int64
    public var pointsIssued: Int64
    public var reversals: Int64
    public var pointsReversed: Int64
    /// The partner's price in minor units of `priceCurrency` per 1,000 points.
    public var pricePerThousandMinor: Int64
    /// Bonus points of promotions on the partner's accruals, net of their reversals: shown apart,
    /// not billed at the partner's price (the programme funds its promotions).
    public var promotionPoints: Int64 = 0
    /// nil = the program currency.
    public var priceCurrency: String? = nil

    public var netPoints: Int64 { pointsIssued - pointsReversed }
    /// floor(net points × price / 1,000), in minor units; negative when reversals outweigh issues
    /// (a credit to the partner). One rounding per row, exact otherwise.
    public var owedMinor: Int64 {
        Int64(floorDivide(Int128(netPoints) * Int128(pricePerThousandMinor), 1_000))
    }
}

/// The `settlement` report.
public struct SettlementReport: Sendable, Equatable {
    public var period: ReportPeriod
    public var currency: String
    /// First day of the first month reported.
    public var firstMonth: LocalDate
    /// By partner, then month.
    public var rows: [SettlementRow]

    /// Owed in the program currency, by partners priced in it.
    public var owedMinor: Int64 { rows.filter { ($0.priceCurrency ?? currency) == currency }.reduce(0) { $0 + $1.owedMinor } }

    /// Owed per currency partners are priced in.
    public var owedByCurrency: [String: Int64] {
        rows.reduce(into: [:]) { totals, row in totals[row.priceCurrency ?? currency, default: 0] += row.owedMinor }
    }
}

extension LoyaltyStore {
    /// Per partner and posting month over the window's months (the as-of month up to the as-of
    /// date included): accruals, reversals, and the amount owed at the partner's price.
    /// Months are by posting time, so a closed month never changes when late activity arrives.
    public func settlementReport(asOf: LocalDate? = nil, settings: ReportSettings = ReportSettings()) throws(LoyaltyError) -> SettlementReport {
        let program = try program()
        let period = try reportPeriod(asOf: asOf, settings: settings)
        let lastMonthStart = period.asOf.adding(days: 1 - period.asOf.day)
        let firstMonth = lastMonthStart.adding(months: 1 - settings.windowMonths)
        let rows = try reportSnapshot(settings) { conn in
            try conn.query(Self.settlementSQL, [
                firstMonth.description, period.asOf.adding(days: 1).description, String(program.utcOffsetSeconds),
            ]).rows.map { row in
                SettlementRow(partnerCode: try row.string("partner_code"), month: try row.string("month"),
                              accruals: try row.int64("accruals"), pointsIssued: try row.int64("issued"),
                              reversals: try row.int64("reversals"), pointsReversed: try row.int64("reversed"),
                              pricePerThousandMinor: try row.int64("price"), promotionPoints: try row.int64("promotion"),
                              priceCurrency: row["price_currency"])
            }
        }
        return SettlementReport(period: period, currency: program.currency, firstMonth: firstMonth, rows: rows)
    }

    /// $1 first day, $2 the day after the last (local dates), $3 the program's UTC offset in seconds.
    /// Local midnight is UTC midnight less the offset; the index on (partner_code, posted_at) serves the range.
    static let settlementSQL = """
        SELECT e.partner_code,
               to_char((e.posted_at AT TIME ZONE 'UTC') + make_interval(secs => $3::int), 'YYYY-MM') AS month,
               count(*) FILTER (WHERE e.kind = 'accrual') AS accruals,
               coalesce(sum(e.points) FILTER (WHERE e.kind = 'accrual'), 0)::bigint AS issued,
               count(*) FILTER (WHERE e.kind = 'reversal') AS reversals,
               coalesce(-sum(e.points) FILTER (WHERE e.kind = 'reversal'), 0)::bigint AS reversed,
               coalesce(sum(e.points) FILTER (WHERE e.kind IN ('promotion', 'promotion_reversal')), 0)::bigint AS promotion,
               p.price_per_thousand_points_minor AS price, p.price_currency
        FROM ledger_entries e JOIN partners p ON p.code = e.partner_code
        WHERE e.partner_code IS NOT NULL AND e.kind IN ('accrual', 'reversal', 'promotion', 'promotion_reversal')
          AND e.posted_at >= ($1::date - make_interval(secs => $3::int)) AT TIME ZONE 'UTC'
          AND e.posted_at < ($2::date - make_interval(secs => $3::int)) AT TIME ZONE 'UTC'
        GROUP BY e.partner_code, 2, p.price_per_thousand_points_minor, p.price_currency
        ORDER BY e.partner_code, 2
        """
}
