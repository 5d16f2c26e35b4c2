import LoyaltyCore
import Postgres

/// Bonus points one promotion grants one accrual line, after its cap and budget.
struct PromotionGrant: Equatable {
    var promotionID: String
    var points: Int64
}

/// What the promotions of a run of accruals have granted so far, read under lock: budgets per
/// promotion, caps per promotion and member. Lines are granted in order against it, then the
/// totals are written back in the same transaction.
///
/// Lock order: the members first (the caller holds their row locks), then the budget rows in id
/// order; a single accrual, a batch and a reversal all follow it, so none can deadlock another.
struct PromotionAllowances {
    private var granted: [String: Int64] = [:]
    private var grantedToMember: [MemberKey: Int64] = [:]
    private var budgetSpent: [String: Int64] = [:]
    private var capSpent: [MemberKey: Int64] = [:]

    private struct MemberKey: Hashable {
        var promotionID: String
        var member: String
    }

    /// Locks the budgets of `promotions` and reads the caps of `members`. Promotions without a
    /// budget or cap cost nothing here.
    static func lock(_ conn: Connection, promotions: [Promotion], members: some Collection<String>) throws -> PromotionAllowances {
        var allowances = PromotionAllowances()
        let budgeted = Set(promotions.filter { $0.budget != nil }.map(\.id)).sorted().joined(separator: "\n")
        if !budgeted.isEmpty {
            _ = try conn.query("""
                INSERT INTO promotion_totals (promotion_id) SELECT unnest(string_to_array($1, chr(10))) ORDER BY 1
                ON CONFLICT (promotion_id) DO NOTHING
                """, [budgeted])
            for row in try conn.query("""
                SELECT promotion_id, granted FROM promotion_totals WHERE promotion_id = ANY(string_to_array($1, chr(10)))
                ORDER BY promotion_id FOR UPDATE
                """, [budgeted]).rows {
                allowances.granted[try row.string("promotion_id")] = try row.int64("granted")
            }
        }
        let capped = Set(promotions.filter { $0.perMemberCap != nil }.map(\.id)).sorted().joined(separator: "\n")
        if !capped.isEmpty, !members.isEmpty {
            for row in try conn.query("""
                SELECT promotion_id, member_number, granted FROM promotion_member_totals
                WHERE promotion_id = ANY(string_to_array($1, chr(10))) AND member_number = ANY(string_to_array($2, chr(10)))
                """, [capped, members.joined(separator: "\n")]).rows {
                allowances.grantedToMember[MemberKey(promotionID: try row.string("promotion_id"), member: try row.string("member_number"))]
                    = try row.int64("granted")
            }
        }
        return allowances
    }

    /// Grants `offers` to one line of `member`, each within what its cap and budget leave.
    mutating func grant(_ offers: [PromotionOffer], member: String) -> [PromotionGrant] {
        offers.compactMap { offer in
            let promotion = offer.promotion, key = MemberKey(promotionID: promotion.id, member: member)
            var points = offer.points
            if let budget = promotion.budget { points = min(points, max(0, budget - granted[promotion.id, default: 0])) }
            if let cap = promotion.perMemberCap { points = min(points, max(0, cap - grantedToMember[key, default: 0])) }
            guard points > 0 else { return nil }
            if promotion.budget != nil {
                granted[promotion.id, default: 0] += points
                budgetSpent[promotion.id, default: 0] += points
            }
            if promotion.perMemberCap != nil {
                grantedToMember[key, default: 0] += points
                capSpent[key, default: 0] += points
            }
            return PromotionGrant(promotionID: promotion.id, points: points)
        }
    }

    /// Writes what this run granted into the budget and cap totals.
    func save(_ conn: Connection) throws {
        if !budgetSpent.isEmpty {
            try Self.addToBudgets(conn, budgetSpent.map { ($0.key, $0.value) })
        }
        guard !capSpent.isEmpty else { return }
        let rows = Array(capSpent)
        _ = try conn.query("""
            INSERT INTO promotion_member_totals (promotion_id, member_number, granted)
            SELECT * FROM unnest(string_to_array($1, chr(10)), string_to_array($2, chr(10)), string_to_array($3, chr(10))::bigint[])
            ON CONFLICT (promotion_id, member_number) DO UPDATE SET granted = promotion_member_totals.granted + EXCLUDED.granted
            """, [rows.map(\.key.promotionID).joined(separator: "\n"), rows.map(\.key.member).joined(separator: "\n"),
                  rows.map { String($0.value) }.joined(separator: "\n")])
    }

    /// A reversal gives points back to the budgets and caps they were granted from (rows that do
    /// not exist belong to promotions without a budget or cap, and stay absent).
    static func giveBack(_ conn: Connection, member: String, _ returned: [PromotionGrant]) throws {
        guard !returned.isEmpty else { return }
        let sorted = returned.sorted { $0.promotionID < $1.promotionID }
        try addToBudgets(conn, sorted.map { ($0.promotionID, -$0.points) })
        _ = try conn.query("""
            UPDATE promotion_member_totals t SET granted = t.granted - s.points
            FROM unnest(string_to_array($1, chr(10)), string_to_array($2, chr(10))::bigint[]) AS s(promotion_id, points)
            WHERE t.promotion_id = s.promotion_id AND t.member_number = $3
            """, [sorted.map(\.promotionID).joined(separator: "\n"), sorted.map { String($0.points) }.joined(separator: "\n"), member])
    }

    private static func addToBudgets(_ conn: Connection, _ amounts: [(String, Int64)]) throws {
        let sorted = amounts.sorted { $0.0 < $1.0 }
        _ = try conn.query("""
            UPDATE promotion_totals t SET granted = t.granted + s.points
            FROM unnest(string_to_array($1, chr(10)), string_to_array($2, chr(10))::bigint[]) AS s(promotion_id, points)
            WHERE t.promotion_id = s.promotion_id
            """, [sorted.map(\.0).joined(separator: "\n"), sorted.map { String($0.1) }.joined(separator: "\n")])
    }
}
