import Foundation
@testable import LoyaltyStore
import XCTest

final class ReadCombinerTests: XCTestCase {
    /// Counts fetches and the largest round, and answers every key with its length.
    private final class Backend: @unchecked Sendable {
        let lock = NSLock()
        var fetches = 0
        var largestRound = 0
        var inFlight = 0
        var inFlightMax = 0
        func fetch(_ keys: [String]) throws -> [String: Int] {
            lock.withLock { fetches += 1; largestRound = max(largestRound, keys.count); inFlight += 1; inFlightMax = max(inFlightMax, inFlight) }
            usleep(20_000)
            lock.withLock { inFlight -= 1 }
            if keys.contains("boom") { throw LoyaltyErrorStub() }
            return Dictionary(uniqueKeysWithValues: keys.filter { $0 != "absent" }.map { ($0, $0.count) })
        }
    }
    private struct LoyaltyErrorStub: Error {}

    func testConcurrentReadsShareRoundsAndEachGetsItsOwnValue() throws {
        let backend = Backend()
        let combiner = ReadCombiner<Int>(roundsInFlightMax: 2, keysPerRoundMax: 256) { try backend.fetch($0) }
        let keys = (1...32).map { String(repeating: "k", count: $0) }
        nonisolated(unsafe) var results = [Int?](repeating: nil, count: keys.count)
        let lock = NSLock()
        onThreads(keys.count) { index in
            let value = try? combiner.read(keys[index])
            lock.withLock { results[index] = value ?? nil }
        }
        XCTAssertEqual(results, keys.map { $0.count })
        XCTAssertLessThan(backend.fetches, keys.count, "reads were not combined")
        XCTAssertLessThanOrEqual(backend.inFlightMax, 2, "more rounds in flight than allowed")
    }

    func testAbsentKeyIsNilAndAFailedRoundFailsOnlyItsReaders() throws {
        let backend = Backend()
        let combiner = ReadCombiner<Int>(roundsInFlightMax: 1, keysPerRoundMax: 1) { try backend.fetch($0) }
        XCTAssertNil(try combiner.read("absent"))
        XCTAssertThrowsError(try combiner.read("boom"))
        XCTAssertEqual(try combiner.read("ok"), 2)
    }

    func testRoundsNeverCarryMoreThanTheLimit() throws {
        let backend = Backend()
        let combiner = ReadCombiner<Int>(roundsInFlightMax: 1, keysPerRoundMax: 3) { try backend.fetch($0) }
        onThreads(24) { index in _ = try? combiner.read("key\(index)") }
        XCTAssertLessThanOrEqual(backend.largestRound, 3)
        XCTAssertGreaterThanOrEqual(backend.fetches, 8)
    }

    func testSubmitNeverWaitsForAnotherThreadAndTheLeaderAnswersForIt() throws {
        let backend = Backend()
        let combiner = ReadCombiner<Int>(roundsInFlightMax: 1, keysPerRoundMax: 256) { try backend.fetch($0) }
        let answered = DispatchSemaphore(value: 0)
        let leaderDone = DispatchSemaphore(value: 0)
        // The leader's round takes 20 ms; a key submitted meanwhile is queued, submit returns at
        // once, and the leader's next round answers it on the leader's thread.
        Thread {
            combiner.submit("lead") { _ in }
            leaderDone.signal()
        }.start()
        while backend.lock.withLock({ backend.inFlight == 0 }) { usleep(100) }
        let submitter = Thread.current
        nonisolated(unsafe) var answeredOn: Thread?
        nonisolated(unsafe) var value: Int??
        combiner.submit("queued") { result in
            answeredOn = Thread.current
            value = try? result.get()
            answered.signal()
        }
        XCTAssertEqual(answered.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(leaderDone.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(value, 6)
        XCTAssertFalse(answeredOn === submitter, "the queued key was answered by its own thread, which waited")
        XCTAssertEqual(backend.fetches, 2)
    }

    /// Runs `body` on `count` threads at once (concurrentPerform would use only as many as there are cores).
    private func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            Thread { body(index); group.leave() }.start()
        }
        group.wait()
    }
}
