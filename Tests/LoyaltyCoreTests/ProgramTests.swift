import XCTest
import LoyaltyCore

final class ProgramTests: XCTestCase {
    let program = Program.demo

    func testDemoMatchesTheDocument() throws {
        XCTAssertNoThrow(try program.validate())
        XCTAssertEqual(program.pointsName, "miles")
        XCTAssertEqual(program.utcOffsetSeconds, 0)
        XCTAssertEqual(program.tiers.map(\.name), ["Member", "Premier", "Premier Executive", "1K"])
        XCTAssertEqual(program.tiers.map(\.qualifyingThreshold), [0, 25_000, 50_000, 100_000])
        XCTAssertEqual(program.tiers.map(\.bonusPercent), [0, 25, 50, 100])
        XCTAssertEqual(Set(program.earnRules.keys), [.airline, .hotel, .carRental, .card, .dining])
        XCTAssertEqual(program.rewards.map(\.code), ["DOM-ECON", "INTL-BIZ", "UPGRADE", "HOTEL-NIGHT", "GIFT-50"])
        XCTAssertEqual(program.rewards.map(\.points), [12_500, 80_000, 10_000, 25_000, 6_000])
        XCTAssertEqual(program.expiry, .inactivity(months: 18, exemptFromRank: 1))
        XCTAssertEqual(Program.demoPartners.map(\.code), ["SKYAIR", "HOTELCO", "DRIVECO", "CARDCO", "DINECO"])
    }

