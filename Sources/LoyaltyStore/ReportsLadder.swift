import LoyaltyCore
import Postgres

/// The loyalty ladder's rungs, lowest first. A member stands on the highest rung whose rule it meets
/// on a date (docs/reports.md, "ladder"); `notEnrolled` is where a member stood before it began.
public enum LadderRung: String, Sendable, CaseIterable, Comparable {
    case notEnrolled = "not_enrolled"
    /// Enrolled, no accrual in the 12 months up to the date.
    case prospect
    /// One accrual in those 12 months.
    case customer
    /// Repeat: `clientAccrualsMin` accruals or more.
    case client
    /// A client of a year's tenure or more who accrued with `supporterPartnersMin` partners or more.
    case supporter
    /// A supporter holding a tier above the base on the date who accrued with `advocatePartnersMin` partners or more.
    case advocate

    public static func < (lhs: LadderRung, rhs: LadderRung) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// The rungs a member can stand on.
    public static let enrolled = allCases.filter { $0 != .notEnrolled }
}

/// The thresholds of the ladder's rules.
public struct LadderRules: Sendable, Equatable {
    public var clientAccrualsMin: Int64 = 2
    public var supporterTenureMonths: Int = 12
    public var supporterPartnersMin: Int64 = 2
    public var advocatePartnersMin: Int64 = 3

    public init() {}
}

/// The `ladder` report: members per rung on two dates and how they moved between them.
public struct LadderReport: Sendable, Equatable {
    public var period: ReportPeriod
    /// The earlier date and its 12 months.
    public var from: ReportPeriod
    public var rules: LadderRules
    /// Members by their rung on `from` and on the as-of date; every active member enrolled by the
    /// as-of date once.
    public var moves: [LadderRung: [LadderRung: Int64]]

    public func count(from: LadderRung, to: LadderRung) -> Int64 { moves[from]?[to] ?? 0 }
    public func membersOn(from rung: LadderRung) -> Int64 { LadderRung.enrolled.reduce(0) { $0 + count(from: rung, to: $1) } }
    public func membersOn(asOf rung: LadderRung) -> Int64 { LadderRung.allCases.reduce(0) { $0 + count(from: $1, to: rung) } }
    /// Members who stood on an enrolled rung on `from` and higher (`up`) or lower on the as-of date.
    public func moved(from rung: LadderRung, up: Bool) -> Int64 {
        guard rung != .notEnrolled else { return 0 }
        return LadderRung.enrolled.filter { up ? $0 > rung : $0 < rung }.reduce(0) { $0 + count(from: rung, to: $1) }
    }
}

extension LoyaltyStore {
    /// Every active member placed on the ladder on `from` (default: the window's length before the
    /// as-of date) and on the as-of date, counted by the pair, in one set-based query.
    public func ladderReport(asOf: LocalDate? = nil, from: LocalDate? = nil, rules: LadderRules = LadderRules(),
                             settings: ReportSettings = ReportSettings()) throws(LoyaltyError) -> LadderReport {
        let program = try program()
        let period = try reportPeriod(asOf: asOf, settings: settings)
        let earlier = ReportPeriod(asOf: from ?? period.asOf.adding(months: -settings.windowMonths), settings: settings)
        guard earlier.asOf < period.asOf else { throw .invalid("--from must be before the as-of date") }
        let moves: [LadderRung: [LadderRung: Int64]] = try reportSnapshot(settings) { conn in
            var moves: [LadderRung: [LadderRung: Int64]] = [:]
            for row in try conn.query(Self.ladderSQL, [
                period.asOf.description, period.windowStart.description, earlier.asOf.description, earlier.windowStart.description,
                String(program.utcOffsetSeconds), String(rules.clientAccrualsMin), String(rules.supporterPartnersMin),
                String(rules.advocatePartnersMin), period.asOf.adding(months: -rules.supporterTenureMonths).description,
                earlier.asOf.adding(months: -rules.supporterTenureMonths).description,
            ]).rows {
                guard let then = LadderRung(rawValue: try row.string("then_rung")),
                      let now = LadderRung(rawValue: try row.string("now_rung")) else {
                    throw PostgresError(code: .unexpectedResult, message: "unknown ladder rung")
                }
                moves[then, default: [:]][now] = try row.int64("members")
            }
            return moves
        }
        return LadderReport(period: period, from: earlier, rules: rules, moves: moves)
    }

