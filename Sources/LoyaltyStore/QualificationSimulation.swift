import LoyaltyCore
import Postgres

/// Qualifying points per member and month as the batch adds them, to know the tier each line
/// earns with and which members crossed a threshold.
struct QualificationSimulation {
    private let program: Program
    private let today: LocalDate
    private var months: [String: [LocalDate: Int64]] = [:]
    private var simulatedTier: [String: TierDefinition] = [:]
    /// Members and a date in each period whose earned tier changed.
    private(set) var crossings: [String: [LocalDate]] = [:]

    init(_ conn: Connection, program: Program, today: LocalDate, members: String) throws {
        self.program = program
        self.today = today
        // One index probe per member (a lateral subquery is not flattened into a join), not a
        // scan of the whole table, whatever the planner would guess for the list.
        for row in try conn.query("""
            SELECT k.member_number, q.month::text, q.qualifying
            FROM unnest(string_to_array($1, chr(10))) AS k(member_number)
            CROSS JOIN LATERAL (SELECT month, qualifying FROM qualifying_months q
                                WHERE q.member_number = k.member_number OFFSET 0) q
            """, [members]).rows {
            if let month = LocalDate(try row.string("month")) {
                months[try row.string("member_number"), default: [:]][month] = try row.int64("qualifying")
            }
        }
    }

    func tier(of member: String, from stored: TierDefinition) -> TierDefinition { simulatedTier[member] ?? stored }

    mutating func add(_ qualifying: Int64, member: String, on date: LocalDate, startingTier: TierDefinition) {
        let period = program.period(containing: date)
        let before = total(member, period)
        let month = LocalDate(year: date.year, month: date.month, day: 1) ?? date
        months[member, default: [:]][month, default: 0] += qualifying
        let after = total(member, period)
        let earnedBefore = program.tier(forQualifying: before), earnedAfter = program.tier(forQualifying: after)
        guard earnedBefore.code != earnedAfter.code else { return }
        crossings[member, default: []].append(date)
        if earnedAfter.rank > startingTier.rank && program.tierValidUntil(periodEnd: period.upperBound) >= today {
            simulatedTier[member] = earnedAfter
        }
    }

    private func total(_ member: String, _ period: ClosedRange<LocalDate>) -> Int64 {
        let first = LocalDate(year: period.lowerBound.year, month: period.lowerBound.month, day: 1) ?? period.lowerBound
        return months[member]?.reduce(0) { sum, entry in (first...period.upperBound).contains(entry.key) ? sum + entry.value : sum } ?? 0
    }
}
