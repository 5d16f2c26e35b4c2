import Foundation

/// Combines concurrent point reads into one set-based query (flat combining): the first caller
/// leads a round with every key queued so far, later callers wait for their round or lead the
/// next. Under load many BALANCE requests cost one round trip and one index scan together; alone,
/// a read costs the same single query as before. Each waiter sleeps on a semaphore of its own, so
/// a finished round wakes exactly its readers and the next leader, not every thread.
final class ReadCombiner<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `queue`, `leaders` and every waiter's fields are touched only under `lock`.
    private final class Waiter {
        let key: String
        let wake = DispatchSemaphore(value: 0)
        var result: Result<Value?, any Error>?
        init(key: String) { self.key = key }
    }

    private let lock = NSLock()
    private var queue: [Waiter] = []
    private var leaders = 0
    /// Rounds in flight at once; more than one keeps a second core busy while a round waits on PostgreSQL.
    let roundsInFlightMax: Int
    /// Keys one round may carry.
    let keysPerRoundMax: Int
    private let fetch: ([String]) throws -> [String: Value]

    init(roundsInFlightMax: Int = 2, keysPerRoundMax: Int = 256, fetch: @escaping ([String]) throws -> [String: Value]) {
        precondition(roundsInFlightMax >= 1 && keysPerRoundMax >= 1)
        self.roundsInFlightMax = roundsInFlightMax
        self.keysPerRoundMax = keysPerRoundMax
        self.fetch = fetch
    }

    /// The value for `key` (nil if absent), read in some round that started after this call.
    func read(_ key: String) throws -> Value? {
        let waiter = Waiter(key: key)
        lock.lock()
        queue.append(waiter)
        while waiter.result == nil {
            if leaders < roundsInFlightMax && queue.first === waiter {
                lead()
            } else {
                lock.unlock()
                waiter.wake.wait()
                lock.lock()
            }
        }
        let result = waiter.result!
        lock.unlock()
        return try result.get()
    }

    /// Runs one round for the head of the queue; called and returns with the lock held.
    private func lead() {
        leaders += 1
        let round = Array(queue.prefix(keysPerRoundMax))
        queue.removeFirst(round.count)
        // Another round may start meanwhile, led by whoever is now first.
        if leaders < roundsInFlightMax { queue.first?.wake.signal() }
        lock.unlock()
        let outcome = Result { try fetch(Array(Set(round.map(\.key)))) }
        lock.lock()
        leaders -= 1
        for waiter in round {
            waiter.result = outcome.map { $0[waiter.key] }
            if waiter !== round.first { waiter.wake.signal() }
        }
        // The next round's leader: a spare wake-up at worst makes it look once more and sleep again.
        queue.first?.wake.signal()
    }
}
