/// One status level of a program.
public struct TierDefinition: Sendable, Codable, Equatable {
    /// Stable identifier: MEMBER, PREMIER, PREMIER_EXECUTIVE, 1K.
    public var code: String
    /// What a person reads: "Member", "Premier", "Premier Executive", "1K".
    public var name: String
    /// 0 = the base tier every member holds; higher is better.
    public var rank: Int
    /// Qualifying points in one period that reach this tier.
    public var qualifyingThreshold: Int64
    /// Extra redeemable points, in percent of the base, on rules with `tierBonusApplies`.
    public var bonusPercent: Int64
    /// Qualifying activities (accruals that earned qualifying points: flight segments, stays) in one
    /// period that also reach this tier, whatever the points; nil = points only (the demo).
    public var qualifyingActivities: Int64?

    public init(code: String, name: String, rank: Int, qualifyingThreshold: Int64, bonusPercent: Int64,
                qualifyingActivities: Int64? = nil) {
        self.code = code
        self.name = name
        self.rank = rank
        self.qualifyingThreshold = qualifyingThreshold
        self.bonusPercent = bonusPercent
        self.qualifyingActivities = qualifyingActivities
    }
}

/// The window whose qualifying points decide a tier.
public enum QualificationPeriod: String, Sendable, Codable {
    case calendarYear = "calendar_year", rolling12Months = "rolling_12_months"
}

/// A tier a member holds, from qualification, an admin override or lifetime status.
public struct TierGrant: Sendable, Equatable {
    public enum Source: String, Sendable { case qualified, override, lifetime, softLanding = "soft_landing" }

    public var tierCode: String
    /// Last day the grant is in force; nil = no end (lifetime).
    public var validUntil: LocalDate?
    public var source: Source

    public init(tierCode: String, validUntil: LocalDate?, source: Source) {
        self.tierCode = tierCode
        self.validUntil = validUntil
        self.source = source
    }
}

/// Which tier a member holds on a given day.
public enum TierStatus {
    /// The tier in force on `date`, from `grants` oldest first: the highest-ranked grant still
    /// valid (validUntil >= date), the longest-lasting one among equals; else the base tier with
    /// no end date. An admin's override in force replaces every grant made before it, lower or
    /// higher (what the member earns after it counts again). Grants for tier codes the program no
    /// longer defines are ignored.
    public static func effective(grants: [TierGrant], on date: LocalDate, program: Program) -> (tier: TierDefinition, validUntil: LocalDate?) {
        let inForce = grants.filter { grant in grant.validUntil.map { $0 >= date } ?? true }
        let newestOverride = inForce.lastIndex { $0.source == .override } ?? inForce.startIndex
        var best: (tier: TierDefinition, validUntil: LocalDate?) = (program.baseTier, nil)
        for grant in inForce[newestOverride...] {
            guard let tier = program.tier(code: grant.tierCode) else { continue }
            if tier.rank > best.tier.rank || tier.rank == best.tier.rank && lasts(grant.validUntil, longerThan: best.validUntil) {
                best = (tier, grant.validUntil)
            }
        }
        return best
    }

    /// nil is "no end", so it outlasts every date.
    static func lasts(_ candidate: LocalDate?, longerThan current: LocalDate?) -> Bool {
        switch (candidate, current) {
        case (nil, _?): return true
        case let (candidate?, current?): return candidate > current
        default: return false
        }
    }
}
