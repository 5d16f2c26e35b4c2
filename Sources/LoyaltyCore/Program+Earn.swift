extension Program {
    /// Points an accrual line earns for a member holding `tier`, by the partner's own earn rule
    /// or else its category's: the claim window against `today`, then `earnWithinWindow`.
    public func earn(partner: String? = nil, category: PartnerCategory, input: AccrualInput, tier: TierDefinition,
                     today: LocalDate) throws(LoyaltyError) -> EarnResult {
        try checkClaimWindow(input.activityDate, today: today)
        return try earnWithinWindow(partner: partner, category: category, input: input, tier: tier)
    }

    /// Points an accrual line earns, its activity date taken as accepted (the server checks the
    /// claim window with the version in force today, and earns with the version of the activity date).
    ///
    /// In order: the measure the rule needs (`.invalid` naming
    /// the missing field); for amounts, the currency (converted with an exchange rate if one is
    /// configured, else `.invalid`); then floor rounding per line, the cap, the tier bonus
    /// (floor of base × bonusPercent / 100), and qualifying = floor(measure × cabin factor × qNum / qDen).
    /// A result beyond 64 bits is `.invalid`, never a trap.
    public func earnWithinWindow(partner: String?, category: PartnerCategory, input: AccrualInput,
                                 tier: TierDefinition) throws(LoyaltyError) -> EarnResult {
        guard let rule = earnRule(partner: partner, category: category) else {
            throw .invalid("the program has no earn rule for \(category.rawValue) partners")
        }
        let measure = try measure(rule: rule, category: category, input: input)
        guard measure >= 0 else { throw .invalid("\(category.rawValue) accruals cannot be negative") }
        let factor = rule.cabinFactorPermille(cabin: input.cabin)
        let neutral = EarnRule.cabinFactorNeutralPermille
        guard let uncapped = Arithmetic.floorScale(measure, by: factor, rule.pointsNumerator, over: neutral, rule.pointsDenominator),
              let qualifying = Arithmetic.floorScale(measure, by: factor, rule.qualifyingNumerator, over: neutral, rule.qualifyingDenominator)
        else { throw Self.tooLarge }
        let base = rule.capPoints.map { min(uncapped, $0) } ?? uncapped
        let bonusPercent = rule.tierBonusApplies ? tier.bonusPercent : 0
        guard let bonus = Arithmetic.floorScale(base, by: bonusPercent, over: 100) else { throw Self.tooLarge }
        let (points, overflow) = base.addingReportingOverflow(bonus)
        guard !overflow else { throw Self.tooLarge }
        return EarnResult(points: points, qualifying: qualifying, bonus: bonus)
    }

    static let tooLarge = LoyaltyError.invalid("the line earns more points than can be counted")

    /// Refuses activity dates more than `claimWindowDaysBack` days before `today` or more than
    /// `claimWindowDaysAhead` days after it.
    public func checkClaimWindow(_ date: LocalDate, today: LocalDate) throws(LoyaltyError) {
        let oldest = today.adding(days: -claimWindowDaysBack)
        let latest = today.adding(days: claimWindowDaysAhead)
        if date < oldest {
            throw .invalid("activity date \(date) is more than \(claimWindowDaysBack) days ago (oldest accepted \(oldest))")
        }
        if date > latest {
            throw .invalid("activity date \(date) is too far in the future (latest accepted \(latest))")
        }
    }

    /// The quantity the rule counts; amounts in minor units of the rule's currency.
    func measure(rule: EarnRule, category: PartnerCategory, input: AccrualInput) throws(LoyaltyError) -> Int64 {
        func required(_ value: Int64?, _ field: String) throws(LoyaltyError) -> Int64 {
            guard let value else { throw .invalid("\(category.rawValue) accruals need \(field)=") }
            return value
        }
        switch rule.measure {
        case .miles: return try required(input.miles, "miles")
        case .nights: return try required(input.nights, "nights")
        case .days: return try required(input.days, "days")
        case .amount:
            guard let amount = input.amount else {
                throw .invalid("\(category.rawValue) accruals need amount= and currency=")
            }
            return try minorUnits(of: amount, in: rule.currency ?? currency, category: category)
        }
    }

    /// `money` in minor units of `target`; other currencies through an exchange rate into the
    /// program currency, or refused.
    func minorUnits(of money: Money, in target: String, category: PartnerCategory) throws(LoyaltyError) -> Int64 {
        if money.currency == target { return money.minorUnits }
        guard target == currency, let rate = exchangeRates.first(where: { $0.currency == money.currency }) else {
            throw .invalid("\(category.rawValue) amounts must be in \(target); no exchange rate for \(money.currency)")
        }
        guard let converted = Arithmetic.floorScale(money.minorUnits, by: rate.numerator, over: rate.denominator) else {
            throw Self.tooLarge
        }
        return converted
    }
}
