import XCTest
import LoyaltyCore

/// Every worked example of DEMO-PROGRAM.md, and the edges of each rule.
final class EarnTests: XCTestCase {
    let program = Program.demo
    let today = date("2026-06-15")
    let activity = date("2026-06-10")

    func tier(_ code: String) -> TierDefinition {
        guard let tier = program.tier(code: code) else { preconditionFailure("no tier \(code)") }
        return tier
    }

    func earn(_ category: PartnerCategory, _ fields: [(String, String)], tier code: String = "MEMBER",
              on day: LocalDate? = nil, today: LocalDate? = nil, program: Program? = nil) throws(LoyaltyError) -> EarnResult {
        let input = try AccrualInput.parse(activityDate: day ?? activity, fields: fields.map { (name: $0.0, value: $0.1) })
        return try (program ?? self.program).earn(category: category, input: input, tier: tier(code), today: today ?? self.today)
    }

    func testWorkedExamples() throws {
        XCTAssertEqual(try earn(.airline, [("miles", "2000"), ("cabin", "J")]), EarnResult(points: 3000, qualifying: 3000, bonus: 0))
        XCTAssertEqual(try earn(.airline, [("miles", "2000"), ("cabin", "Y")], tier: "PREMIER"),
                       EarnResult(points: 2500, qualifying: 2000, bonus: 500))
        XCTAssertEqual(try earn(.hotel, [("amount", "450.00"), ("currency", "USD"), ("nights", "3")]),
                       EarnResult(points: 1350, qualifying: 0, bonus: 0))
        XCTAssertEqual(try earn(.carRental, [("days", "7")]).points, 1250)
        XCTAssertEqual(try earn(.carRental, [("days", "3")]).points, 750)
        XCTAssertEqual(try earn(.card, [("amount", "1234.56"), ("currency", "USD")]),
                       EarnResult(points: 1234, qualifying: 61, bonus: 0))
        XCTAssertEqual(try earn(.dining, [("amount", "100.00"), ("currency", "USD")]), EarnResult(points: 300, qualifying: 0, bonus: 0))
        XCTAssertEqual(try earn(.dining, [("amount", "12.34"), ("currency", "USD")]).points, 37)
    }

    func testCabinFactorsAndTierBonuses() throws {
        XCTAssertEqual(try earn(.airline, [("miles", "1000"), ("cabin", "F")]), EarnResult(points: 1500, qualifying: 1500, bonus: 0))
        XCTAssertEqual(try earn(.airline, [("miles", "1000")]), EarnResult(points: 1000, qualifying: 1000, bonus: 0))
        XCTAssertEqual(try earn(.airline, [("miles", "1000"), ("cabin", "F")], tier: "1K"),
                       EarnResult(points: 3000, qualifying: 1500, bonus: 1500))
        XCTAssertEqual(try earn(.airline, [("miles", "2000"), ("cabin", "Y")], tier: "1K"),
                       EarnResult(points: 4000, qualifying: 2000, bonus: 2000))
        // floor(1001 × 1.5) = 1501, then floor(1501 × 50%) = 750.
        XCTAssertEqual(try earn(.airline, [("miles", "1001"), ("cabin", "J")], tier: "PREMIER_EXECUTIVE"),
                       EarnResult(points: 2251, qualifying: 1501, bonus: 750))
        XCTAssertEqual(try earn(.airline, [("miles", "3")], tier: "PREMIER"), EarnResult(points: 3, qualifying: 3, bonus: 0))
        XCTAssertEqual(try earn(.airline, [("miles", "1"), ("cabin", "J")]).points, 1)
    }

    func testTierBonusIsForFlightsOnly() throws {
        XCTAssertEqual(try earn(.hotel, [("amount", "450.00"), ("currency", "USD")], tier: "1K").points, 1350)
        XCTAssertEqual(try earn(.card, [("amount", "1234.56"), ("currency", "USD")], tier: "1K").points, 1234)
        XCTAssertEqual(try earn(.carRental, [("days", "7")], tier: "1K").points, 1250)
    }

    func testFloorRoundingPerLine() throws {
        XCTAssertEqual(try earn(.hotel, [("amount", "0.33"), ("currency", "USD")]).points, 0)
        XCTAssertEqual(try earn(.hotel, [("amount", "0.34"), ("currency", "USD")]).points, 1)
        XCTAssertEqual(try earn(.card, [("amount", "19.99"), ("currency", "USD")]), EarnResult(points: 19, qualifying: 0, bonus: 0))
        XCTAssertEqual(try earn(.card, [("amount", "20.00"), ("currency", "USD")]), EarnResult(points: 20, qualifying: 1, bonus: 0))
        XCTAssertEqual(try earn(.card, [("amount", "0.99"), ("currency", "USD")]).points, 0)
    }

    func testCarRentalCap() throws {
        XCTAssertEqual(try earn(.carRental, [("days", "0")]).points, 0)
        XCTAssertEqual(try earn(.carRental, [("days", "4")]).points, 1000)
        XCTAssertEqual(try earn(.carRental, [("days", "5")]).points, 1250)
        XCTAssertEqual(try earn(.carRental, [("days", "6")]).points, 1250)
        XCTAssertEqual(try earn(.carRental, [("days", "1000000000")]).points, 1250)
        // With one point per day the cap is reachable to the point.
        var perDay = program
        perDay.earnRules[.carRental]?.pointsNumerator = 1
        XCTAssertEqual(try earn(.carRental, [("days", "1249")], program: perDay).points, 1249)
        XCTAssertEqual(try earn(.carRental, [("days", "1250")], program: perDay).points, 1250)
        XCTAssertEqual(try earn(.carRental, [("days", "1251")], program: perDay).points, 1250)
    }

