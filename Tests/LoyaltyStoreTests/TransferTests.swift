import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// TRANSFER: points move between two members in one step, never below zero for the sender.
final class TransferTests: StoreTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try fund("M1", 10_000)
    }

    private func transfer(_ id: String, from: String = "M1", to: String = "M2", _ points: Int64,
                          as principal: Principal? = nil) throws -> SpendReceipt {
        try store.transfer(principal: principal ?? agent, requestID: id, from: from, to: to, points: points)
    }

    func testATransferMovesPointsBetweenMembers() throws {
        let receipt = try transfer("t1", 4_000)
        XCTAssertTrue(receipt.id.hasPrefix("TR"))
        XCTAssertEqual(receipt.points, 4_000)
        XCTAssertEqual(receipt.availableAfter, 6_000)
        XCTAssertEqual(try available("M1"), 6_000)
        XCTAssertEqual(try available("M2"), 4_000)
        let out = try XCTUnwrap(store.statement(number: "M1", limit: 1, before: nil).first)
        let into = try XCTUnwrap(store.statement(number: "M2", limit: 1, before: nil).first)
        XCTAssertEqual([out.kind, into.kind], ["transfer_out", "transfer_in"])
        XCTAssertEqual([out.points, into.points], [-4_000, 4_000])
        XCTAssertEqual([out.reference, into.reference], [receipt.id, receipt.id])
        // Replayed: the same reply, nothing moved again.
        XCTAssertEqual(try transfer("t1", 4_000), receipt)
        XCTAssertEqual(try available("M2"), 4_000)
        XCTAssertLoyaltyError(try transfer("t1", 4_001), .conflict)
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testATransferBeyondAvailableIsInsufficient() throws {
        _ = try store.hold(principal: agent, requestID: "h", member: "M1", points: 3_000, ttlSeconds: nil)
        XCTAssertLoyaltyError(try transfer("t1", 7_001), .insufficient)
        XCTAssertEqual(try transfer("t2", 7_000).availableAfter, 0)
        XCTAssertEqual(try available("M2"), 7_000)
    }

    func testUnknownSelfAndMalformedTransfersAreRefused() throws {
        XCTAssertLoyaltyError(try transfer("t1", to: "NOBODY", 100), .notFound)
        XCTAssertLoyaltyError(try transfer("t2", from: "NOBODY", to: "M1", 100), .notFound)
        XCTAssertLoyaltyError(try transfer("t3", to: "M1", 100), .invalid)
        XCTAssertLoyaltyError(try transfer("t4", 0), .invalid)
        XCTAssertLoyaltyError(try transfer("t5", -100), .invalid)
        XCTAssertEqual(try available("M1"), 10_000)
    }

    func testAMemberTransfersOnlyItsOwnPoints() throws {
        try fund("M2", 10_000)
        let m1 = Principal.member(number: "M1")
        XCTAssertLoyaltyError(try transfer("steal", from: "M2", to: "M1", 5_000, as: m1), .noPermission)
        XCTAssertEqual(try transfer("gift", from: "M1", to: "M2", 5_000, as: m1).availableAfter, 5_000)
        XCTAssertEqual(try available("M2"), 15_000)
    }
}
