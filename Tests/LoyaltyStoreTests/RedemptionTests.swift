import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// REDEEM and CANCEL: never below zero, exactly once per request-id, members only for themselves.
final class RedemptionTests: StoreTestCase {
    private let m1 = Principal.member(number: "M1")

    override func setUpWithError() throws {
        try super.setUpWithError()
        try fund("M1", 20_000)
    }

    private func redeem(_ id: String, _ target: RedemptionTarget, member: String = "M1",
                        as principal: Principal? = nil) throws -> SpendReceipt {
        try store.redeem(principal: principal ?? agent, requestID: id, member: member, target: target)
    }

    func testARewardCostsItsCatalogPointsTimesQuantity() throws {
        let receipt = try redeem("r1", .reward(code: "GIFT-50", quantity: 2))
        XCTAssertTrue(receipt.id.hasPrefix("RD"))
        XCTAssertEqual(receipt.points, 12_000)
        XCTAssertEqual(receipt.availableAfter, 8_000)
        XCTAssertEqual(try available("M1"), 8_000)
        let newest = try XCTUnwrap(store.statement(number: "M1", limit: 1, before: nil).first)
        XCTAssertEqual(newest.kind, "redemption")
        XCTAssertEqual(newest.points, -12_000)
        XCTAssertEqual(newest.reference, receipt.id)
        XCTAssertEqual(newest.source, "agent:demo")
    }

    func testAPlainPointsDebit() throws {
        let receipt = try redeem("r1", .points(500))
        XCTAssertEqual(receipt.points, 500)
        XCTAssertEqual(receipt.availableAfter, 19_500)
        XCTAssertEqual(try available("M1"), 19_500)
    }

    func testMalformedRedemptionsAreRefused() throws {
        XCTAssertLoyaltyError(try redeem("a", .reward(code: "NO-SUCH", quantity: 1)), .notFound)
        XCTAssertLoyaltyError(try redeem("b", .reward(code: "GIFT-50", quantity: 0)), .invalid)
        XCTAssertLoyaltyError(try redeem("c", .reward(code: "GIFT-50", quantity: store.limits.redeemQuantityMax + 1)), .invalid)
        XCTAssertLoyaltyError(try redeem("d", .points(0)), .invalid)
        XCTAssertLoyaltyError(try redeem("e", .points(-5)), .invalid)
        XCTAssertLoyaltyError(try redeem("f", .points(1), member: "NOBODY"), .notFound)
        XCTAssertEqual(try available("M1"), 20_000)
    }

    func testNotEnoughPointsIsInsufficientAndTheWholeBalanceCanBeSpent() throws {
        XCTAssertLoyaltyError(try redeem("big", .reward(code: "INTL-BIZ", quantity: 1)), .insufficient)
        XCTAssertLoyaltyError(try redeem("one-more", .points(20_001)), .insufficient)
        XCTAssertEqual(try available("M1"), 20_000)
        XCTAssertEqual(try redeem("all", .points(20_000)).availableAfter, 0)
        XCTAssertLoyaltyError(try redeem("empty", .points(1)), .insufficient)
    }

    func testAReplayedRequestIDReturnsTheSameReplyAndChangesNothing() throws {
        let first = try redeem("r1", .reward(code: "UPGRADE", quantity: 1))
        _ = try redeem("r2", .points(1_000))
        XCTAssertEqual(try redeem("r1", .reward(code: "UPGRADE", quantity: 1)), first)
        XCTAssertEqual(try available("M1"), 9_000)
        XCTAssertEqual(try store.statement(number: "M1", limit: nil, before: nil).filter { $0.kind == "redemption" }.count, 2)
    }

    func testARequestIDReusedWithOtherContentIsAConflict() throws {
        try fund("M2", 20_000)
        _ = try redeem("r1", .points(500))
        XCTAssertLoyaltyError(try redeem("r1", .points(501)), .conflict)
        XCTAssertLoyaltyError(try redeem("r1", .points(500), member: "M2"), .conflict)
        XCTAssertLoyaltyError(try redeem("r1", .reward(code: "GIFT-50", quantity: 1)), .conflict)
        XCTAssertLoyaltyError(try store.hold(principal: agent, requestID: "r1", member: "M1", points: 500, ttlSeconds: nil), .conflict)
        XCTAssertEqual(try available("M1"), 19_500)
        XCTAssertEqual(try available("M2"), 20_000)
        // request-ids belong to the principal that chose them.
        XCTAssertEqual(try redeem("r1", .points(700), as: m1).points, 700)
    }