    func testClaimWindowEdges() throws {
        let today = date("2026-11-23")
        let miles = [("miles", "100")]
        XCTAssertEqual(try earn(.airline, miles, on: date("2025-11-23"), today: today).points, 100)  // exactly 365 days ago
        assertError(.invalid, mentioning: "365 days") { try earn(.airline, miles, on: date("2025-11-22"), today: today) }
        XCTAssertEqual(try earn(.airline, miles, on: today, today: today).points, 100)
        XCTAssertEqual(try earn(.airline, miles, on: date("2026-11-24"), today: today).points, 100)  // tomorrow
        assertError(.invalid, mentioning: "2026-11-25") { try earn(.airline, miles, on: date("2026-11-25"), today: today) }
        // Across a leap day: 365 days before 2028-03-01 is 2027-03-02.
        XCTAssertNoThrow(try earn(.airline, miles, on: date("2027-03-02"), today: date("2028-03-01")))
        assertError(.invalid, mentioning: "oldest accepted 2027-03-02") { try earn(.airline, miles, on: date("2027-03-01"), today: date("2028-03-01")) }
    }

    func testOtherCurrenciesNeedAnExchangeRate() throws {
        assertError(.invalid, mentioning: "EUR") { try earn(.hotel, [("amount", "100.00"), ("currency", "EUR")]) }
        assertError(.invalid, mentioning: "JPY") { try earn(.card, [("amount", "10000"), ("currency", "JPY")]) }

        var withRates = program
        withRates.exchangeRates = [ExchangeRate(currency: "EUR", numerator: 108, denominator: 100),
                                   ExchangeRate(currency: "JPY", numerator: 67, denominator: 100)]
        XCTAssertNoThrow(try withRates.validate())
        // 100.00 EUR = 108.00 USD -> 324 miles; 10,000 JPY = 67.00 USD -> 201 miles.
        XCTAssertEqual(try earn(.hotel, [("amount", "100.00"), ("currency", "EUR")], program: withRates).points, 324)
        XCTAssertEqual(try earn(.hotel, [("amount", "10000"), ("currency", "JPY")], program: withRates).points, 201)
        XCTAssertEqual(try earn(.card, [("amount", "1000.00"), ("currency", "EUR")], program: withRates),
                       EarnResult(points: 1080, qualifying: 54, bonus: 0))
        assertError(.invalid, mentioning: "GBP") { try earn(.hotel, [("amount", "1.00"), ("currency", "GBP")], program: withRates) }
    }

    func testMissingRequiredFieldIsNamed() {
        assertError(.invalid, mentioning: "miles=") { try earn(.airline, [("cabin", "J")]) }
        assertError(.invalid, mentioning: "miles=") { try earn(.airline, [("nights", "2")]) }
        assertError(.invalid, mentioning: "amount=") { try earn(.hotel, [("nights", "3")]) }
        assertError(.invalid, mentioning: "days=") { try earn(.carRental, [("nights", "3")]) }
        assertError(.invalid, mentioning: "amount=") { try earn(.card, []) }
        assertError(.invalid, mentioning: "amount=") { try earn(.dining, [("code", "TABLE7")]) }
    }

    func testOversizedLinesAreRefusedNotTrapped() throws {
        assertError(.invalid, mentioning: "miles=") { try earn(.airline, [("miles", "1000000001")]) }
        assertError(.invalid, mentioning: "miles=") { try earn(.airline, [("miles", "99999999999999999999")]) }
        XCTAssertEqual(try earn(.airline, [("miles", "1000000000"), ("cabin", "F")], tier: "1K").points, 3_000_000_000)
        XCTAssertEqual(try earn(.hotel, [("amount", "999999999999999.99"), ("currency", "USD")]).points, 2_999_999_999_999_999)

        var greedy = program
        greedy.earnRules[.airline]?.pointsNumerator = .max
        assertError(.invalid, mentioning: "more points") { try earn(.airline, [("miles", "1000000000")], program: greedy) }
        greedy.earnRules[.airline]?.pointsNumerator = Int64.max / 1000
        greedy.earnRules[.airline]?.pointsDenominator = 1
        // The base fits; base plus a 100 % bonus does not.
        XCTAssertNoThrow(try earn(.airline, [("miles", "1000")], program: greedy))
        assertError(.invalid, mentioning: "more points") { try earn(.airline, [("miles", "1000")], tier: "1K", program: greedy) }

        var costly = program
        costly.exchangeRates = [ExchangeRate(currency: "EUR", numerator: .max, denominator: 1)]
        assertError(.invalid, mentioning: "more points") { try earn(.hotel, [("amount", "2.00"), ("currency", "EUR")], program: costly) }
    }

    func testCategoryWithoutRuleAndNegativeInputs() {
        var noDining = program
        noDining.earnRules[.dining] = nil
        assertError(.invalid, mentioning: "dining") { try earn(.dining, [("amount", "1"), ("currency", "USD")], program: noDining) }
        let negative = AccrualInput(activityDate: activity, miles: -5)
        assertError(.invalid, mentioning: "negative") { try program.earn(category: .airline, input: negative, tier: program.baseTier, today: today) }
    }
}
