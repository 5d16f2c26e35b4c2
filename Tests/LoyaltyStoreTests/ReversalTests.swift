import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// REVERSE: whole or partial, with qualifying points going back in proportion.
final class ReversalTests: StoreTestCase {
    /// Card spend of 1,234.56 USD: 1,234 redeemable, 61 qualifying.
    private func cardSpend(_ txn: String = "c1", member: String = "M1") throws {
        _ = try store.accrue(partner: card, txnID: txn, member: member, input: input([("amount", "1234.56"), ("currency", "USD")]))
    }

    func testAFullReversalTakesBackEverything() throws {
        try cardSpend()
        XCTAssertEqual(try store.reverse(partner: card, txnID: "c1", points: nil), ReversalReceipt(txnID: "c1", points: 1_234, qualifying: 61))
        let member = try store.member(number: "M1")
        XCTAssertEqual(member.balance, 0)
        XCTAssertEqual(member.qualifying, 0)
        let newest = try XCTUnwrap(store.statement(number: "M1", limit: 1, before: nil).first)
        XCTAssertEqual(newest.kind, "reversal")
        XCTAssertEqual(newest.points, -1_234)
        XCTAssertEqual(newest.qualifying, -61)
        XCTAssertEqual(newest.reference, "c1")
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testPartialReversalsTakeQualifyingInProportionAndTheLastTakesTheRest() throws {
        try cardSpend()
        // floor(61 × 617 / 1,234) = 30; the remainder then takes the other 31.
        XCTAssertEqual(try store.reverse(partner: card, txnID: "c1", points: 617), ReversalReceipt(txnID: "c1", points: 617, qualifying: 30))
        XCTAssertEqual(try store.member(number: "M1").qualifying, 31)
        XCTAssertEqual(try store.reverse(partner: card, txnID: "c1", points: nil), ReversalReceipt(txnID: "c1", points: 617, qualifying: 31))
        XCTAssertEqual(try store.member(number: "M1").qualifying, 0)
        XCTAssertEqual(try available("M1"), 0)
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testReversingMoreThanRemainsIsInvalidAndChangesNothing() throws {
        try cardSpend()
        XCTAssertLoyaltyError(try store.reverse(partner: card, txnID: "c1", points: 1_235), .invalid)
        _ = try store.reverse(partner: card, txnID: "c1", points: 1_000)
        XCTAssertLoyaltyError(try store.reverse(partner: card, txnID: "c1", points: 235), .invalid)
        XCTAssertLoyaltyError(try store.reverse(partner: card, txnID: "c1", points: -1), .invalid)
        XCTAssertEqual(try available("M1"), 234)
    }

    /// Two partial reversals with the same id racing: one is applied, the other gets its reply.
    func testRacingReversalsWithOneIDApplyOnce() throws {
        try cardSpend()
        store = database.store(connections: 8)
        let store = self.store!, card = self.card
        let outcomes = concurrently(8) { _ in
            Result { () throws(LoyaltyError) in try store.reverse(partner: card, txnID: "c1", points: 100, id: "r1") }
        }
        XCTAssertEqual(outcomes.map { try? $0.get() }, Array(repeating: ReversalReceipt(txnID: "c1", points: 100, qualifying: 4), count: 8))
        XCTAssertEqual(try available("M1"), 1_134)
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testAFullReversalRepeatedReturnsZero() throws {
        try cardSpend()
        _ = try store.reverse(partner: card, txnID: "c1", points: nil)
        XCTAssertEqual(try store.reverse(partner: card, txnID: "c1", points: nil), ReversalReceipt(txnID: "c1", points: 0, qualifying: 0))
        XCTAssertEqual(try store.reverse(partner: card, txnID: "c1", points: nil), ReversalReceipt(txnID: "c1", points: 0, qualifying: 0))
        XCTAssertEqual(try store.statement(number: "M1", limit: nil, before: nil).map(\.kind), ["reversal", "accrual"])
        XCTAssertEqual(try available("M1"), 0)
    }

    func testAnotherPartnersTransactionIsNoPermissionAndUnknownIsNotFound() throws {
        try cardSpend()
        XCTAssertLoyaltyError(try store.reverse(partner: hotel, txnID: "c1", points: nil), .noPermission)
        XCTAssertLoyaltyError(try store.reverse(partner: card, txnID: "never-sent", points: nil), .notFound)
        XCTAssertLoyaltyError(try store.reverse(partner: agent, txnID: "c1", points: nil), .noPermission)
        XCTAssertEqual(try available("M1"), 1_234)
    }

    func testAReversalMayTakeTheBalanceBelowZeroAndVerifyStillPasses() throws {
        _ = try store.accrue(partner: hotel, txnID: "stay", member: "M1", input: input([("amount", "450.00"), ("currency", "USD")]))
        _ = try store.redeem(principal: agent, requestID: "r1", member: "M1", target: .points(1_000))
        XCTAssertEqual(try store.reverse(partner: hotel, txnID: "stay", points: nil).points, 1_350)
        XCTAssertEqual(try store.member(number: "M1").balance, -1_000)
        XCTAssertEqual(try available("M1"), -1_000)
        XCTAssertEqual(try brokenInvariants(), [])
        // A negative balance spends nothing.
        XCTAssertLoyaltyError(try store.redeem(principal: agent, requestID: "r2", member: "M1", target: .points(1)), .insufficient)
    }

    func testReversingTheQualifyingMilesTakesBackTheTierTheyEarned() throws {
        _ = try store.accrue(partner: skyair, txnID: "long-haul", member: "M1", input: input([("miles", "20000"), ("cabin", "J")]))
        XCTAssertEqual(try store.member(number: "M1").tier.code, "PREMIER")
        XCTAssertEqual(try store.reverse(partner: skyair, txnID: "long-haul", points: 10_000),
                       ReversalReceipt(txnID: "long-haul", points: 10_000, qualifying: 10_000))
        let member = try store.member(number: "M1")
        XCTAssertEqual(member.qualifying, 20_000)
        XCTAssertEqual(member.tier.code, "MEMBER")
        XCTAssertEqual(try brokenInvariants(), [])
    }
}
