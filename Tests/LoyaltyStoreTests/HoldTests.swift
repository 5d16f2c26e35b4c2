import Foundation
import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// HOLD, CAPTURE, RELEASE: held points are not available, and come back on release or lapse.
final class HoldTests: StoreTestCase {
    private let m1 = Principal.member(number: "M1")

    override func setUpWithError() throws {
        try super.setUpWithError()
        try fund("M1", 20_000)
    }

    private func hold(_ id: String, _ points: Int64, ttl: Int? = nil, member: String = "M1",
                      as principal: Principal? = nil) throws -> HoldReceipt {
        try store.hold(principal: principal ?? agent, requestID: id, member: member, points: points, ttlSeconds: ttl)
    }

    func testAHoldReducesAvailableButNotTheBalance() throws {
        let before = Date()
        let receipt = try hold("h1", 15_000, ttl: 600)
        XCTAssertTrue(receipt.holdID.hasPrefix("H"))
        XCTAssertEqual(receipt.points, 15_000)
        let expires = try XCTUnwrap(ISO8601DateFormatter().date(from: receipt.expiresAt), receipt.expiresAt)
        XCTAssertEqual(expires.timeIntervalSince(before), 600, accuracy: 5)
        // The reply's expiry is the stored one (read in the first round trip, written with the COMMIT).
        XCTAssertEqual(try sql("""
            SELECT to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS expires_at FROM holds WHERE hold_id = $1
            """, [receipt.holdID]).first?.string("expires_at"), receipt.expiresAt)
        let member = try store.member(number: "M1")
        XCTAssertEqual(member.balance, 20_000)
        XCTAssertEqual(member.available, 5_000)
        XCTAssertEqual(member.held, 15_000)
        XCTAssertLoyaltyError(try hold("h2", 5_001), .insufficient)
        XCTAssertLoyaltyError(try store.redeem(principal: agent, requestID: "r", member: "M1", target: .points(5_001)), .insufficient)
        XCTAssertEqual(try hold("h3", 5_000).points, 5_000)
        XCTAssertEqual(try available("M1"), 0)
        // A replayed HOLD is the same hold, not another one.
        XCTAssertEqual(try hold("h1", 15_000, ttl: 600), receipt)
        XCTAssertEqual(try available("M1"), 0)
    }

    func testMalformedHoldsAreRefused() throws {
        XCTAssertLoyaltyError(try hold("a", 0), .invalid)
        XCTAssertLoyaltyError(try hold("b", -1), .invalid)
        XCTAssertLoyaltyError(try hold("c", 1, ttl: 0), .invalid)
        XCTAssertLoyaltyError(try hold("d", 1, ttl: store.limits.holdTTLSecondsMax + 1), .invalid)
        XCTAssertEqual(try hold("e", 1, ttl: store.limits.holdTTLSecondsMax).points, 1)
        XCTAssertLoyaltyError(try hold("f", 1, member: "NOBODY"), .notFound)
    }

    func testAHoldLapsesOnItsOwnAfterItsTTL() throws {
        let receipt = try hold("h1", 20_000, ttl: 1)
        XCTAssertEqual(try available("M1"), 0)
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertEqual(try available("M1"), 20_000)
        XCTAssertEqual(try store.member(number: "M1").held, 0)
        XCTAssertLoyaltyError(try store.capture(principal: agent, holdID: receipt.holdID, rewardCode: nil), .invalid)
        XCTAssertEqual(try store.redeem(principal: agent, requestID: "r", member: "M1", target: .points(20_000)).availableAfter, 0)
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testCaptureOfTheWholeHoldIsARedemption() throws {
        let held = try hold("h1", 12_500)
        let captured = try store.capture(principal: agent, holdID: held.holdID, rewardCode: nil)
        XCTAssertTrue(captured.id.hasPrefix("RD"))
        XCTAssertEqual(captured.points, 12_500)
        XCTAssertEqual(captured.availableAfter, 7_500)
        let member = try store.member(number: "M1")
        XCTAssertEqual(member.balance, 7_500)
        XCTAssertEqual(member.held, 0)
        let newest = try XCTUnwrap(store.statement(number: "M1", limit: 1, before: nil).first)
        XCTAssertEqual(newest.kind, "hold_capture")
        XCTAssertEqual(newest.points, -12_500)
        XCTAssertEqual(newest.reference, captured.id)
        // Capturing again returns the same redemption and takes nothing more.
        XCTAssertEqual(try store.capture(principal: agent, holdID: held.holdID, rewardCode: nil), captured)
        XCTAssertEqual(try available("M1"), 7_500)
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testCaptureForARewardTakesItsPointsAndReleasesTheRest() throws {
        let held = try hold("h1", 15_000)
        let captured = try store.capture(principal: agent, holdID: held.holdID, rewardCode: "UPGRADE")
        XCTAssertEqual(captured.points, 10_000)
        XCTAssertEqual(captured.availableAfter, 10_000)
        XCTAssertEqual(try available("M1"), 10_000)
        XCTAssertEqual(try store.member(number: "M1").held, 0)
        // The captured redemption can be cancelled like any other.
        XCTAssertEqual(try store.cancel(principal: agent, redemptionID: captured.id).availableAfter, 20_000)
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testCaptureForARewardDearerThanTheHoldIsInsufficient() throws {
        let held = try hold("h1", 10_000)
        XCTAssertLoyaltyError(try store.capture(principal: agent, holdID: held.holdID, rewardCode: "DOM-ECON"), .insufficient)
        XCTAssertLoyaltyError(try store.capture(principal: agent, holdID: held.holdID, rewardCode: "NO-SUCH"), .notFound)
        XCTAssertEqual(try available("M1"), 10_000)
        XCTAssertEqual(try store.capture(principal: agent, holdID: held.holdID, rewardCode: "UPGRADE").points, 10_000)
    }

    func testReleaseGivesThePointsBackAndCannotUndoACapture() throws {
        let held = try hold("h1", 8_000)
        try store.release(principal: agent, holdID: held.holdID)
        XCTAssertEqual(try available("M1"), 20_000)
        try store.release(principal: agent, holdID: held.holdID)
        XCTAssertEqual(try available("M1"), 20_000)
        XCTAssertLoyaltyError(try store.capture(principal: agent, holdID: held.holdID, rewardCode: nil), .invalid)

        let captured = try hold("h2", 8_000)
        _ = try store.capture(principal: agent, holdID: captured.holdID, rewardCode: nil)
        XCTAssertLoyaltyError(try store.release(principal: agent, holdID: captured.holdID), .invalid)
        XCTAssertEqual(try available("M1"), 12_000)
        XCTAssertLoyaltyError(try store.release(principal: agent, holdID: "H-none"), .notFound)
        XCTAssertLoyaltyError(try store.capture(principal: agent, holdID: "H-none", rewardCode: nil), .notFound)
    }

    func testAMemberHoldsCapturesAndReleasesOnlyItsOwn() throws {
        try fund("M2", 20_000)
        XCTAssertLoyaltyError(try hold("x", 100, member: "M2", as: m1), .noPermission)
        let theirs = try hold("h2", 1_000, member: "M2")
        XCTAssertLoyaltyError(try store.capture(principal: m1, holdID: theirs.holdID, rewardCode: nil), .noPermission)
        XCTAssertLoyaltyError(try store.release(principal: m1, holdID: theirs.holdID), .noPermission)
        XCTAssertEqual(try available("M2"), 19_000)
        let mine = try hold("h1", 1_000, as: m1)
        XCTAssertEqual(try store.capture(principal: m1, holdID: mine.holdID, rewardCode: nil).availableAfter, 19_000)
    }
}
