import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// `expire`: inactivity and lot policies, exemption, holds, dry runs, idempotency, one at a time.
final class ExpiryRunTests: TierTestCase {
    private func entries(_ member: String, kind: String) throws -> [(points: Int64, source: String, reference: String, date: String)] {
        try sql("""
            SELECT points, source, reference, activity_date::text AS date FROM ledger_entries
            WHERE member_number = $1 AND kind = $2 ORDER BY entry_id
            """, [member, kind]).rows.map { row in
            (try row.int64("points"), try row.string("source"), try row.string("reference"), try row.string("date"))
        }
    }

    private func balance(_ member: String) throws -> Int64 { try store.member(number: member).balance }

    func testEighteenMonthsWithoutActivityExpireTheWholeBalance() throws {
        today("2026-01-10")
        try stay("h1", "M1", amount: "1000.00")
        XCTAssertEqual(try store.member(number: "M1").expiringPoints, 3_000)
        XCTAssertEqual(try store.member(number: "M1").expiringOn, day("2027-07-10"))

        let seventeen = try store.expirePoints(asOf: day("2027-06-10"))
        XCTAssertEqual(seventeen.membersExpired, 0)
        XCTAssertEqual(try store.expirePoints(asOf: day("2027-07-09")).membersExpired, 0, "a day short of 18 months")
        XCTAssertEqual(try balance("M1"), 3_000)

        let nineteen = try store.expirePoints(asOf: day("2027-08-10"))
        XCTAssertEqual(nineteen.membersExpired, 1)
        XCTAssertEqual(nineteen.pointsExpired, 3_000)
        XCTAssertEqual(nineteen.summaryLine.prefix(52), "expire: as of 2027-08-10: 1 members, 3000 miles expi")
        XCTAssertEqual(try balance("M1"), 0)
        let expiry = try entries("M1", kind: "expiry")
        XCTAssertEqual(expiry.count, 1)
        XCTAssertEqual(expiry.first?.points, -3_000)
        XCTAssertEqual(expiry.first?.source, "system")
        XCTAssertEqual(expiry.first?.reference, "expire-2027-08-10")
        XCTAssertEqual(expiry.first?.date, "2027-08-10")
        XCTAssertNil(try store.member(number: "M1").expiringPoints)
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testAPremierIsExemptWhileThePremierIsValid() throws {
        today("2026-01-10")
        try stay("h1", "M1", amount: "100.00")
        try fly("f1", "M2", miles: 25_000)
        XCTAssertNil(try store.member(number: "M2").expiringPoints, "exempt")

        let run = try store.expirePoints(asOf: day("2027-08-10"))
        XCTAssertEqual(run.membersExpired, 1, "M1 only")
        XCTAssertEqual(try balance("M2"), 25_000)
        let lapsed = try store.expirePoints(asOf: day("2028-03-01"))
        XCTAssertEqual(lapsed.membersExpired, 1, "Premier ended 2028-02-29: no longer exempt")
        XCTAssertEqual(try balance("M2"), 0)
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testActivityPostponesExpiry() throws {
        today("2026-01-10")
        try stay("h1", "M1", amount: "100.00")
        today("2026-05-01")
        _ = try store.redeem(principal: agent, requestID: "r1", member: "M1", target: .points(100))
        XCTAssertEqual(try store.member(number: "M1").expiringOn, day("2027-11-01"), "a redemption is activity")
        XCTAssertEqual(try store.expirePoints(asOf: day("2027-08-10")).membersExpired, 0)
        XCTAssertEqual(try store.expirePoints(asOf: day("2027-11-01")).pointsExpired, 200)
    }

    func testADryRunCountsAndChangesNothingAndASecondRunIsANoOp() throws {
        today("2026-01-10")
        try stay("h1", "M1", amount: "1000.00")
        try stay("h2", "M3", amount: "10.00")
        let dry = try store.expirePoints(asOf: day("2027-08-10"), dryRun: true)
        XCTAssertTrue(dry.dryRun)
        XCTAssertEqual(dry.membersExpired, 2)
        XCTAssertEqual(dry.pointsExpired, 3_030)
        XCTAssertTrue(dry.summaryLine.contains("would expire"))
        XCTAssertEqual(try balance("M1"), 3_000)
        XCTAssertEqual(try sql("SELECT 1 FROM runs").count, 0)

        let real = try store.expirePoints(asOf: day("2027-08-10"))
        XCTAssertEqual(real.pointsExpired, 3_030)
        // A refund after the run does not make a second run for that date expire anything.
        _ = try store.adjust(member: "M1", points: 500, reason: "goodwill", actor: .admin(user: "t"))
        let again = try store.expirePoints(asOf: day("2027-08-10"))
        XCTAssertTrue(again.alreadyDone)
        XCTAssertEqual(again.pointsExpired, 3_030, "the first run's figures")
        XCTAssertEqual(try balance("M1"), 500)
        XCTAssertEqual(try entries("M1", kind: "expiry").count, 1)
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testHeldPointsStayUntilTheHoldEnds() throws {
        today("2026-01-10")
        try stay("h1", "M1", amount: "1000.00")
        _ = try store.hold(principal: agent, requestID: "h-1", member: "M1", points: 1_000, ttlSeconds: 900)
        let run = try store.expirePoints(asOf: day("2027-08-10"))
        XCTAssertEqual(run.pointsExpired, 2_000, "available never goes below zero")
        XCTAssertEqual(try balance("M1"), 1_000)
        XCTAssertEqual(try store.available(number: "M1"), 0)
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testLotsExpireOldestFirst() throws {
        try useProgram { $0.expiry = .lot(months: 12) }
        today("2026-01-10")
        try stay("a", "M1", amount: "1000.00")      // lot of 3,000 expiring 2027-01-10
        try stay("a2", "M2", amount: "1000.00")
        today("2026-06-10")
        try stay("b", "M1", amount: "2000.00")      // lot of 6,000 expiring 2027-06-10
        try stay("b2", "M2", amount: "2000.00")
        today("2026-07-01")
        _ = try store.redeem(principal: agent, requestID: "r1", member: "M1", target: .points(2_000))
        _ = try store.redeem(principal: agent, requestID: "r2", member: "M2", target: .points(4_000))

        // M1 spent 2,000 of the oldest lot: its other 1,000 expire with it. M2 spent all of it and 1,000 more.
        XCTAssertEqual(try store.member(number: "M1").expiringPoints, 1_000)
        XCTAssertEqual(try store.member(number: "M1").expiringOn, day("2027-01-10"))
        XCTAssertEqual(try store.member(number: "M2").expiringPoints, 5_000)
        XCTAssertEqual(try store.member(number: "M2").expiringOn, day("2027-06-10"))

        XCTAssertEqual(try store.expirePoints(asOf: day("2027-01-09")).membersExpired, 0)
        let first = try store.expirePoints(asOf: day("2027-01-10"))
        XCTAssertEqual(first.membersExpired, 1)
        XCTAssertEqual(first.pointsExpired, 1_000)
        XCTAssertEqual(try balance("M1"), 6_000)
        XCTAssertEqual(try balance("M2"), 5_000)
        XCTAssertEqual(try store.member(number: "M1").expiringOn, day("2027-06-10"))

        let second = try store.expirePoints(asOf: day("2027-06-10"))
        XCTAssertEqual(second.membersExpired, 2)
        XCTAssertEqual(second.pointsExpired, 11_000)
        XCTAssertEqual(try balance("M1"), 0)
        XCTAssertEqual(try balance("M2"), 0)
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testAReversalShrinksItsOwnLot() throws {
        try useProgram { $0.expiry = .lot(months: 12) }
        today("2026-01-10")
        try stay("a", "M1", amount: "1000.00")      // 3,000 expiring 2027-01-10
        today("2026-06-10")
        try stay("b", "M1", amount: "1000.00")      // 3,000 expiring 2027-06-10
        _ = try store.reverse(partner: hotel, txnID: "b", points: 1_000)
        XCTAssertEqual(try store.expirePoints(asOf: day("2027-01-10")).pointsExpired, 3_000, "the older lot is whole")
        XCTAssertEqual(try store.expirePoints(asOf: day("2027-06-10")).pointsExpired, 2_000)
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testOnlyOneExpiryRunAtATime() throws {
        let other = try database.connect()
        defer { other.close() }
        _ = try other.query("SELECT pg_advisory_lock(\(RunKind.expire.lockKey))")
        XCTAssertThrowsError(try store.expirePoints(asOf: day("2027-08-10"))) { error in
            XCTAssertEqual((error as? LoyaltyError)?.code, .conflict)
            XCTAssertEqual((error as? LoyaltyError)?.message, "another expire run is in progress; try again when it has finished")
        }
        XCTAssertNoThrow(try store.evaluateTiers(asOf: day("2027-08-10")), "the tier run has its own lock")
    }
}
