/// When unused points expire.
public enum ExpiryPolicy: Sendable, Codable, Equatable {
    case none
    /// The whole balance expires after `months` with no activity; members holding a tier of rank
    /// `exemptFromRank` or above are exempt (nil = nobody is). Demo: 18 months, exempt from rank 1.
    case inactivity(months: Int, exemptFromRank: Int?)
    /// Each accrual's points expire `months` after its activity date.
    case lot(months: Int)

    enum CodingKeys: String, CodingKey { case policy, months, exemptFromRank }

    /// Flat JSON (`{"policy":"inactivity","months":18,"exemptFromRank":1}`) so an admin can edit it.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .policy) {
        case "none": self = .none
        case "inactivity":
            self = .inactivity(months: try container.decode(Int.self, forKey: .months),
                               exemptFromRank: try container.decodeIfPresent(Int.self, forKey: .exemptFromRank))
        case "lot": self = .lot(months: try container.decode(Int.self, forKey: .months))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .policy, in: container, debugDescription: "unknown expiry policy '\(other)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .none:
            try container.encode("none", forKey: .policy)
        case let .inactivity(months, exemptFromRank):
            try container.encode("inactivity", forKey: .policy)
            try container.encode(months, forKey: .months)
            try container.encodeIfPresent(exemptFromRank, forKey: .exemptFromRank)
        case let .lot(months):
            try container.encode("lot", forKey: .policy)
            try container.encode(months, forKey: .months)
        }
    }
}

/// An entry of the rewards catalog. Its stock is live state, not program: it is kept in the
/// database (`rewards.stock`), so a redemption never writes a new program.
public struct Reward: Sendable, Codable, Equatable {
    /// Far beyond any real price, and small enough that 100 of it cannot overflow.
    public static let pointsMax: Int64 = 1_000_000_000_000
    public static let descriptionLengthMax = 200

    public var code: String
    /// The price, for every tier without its own in `tierPoints`.
    public var points: Int64
    public var description: String
    /// Prices by tier code, where a tier pays other than `points` ("1K": 8000).
    public var tierPoints: [String: Int64]
    /// A retired reward stays in the document, so its redemptions keep naming it, but cannot be redeemed.
    public var retired: Bool

    public init(code: String, points: Int64, description: String, tierPoints: [String: Int64] = [:], retired: Bool = false) {
        self.code = code
        self.points = points
        self.description = description
        self.tierPoints = tierPoints
        self.retired = retired
    }

    /// What a member holding the tier `tierCode` pays for one.
    public func points(forTier tierCode: String) -> Int64 {
        tierPoints[tierCode] ?? points
    }

    enum CodingKeys: String, CodingKey { case code, points, description, tierPoints, retired }

    /// `tierPoints` and `retired` are written only when set, and may be missing from a stored program.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(code: try c.decode(String.self, forKey: .code), points: try c.decode(Int64.self, forKey: .points),
                  description: try c.decode(String.self, forKey: .description),
                  tierPoints: try c.decodeIfPresent([String: Int64].self, forKey: .tierPoints) ?? [:],
                  retired: try c.decodeIfPresent(Bool.self, forKey: .retired) ?? false)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(code, forKey: .code)
        try c.encode(points, forKey: .points)
        try c.encode(description, forKey: .description)
        if !tierPoints.isEmpty { try c.encode(tierPoints, forKey: .tierPoints) }
        if retired { try c.encode(retired, forKey: .retired) }
    }
}

