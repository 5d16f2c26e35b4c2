import LoyaltyCore
import Postgres

/// A catalog entry with its live stock, as `reward list` shows it.
public struct CatalogEntry: Sendable, Equatable {
    public var reward: Reward
    public var stock: RewardStock
}

/// A reward at the price one caller pays, as REWARDS shows it.
public struct PricedReward: Sendable, Equatable {
    public var code: String
    public var points: Int64
    public var description: String
}

extension LoyaltyStore {
    /// The catalog verbs' way to change the program: the latest version is read under the
    /// generation row's lock (so two changes never lose one another), changed by `change`,
    /// checked against the partners, and applied as the next version, effective today (or with
    /// the latest version, when that one starts later); audited as `program.change` with the
    /// actor, reason and `details`. A failure anywhere applies nothing. Returns the program applied.
    @discardableResult
    public func changeProgram(actor: Principal, reason: String, details: [String: String] = [:],
                              _ change: @escaping (inout Program) throws -> Void) throws(LoyaltyError) -> Program {
        guard !reason.isEmpty else { throw .invalid("a reason is required") }
        let today = try today()
        let program = try write { conn in
            _ = try conn.query("SELECT generation FROM program_generation FOR UPDATE")
            let latest = try ProgramRecords.load(conn).timeline.latest
            var program = latest.program
            try change(&program)
            try program.validate(context: try ProgramRecords.context(conn))
            _ = try ProgramRecords.append(conn, program, effective: max(today, latest.effectiveFrom), actor: actor, reason: reason,
                                          action: "program.change", details: details)
            return program
        }
        try reloadProgram()
        return program
    }

    /// Puts a reward on sale (new, or retired before), then sets its stock when one is given.
    public func addReward(code: String, _ change: RewardChange, stock: RewardStock?, reason: String?,
                          actor: Principal) throws(LoyaltyError) {
        try editReward("add", code: code, change, stock: stock, reason: reason, actor: actor) { program throws(LoyaltyError) in
            try program.addReward(code: code, change)
        }
    }

    /// Changes a reward's prices or description and, when given, its stock; stock alone writes no program.
    public func changeReward(code: String, _ change: RewardChange, stock: RewardStock?, reason: String?,
                             actor: Principal) throws(LoyaltyError) {
        if change.isEmpty {
            guard let stock else { throw .invalid("nothing to change") }
            return try setRewardStock(code: code, stock, actor: actor)
        }
        try editReward("set", code: code, change, stock: stock, reason: reason, actor: actor) { program throws(LoyaltyError) in
            try program.changeReward(code: code, change)
        }
    }

    public func retireReward(code: String, reason: String?, actor: Principal) throws(LoyaltyError) {
        try editReward("retire", code: code, RewardChange(), stock: nil, reason: reason, actor: actor) { program throws(LoyaltyError) in
            try program.retireReward(code: code)
        }
    }

    /// Stock is checked before the program changes, and set after: bad input changes nothing.
    private func editReward(_ verb: String, code: String, _ change: RewardChange, stock: RewardStock?, reason: String?,
                            actor: Principal, _ edit: @escaping (inout Program) throws(LoyaltyError) -> Void) throws(LoyaltyError) {
        if case .count(let n)? = stock, n < 0 { throw .invalid("stock must not be negative") }
        var details = ["reward": code.uppercased()]
        if let points = change.points { details["points"] = String(points) }
        for (tier, points) in change.tierPoints { details["points." + tier] = points.map(String.init) ?? "none" }
        try changeProgram(actor: actor, reason: reason ?? "reward \(verb) \(code.uppercased())", details: details) { program in
            try edit(&program)
        }
        if let stock { try setRewardStock(code: code, stock, actor: actor) }
    }

    /// Every reward of the program, retired ones too, with its live stock.
    public func catalog() throws(LoyaltyError) -> [CatalogEntry] {
        let rewards = try program().rewards
        let stocks = try read { conn in
            try conn.query("SELECT code, stock FROM rewards").rows.map { row in (try row.string("code"), row["stock"]) }
        }
        let byCode = Dictionary(stocks, uniquingKeysWith: { first, _ in first })
        return rewards.map { reward in
            CatalogEntry(reward: reward, stock: (byCode[reward.code] ?? nil).flatMap(Int64.init).map(RewardStock.count) ?? .unlimited)
        }
    }

    /// The rewards on sale at the price `member` pays (its tier's), or at their base price when
    /// no member is named.
    public func rewards(member: String?) throws(LoyaltyError) -> [PricedReward] {
        let program = try program()
        let tierCode = try member.map { number throws(LoyaltyError) in
            try staleRead { conn in
                guard let row = try conn.query("SELECT tier_code FROM members WHERE member_number = $1", [number]).first else {
                    throw LoyaltyError.notFound("no member \(number)")
                }
                return try row.string("tier_code")
            }
        }
        return program.rewards.filter { !$0.retired }.map { reward in
            PricedReward(code: reward.code, points: tierCode.map(reward.points(forTier:)) ?? reward.points,
                         description: reward.description)
        }
    }
}