    func testJSONRoundTrip() throws {
        let json = try JSONEncoder().encode(program)
        XCTAssertEqual(try JSONDecoder().decode(Program.self, from: json), program)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: json) as? [String: Any])
        let rules = try XCTUnwrap(object["earnRules"] as? [String: Any])
        XCTAssertEqual(Set(rules.keys), ["airline", "hotel", "car_rental", "card", "dining"])
        let expiry = try XCTUnwrap(object["expiry"] as? [String: Any])
        XCTAssertEqual(expiry["policy"] as? String, "inactivity")
        XCTAssertEqual(expiry["months"] as? Int, 18)

        for policy in [ExpiryPolicy.none, .lot(months: 36), .inactivity(months: 24, exemptFromRank: nil)] {
            var other = program
            other.expiry = policy
            XCTAssertEqual(try JSONDecoder().decode(Program.self, from: JSONEncoder().encode(other)), other)
        }
    }

    func testDecodingRefusesUnknownCategoriesAndPolicies() throws {
        let text = String(decoding: try JSONEncoder().encode(program), as: UTF8.self)
        // Categories are open words, but words: lower case, no spaces.
        let badCategory = text.replacingOccurrences(of: "\"car_rental\"", with: "\"Car Rental\"")
        XCTAssertThrowsError(try JSONDecoder().decode(Program.self, from: Data(badCategory.utf8)))
        let badPolicy = text.replacingOccurrences(of: "\"inactivity\"", with: "\"whenever\"")
        XCTAssertThrowsError(try JSONDecoder().decode(Program.self, from: Data(badPolicy.utf8)))
    }

    func testTierLookups() throws {
        XCTAssertEqual(program.baseTier.code, "MEMBER")
        XCTAssertEqual(program.tier(code: "premier")?.code, "PREMIER")
        XCTAssertEqual(program.tier(code: "Premier Executive")?.code, "PREMIER_EXECUTIVE")
        XCTAssertEqual(program.tier(code: "1k")?.code, "1K")
        XCTAssertNil(program.tier(code: "GOLD"))

        let expected: [(Int64, String)] = [(.min, "MEMBER"), (0, "MEMBER"), (24_999, "MEMBER"), (25_000, "PREMIER"),
                                           (49_999, "PREMIER"), (50_000, "PREMIER_EXECUTIVE"), (99_999, "PREMIER_EXECUTIVE"),
                                           (100_000, "1K"), (.max, "1K")]
        for (points, code) in expected {
            XCTAssertEqual(program.tier(forQualifying: points).code, code, "\(points)")
        }
        XCTAssertEqual(program.nextTier(after: program.baseTier)?.code, "PREMIER")
        XCTAssertEqual(program.nextTier(after: try XCTUnwrap(program.tier(code: "PREMIER_EXECUTIVE")))?.code, "1K")
        XCTAssertNil(program.nextTier(after: try XCTUnwrap(program.tier(code: "1K"))))
    }

    func testQualificationPeriods() {
        XCTAssertEqual(program.period(containing: date("2026-07-04")), date("2026-01-01")...date("2026-12-31"))
        XCTAssertEqual(program.period(containing: date("2026-12-31")), date("2026-01-01")...date("2026-12-31"))
        var rolling = program
        rolling.qualificationPeriod = .rolling12Months
        XCTAssertEqual(rolling.period(containing: date("2026-11-23")), date("2025-11-24")...date("2026-11-23"))
        XCTAssertEqual(rolling.period(containing: date("2028-02-29")), date("2027-03-01")...date("2028-02-29"))
    }

    func testTierValidity() {
        XCTAssertEqual(program.tierValidUntil(periodEnd: date("2026-12-31")), date("2028-02-29"))
        XCTAssertEqual(program.tierValidUntil(periodEnd: date("2027-12-31")), date("2029-02-28"))
        var rolling = program
        rolling.qualificationPeriod = .rolling12Months
        XCTAssertEqual(rolling.tierValidUntil(periodEnd: date("2026-05-17")), date("2027-07-31"))
    }

    func testExpiry() throws {
        XCTAssertEqual(program.inactivityCutoff(asOf: date("2026-11-23")), date("2025-05-23"))
        XCTAssertEqual(program.inactivityCutoff(asOf: date("2027-08-31")), date("2026-02-28"))
        XCTAssertNil(program.lotExpiryDate(activityDate: date("2026-01-31")))
        XCTAssertFalse(program.isExemptFromExpiry(tier: program.baseTier))
        XCTAssertTrue(program.isExemptFromExpiry(tier: try XCTUnwrap(program.tier(code: "PREMIER"))))
        XCTAssertTrue(program.isExemptFromExpiry(tier: try XCTUnwrap(program.tier(code: "1K"))))

        var lots = program
        lots.expiry = .lot(months: 36)
        XCTAssertEqual(lots.lotExpiryDate(activityDate: date("2026-01-31")), date("2029-01-31"))
        XCTAssertEqual(lots.lotExpiryDate(activityDate: date("2028-02-29")), date("2031-02-28"))
        XCTAssertNil(lots.inactivityCutoff(asOf: date("2026-11-23")))
        XCTAssertFalse(lots.isExemptFromExpiry(tier: try XCTUnwrap(program.tier(code: "1K"))))
    }

    func testRewards() {
        XCTAssertEqual(program.reward(code: "dom-econ"), Reward(code: "DOM-ECON", points: 12_500, description: "one-way domestic economy award"))
        XCTAssertEqual(program.reward(code: "GIFT-50")?.points, 6_000)
        XCTAssertNil(program.reward(code: "FREE-CAR"))
    }

    func testValidateRefusesBrokenPrograms() {
        let breakages: [(String, (inout Program) -> Void)] = [
            ("tier", { $0.tiers = [] }),
            ("base tier", { $0.tiers[0].qualifyingThreshold = 1 }),
            ("base tier", { $0.tiers[0].rank = 1 }),
            ("thresholds", { $0.tiers[2].qualifyingThreshold = 25_000 }),
            ("rank", { $0.tiers.swapAt(1, 2) }),
            ("used twice", { $0.tiers[2].code = "premier" }),
            ("used twice", { $0.tiers[3].name = "Member" }),
            ("bonusPercent", { $0.tiers[1].bonusPercent = -1 }),
            ("denominators", { $0.earnRules[.hotel]?.pointsDenominator = 0 }),
            ("denominators", { $0.earnRules[.card]?.qualifyingDenominator = -5 }),
            ("numerators", { $0.earnRules[.dining]?.pointsNumerator = -3 }),
            ("capPoints", { $0.earnRules[.carRental]?.capPoints = -1 }),
            ("cabin", { $0.earnRules[.airline]?.cabinFactorsPermille["j"] = 1500 }),
            ("cabin factor", { $0.earnRules[.airline]?.cabinFactorsPermille["F"] = -1 }),
            ("unknown currency", { $0.earnRules[.hotel]?.currency = "XXX" }),
            ("only amount rules", { $0.earnRules[.airline]?.currency = "USD" }),
            ("unknown program currency", { $0.currency = "ABC" }),
            ("used twice", { $0.rewards.append(Reward(code: "upgrade", points: 1, description: "")) }),
            ("points must be 1 to", { $0.rewards[0].points = 0 }),
            ("points must be 1 to", { $0.rewards[0].points = Reward.pointsMax + 1 }),
            ("names no tier 'GOLD'", { $0.rewards[0].tierPoints["GOLD"] = 5 }),
            ("names no tier 'Premier'", { $0.rewards[0].tierPoints["Premier"] = 5 }),
            ("tierPoints PREMIER must be 1 to", { $0.rewards[0].tierPoints["PREMIER"] = 0 }),
            ("description", { $0.rewards[0].description = String(repeating: "d", count: Reward.descriptionLengthMax + 1) }),
            ("codes", { $0.rewards[0].code = "DOM ECON" }),
            ("months", { $0.expiry = .inactivity(months: 0, exemptFromRank: 1) }),
            ("months", { $0.expiry = .lot(months: -1) }),
            ("exemptFromRank", { $0.expiry = .inactivity(months: 18, exemptFromRank: 7) }),
            ("claimWindowDaysBack", { $0.claimWindowDaysBack = -1 }),
            ("claimWindowDaysAhead", { $0.claimWindowDaysAhead = 100_000 }),
            ("program currency", { $0.exchangeRates = [ExchangeRate(currency: "USD", numerator: 1, denominator: 1)] }),
            ("positive", { $0.exchangeRates = [ExchangeRate(currency: "EUR", numerator: 1, denominator: 0)] }),
            ("twice", { $0.exchangeRates = Array(repeating: ExchangeRate(currency: "EUR", numerator: 1, denominator: 1), count: 2) }),
            ("18 hours", { $0.utcOffsetSeconds = 19 * 3600 }),
            ("name", { $0.name = "" }),
        ]
        for (fragment, breakage) in breakages {
            var broken = program
            breakage(&broken)
            assertError(.invalid, mentioning: fragment) { try broken.validate() }
        }
    }

    func testTierPricesAndRetiredRewardsInTheDocument() throws {
        let demoJSON = String(decoding: try JSONEncoder().encode(program.rewards[0]), as: UTF8.self)
        XCTAssertFalse(demoJSON.contains("tierPoints") || demoJSON.contains("retired"), "unset, they are not written: \(demoJSON)")
        var edited = program
        try edited.changeReward(code: "upgrade", RewardChange(tierPoints: ["Premier Executive": 7_000, "1k": 5_000]))
        try edited.retireReward(code: "GIFT-50")
        try edited.addReward(code: "lounge", RewardChange(points: 3_000))
        XCTAssertNoThrow(try edited.validate())
        let upgrade = try XCTUnwrap(edited.reward(code: "UPGRADE"))
        XCTAssertEqual(upgrade.tierPoints, ["PREMIER_EXECUTIVE": 7_000, "1K": 5_000], "keyed by tier code")
        XCTAssertEqual(["MEMBER", "PREMIER", "PREMIER_EXECUTIVE", "1K"].map(upgrade.points(forTier:)), [10_000, 10_000, 7_000, 5_000])
        XCTAssertEqual(edited.reward(code: "GIFT-50")?.retired, true)
        XCTAssertEqual(edited.reward(code: "LOUNGE"), Reward(code: "LOUNGE", points: 3_000, description: "LOUNGE"))
        XCTAssertEqual(try JSONDecoder().decode(Program.self, from: JSONEncoder().encode(edited)), edited)
        assertError(.conflict, mentioning: "exists") { try edited.addReward(code: "UPGRADE", RewardChange(points: 1)) }
        assertError(.invalid, mentioning: "needs its points") { try edited.addReward(code: "NEW", RewardChange()) }
        assertError(.invalid, mentioning: "no tier GOLD") { try edited.changeReward(code: "UPGRADE", RewardChange(tierPoints: ["GOLD": 1])) }
        assertError(.notFound, mentioning: "no reward") { try edited.retireReward(code: "NO-SUCH") }
        try edited.changeReward(code: "UPGRADE", RewardChange(tierPoints: ["1K": nil]))
        XCTAssertEqual(edited.reward(code: "UPGRADE")?.tierPoints, ["PREMIER_EXECUTIVE": 7_000], "nil drops a tier's own price")
    }
}