    func testAMemberRedeemsOnlyForItself() throws {
        try fund("M2", 20_000)
        XCTAssertEqual(try redeem("mine", .points(100), as: m1).availableAfter, 19_900)
        XCTAssertLoyaltyError(try redeem("theirs", .points(100), member: "M2", as: m1), .noPermission)
        XCTAssertEqual(try available("M2"), 20_000)
    }

    func testCancelRefundsOnceAndRepeatsItsReply() throws {
        let redemption = try redeem("r1", .reward(code: "DOM-ECON", quantity: 1))
        XCTAssertEqual(try available("M1"), 7_500)
        let cancelled = try store.cancel(principal: agent, redemptionID: redemption.id)
        XCTAssertEqual(cancelled, SpendReceipt(id: redemption.id, points: 12_500, availableAfter: 20_000))
        XCTAssertEqual(try store.cancel(principal: agent, redemptionID: redemption.id), cancelled)
        XCTAssertEqual(try available("M1"), 20_000)
        let kinds = try store.statement(number: "M1", limit: nil, before: nil).map(\.kind)
        XCTAssertEqual(kinds, ["refund", "redemption", "adjustment"])
        XCTAssertEqual(try brokenInvariants(), [])
        // The request-id still replays the original redemption, not a new debit.
        XCTAssertEqual(try redeem("r1", .reward(code: "DOM-ECON", quantity: 1)), redemption)
        XCTAssertEqual(try available("M1"), 20_000)
    }

    func testCancelOfAnUnknownOrAnotherMembersRedemption() throws {
        try fund("M2", 20_000)
        let theirs = try redeem("r2", .points(1_000), member: "M2")
        XCTAssertLoyaltyError(try store.cancel(principal: agent, redemptionID: "RD-none"), .notFound)
        XCTAssertLoyaltyError(try store.cancel(principal: m1, redemptionID: theirs.id), .noPermission)
        XCTAssertEqual(try available("M2"), 19_000)
        let mine = try redeem("r1", .points(1_000), as: m1)
        XCTAssertEqual(try store.cancel(principal: m1, redemptionID: mine.id).availableAfter, 20_000)
    }

    func testAReplayAfterTheMemberWasClosedStillGetsItsOriginalReply() throws {
        try fund("M2", 5_000)
        let redemption = try redeem("r1", .points(1_000))
        let transfer = try store.transfer(principal: agent, requestID: "t1", from: "M1", to: "M2", points: 1_000)
        try store.closeMember(number: "M2", reason: "moved away", actor: admin)
        XCTAssertEqual(try store.transfer(principal: agent, requestID: "t1", from: "M1", to: "M2", points: 1_000), transfer)
        try store.closeMember(number: "M1", reason: "moved away", actor: admin)
        XCTAssertEqual(try redeem("r1", .points(1_000)), redemption)
        // New requests are still refused.
        XCTAssertLoyaltyError(try redeem("r2", .points(1_000)), .closed)
        XCTAssertEqual(try store.member(number: "M1").balance, 18_000)
    }

    func testAReplayAfterTheRewardLeftTheCatalogStillGetsItsOriginalReply() throws {
        let redemption = try redeem("r1", .reward(code: "GIFT-50", quantity: 1))
        var program = try store.program()
        program.rewards.removeAll { $0.code == "GIFT-50" }
        try store.write { conn in try ProgramRecords.save(conn, program) }
        try store.reloadProgram()
        XCTAssertEqual(try redeem("r1", .reward(code: "GIFT-50", quantity: 1)), redemption)
        // A new request for it is refused, and costs nothing.
        XCTAssertLoyaltyError(try redeem("r2", .reward(code: "GIFT-50", quantity: 1)), .notFound)
        XCTAssertEqual(try available("M1"), 20_000 - redemption.points)
    }
}
