import XCTest
import LoyaltyCore

final class TierStatusTests: XCTestCase {
    let program = Program.demo

    func effective(_ grants: [TierGrant], on day: String) -> (String, LocalDate?) {
        let result = TierStatus.effective(grants: grants, on: date(day), program: program)
        return (result.tier.code, result.validUntil)
    }

    func testNoGrantsIsTheBaseTierWithoutEnd() {
        let (code, until) = effective([], on: "2026-06-01")
        XCTAssertEqual(code, "MEMBER")
        XCTAssertNil(until)
    }

    func testGrantHoldsThroughItsLastDayThenFallsToBase() {
        let premier = TierGrant(tierCode: "PREMIER", validUntil: date("2028-02-29"), source: .qualified)
        XCTAssertEqual(effective([premier], on: "2028-02-29").0, "PREMIER")
        XCTAssertEqual(effective([premier], on: "2028-02-29").1, date("2028-02-29"))
        let after = effective([premier], on: "2028-03-01")
        XCTAssertEqual(after.0, "MEMBER")
        XCTAssertNil(after.1)
    }

    func testBestStillValidGrantWinsAndLapsesToTheNextBest() {
        let grants = [
            TierGrant(tierCode: "PREMIER_EXECUTIVE", validUntil: date("2026-12-31"), source: .override),
            TierGrant(tierCode: "PREMIER", validUntil: date("2029-02-28"), source: .qualified),
            TierGrant(tierCode: "1K", validUntil: date("2028-02-29"), source: .qualified),
        ]
        XCTAssertEqual(effective(grants, on: "2026-12-31").0, "1K")
        XCTAssertEqual(effective(grants, on: "2028-02-29").1, date("2028-02-29"))
        XCTAssertEqual(effective(grants, on: "2028-03-01").0, "PREMIER")
        XCTAssertEqual(effective(grants, on: "2028-03-01").1, date("2029-02-28"))
        XCTAssertEqual(effective(grants, on: "2029-03-01").0, "MEMBER")
    }

    func testAnOverrideInForceReplacesTheGrantsMadeBeforeItDownwardsToo() {
        let grants = [
            TierGrant(tierCode: "1K", validUntil: date("2028-02-29"), source: .qualified),
            TierGrant(tierCode: "PREMIER", validUntil: date("2026-12-31"), source: .override),
        ]
        XCTAssertEqual(effective(grants, on: "2026-12-31").0, "PREMIER")
        // Once it ends, the grants it replaced are in force again.
        XCTAssertEqual(effective(grants, on: "2027-01-01").0, "1K")
        // A grant earned after the override counts as usual.
        let earnedLater = grants + [TierGrant(tierCode: "PREMIER_EXECUTIVE", validUntil: date("2029-02-28"), source: .qualified)]
        XCTAssertEqual(effective(earnedLater, on: "2026-12-31").0, "PREMIER_EXECUTIVE")
    }

    func testAmongEqualTiersTheLongestLastingIsReported() {
        let grants = [
            TierGrant(tierCode: "PREMIER", validUntil: date("2027-02-28"), source: .qualified),
            TierGrant(tierCode: "PREMIER", validUntil: nil, source: .lifetime),
            TierGrant(tierCode: "PREMIER", validUntil: date("2028-02-29"), source: .qualified),
        ]
        let (code, until) = effective(grants, on: "2030-01-01")
        XCTAssertEqual(code, "PREMIER")
        XCTAssertNil(until)
        XCTAssertEqual(effective(Array(grants.dropFirst(2) + grants.prefix(1)), on: "2026-01-01").1, date("2028-02-29"))
    }

    func testOverrideAboveQualifiedAndUnknownCodesIgnored() {
        let grants = [
            TierGrant(tierCode: "PREMIER", validUntil: date("2028-02-29"), source: .qualified),
            TierGrant(tierCode: "premier_executive", validUntil: date("2026-09-30"), source: .override),
            TierGrant(tierCode: "DIAMOND", validUntil: nil, source: .lifetime),
        ]
        XCTAssertEqual(effective(grants, on: "2026-09-30").0, "PREMIER_EXECUTIVE")
        XCTAssertEqual(effective(grants, on: "2026-10-01").0, "PREMIER")
    }
}
