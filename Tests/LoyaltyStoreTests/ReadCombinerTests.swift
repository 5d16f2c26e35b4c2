import Foundation
@testable import LoyaltyStore
import XCTest

final class ReadCombinerTests: XCTestCase {
    /// Counts rounds and the largest, and answers every key with its length after 20 ms.
    private final class Backend: @unchecked Sendable {
        let lock = NSLock()
        var fetches = 0
        var largestRound = 0
        var inFlight = 0
        var inFlightMax = 0

        /// One leader's connection: at most one round sent and not received.
        final class Rounds: CombinedRounds {
            let backend: Backend
            var sent: [String]?
            init(_ backend: Backend) { self.backend = backend }

            func send(_ keys: [String]) throws {
                precondition(sent == nil, "two rounds in flight on one connection")
                backend.lock.withLock {
                    backend.fetches += 1
                    backend.largestRound = max(backend.largestRound, keys.count)
                    backend.inFlight += 1
                    backend.inFlightMax = max(backend.inFlightMax, backend.inFlight)
                }
                sent = keys
            }

            func receive() throws -> [String: Int] {
                let keys = sent!
                sent = nil
                usleep(20_000)
                backend.lock.withLock { backend.inFlight -= 1 }
                if keys.contains("boom") { throw LoyaltyErrorStub() }
                return Dictionary(uniqueKeysWithValues: keys.filter { $0 != "absent" }.map { ($0, $0.count) })
            }
        }

        func combiner(roundsInFlightMax: Int, keysForAnotherRoundMin: Int = 1, keysPerRoundMax: Int) -> ReadCombiner<Int> {
            ReadCombiner<Int>(roundsInFlightMax: roundsInFlightMax, keysForAnotherRoundMin: keysForAnotherRoundMin,
                              keysPerRoundMax: keysPerRoundMax) { body in
                try body(Rounds(self))
            }
        }
    }
    private struct LoyaltyErrorStub: Error {}

    func testConcurrentReadsShareRoundsAndEachGetsItsOwnValue() throws {
        let backend = Backend()
        let combiner = backend.combiner(roundsInFlightMax: 2, keysPerRoundMax: 256)
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
        let combiner = backend.combiner(roundsInFlightMax: 1, keysPerRoundMax: 1)
        XCTAssertNil(try combiner.read("absent"))
        XCTAssertThrowsError(try combiner.read("boom"))
        XCTAssertEqual(try combiner.read("ok"), 2)
    }

    func testRoundsNeverCarryMoreThanTheLimit() throws {
        let backend = Backend()
        let combiner = backend.combiner(roundsInFlightMax: 1, keysPerRoundMax: 3)
        onThreads(24) { index in _ = try? combiner.read("key\(index)") }
        XCTAssertLessThanOrEqual(backend.largestRound, 3)
        XCTAssertGreaterThanOrEqual(backend.fetches, 8)
    }

    func testSubmitNeverWaitsForAnotherThreadAndTheLeaderAnswersForIt() throws {
        let backend = Backend()
        let combiner = backend.combiner(roundsInFlightMax: 1, keysPerRoundMax: 256)
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

    func testTheNextRoundIsSentBeforeTheLastRoundsAnswersAreHandedOut() throws {
        let backend = Backend()
        let combiner = backend.combiner(roundsInFlightMax: 1, keysPerRoundMax: 256)
        let leaderDone = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var roundsSentWhenTheFirstWasAnswered = 0
        Thread {
            combiner.submit("first") { _ in
                roundsSentWhenTheFirstWasAnswered = backend.lock.withLock { backend.fetches }
            }
            leaderDone.signal()
        }.start()
        while backend.lock.withLock({ backend.inFlight == 0 }) { usleep(100) }
        // Queued while the first round is in flight: the leader sends it as soon as the first
        // round's answers are in, before running the first round's completion.
        combiner.submit("second") { _ in }
        XCTAssertEqual(leaderDone.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(roundsSentWhenTheFirstWasAnswered, 2)
        XCTAssertEqual(backend.inFlightMax, 1)
    }

    func testAFurtherRoundStartsBesideARunningOneOnlyWithEnoughKeysWaiting() throws {
        let backend = Backend()
        let combiner = backend.combiner(roundsInFlightMax: 2, keysForAnotherRoundMin: 3, keysPerRoundMax: 256)
        let leaderDone = DispatchSemaphore(value: 0)
        Thread {
            combiner.submit("first") { _ in }
            leaderDone.signal()
        }.start()
        while backend.lock.withLock({ backend.inFlight == 0 }) { usleep(100) }
        // Two keys wait for the running leader's next round: submit returns at once, nothing more is sent.
        combiner.submit("b") { _ in }
        combiner.submit("cc") { _ in }
        XCTAssertEqual(backend.lock.withLock { backend.fetches }, 1)
        // The third waiting key starts a second round beside the first, on this thread, carrying all three.
        nonisolated(unsafe) var value: Int??
        combiner.submit("ddd") { result in value = try? result.get() }
        XCTAssertEqual(value, 3)
        XCTAssertEqual(backend.inFlightMax, 2)
        XCTAssertEqual(backend.largestRound, 3)
        XCTAssertEqual(leaderDone.wait(timeout: .now() + 5), .success)
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
