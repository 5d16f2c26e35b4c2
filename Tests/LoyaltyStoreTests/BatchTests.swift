import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// BATCH COMMIT / STATUS / ERRORS: one durable step, bad lines rejected one by one, exactly once per batch-id.
final class BatchTests: StoreTestCase {
    private func stay(_ line: Int, _ txn: String, _ member: String, _ amount: String) throws -> BatchLine {
        BatchLine(line: line, txnID: txn, operation: .accrue(member: member, input: try input([("amount", amount), ("currency", "USD")])))
    }

    private func stays(_ count: Int, prefix: String = "t") throws -> [BatchLine] {
        try (1...count).map { try stay($0, "\(prefix)\($0)", "M1", "10.00") }
    }

    func testCommitCountsAcceptedDuplicatesAndRejectedAndReportsEachRejectedLine() throws {
        _ = try store.accrue(partner: hotel, txnID: "early", member: "M2", input: input([("amount", "100.00"), ("currency", "USD")]))
        let lines = [
            try stay(1, "a", "M1", "100.00"),
            try stay(2, "early", "M2", "100.00"),                       // sent before: duplicate
            try stay(3, "early", "M2", "200.00"),                       // same id, other content
            try stay(4, "b", "NOBODY", "100.00"),                       // unknown member
            BatchLine(line: 5, txnID: "c", operation: .malformed(.invalid("unknown field 'foo'"))),
            try stay(6, "d", "M3", "100.00"),
            BatchLine(line: 7, txnID: "a", operation: .reverse(ReversalRequest(points: 100))),   // reverses line 1 of this batch
            BatchLine(line: 8, txnID: "zzz", operation: .reverse(ReversalRequest())), // never sent
            BatchLine(line: 9, txnID: "e", operation: .accrue(member: "M1", input: try input([("amount", "1.00"), ("currency", "EUR")]))),
        ]
        let summary = try store.commitBatch(partner: hotel, batchID: "B1", lines: lines)
        XCTAssertEqual(summary, BatchSummary(batchID: "B1", accepted: 3, duplicates: 1, rejected: 5))
        let errors = try store.batchErrors(partner: hotel, batchID: "B1")
        XCTAssertEqual(errors.map(\.line), [3, 4, 5, 8, 9])
        XCTAssertEqual(errors.map(\.txnID), ["early", "b", "c", "zzz", "e"])
        XCTAssertEqual(errors.map(\.code), ["CONFLICT", "NOTFOUND", "INVALID", "NOTFOUND", "INVALID"])
        XCTAssertTrue(errors.allSatisfy { !$0.message.isEmpty })
        XCTAssertEqual(try available("M1"), 300 - 100)
        XCTAssertEqual(try available("M2"), 300)
        XCTAssertEqual(try available("M3"), 300)
        XCTAssertEqual(try store.batchStatus(partner: hotel, batchID: "B1"), summary)
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testACleanBatchHasNoErrors() throws {
        XCTAssertEqual(try store.commitBatch(partner: hotel, batchID: "clean", lines: stays(3)),
                       BatchSummary(batchID: "clean", accepted: 3, duplicates: 0, rejected: 0))
        XCTAssertEqual(try store.batchErrors(partner: hotel, batchID: "clean"), [])
        XCTAssertEqual(try available("M1"), 90)
    }

    func testRecommittingABatchIDReturnsTheStoredSummaryAndAppliesNothing() throws {
        let first = try store.commitBatch(partner: hotel, batchID: "B1", lines: stays(2) + [stay(3, "x", "NOBODY", "1.00")])
        XCTAssertEqual(first, BatchSummary(batchID: "B1", accepted: 2, duplicates: 0, rejected: 1))
        XCTAssertEqual(try store.commitBatch(partner: hotel, batchID: "B1", lines: stays(2)), first)
        // Even with new lines under the old batch-id nothing is applied.
        XCTAssertEqual(try store.commitBatch(partner: hotel, batchID: "B1", lines: stays(5, prefix: "new")), first)
        XCTAssertEqual(try available("M1"), 60)
        XCTAssertEqual(try store.batchErrors(partner: hotel, batchID: "B1").map(\.line), [3])
        // Another partner's batch-ids are its own.
        XCTAssertEqual(try store.commitBatch(partner: dine, batchID: "B1", lines: stays(1)),
                       BatchSummary(batchID: "B1", accepted: 1, duplicates: 0, rejected: 0))
    }

    func testAnotherPartnersBatchIsNoPermissionAndAnUnknownOneNotFound() throws {
        _ = try store.commitBatch(partner: hotel, batchID: "B1", lines: stays(1))
        XCTAssertLoyaltyError(try store.batchStatus(partner: dine, batchID: "B1"), .noPermission)
        XCTAssertLoyaltyError(try store.batchErrors(partner: dine, batchID: "B1"), .noPermission)
        XCTAssertLoyaltyError(try store.batchStatus(partner: hotel, batchID: "B2"), .notFound)
        XCTAssertLoyaltyError(try store.batchErrors(partner: hotel, batchID: "B2"), .notFound)
        XCTAssertLoyaltyError(try store.batchStatus(partner: agent, batchID: "B1"), .noPermission)
    }

    func testAReversalLineOfAnotherPartnersTransactionIsRejected() throws {
        _ = try store.accrue(partner: dine, txnID: "meal", member: "M1", input: input([("amount", "10.00"), ("currency", "USD")]))
        let summary = try store.commitBatch(partner: hotel, batchID: "B1",
                                            lines: [BatchLine(line: 1, txnID: "meal", operation: .reverse(ReversalRequest()))])
        XCTAssertEqual(summary.rejected, 1)
        XCTAssertEqual(try store.batchErrors(partner: hotel, batchID: "B1").map(\.code), ["NOPERM"])
        XCTAssertEqual(try available("M1"), 30)
    }

    func testTheBatchLineLimitHoldsAtItsEdge() throws {
        var limits = StoreLimits()
        limits.batchLinesMax = 3
        store = database.store(limits: limits)
        XCTAssertEqual(try store.commitBatch(partner: hotel, batchID: "full", lines: stays(3)).accepted, 3)
        XCTAssertLoyaltyError(try store.commitBatch(partner: hotel, batchID: "over", lines: stays(4, prefix: "o")), .limit)
        XCTAssertLoyaltyError(try store.batchStatus(partner: hotel, batchID: "over"), .notFound)
        XCTAssertEqual(try available("M1"), 90)
    }

    func testThreeConcurrentCommitsOfOneBatchApplyItOnce() throws {
        let lines = try stays(50)
        let store = self.store!, hotel = self.hotel
        let results = concurrently(3) { _ in
            Result { () throws(LoyaltyError) in try store.commitBatch(partner: hotel, batchID: "race", lines: lines) }
        }
        let expected = BatchSummary(batchID: "race", accepted: 50, duplicates: 0, rejected: 0)
        XCTAssertEqual(results.map { try? $0.get() }, [expected, expected, expected])
        XCTAssertEqual(try available("M1"), 50 * 30)
        XCTAssertEqual(try store.statement(number: "M1", limit: 1_000, before: nil).count, 50)
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testARejectedLineKeepsItsMessageWhateverCharactersItHolds() throws {
        let message = "unknown field 'a\tb' \\N \\ \"quoted\"\nsecond line, ünïcode"
        let lines = [BatchLine(line: 1, txnID: "odd\\id", operation: .malformed(.invalid(message)))]
        XCTAssertEqual(try store.commitBatch(partner: hotel, batchID: "B1", lines: lines).rejected, 1)
        XCTAssertEqual(try store.batchErrors(partner: hotel, batchID: "B1"),
                       [BatchError(line: 1, txnID: "odd\\id", code: "INVALID", message: message)])
    }
}
