import LoyaltyCore
@testable import LoyaltyStore
import LoyaltyTesting
import XCTest

/// A batch applies its lines set-based; what it credits must equal sending the lines one by one.
final class BatchEquivalenceTests: StoreTestCase {
    private func flight(_ line: Int, _ txn: String, _ member: String, miles: Int, cabin: String = "Y") throws -> BatchLine {
        BatchLine(line: line, txnID: txn, operation: .accrue(member: member, input: try input([("miles", String(miles)), ("cabin", cabin)])))
    }

    func testAFlightThatCrossesPremierEarnsTheNextFlightsBonusWithinTheBatch() throws {
        let lines = [
            try flight(1, "f1", "M1", miles: 20_000),  // 20,000 qualifying: still Member
            try flight(2, "f2", "M1", miles: 6_000),   // 26,000: Premier from here on
            try flight(3, "f3", "M1", miles: 2_000),   // Premier Y: 2,000 + 25 % = 2,500
        ]
        let summary = try store.commitBatch(partner: skyair, batchID: "B", lines: lines)
        XCTAssertEqual(summary, BatchSummary(batchID: "B", accepted: 3, duplicates: 0, rejected: 0))
        XCTAssertEqual(try available("M1"), 20_000 + 6_000 + 2_500)
        XCTAssertEqual(try store.member(number: "M1").tier.code, "PREMIER")
        XCTAssertEqual(try store.member(number: "M1").qualifying, 28_000)
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testTheSameLinesOneByOneAndInABatchCreditTheSame() throws {
        let lines = try [(1, "M1", 30_000, "J"), (2, "M2", 1_000, "Y"), (3, "M1", 2_000, "Y"), (4, "M2", 24_500, "F")].map {
            try flight($0.0, "f\($0.0)", $0.1, miles: $0.2, cabin: $0.3)
        }
        _ = try store.commitBatch(partner: skyair, batchID: "B", lines: lines)
        let batched = try ["M1", "M2"].map { try store.member(number: $0) }
        let other = try TestDatabaseStore(self)
        for case let (line, .accrue(member, input)) in lines.map({ ($0, $0.operation) }) {
            _ = try other.store.accrue(partner: skyair, txnID: line.txnID, member: member, input: input)
        }
        let single = try ["M1", "M2"].map { try other.store.member(number: $0) }
        XCTAssertEqual(batched.map(\.balance), single.map(\.balance))
        XCTAssertEqual(batched.map(\.tier.code), single.map(\.tier.code))
        XCTAssertEqual(batched.map(\.qualifying), single.map(\.qualifying))
    }

    func testARepeatOfARejectedLineIsRejectedTooNotCountedAsDuplicate() throws {
        let lines = [try flight(1, "f1", "NOBODY", miles: 100), try flight(2, "f1", "NOBODY", miles: 100), try flight(3, "f1", "M1", miles: 100)]
        let summary = try store.commitBatch(partner: skyair, batchID: "B", lines: lines)
        XCTAssertEqual(summary, BatchSummary(batchID: "B", accepted: 0, duplicates: 0, rejected: 3))
        XCTAssertEqual(try store.batchErrors(partner: skyair, batchID: "B").map(\.code), ["NOTFOUND", "NOTFOUND", "CONFLICT"])
    }
}

/// A second, independent demo database in the same test.
private struct TestDatabaseStore {
    let database: TestDatabase
    let store: LoyaltyStore
    init(_ test: StoreTestCase) throws {
        database = try TestDatabase()
        store = database.store()
    }
}
