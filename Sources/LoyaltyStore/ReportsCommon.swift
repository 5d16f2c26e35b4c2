import Foundation
import LoyaltyCore
import Postgres

/// The knobs of the analytics reports, with the defaults docs/reports.md describes.
public struct ReportSettings: Sendable, Equatable {
    /// Length of the trailing window for frequency, spend, earned, breakage and settlement.
    public var windowMonths: Int = 12
    /// RFM "new": a first accrual at most this many days before the as-of date.
    public var newMemberDays: Int = 90
    /// Horizons of the liability report's "expiring within" columns.
    public var expiryHorizonsDays: [Int] = [30, 60, 90]
    /// Tiers report: how close (percent below the next threshold) makes an upgrade candidate.
    public var upgradeProximityPercent: Int64 = 10
    /// Tiers report: a tier whose validity ends within this many days is lapsing.
    public var tierLapseHorizonDays: Int = 90
    /// Points on each Lorenz curve (plus the origin).
    public var lorenzSteps: Int = 100
    /// Pareto report: the top shares of members to report.
    public var paretoTopPercents: [Int64] = [1, 5, 10, 20]
    /// Pareto report: the share of value whose smallest group of members is reported.
    public var paretoValuePercent: Int64 = 80
    /// Sort and hash memory for the report's queries; reports scan the whole ledger.
    public var workMemMegabytes: Int = 256

    public init() {}

    /// Bounds every knob so that a typo cannot turn a report into an hour-long scan.
    func validate() throws(LoyaltyError) {
        guard (1...120).contains(windowMonths), (1...3_660).contains(newMemberDays),
              (1...8).contains(expiryHorizonsDays.count), expiryHorizonsDays.allSatisfy({ (1...3_660).contains($0) }),
              (1...99).contains(upgradeProximityPercent), (1...3_660).contains(tierLapseHorizonDays),
              (2...1_000).contains(lorenzSteps), (1...10).contains(paretoTopPercents.count),
              paretoTopPercents.allSatisfy({ (1...99).contains($0) }), (1...99).contains(paretoValuePercent),
              (4...4_096).contains(workMemMegabytes) else {
            throw .invalid("report settings out of range")
        }
    }
}

/// Part of a whole in basis points (1/100 of a percent), rounded down; 0 of nothing is 0.
/// Computed in 128 bits, so any two Int64 sums work.
public func basisPoints(_ part: Int64, of whole: Int64) -> Int64 {
    guard whole != 0 else { return 0 }
    return Int64(floorDivide(Int128(part) * 10_000, Int128(whole)))
}

/// Quotient rounded toward negative infinity (Swift's `/` rounds toward zero).
func floorDivide(_ value: Int128, _ divisor: Int128) -> Int128 {
    precondition(divisor > 0, "floor division by a positive divisor")
    let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
    return remainder < 0 ? quotient - 1 : quotient
}

/// The dates a report is computed for: the as-of date and the start of the trailing window.
public struct ReportPeriod: Sendable, Equatable {
    /// Ledger entries dated after this day do not count; windows end on it.
    public var asOf: LocalDate
    /// First day of the trailing window (`windowMonths` back, the day after).
    public var windowStart: LocalDate

    init(asOf: LocalDate, settings: ReportSettings) {
        self.asOf = asOf
        windowStart = asOf.adding(months: -settings.windowMonths).adding(days: 1)
    }
}

extension LoyaltyStore {
    /// Runs a report's queries in one read-only snapshot, so that every figure of one report
    /// agrees with every other even while the server takes traffic.
    func reportSnapshot<T>(_ settings: ReportSettings, _ body: (Connection) throws -> T) throws(LoyaltyError) -> T {
        try settings.validate()
        return try read { conn in
            try conn.transaction(.repeatableRead) { conn in
                try conn.execute("SET TRANSACTION READ ONLY")
                try conn.execute("SET LOCAL work_mem = '\(settings.workMemMegabytes)MB'")
                return try body(conn)
            }
        }
    }

    /// The report period for `asOf`, defaulting to today in the program's zone.
    func reportPeriod(asOf: LocalDate?, settings: ReportSettings) throws(LoyaltyError) -> ReportPeriod {
        if let asOf { return ReportPeriod(asOf: asOf, settings: settings) }
        return ReportPeriod(asOf: try today(), settings: settings)
    }

    /// The program's exchange rates as JSON for `jsonb_to_recordset`, with the program currency at 1:1,
    /// so SQL converts spend exactly as the earn rules do (floor per line).
    static func ratesJSON(_ program: Program) -> String {
        let rates = [(program.currency, Int64(1), Int64(1))]
            + program.exchangeRates.map { ($0.currency, $0.numerator, $0.denominator) }
        return "[" + rates.map { #"{"currency":"\#($0.0)","numerator":\#($0.1),"denominator":\#($0.2)}"# }
            .joined(separator: ",") + "]"
    }
}

/// SQL fragments shared by several reports; each is one idea, named.
enum ReportSQL {
    /// Rates table from the JSON parameter `$n`.
    static func rates(_ parameter: Int) -> String {
        "SELECT * FROM jsonb_to_recordset($\(parameter)::jsonb) AS r(currency text, numerator bigint, denominator bigint)"
    }

    /// An accrual's spend in program-currency minor units, given entry `e` joined to rate `r`
    /// (NULL when the currency has no rate: such spend is left out, as the earn rules refuse it).
    /// The program currency skips the numeric arithmetic, which costs seconds over millions of rows.
    static let spend = """
        CASE WHEN r.numerator = r.denominator THEN e.amount_minor
             ELSE floor(e.amount_minor::numeric * r.numerator / r.denominator)::bigint END
        """

    /// When member `m`'s relationship began: its enrolment day in the program's zone (UTC offset in
    /// seconds from parameter `$offset`), or its first ledger entry (`firstEntry`) if that is earlier.
    static func since(firstEntry: String, offset: Int) -> String {
        "least(\(firstEntry), ((m.enrolled_at AT TIME ZONE 'UTC') + make_interval(secs => $\(offset)::int))::date)"
    }

    /// Ledger kinds that count as member activity for inactivity expiry.
    static let activityKinds = "('accrual', 'redemption', 'hold_capture', 'transfer_in', 'transfer_out')"
}

extension Row {
    /// A `YYYY-MM-DD` column, nil for NULL; anything else is a broken query and throws.
    func date(_ column: String) throws -> LocalDate? {
        guard let text = self[column] else { return nil }
        guard let date = LocalDate(text) else {
            throw PostgresError(code: .unexpectedResult, message: "column \"\(column)\" is not a date: \(text)")
        }
        return date
    }
}