    /// The rung on a date, from the member's accruals and partners in its 12 months (`<prefix>_n`,
    /// `<prefix>_partners`), the day its relationship began (`since`), the last day of tenure that makes
    /// a year (`tenureDay`), its tier's rank on the date (`<prefix>_rank`) and the date itself (`day`).
    static func ladderRungSQL(_ prefix: String, day: String, tenureDay: String) -> String {
        """
        CASE WHEN since > \(day) THEN 'not_enrolled'
             WHEN \(prefix)_n = 0 THEN 'prospect'
             WHEN \(prefix)_n < $6::bigint THEN 'customer'
             WHEN since > \(tenureDay) OR \(prefix)_partners < $7::bigint THEN 'client'
             WHEN \(prefix)_rank > 0 AND \(prefix)_partners >= $8::bigint THEN 'advocate'
             ELSE 'supporter' END
        """
    }

    /// $1 as-of, $2 its window start, $3 the earlier date, $4 its window start, $5 the program's UTC
    /// offset in seconds, $6 accruals of a client, $7 partners of a supporter, $8 partners of an
    /// advocate, $9 and $10 the last day a relationship may have begun to count a year's tenure on the
    /// as-of and the earlier date.
    /// A tier on a date is the one the last tier change up to that day's end set, else the one the
    /// first later change left, else the member's tier now.
    static let ladderSQL = """
        WITH by_partner AS (
            SELECT member_number, min(activity_date) AS first_entry,
                   count(*) FILTER (WHERE kind = 'accrual' AND activity_date >= $2::date) AS now_n,
                   count(*) FILTER (WHERE kind = 'accrual' AND activity_date BETWEEN $4::date AND $3::date) AS then_n
            FROM ledger_entries WHERE activity_date <= $1::date
            GROUP BY member_number, partner_code
        ),
        activity AS (
            SELECT member_number, min(first_entry) AS first_entry,
                   sum(now_n) AS now_n, count(*) FILTER (WHERE now_n > 0) AS now_partners,
                   sum(then_n) AS then_n, count(*) FILTER (WHERE then_n > 0) AS then_partners
            FROM by_partner GROUP BY member_number
        ),
        tier_changes AS (
            SELECT member_number,
                   (array_agg(to_tier ORDER BY changed_at DESC, change_id DESC) FILTER (WHERE changed_at < e.now_end))[1] AS now_set,
                   (array_agg(from_tier ORDER BY changed_at, change_id) FILTER (WHERE changed_at >= e.now_end))[1] AS now_left,
                   (array_agg(to_tier ORDER BY changed_at DESC, change_id DESC) FILTER (WHERE changed_at < e.then_end))[1] AS then_set,
                   (array_agg(from_tier ORDER BY changed_at, change_id) FILTER (WHERE changed_at >= e.then_end))[1] AS then_left
            FROM tier_history
            CROSS JOIN (SELECT ($1::date + 1 - make_interval(secs => $5::int)) AT TIME ZONE 'UTC' AS now_end,
                               ($3::date + 1 - make_interval(secs => $5::int)) AT TIME ZONE 'UTC' AS then_end) e
            GROUP BY member_number
        ),
        placed AS (
            SELECT \(ReportSQL.since(firstEntry: "a.first_entry", offset: 5)) AS since,
                   coalesce(a.now_n, 0) AS now_n, coalesce(a.now_partners, 0) AS now_partners,
                   coalesce(a.then_n, 0) AS then_n, coalesce(a.then_partners, 0) AS then_partners,
                   tn.rank AS now_rank, tt.rank AS then_rank
            FROM members m LEFT JOIN activity a USING (member_number) LEFT JOIN tier_changes c USING (member_number)
            JOIN tiers tn ON tn.code = coalesce(c.now_set, c.now_left, m.tier_code)
            JOIN tiers tt ON tt.code = coalesce(c.then_set, c.then_left, m.tier_code)
            WHERE m.status = 'active'
        )
        SELECT \(ladderRungSQL("then", day: "$3::date", tenureDay: "$10::date")) AS then_rung,
               \(ladderRungSQL("now", day: "$1::date", tenureDay: "$9::date")) AS now_rung,
               count(*) AS members
        FROM placed WHERE since <= $1::date
        GROUP BY 1, 2
        """
}
