/// What `reward add` and `reward set` change in the catalog; nil leaves a value as it is.
public struct RewardChange: Sendable, Equatable {
    public var points: Int64?
    public var description: String?
    /// Tier (code or name) to its own price; a nil price removes the tier's own price, so the
    /// tier pays the reward's `points` again.
    public var tierPoints: [String: Int64?]

    public init(points: Int64? = nil, description: String? = nil, tierPoints: [String: Int64?] = [:]) {
        self.points = points
        self.description = description
        self.tierPoints = tierPoints
    }

    public var isEmpty: Bool { points == nil && description == nil && tierPoints.isEmpty }
}

extension Program {
    /// Puts a reward on sale: a new code needs its points; a retired one is back on sale with the
    /// change applied. Codes are stored in upper case (the wire matches them ignoring case).
    public mutating func addReward(code: String, _ change: RewardChange) throws(LoyaltyError) {
        if let index = rewardIndex(code) {
            guard rewards[index].retired else { throw .conflict("reward \(rewards[index].code) exists") }
            rewards[index].retired = false
            try apply(change, to: index)
            return
        }
        guard Identifiers.isRewardCode(code) else {
            throw .invalid("reward codes are 1 to \(Identifiers.rewardCodeLengthMax) of A-Z a-z 0-9 _ -")
        }
        guard let points = change.points else { throw .invalid("a new reward needs its points") }
        rewards.append(Reward(code: code.uppercased(), points: points, description: change.description ?? code.uppercased()))
        try apply(change, to: rewards.count - 1)
    }

    /// Changes a reward's prices or description, retired or not.
    public mutating func changeReward(code: String, _ change: RewardChange) throws(LoyaltyError) {
        guard !change.isEmpty else { throw .invalid("nothing to change") }
        guard let index = rewardIndex(code) else { throw .notFound("no reward \(code)") }
        try apply(change, to: index)
    }

    /// Takes a reward off sale; it stays in the document, so past redemptions keep naming it.
    public mutating func retireReward(code: String) throws(LoyaltyError) {
        guard let index = rewardIndex(code) else { throw .notFound("no reward \(code)") }
        guard !rewards[index].retired else { throw .invalid("reward \(rewards[index].code) is already retired") }
        rewards[index].retired = true
    }

    private func rewardIndex(_ code: String) -> Int? {
        rewards.firstIndex { $0.code.uppercased() == code.uppercased() }
    }

    /// Tier prices are keyed by tier code; the change may name a tier by code or name.
    private mutating func apply(_ change: RewardChange, to index: Int) throws(LoyaltyError) {
        if let points = change.points { rewards[index].points = points }
        if let description = change.description { rewards[index].description = description }
        for (name, points) in change.tierPoints {
            guard let tier = tier(code: name) else { throw .invalid("no tier \(name)") }
            rewards[index].tierPoints[tier.code] = points
        }
    }
}
