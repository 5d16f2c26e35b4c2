import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// `loyaltyctl member merge`: a duplicate account's points, qualifying points and tier status
/// move to the account kept; the duplicate can no longer earn or spend.
final class MergeTests: TierTestCase {
    func testPointsAndQualifyingMoveAndTheKeptAccountQualifiesOnTheSum() throws {
        let first = try fly("t1", "M1", miles: 15_000, on: "2026-03-10")
        let second = try fly("t2", "M2", miles: 12_000, on: "2026-05-20")
        XCTAssertEqual(try tier("M2").code, "MEMBER")

        let receipt = try store.mergeMember("M1", into: "M2", reason: "duplicate enrolment", actor: admin)
        XCTAssertEqual(receipt.points, first.points)
        XCTAssertEqual(receipt.qualifying, 15_000)
        XCTAssertEqual(try store.member(number: "M2").balance, first.points + second.points)
        XCTAssertEqual(try store.member(number: "M2").qualifying, 27_000)
        XCTAssertEqual(try tier("M2").code, "PREMIER", "27,000 qualifying miles together")
        XCTAssertEqual(try history("M2").last?.reason, "merge M1 into M2")

        let duplicate = try store.member(number: "M1")
        XCTAssertEqual(duplicate.status, "merged")
        XCTAssertEqual(duplicate.balance, 0)
        XCTAssertEqual(duplicate.qualifying, 0)
        XCTAssertEqual(try sql("SELECT merged_into FROM members WHERE member_number = 'M1'").first?["merged_into"], "M2")
        XCTAssertLoyaltyError(try fly("t3", "M1", miles: 1_000), .closed)
        XCTAssertLoyaltyError(try store.redeem(principal: agent, requestID: "r1", member: "M1", target: .points(1)), .closed)
        XCTAssertEqual(try store.audit(member: "M1").last?.action, "member.merge")
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testTheDuplicatesTierGoesWithItsQualifyingPoints() throws {
        try fly("t1", "M1", miles: 26_000)
        XCTAssertEqual(try tier("M1").code, "PREMIER")
        try store.mergeMember("M1", into: "M2", reason: "duplicate", actor: admin)
        XCTAssertEqual(try tier("M1").code, "MEMBER", "the duplicate's tier went with its qualifying points")
        XCTAssertEqual(try tier("M2").code, "PREMIER")
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testRefusedMergesChangeNothing() throws {
        try fund("M1", 5_000)
        _ = try store.hold(principal: agent, requestID: "h1", member: "M1", points: 100, ttlSeconds: 600)
        XCTAssertLoyaltyError(try store.mergeMember("M1", into: "M2", reason: "dup", actor: admin), .conflict)
        XCTAssertLoyaltyError(try store.mergeMember("M1", into: "M1", reason: "dup", actor: admin), .invalid)
        XCTAssertLoyaltyError(try store.mergeMember("M1", into: "M2", reason: "", actor: admin), .invalid)
        XCTAssertLoyaltyError(try store.mergeMember("NOBODY", into: "M2", reason: "dup", actor: admin), .notFound)
        XCTAssertEqual(try store.member(number: "M1").status, "active")
        XCTAssertEqual(try store.member(number: "M1").balance, 5_000)

        try store.mergeMember("M2", into: "M3", reason: "dup", actor: admin)
        XCTAssertLoyaltyError(try store.mergeMember("M2", into: "M3", reason: "again", actor: admin), .closed)
        XCTAssertLoyaltyError(try store.mergeMember("M1", into: "M2", reason: "into a merged one", actor: admin), .closed)
        XCTAssertEqual(try brokenInvariants(), [])
    }
}
