import LoyaltyCore
import Postgres

enum Expiry {
    /// The points that expire next for one member under the program's policy, and the day they do.
    static func nextExpiry(_ conn: Connection, program: Program, member: String, tier: TierDefinition, balance: Int64,
                           lastActivity: LocalDate?) throws -> (Int64?, LocalDate?) {
        switch program.expiry {
        case .none, .lot:
            return (nil, nil)
        case .inactivity(let months, let exemptFromRank):
            if let exempt = exemptFromRank, tier.rank >= exempt { return (nil, nil) }
            guard balance > 0, let lastActivity else { return (nil, nil) }
            return (balance, lastActivity.adding(months: months))
        }
    }
}