/// A loyalty program as data: tiers, earn rules, rewards and expiry. Stored as JSON, so a new
/// program is configuration, not code. Call `validate()` before using one read from outside.
public struct Program: Sendable, Codable, Equatable {
    public var name: String
    /// What points are called ("miles").
    public var pointsName: String
    /// ISO 4217 code amount rules count in unless they name their own.
    public var currency: String
    /// The program's time zone; dates on the wire and in rules are local to it.
    public var utcOffsetSeconds: Int
    /// Sorted by rank, the base tier (rank 0, threshold 0) first.
    public var tiers: [TierDefinition]
    public var qualificationPeriod: QualificationPeriod
    /// A tier earned in a period is valid through the end of the month this many months after
    /// the period's last day (demo 14: earned in 2026, valid through 2028-02-29).
    public var tierValidityMonthsAfterPeriodEnd: Int
    /// The rule of each partner category that earns.
    public var earnRules: [PartnerCategory: EarnRule]
    /// Rules of single partners (by partner code), in place of their category's rule.
    public var partnerRules: [String: EarnRule]
    public var promotions: [Promotion]
    public var rewards: [Reward]
    public var expiry: ExpiryPolicy
    /// Oldest accepted activity date, in days before today (365).
    public var claimWindowDaysBack: Int
    /// Latest accepted activity date, in days after today (1: tomorrow, for time zone skew).
    public var claimWindowDaysAhead: Int
    public var exchangeRates: [ExchangeRate]
    /// Soft landing: when the tier in force lapses, the member drops at most one tier, and keeps
    /// that one through the end of the month this many months after the lapse. nil = no soft
    /// landing: the member falls to the best tier still valid (the demo).
    public var softLandingMonths: Int?
    /// Tiers held for life once the member's qualifying points over all time reach a threshold.
    public var lifetimeTiers: [LifetimeTier]

    public init(name: String, pointsName: String, currency: String, utcOffsetSeconds: Int,
                tiers: [TierDefinition], qualificationPeriod: QualificationPeriod,
                tierValidityMonthsAfterPeriodEnd: Int, earnRules: [PartnerCategory: EarnRule],
                rewards: [Reward], expiry: ExpiryPolicy, claimWindowDaysBack: Int,
                claimWindowDaysAhead: Int, exchangeRates: [ExchangeRate],
                softLandingMonths: Int? = nil, lifetimeTiers: [LifetimeTier] = [],
                partnerRules: [String: EarnRule] = [:], promotions: [Promotion] = []) {
        self.name = name
        self.pointsName = pointsName
        self.currency = currency
        self.utcOffsetSeconds = utcOffsetSeconds
        self.tiers = tiers
        self.qualificationPeriod = qualificationPeriod
        self.tierValidityMonthsAfterPeriodEnd = tierValidityMonthsAfterPeriodEnd
        self.earnRules = earnRules
        self.rewards = rewards
        self.expiry = expiry
        self.claimWindowDaysBack = claimWindowDaysBack
        self.claimWindowDaysAhead = claimWindowDaysAhead
        self.exchangeRates = exchangeRates
        self.softLandingMonths = softLandingMonths
        self.lifetimeTiers = lifetimeTiers
        self.partnerRules = partnerRules
        self.promotions = promotions
    }

    enum CodingKeys: String, CodingKey {
        case name, pointsName, currency, utcOffsetSeconds, tiers, qualificationPeriod, tierValidityMonthsAfterPeriodEnd
        case earnRules, rewards, expiry, claimWindowDaysBack, claimWindowDaysAhead, exchangeRates
        case softLandingMonths, lifetimeTiers, partnerRules, promotions
    }

