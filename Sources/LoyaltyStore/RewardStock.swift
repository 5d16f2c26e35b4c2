import LoyaltyCore
import Postgres

/// A reward's live stock, kept in `rewards.stock` (NULL = unlimited), not in the program.
public enum RewardStock: Sendable, Equatable, CustomStringConvertible {
    case unlimited
    case count(Int64)

    public var description: String {
        switch self {
        case .unlimited: return "unlimited"
        case .count(let n): return String(n)
        }
    }

    /// `rewards.stock` as a parameter.
    var column: String? {
        switch self {
        case .unlimited: return nil
        case .count(let n): return String(n)
        }
    }
}

/// Taking stock for a redemption and giving it back, under the reward row's lock.
enum StockTaking {
    /// Takes `quantity` of a limited reward's stock, unless the request-id (when given) was seen
    /// before: a replay takes nothing. The row lock the UPDATE waits for is what keeps stock from
    /// going negative under racing redemptions: after the wait it re-reads the row and takes only
    /// if enough is left. Unlimited (NULL) rows are neither updated nor locked, so redemptions of
    /// an unlimited reward do not queue behind one another. Read the row with `taken(from:)`.
    static func takeStatement(code: String, quantity: Int, principal: Principal?,
                              requestID: String?) -> (sql: String, parameters: [String?]) {
        ("""
         WITH taken AS (
             UPDATE rewards SET stock = stock - $2 WHERE code = $1 AND active AND stock >= $2
                 AND NOT EXISTS (SELECT 1 FROM requests WHERE principal = $3 AND request_id = $4)
             RETURNING code
         )
         SELECT r.active, r.stock IS NOT NULL AS limited, EXISTS (SELECT 1 FROM taken) AS taken FROM rewards r WHERE r.code = $1
         """, [code, String(quantity), principal?.description, requestID])
    }

    /// The stock the redemption took (0 for an unlimited reward); throws for a retired reward or
    /// one without enough stock left, which rolls the transaction back.
    static func taken(from result: QueryResult, reward: Reward, quantity: Int) throws -> Int {
        guard let row = result.first else { throw LoyaltyError.notFound("no reward \(reward.code)") }
        guard try row.bool("active"), !reward.retired else { throw LoyaltyError.notFound("reward \(reward.code) is retired") }
        guard try row.bool("limited") else { return 0 }
        guard try row.bool("taken") else { throw LoyaltyError.insufficient("stock: not enough \(reward.code) left for \(quantity)") }
        return quantity
    }
}

extension LoyaltyStore {
    /// Sets a reward's stock (a count, or unlimited), audited with the stock it replaced.
    public func setRewardStock(code: String, _ stock: RewardStock, actor: Principal) throws(LoyaltyError) {
        if case .count(let n) = stock, n < 0 { throw .invalid("stock must not be negative") }
        try write { conn in
            guard let row = try conn.query("SELECT code, stock FROM rewards WHERE code = upper($1) FOR UPDATE", [code]).first else {
                throw LoyaltyError.notFound("no reward \(code)")
            }
            let canonical = try row.string("code")
            _ = try conn.query("UPDATE rewards SET stock = $2 WHERE code = $1", [canonical, stock.column])
            try Audit.record(conn, actor: actor, action: "reward.stock",
                             details: ["reward": canonical, "from": row["stock"] ?? "unlimited", "to": stock.description])
        }
    }
}
