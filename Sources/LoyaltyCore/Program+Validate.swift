extension Program {
    /// Bounds that keep a program sane; far beyond any real one.
    public static let monthsMax = 1200
    public static let claimWindowDaysMax = 3660
    public static let bonusPercentMax: Int64 = 10_000
    public static let cabinFactorPermilleMax: Int64 = 100_000
    public static let nameLengthMax = 64

    /// Checks what the rest of the system assumes of a program: tiers sorted by rank with a base
    /// tier (rank 0, threshold 0) first and strictly ascending thresholds, unique tier codes and
    /// names, known currencies, non-negative rates over positive denominators, unique rewards with
    /// positive prices (per tier too, for known tiers), and bounded windows. `.invalid` names the first problem found.
    public func validate() throws(LoyaltyError) {
        try check(!name.isEmpty && name.count <= Self.nameLengthMax, "name must be 1 to \(Self.nameLengthMax) characters")
        try check(!pointsName.isEmpty && pointsName.count <= Self.nameLengthMax, "pointsName must be 1 to \(Self.nameLengthMax) characters")
        try check(Currency.minorDigits(currency) != nil, "unknown program currency '\(currency)'")
        try check(abs(utcOffsetSeconds) <= LocalDate.utcOffsetSecondsMax, "utcOffsetSeconds must be within 18 hours")
        try validateTiers()
        try check((0...Self.monthsMax).contains(tierValidityMonthsAfterPeriodEnd), "tierValidityMonthsAfterPeriodEnd must be 0 to \(Self.monthsMax)")
        try check(softLandingMonths.map { (1...Self.monthsMax).contains($0) } ?? true, "softLandingMonths must be 1 to \(Self.monthsMax)")
        try validateLifetimeTiers()
        for category in PartnerCategory.allCases {
            if let rule = earnRules[category] { try validate(rule, category) }
        }
        try validateRewards()
        try validateExpiry()
        try check((0...Self.claimWindowDaysMax).contains(claimWindowDaysBack), "claimWindowDaysBack must be 0 to \(Self.claimWindowDaysMax)")
        try check((0...Self.claimWindowDaysMax).contains(claimWindowDaysAhead), "claimWindowDaysAhead must be 0 to \(Self.claimWindowDaysMax)")
        try validateExchangeRates()
    }

    func validateTiers() throws(LoyaltyError) {
        guard let base = tiers.first else { throw .invalid("program: at least one tier is needed") }
        try check(base.rank == 0 && base.qualifyingThreshold == 0, "the first tier must be the base tier: rank 0, threshold 0")
        var keys: Set<String> = []
        for (index, tier) in tiers.enumerated() {
            try check(!tier.code.isEmpty && tier.code.count <= Self.nameLengthMax && !tier.name.isEmpty && tier.name.count <= Self.nameLengthMax,
                      "tier codes and names must be 1 to \(Self.nameLengthMax) characters")
            try check((0...Self.bonusPercentMax).contains(tier.bonusPercent), "tier \(tier.code): bonusPercent must be 0 to \(Self.bonusPercentMax)")
            // `tier(code:)` matches code or name ignoring case, so all of them must be distinct.
            let names = Set([tier.code.uppercased(), tier.name.uppercased()])
            try check(keys.isDisjoint(with: names), "tier \(tier.code): code or name used twice")
            keys.formUnion(names)
            try check(tier.qualifyingActivities.map { $0 > 0 && index > 0 } ?? true,
                      "tier \(tier.code): qualifyingActivities must be positive, and the base tier has none")
            if index > 0 {
                let previous = tiers[index - 1]
                try check(tier.rank > previous.rank, "tier \(tier.code): tiers must be sorted by strictly ascending rank")
                try check(tier.qualifyingThreshold > previous.qualifyingThreshold, "tier \(tier.code): thresholds must strictly ascend with rank")
            }
        }
    }

    func validateLifetimeTiers() throws(LoyaltyError) {
        var codes: Set<String> = []
        for lifetime in lifetimeTiers {
            let what = "lifetime tier \(lifetime.tierCode)"
            try check(tiers.dropFirst().contains { $0.code == lifetime.tierCode }, "\(what): not a tier above the base")
            try check(codes.insert(lifetime.tierCode).inserted, "\(what): given twice")
            try check(lifetime.lifetimeQualifying > 0, "\(what): lifetimeQualifying must be positive")
        }
    }

    func validate(_ rule: EarnRule, _ category: PartnerCategory) throws(LoyaltyError) {
        let what = "earn rule \(category.rawValue)"
        try check(rule.pointsNumerator >= 0 && rule.qualifyingNumerator >= 0, "\(what): numerators must not be negative")
        try check(rule.pointsDenominator > 0 && rule.qualifyingDenominator > 0, "\(what): denominators must be positive")
        try check(rule.capPoints.map { $0 >= 0 } ?? true, "\(what): capPoints must not be negative")
        for (cabin, factor) in rule.cabinFactorsPermille {
            try check(AccrualInput.isCabin(cabin), "\(what): cabin '\(cabin)' is not upper case letters")
            try check((0...Self.cabinFactorPermilleMax).contains(factor), "\(what): cabin factor must be 0 to \(Self.cabinFactorPermilleMax)")
        }
        if rule.measure == .amount {
            let ruleCurrency = rule.currency ?? currency
            try check(Currency.minorDigits(ruleCurrency) != nil, "\(what): unknown currency '\(ruleCurrency)'")
        } else {
            try check(rule.currency == nil, "\(what): only amount rules have a currency")
        }
    }

    func validateRewards() throws(LoyaltyError) {
        var codes: Set<String> = []
        for reward in rewards {
            try check(Identifiers.isRewardCode(reward.code), "reward '\(reward.code)': codes are 1 to \(Identifiers.rewardCodeLengthMax) of A-Z a-z 0-9 _ -")
            try check(codes.insert(reward.code.uppercased()).inserted, "reward \(reward.code): code used twice")
            try check(reward.description.count <= Reward.descriptionLengthMax,
                      "reward \(reward.code): description must be at most \(Reward.descriptionLengthMax) characters")
            try check((1...Reward.pointsMax).contains(reward.points), "reward \(reward.code): points must be 1 to \(Reward.pointsMax)")
            for (tierCode, points) in reward.tierPoints.sorted(by: { $0.key < $1.key }) {
                try check(tiers.contains { $0.code == tierCode }, "reward \(reward.code): tierPoints names no tier '\(tierCode)'")
                try check((1...Reward.pointsMax).contains(points), "reward \(reward.code): tierPoints \(tierCode) must be 1 to \(Reward.pointsMax)")
            }
        }
    }

    func validateExpiry() throws(LoyaltyError) {
        switch expiry {
        case .none: break
        case let .inactivity(months, exemptFromRank):
            try check((1...Self.monthsMax).contains(months), "expiry: months must be 1 to \(Self.monthsMax)")
            try check(exemptFromRank.map { rank in tiers.contains { $0.rank == rank } } ?? true, "expiry: exemptFromRank is not a tier's rank")
        case let .lot(months):
            try check((1...Self.monthsMax).contains(months), "expiry: months must be 1 to \(Self.monthsMax)")
        }
    }

    func validateExchangeRates() throws(LoyaltyError) {
        var seen: Set<String> = []
        for rate in exchangeRates {
            let what = "exchange rate \(rate.currency)"
            try check(Currency.minorDigits(rate.currency) != nil, "\(what): unknown currency")
            try check(rate.currency != currency, "\(what): is the program currency")
            try check(seen.insert(rate.currency).inserted, "\(what): given twice")
            try check(rate.numerator > 0 && rate.denominator > 0, "\(what): numerator and denominator must be positive")
        }
    }

    func check(_ condition: Bool, _ message: @autoclosure () -> String) throws(LoyaltyError) {
        guard condition else { throw .invalid("program: \(message())") }
    }
}
