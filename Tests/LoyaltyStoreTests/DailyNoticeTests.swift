import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// The daily runs' outbound notices: points expiring within 30 days (written by `expire`) and
/// tiers lapsing within 60 (written by `tiers evaluate`), once per member and what they announce.
final class DailyNoticeTests: TierTestCase {
    private func notices(_ kind: String) throws -> [(member: String, payload: String)] {
        try store.events(after: 0, count: 1_000).filter { $0.kind == kind }.map { ($0.member, $0.payload) }
    }

    func testExpiringPointsAreAnnouncedThirtyDaysAheadOncePerLotDate() throws {
        today("2026-01-10")
        _ = try stay("h1", "M1", amount: "1000.00")
        _ = try fly("f1", "M2", miles: 25_000)
        XCTAssertEqual(try store.member(number: "M1").expiringOn, day("2027-07-10"))
        _ = try store.expirePoints(asOf: day("2027-06-09"))
        XCTAssertEqual(try notices("points.expiring").count, 0, "31 days ahead")
        _ = try store.expirePoints(asOf: day("2027-06-09"), dryRun: true)
        _ = try store.expirePoints(asOf: day("2027-06-10"))
        let notice = try notices("points.expiring")
        XCTAssertEqual(notice.map(\.member), ["M1"], "M2 is a Premier, exempt")
        XCTAssertEqual(notice.first?.payload, #"{"points": 3000, "lot_date": "2026-01-10", "expires_on": "2027-07-10"}"#)
        _ = try store.expirePoints(asOf: day("2027-06-11"))
        _ = try store.expirePoints(asOf: day("2027-07-09"))
        XCTAssertEqual(try notices("points.expiring").count, 1, "the same lot date is announced once")
        // New activity starts a new date to count from: announced again when that one nears.
        today("2027-07-01")
        _ = try stay("h2", "M1", amount: "10.00")
        _ = try store.expirePoints(asOf: day("2028-12-01"))
        XCTAssertEqual(try notices("points.expiring").count, 1, "31 days ahead")
        _ = try store.expirePoints(asOf: day("2028-12-02"))
        XCTAssertEqual(try notices("points.expiring").map(\.payload).last,
                       #"{"points": 3030, "lot_date": "2027-07-01", "expires_on": "2029-01-01"}"#)
    }

    func testLapsingTiersAreAnnouncedSixtyDaysAheadOncePerTierAndEnd() throws {
        today("2026-01-10")
        _ = try fly("f1", "M2", miles: 25_000)
        XCTAssertEqual(try tier("M2").until, "2028-02-29")
        _ = try store.evaluateTiers(asOf: day("2027-12-31"))
        XCTAssertEqual(try notices("tier.lapsing").count, 0, "61 days ahead")
        _ = try store.evaluateTiers(asOf: day("2028-01-01"))
        _ = try store.evaluateTiers(asOf: day("2028-01-02"))
        let notice = try notices("tier.lapsing")
        XCTAssertEqual(notice.map(\.member), ["M2"])
        XCTAssertEqual(notice.first?.payload,
                       #"{"tier": "PREMIER", "until": "2028-02-29", "days_left": 60, "lapses_on": "2028-03-01"}"#)
        _ = try store.evaluateTiers(asOf: day("2028-03-01"))
        XCTAssertEqual(try notices("tier.changed").last?.payload.contains(#""change": "down""#), true, "and then it lapsed")
        XCTAssertEqual(try notices("tier.lapsing").count, 1)
    }
}
