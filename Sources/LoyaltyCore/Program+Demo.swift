extension Program {
    /// The program a fresh install serves: exactly /work/shared/DEMO-PROGRAM.md (tests assert its numbers).
    public static let demo = Program(
        name: "Demo Coalition Miles",
        pointsName: "miles",
        currency: "USD",
        utcOffsetSeconds: 0,
        tiers: [
            TierDefinition(code: "MEMBER", name: "Member", rank: 0, qualifyingThreshold: 0, bonusPercent: 0),
            TierDefinition(code: "PREMIER", name: "Premier", rank: 1, qualifyingThreshold: 25_000, bonusPercent: 25),
            TierDefinition(code: "PREMIER_EXECUTIVE", name: "Premier Executive", rank: 2, qualifyingThreshold: 50_000, bonusPercent: 50),
            TierDefinition(code: "1K", name: "1K", rank: 3, qualifyingThreshold: 100_000, bonusPercent: 100),
        ],
        qualificationPeriod: .calendarYear,
        tierValidityMonthsAfterPeriodEnd: 14,
        earnRules: [
            // miles × cabin factor (F, J 1.5), plus the tier's flight bonus; qualifying the same base.
            .airline: EarnRule(measure: .miles, pointsNumerator: 1, qualifyingNumerator: 1,
                               cabinFactorsPermille: ["F": 1500, "J": 1500], tierBonusApplies: true),
            // 3 per 1.00 USD = 3 per 100 cents.
            .hotel: EarnRule(measure: .amount, pointsNumerator: 3, pointsDenominator: 100, currency: "USD"),
            // 250 per rental day, at most 1,250 per rental.
            .carRental: EarnRule(measure: .days, pointsNumerator: 250, capPoints: 1250),
            // 1 per 1.00 USD; 1 qualifying per 20.00 USD.
            .card: EarnRule(measure: .amount, pointsNumerator: 1, pointsDenominator: 100,
                            qualifyingNumerator: 1, qualifyingDenominator: 2000, currency: "USD"),
            .dining: EarnRule(measure: .amount, pointsNumerator: 3, pointsDenominator: 100, currency: "USD"),
        ],
        rewards: [
            Reward(code: "DOM-ECON", points: 12_500, description: "one-way domestic economy award"),
            Reward(code: "INTL-BIZ", points: 80_000, description: "one-way international business award"),
            Reward(code: "UPGRADE", points: 10_000, description: "one cabin upgrade"),
            Reward(code: "HOTEL-NIGHT", points: 25_000, description: "one free night at a partner hotel"),
            Reward(code: "GIFT-50", points: 6_000, description: "50.00 gift card"),
        ],
        expiry: .inactivity(months: 18, exemptFromRank: 1),
        claimWindowDaysBack: 365,
        claimWindowDaysAhead: 1,
        exchangeRates: [])

    /// The demo partners a fresh install enrolls, one per category (partner code -> category).
    public static let demoPartners: [(code: String, category: PartnerCategory)] = [
        ("SKYAIR", .airline), ("HOTELCO", .hotel), ("DRIVECO", .carRental), ("CARDCO", .card), ("DINECO", .dining),
    ]
}
