import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// Many clients racing for one member's points never take available below zero.
final class SpendingRaceTests: StoreTestCase {
    private let threads = 8

    override func setUpWithError() throws {
        try super.setUpWithError()
        store = database.store(connections: threads)
        try fund("M1", 1_000)
    }

    /// Runs one spend per thread; returns the points each success took.
    private func race(_ spend: @escaping @Sendable (LoyaltyStore, Int) throws(LoyaltyError) -> Int64) -> [Int64] {
        let store = self.store!
        let outcomes = concurrently(threads) { index in Result { () throws(LoyaltyError) in try spend(store, index) } }
        for case .failure(let error) in outcomes {
            XCTAssertEqual(error.code, .insufficient, "\(error)")
        }
        return outcomes.compactMap { try? $0.get() }
    }

    private func assertNeverOverdrawn(_ taken: [Int64], expectedSuccesses: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(taken.count, expectedSuccesses, file: file, line: line)
        XCTAssertLessThanOrEqual(taken.reduce(0, +), 1_000, file: file, line: line)
        let available = try available("M1")
        XCTAssertGreaterThanOrEqual(available, 0, file: file, line: line)
        XCTAssertEqual(available, 1_000 - taken.reduce(0, +), file: file, line: line)
        XCTAssertEqual(try brokenInvariants(), [], file: file, line: line)
    }

    func testConcurrentRedemptionsNeverOverdraw() throws {
        let taken = race { store, index throws(LoyaltyError) in
            try store.redeem(principal: .agent(name: "demo"), requestID: "r\(index)", member: "M1", target: .points(300)).points
        }
        try assertNeverOverdrawn(taken, expectedSuccesses: 3)
    }

    func testConcurrentHoldsNeverOverdraw() throws {
        let taken = race { store, index throws(LoyaltyError) in
            try store.hold(principal: .agent(name: "demo"), requestID: "h\(index)", member: "M1", points: 300, ttlSeconds: nil).points
        }
        try assertNeverOverdrawn(taken, expectedSuccesses: 3)
    }

    func testConcurrentHoldsRedemptionsAndTransfersNeverOverdraw() throws {
        let taken = race { store, index throws(LoyaltyError) in
            let agent = Principal.agent(name: "demo")
            switch index % 3 {
            case 0: return try store.hold(principal: agent, requestID: "s\(index)", member: "M1", points: 300, ttlSeconds: nil).points
            case 1: return try store.redeem(principal: agent, requestID: "s\(index)", member: "M1", target: .points(300)).points
            default: return try store.transfer(principal: agent, requestID: "s\(index)", from: "M1", to: "M2", points: 300).points
            }
        }
        try assertNeverOverdrawn(taken, expectedSuccesses: 3)
    }

    func testOpposingTransfersDoNotDeadlockAndConservePoints() throws {
        try fund("M2", 1_000)
        let store = self.store!
        let outcomes = concurrently(threads) { index in
            Result { () throws(LoyaltyError) in
                let (from, to) = index.isMultiple(of: 2) ? ("M1", "M2") : ("M2", "M1")
                return try store.transfer(principal: .agent(name: "demo"), requestID: "t\(index)", from: from, to: to, points: 100)
            }
        }
        XCTAssertEqual(outcomes.filter { (try? $0.get()) != nil }.count, threads)
        XCTAssertEqual(try available("M1"), 1_000)
        XCTAssertEqual(try available("M2"), 1_000)
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testConcurrentResendsOfOneRequestIDDebitOnceAndAllGetTheSameReply() throws {
        let store = self.store!
        let replies = concurrently(threads) { _ in
            try? store.redeem(principal: .agent(name: "demo"), requestID: "same", member: "M1", target: .points(300))
        }
        XCTAssertEqual(replies.compactMap { $0 }.count, threads)
        XCTAssertEqual(Set(replies.compactMap { $0?.id }).count, 1)
        XCTAssertEqual(try available("M1"), 700)
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testConcurrentResendsOfOneTxnIDCreditOnce() throws {
        let store = self.store!, hotel = self.hotel
        let stay = try input([("amount", "100.00"), ("currency", "USD")])
        let receipts = concurrently(threads) { _ in try? store.accrue(partner: hotel, txnID: "stay", member: "M2", input: stay) }
        XCTAssertEqual(receipts.compactMap { $0 }.count, threads)
        XCTAssertEqual(receipts.filter { $0?.duplicate == false }.count, 1)
        XCTAssertEqual(Set(receipts.compactMap { $0?.points }), [300])
        XCTAssertEqual(try available("M2"), 300)
        XCTAssertEqual(try brokenInvariants(), [])
    }
}
