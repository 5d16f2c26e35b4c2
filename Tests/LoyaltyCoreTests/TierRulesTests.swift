import Foundation
import XCTest
import LoyaltyCore

final class TierRulesTests: XCTestCase {
    let program = Program.demo

    func testLatestDateMonthsBeforeIsTheExactCutoff() {
        // Every day of 2023-2025 against 0 to 30 months: d is the last day that is `months` before.
        for day in date("2023-01-01").daysSinceEpoch...date("2025-12-31").daysSinceEpoch {
            let asOf = LocalDate(daysSinceEpoch: day)
            for months in 0...30 {
                let cutoff = asOf.latestDate(monthsBefore: months)
                XCTAssertLessThanOrEqual(cutoff.adding(months: months), asOf, "\(asOf) - \(months)")
                XCTAssertGreaterThan(cutoff.adding(days: 1).adding(months: months), asOf, "\(asOf) - \(months)")
            }
        }
        XCTAssertEqual(date("2027-08-31").latestDate(monthsBefore: 18), date("2026-02-28"))
        XCTAssertEqual(date("2026-04-30").latestDate(monthsBefore: 1), date("2026-03-31"))
        XCTAssertEqual(date("2026-03-30").latestDate(monthsBefore: 1), date("2026-02-28"))
    }

    func testExpiryCutoffsAgreeWithLotExpiryDates() {
        var lots = program
        lots.expiry = .lot(months: 18)
        let asOf = date("2027-08-31")
        XCTAssertEqual(lots.lotExpiryCutoff(asOf: asOf), date("2026-02-28"))
        XCTAssertEqual(program.inactivityCutoff(asOf: asOf), date("2026-02-28"))
        XCTAssertNil(program.lotExpiryCutoff(asOf: asOf))
        for day in date("2025-12-01").daysSinceEpoch...date("2026-04-01").daysSinceEpoch {
            let activity = LocalDate(daysSinceEpoch: day)
            let expired = try! XCTUnwrap(lots.lotExpiryDate(activityDate: activity)) <= asOf
            XCTAssertEqual(activity <= lots.lotExpiryCutoff(asOf: asOf)!, expired, "\(activity)")
        }
    }

    func testActivitiesReachATierWhateverThePoints() {
        var segments = program
        segments.tiers[1].qualifyingActivities = 30
        segments.tiers[2].qualifyingActivities = 60
        XCTAssertFalse(program.countsQualifyingActivities)
        XCTAssertTrue(segments.countsQualifyingActivities)
        let expected: [(Int64, Int64, String)] = [(0, 0, "MEMBER"), (24_999, 29, "MEMBER"), (0, 30, "PREMIER"),
                                                  (25_000, 0, "PREMIER"), (49_999, 59, "PREMIER"), (0, 60, "PREMIER_EXECUTIVE"),
                                                  (100_000, 0, "1K"), (99_999, 1_000, "PREMIER_EXECUTIVE")]
        for (points, activities, code) in expected {
            XCTAssertEqual(segments.tier(forQualifying: points, activities: activities).code, code, "\(points)/\(activities)")
        }
        XCTAssertEqual(program.tier(forQualifying: 24_999, activities: 1_000).code, "MEMBER")
    }

    func testPeriodStartingOnIsThePeriodThatStartsThere() {
        XCTAssertEqual(program.period(startingOn: date("2026-01-01")), date("2026-01-01")...date("2026-12-31"))
        var rolling = program
        rolling.qualificationPeriod = .rolling12Months
        XCTAssertEqual(rolling.period(startingOn: date("2025-11-24")), date("2025-11-24")...date("2026-11-23"))
        for day in date("2026-01-01").daysSinceEpoch...date("2028-12-31").daysSinceEpoch {
            let end = LocalDate(daysSinceEpoch: day)
            let period = rolling.period(containing: end)
            let leapFebruary28 = end.month == 2 && end.day == 28 && end.adding(days: 1).day == 29
            XCTAssertEqual(rolling.period(startingOn: period.lowerBound).upperBound, leapFebruary28 ? end.adding(days: 1) : end)
            XCTAssertEqual(program.period(startingOn: program.period(containing: end).lowerBound), program.period(containing: end))
        }
    }

    func testSoftLandingDropsOneTierAtMost() throws {
        let oneK = try XCTUnwrap(program.tier(code: "1K")), executive = try XCTUnwrap(program.tier(code: "PREMIER_EXECUTIVE"))
        let premier = try XCTUnwrap(program.tier(code: "PREMIER"))
        XCTAssertNil(program.softLandingTier(lapsed: oneK, best: program.baseTier), "off in the demo")
        var soft = program
        soft.softLandingMonths = 12
        XCTAssertEqual(soft.softLandingTier(lapsed: oneK, best: soft.baseTier), executive)
        XCTAssertEqual(soft.softLandingTier(lapsed: oneK, best: premier), executive)
        XCTAssertNil(soft.softLandingTier(lapsed: oneK, best: executive), "a valid tier one below needs no landing")
        XCTAssertEqual(soft.softLandingTier(lapsed: executive, best: soft.baseTier), premier)
        XCTAssertNil(soft.softLandingTier(lapsed: premier, best: soft.baseTier), "one below Premier is the base tier")
    }

    func testNewKeysDecodeWithDefaultsFromAProgramStoredBeforeThem() throws {
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(program)) as? [String: Any])
        object["softLandingMonths"] = nil
        object["lifetimeTiers"] = nil
        let decoded = try JSONDecoder().decode(Program.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertEqual(decoded, program)
        XCTAssertNil(decoded.softLandingMonths)
        XCTAssertEqual(decoded.lifetimeTiers, [])

        var richer = program
        richer.softLandingMonths = 12
        richer.lifetimeTiers = [LifetimeTier(tierCode: "PREMIER", lifetimeQualifying: 1_000_000)]
        richer.tiers[1].qualifyingActivities = 30
        XCTAssertNoThrow(try richer.validate())
        XCTAssertEqual(try JSONDecoder().decode(Program.self, from: JSONEncoder().encode(richer)), richer)
    }

    func testValidateRefusesBrokenTierRules() {
        let breakages: [(String, (inout Program) -> Void)] = [
            ("softLandingMonths", { $0.softLandingMonths = 0 }),
            ("qualifyingActivities", { $0.tiers[1].qualifyingActivities = 0 }),
            ("qualifyingActivities", { $0.tiers[0].qualifyingActivities = 5 }),
            ("not a tier above the base", { $0.lifetimeTiers = [LifetimeTier(tierCode: "MEMBER", lifetimeQualifying: 1)] }),
            ("not a tier above the base", { $0.lifetimeTiers = [LifetimeTier(tierCode: "GOLD", lifetimeQualifying: 1)] }),
            ("given twice", { $0.lifetimeTiers = Array(repeating: LifetimeTier(tierCode: "1K", lifetimeQualifying: 9), count: 2) }),
            ("lifetimeQualifying", { $0.lifetimeTiers = [LifetimeTier(tierCode: "1K", lifetimeQualifying: 0)] }),
        ]
        for (fragment, breakage) in breakages {
            var broken = program
            breakage(&broken)
            assertError(.invalid, mentioning: fragment) { try broken.validate() }
        }
    }
}