    /// Keys added after the first release may be missing from a stored program; they take their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try c.decode(String.self, forKey: .name), pointsName: try c.decode(String.self, forKey: .pointsName),
                  currency: try c.decode(String.self, forKey: .currency),
                  utcOffsetSeconds: try c.decode(Int.self, forKey: .utcOffsetSeconds),
                  tiers: try c.decode([TierDefinition].self, forKey: .tiers),
                  qualificationPeriod: try c.decode(QualificationPeriod.self, forKey: .qualificationPeriod),
                  tierValidityMonthsAfterPeriodEnd: try c.decode(Int.self, forKey: .tierValidityMonthsAfterPeriodEnd),
                  earnRules: try c.decode([PartnerCategory: EarnRule].self, forKey: .earnRules),
                  rewards: try c.decode([Reward].self, forKey: .rewards), expiry: try c.decode(ExpiryPolicy.self, forKey: .expiry),
                  claimWindowDaysBack: try c.decode(Int.self, forKey: .claimWindowDaysBack),
                  claimWindowDaysAhead: try c.decode(Int.self, forKey: .claimWindowDaysAhead),
                  exchangeRates: try c.decode([ExchangeRate].self, forKey: .exchangeRates),
                  softLandingMonths: try c.decodeIfPresent(Int.self, forKey: .softLandingMonths),
                  lifetimeTiers: try c.decodeIfPresent([LifetimeTier].self, forKey: .lifetimeTiers) ?? [],
                  partnerRules: try c.decodeIfPresent([String: EarnRule].self, forKey: .partnerRules) ?? [:],
                  promotions: try c.decodeIfPresent([Promotion].self, forKey: .promotions) ?? [])
    }

    /// The rule a partner's accruals follow: its own, else its category's.
    public func earnRule(partner: String?, category: PartnerCategory) -> EarnRule? {
        partner.flatMap { partnerRules[$0] } ?? earnRules[category]
    }

    /// The tier whose code or name matches, ignoring case.
    public func tier(code: String) -> TierDefinition? {
        let wanted = code.uppercased()
        return tiers.first { $0.code.uppercased() == wanted || $0.name.uppercased() == wanted }
    }

    /// The tier every member holds without qualifying. A validated program always has one.
    public var baseTier: TierDefinition {
        guard let base = tiers.first else { preconditionFailure("program without tiers; call validate() first") }
        return base
    }

    /// The highest tier whose threshold is at most `points`.
    public func tier(forQualifying points: Int64) -> TierDefinition {
        tiers.last { $0.qualifyingThreshold <= points } ?? baseTier
    }

    /// The tier ranked just above `tier`; nil at the top.
    public func nextTier(after tier: TierDefinition) -> TierDefinition? {
        tiers.first { $0.rank > tier.rank }
    }

    /// The qualification period that contains `date`: calendar year Jan 1...Dec 31, or rolling,
    /// the 12 months ending on `date`.
    public func period(containing date: LocalDate) -> ClosedRange<LocalDate> {
        switch qualificationPeriod {
        case .calendarYear: return date.startOfYear...date.endOfYear
        case .rolling12Months: return date.adding(months: -12).adding(days: 1)...date
        }
    }

    /// Last day a tier earned in the period ending `periodEnd` is valid.
    public func tierValidUntil(periodEnd: LocalDate) -> LocalDate {
        periodEnd.adding(months: tierValidityMonthsAfterPeriodEnd).endOfMonth
    }

    /// Inactivity expiry: members whose last activity is on or before this date have expired as
    /// of `asOf` (the last day whose date `months` later is not after `asOf`); nil when the policy
    /// is not inactivity.
    public func inactivityCutoff(asOf: LocalDate) -> LocalDate? {
        guard case let .inactivity(months, _) = expiry else { return nil }
        return asOf.latestDate(monthsBefore: months)
    }

    /// Whether a member holding `tier` keeps its points under inactivity expiry.
    public func isExemptFromExpiry(tier: TierDefinition) -> Bool {
        guard case let .inactivity(_, exemptFromRank?) = expiry else { return false }
        return tier.rank >= exemptFromRank
    }

    /// Lot expiry: the date a lot credited for `activityDate` expires; nil under other policies.
    public func lotExpiryDate(activityDate: LocalDate) -> LocalDate? {
        guard case let .lot(months) = expiry else { return nil }
        return activityDate.adding(months: months)
    }

    /// Lot expiry: lots with an activity date on or before this date have expired as of `asOf`
    /// (exactly those whose `lotExpiryDate` is not after `asOf`); nil under other policies.
    public func lotExpiryCutoff(asOf: LocalDate) -> LocalDate? {
        guard case let .lot(months) = expiry else { return nil }
        return asOf.latestDate(monthsBefore: months)
    }

    /// The catalog entry with this code, ignoring case.
    public func reward(code: String) -> Reward? {
        let wanted = code.uppercased()
        return rewards.first { $0.code.uppercased() == wanted }
    }
}
