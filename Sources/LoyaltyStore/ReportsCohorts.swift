import LoyaltyCore
import Postgres

/// The length of a cohort and of each period after it.
public enum CohortPeriod: String, Sendable, CaseIterable {
    case month, quarter

    public var months: Int { self == .month ? 1 : 3 }

    /// The first day of the period containing `date`.
    public func start(of date: LocalDate) -> LocalDate {
        let monthStart = date.adding(days: 1 - date.day)
        return monthStart.adding(months: -((date.month - 1) % months))
    }

    /// `2026-06` or `2026-Q2`.
    public func label(_ start: LocalDate) -> String {
        switch self {
        case .month: return String(start.description.prefix(7))
        case .quarter: return "\(start.year)-Q\((start.month - 1) / 3 + 1)"
        }
    }
}

/// One enrolment cohort's members and how many of them were active in each period since.
public struct CohortRow: Sendable, Equatable {
    /// First day of the cohort's period.
    public var cohort: LocalDate
    public var members: Int64
    /// Members with an accrual in period k after the cohort's (k = 0 is the cohort's own), for every
    /// period up to the as-of date's.
    public var active: [Int64]
    /// Of `active[k]`, those without an accrual in period k + 1; the last is not known yet and is 0.
    public var lostAfter: [Int64]

    /// The share of the cohort active in period k; nil before the cohort reached it or for an empty cohort.
    public func activeBasisPoints(_ k: Int) -> Int64? {
        k < active.count && members > 0 ? basisPoints(active[k], of: members) : nil
    }
}

/// The `cohorts` report: a retention matrix and churn per period since enrolment.
public struct CohortReport: Sendable, Equatable {
    public static let periodsRange = 1...60

    public var period: ReportPeriod
    public var by: CohortPeriod
    /// Oldest cohort first; the last is the as-of date's period, which is partial.
    public var rows: [CohortRow]

    /// Churn into period k (k ≥ 1), over the cohorts that reached it: members active in period
    /// k − 1 and not in k, and members active in k − 1.
    public func churn(_ k: Int) -> (lost: Int64, base: Int64) {
        rows.filter { $0.active.count > k }.reduce((0, 0)) { ($0.0 + $1.lostAfter[k - 1], $0.1 + $1.active[k - 1]) }
    }
}

extension LoyaltyStore {
    /// Members by enrolment period × activity in each later period, over the last `periods` periods
    /// up to the as-of date, in one set-based query.
    public func cohortReport(asOf: LocalDate? = nil, by: CohortPeriod = .month, periods: Int = 12,
                             settings: ReportSettings = ReportSettings()) throws(LoyaltyError) -> CohortReport {
        guard CohortReport.periodsRange.contains(periods) else {
            throw .invalid("periods must be \(CohortReport.periodsRange.lowerBound) to \(CohortReport.periodsRange.upperBound)")
        }
        let program = try program()
        let period = try reportPeriod(asOf: asOf, settings: settings)
        let last = by.start(of: period.asOf)
        let first = last.adding(months: -by.months * (periods - 1))
        let found: [(cohort: LocalDate, period: LocalDate?, active: Int64, lost: Int64)] = try reportSnapshot(settings) { conn in
            try conn.query(Self.cohortSQL, [
                period.asOf.description, first.description, by.rawValue, String(program.utcOffsetSeconds), "\(by.months) months",
            ]).rows.map { row in
                (try row.date("cohort") ?? first, try row.date("period"), try row.int64("active"), try row.int64("lost"))
            }
        }
        let rows = (0..<periods).map { index -> CohortRow in
            let cohort = first.adding(months: by.months * index)
            let reached = periods - index
            var row = CohortRow(cohort: cohort, members: 0, active: Array(repeating: 0, count: reached),
                                lostAfter: Array(repeating: 0, count: reached))
            for cell in found where cell.cohort == cohort {
                guard let activePeriod = cell.period else {
                    row.members = cell.active
                    continue
                }
                let k = Self.monthsBetween(cohort, activePeriod) / by.months
                row.active[k] = cell.active
                row.lostAfter[k] = k == reached - 1 ? 0 : cell.lost
            }
            return row
        }
        return CohortReport(period: period, by: by, rows: rows)
    }

    static func monthsBetween(_ from: LocalDate, _ to: LocalDate) -> Int {
        (to.year - from.year) * 12 + to.month - from.month
    }

    /// $1 as-of, $2 first day of the first cohort, $3 `month` or `quarter`, $4 the program's UTC offset
    /// in seconds, $5 the period as an interval. One row per cohort with `period` NULL (its size), then
    /// one per cohort and period with members active in it, and how many of them were not active in
    /// the next period (a member's next active period comes from `lead`, not from a second scan).
    /// A member's periods never precede its cohort: the cohort starts at its first entry at the latest.
    static let cohortSQL = """
        WITH firsts AS (
            SELECT member_number, min(activity_date) AS first_entry FROM ledger_entries
            WHERE activity_date <= $1::date GROUP BY member_number
        ),
        cohort_members AS (
            SELECT member_number, date_trunc($3, since::timestamp)::date AS cohort FROM (
                SELECT m.member_number, \(ReportSQL.since(firstEntry: "f.first_entry", offset: 4)) AS since
                FROM members m LEFT JOIN firsts f USING (member_number)
            ) s WHERE since BETWEEN $2::date AND $1::date
        ),
        active AS (
            SELECT c.cohort, a.member_number, a.period,
                   lead(a.period) OVER (PARTITION BY a.member_number ORDER BY a.period) AS next_period
            FROM (SELECT DISTINCT member_number, date_trunc($3, activity_date::timestamp)::date AS period FROM ledger_entries
                  WHERE kind = 'accrual' AND activity_date BETWEEN $2::date AND $1::date) a
            JOIN cohort_members c USING (member_number)
        )
        SELECT cohort::text, NULL AS period, count(*) AS active, 0 AS lost FROM cohort_members GROUP BY cohort
        UNION ALL
        SELECT cohort::text, period::text, count(*),
               count(*) FILTER (WHERE next_period IS DISTINCT FROM (period + $5::interval)::date)
        FROM active GROUP BY cohort, period
        """
}
