import Foundation
import XCTest
@testable import LoyaltyCore

/// The program as the document an operator edits: strict parsing, every problem with its path,
/// differences in words, versions by date, promotions.
final class ProgramDocumentTests: XCTestCase {
    let partners = ProgramContext(partners: ["SKYAIR": .airline, "HOTELCO": .hotel, "DRIVECO": .carRental,
                                             "CARDCO": .card, "DINECO": .dining])

    private func tree(_ program: Program = .demo) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: ProgramDocument.encode(program)) as? [String: Any])
    }

    private func data(_ tree: [String: Any]) throws -> Data {
        try JSONSerialization.data(withJSONObject: tree)
    }

    private func problems(_ tree: [String: Any]) throws -> [String] {
        switch ProgramDocument.parse(try data(tree), context: partners) {
        case .success: return []
        case .failure(let list): return list.problems.map(\.description)
        }
    }

    func testTheDocumentedExampleIsTheDemoProgram() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/program.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let start = try XCTUnwrap(text.range(of: "```json\n"))
        let end = try XCTUnwrap(text.range(of: "\n```", range: start.upperBound..<text.endIndex))
        let example = Data(text[start.upperBound..<end.lowerBound].utf8)
        XCTAssertEqual(try ProgramDocument.parse(example, context: partners).get(), Program.demo)
        XCTAssertEqual(String(decoding: ProgramDocument.encode(.demo), as: UTF8.self), String(decoding: example, as: UTF8.self),
                       "docs/program.md shows the canonical export of the demo program")
    }

    func testUnknownFieldsAreRefusedWithTheirPath() throws {
        var document = try tree()
        document["colour"] = "blue"
        var tiers = try XCTUnwrap(document["tiers"] as? [[String: Any]])
        tiers[1]["bonusPct"] = 30
        document["tiers"] = tiers
        var rules = try XCTUnwrap(document["earnRules"] as? [String: Any])
        var hotel = try XCTUnwrap(rules["hotel"] as? [String: Any])
        hotel["capPionts"] = 5
        rules["hotel"] = hotel
        document["earnRules"] = rules
        XCTAssertEqual(try problems(document), ["$.colour: unknown field", "$.earnRules.hotel.capPionts: unknown field",
                                                "$.tiers[1].bonusPct: unknown field"])
        // What an export leaves out may be written out as null, empty or false.
        document = try tree()
        document["softLandingMonths"] = NSNull()
        hotel = try XCTUnwrap((document["earnRules"] as? [String: Any])?["hotel"] as? [String: Any])
        hotel["cabinFactorsPermille"] = [String: Any]()
        rules = try XCTUnwrap(document["earnRules"] as? [String: Any])
        rules["hotel"] = hotel
        document["earnRules"] = rules
        XCTAssertEqual(try problems(document), [])
    }

    func testEveryProblemIsListedWithItsPathAndReason() throws {
        var program = Program.demo
        program.tiers[1].qualifyingThreshold = -5
        program.tiers[3].qualifyingThreshold = 50_000
        program.earnRules[.hotel]?.currency = "EUR"
        program.promotions = [Promotion(id: "SUMMER", name: "Summer", bonusPercent: 100, partners: ["NOSUCH"],
                                        from: date("2026-06-01"), to: date("2026-05-01"))]
        let found = program.problems(context: partners).map(\.description)
        XCTAssertEqual(found, [
            "$.tiers[1].qualifyingThreshold: tier PREMIER: qualifyingThreshold must not be negative",
            "$.tiers[1].qualifyingThreshold: tier PREMIER: thresholds must strictly ascend with rank (overlaps MEMBER)",
            "$.tiers[3].qualifyingThreshold: tier 1K: thresholds must strictly ascend with rank (overlaps PREMIER_EXECUTIVE)",
            "$.earnRules.hotel.currency: currency EUR is not the program's and has no exchange rate",
            "$.promotions[0].to: promotion SUMMER: ends before it starts",
            "$.promotions[0].partners[0]: promotion SUMMER: unknown partner NOSUCH",
        ])
        assertError(.invalid, mentioning: "$.tiers[1].qualifyingThreshold") { try program.validate(context: partners) }
    }

    func testADocumentThatDoesNotDecodeNamesWhereAndWhy() throws {
        var document = try tree()
        document["claimWindowDaysBack"] = "a year"
        XCTAssertEqual(try problems(document), ["$.claimWindowDaysBack: expected an integer"])
        document = try tree()
        document.removeValue(forKey: "tiers")
        XCTAssertEqual(try problems(document), ["$.tiers: missing"])
        guard case .failure(let notJSON) = ProgramDocument.parse(Data("{".utf8), context: nil) else { return XCTFail("parsed '{'") }
        XCTAssertEqual(notJSON.problems.map(\.path), ["$"])
        XCTAssertTrue(notJSON.problems[0].reason.hasPrefix("not JSON"), notJSON.description)
    }

    func testPartnersAndCategoriesMustAgreeWithTheRules() throws {
        var program = Program.demo
        program.earnRules.removeValue(forKey: .dining)
        program.partnerRules["NOSUCH"] = EarnRule(measure: .nights, pointsNumerator: 500)
        XCTAssertEqual(program.problems(context: partners).map(\.description), [
            "$.partnerRules.NOSUCH: unknown partner NOSUCH",
            "$.earnRules: partner DINECO is in category dining, which has no earn rule (nor has the partner one)",
        ])
        program.partnerRules = ["DINECO": EarnRule(measure: .amount, pointsNumerator: 5, pointsDenominator: 100)]
        XCTAssertEqual(program.problems(context: partners), [])
    }

    func testAPartnerRuleOverridesItsCategory() throws {
        var program = Program.demo
        program.partnerRules["HOTELCO"] = EarnRule(measure: .nights, pointsNumerator: 500)
        let stay = AccrualInput(activityDate: date("2026-03-01"), amount: Money(minorUnits: 45_000, currency: "USD"), nights: 3)
        let member = program.baseTier
        XCTAssertEqual(try program.earn(partner: "HOTELCO", category: .hotel, input: stay, tier: member, today: date("2026-03-02")).points, 1_500)
        XCTAssertEqual(try program.earn(partner: "INNCO", category: .hotel, input: stay, tier: member, today: date("2026-03-02")).points, 1_350)
    }

    func testTheVersionOfADateIsTheNewestEffectiveOnIt() throws {
        var doubled = Program.demo
        doubled.earnRules[.hotel]?.pointsNumerator = 6
        let timeline = try XCTUnwrap(ProgramTimeline([
            ProgramVersion(version: 1, effectiveFrom: date("2026-01-01"), program: .demo),
            ProgramVersion(version: 2, effectiveFrom: date("2026-07-01"), program: doubled),
            ProgramVersion(version: 3, effectiveFrom: date("2026-07-01"), program: .demo),
        ]))
        XCTAssertEqual(timeline.version(on: date("2025-12-31")).version, 1, "before the first version: the first")
        XCTAssertEqual(timeline.version(on: date("2026-06-30")).version, 1)
        XCTAssertEqual(timeline.version(on: date("2026-07-01")).version, 3, "the newest of one date wins")
        XCTAssertEqual(timeline.latest.version, 3)
        XCTAssertNil(ProgramTimeline([]))
        XCTAssertNil(ProgramTimeline([ProgramVersion(version: 1, effectiveFrom: date("2026-07-01"), program: .demo),
                                      ProgramVersion(version: 2, effectiveFrom: date("2026-01-01"), program: .demo)]),
                     "a later version cannot take effect before an earlier one")
    }

    func testDiffSaysWhatChangesInWords() throws {
        var next = Program.demo
        next.earnRules[.hotel]?.pointsNumerator = 4
        next.rewards.removeAll { $0.code == "GIFT-50" }
        next.promotions = [Promotion(id: "X2", name: "Double", bonusPercent: 100, from: date("2026-06-01"), to: date("2026-06-30"))]
        XCTAssertEqual(ProgramDiff.lines(from: .demo, to: next), [
            "changed earnRules.hotel.pointsNumerator: 3 -> 4",
            "added promotions[X2]: {\"bonusPercent\":100,\"from\":\"2026-06-01\",\"id\":\"X2\",\"name\":\"Double\",\"to\":\"2026-06-30\"}",
            "removed rewards[GIFT-50] (was {\"code\":\"GIFT-50\",\"description\":\"50.00 gift card\",\"points\":6000})",
        ])
        XCTAssertEqual(ProgramDiff.lines(from: .demo, to: .demo), [])
    }

    func testPromotionsMatchByPartnerCategoryTierDatesAndCode() throws {
        let promotion = Promotion(id: "P", name: "p", bonusPercent: 50, partners: ["HOTELCO"], tiers: ["PREMIER"],
                                  from: date("2026-06-01"), to: date("2026-06-30"), code: "SUMMER")
        var input = AccrualInput(activityDate: date("2026-06-30"), code: "SUMMER")
        XCTAssertTrue(promotion.matches(partner: "HOTELCO", category: .hotel, tierCode: "PREMIER", input: input))
        XCTAssertFalse(promotion.matches(partner: "DINECO", category: .hotel, tierCode: "PREMIER", input: input))
        XCTAssertFalse(promotion.matches(partner: "HOTELCO", category: .hotel, tierCode: "MEMBER", input: input))
        input.code = nil
        XCTAssertFalse(promotion.matches(partner: "HOTELCO", category: .hotel, tierCode: "PREMIER", input: input))
        input = AccrualInput(activityDate: date("2026-07-01"), code: "SUMMER")
        XCTAssertFalse(promotion.matches(partner: "HOTELCO", category: .hotel, tierCode: "PREMIER", input: input))
        XCTAssertEqual(promotion.uncappedBonus(on: 1_351), 675, "rounded down")
        XCTAssertEqual(promotion.uncappedBonus(on: 0), 0)
        XCTAssertEqual(Promotion(id: "F", name: "f", bonusPoints: 500, from: date("2026-01-01"), to: date("2026-01-01")).uncappedBonus(on: 1), 500)
    }
}
