import Foundation

/// Combines concurrent point reads into one set-based query (flat combining): a caller that finds
/// a round slot free leads rounds, each with every key queued so far, until nothing is queued;
/// a caller that finds every slot taken only queues its key, and a running leader serves it. Under
/// load many BALANCE requests cost one round trip and one index scan together; alone, a read
/// costs the same single query as before.
///
/// Answers are handed over by completion, run on the leader's thread, so that a server thread
/// never sleeps waiting for another: the leader writes each reply itself (`submit`). `read` is
/// the blocking form for callers that must have the value before going on.
final class ReadCombiner<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `queue` and `leaders` are touched only under `lock`.
    typealias Completion = @Sendable (Result<Value?, any Error>) -> Void
    private struct Waiting {
        let key: String
        let completion: Completion
    }

    private let lock = NSLock()
    private var queue: [Waiting] = []
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

    /// Asks for the value of `key` (nil if absent) as read in some round that starts after this
    /// call. `completion` runs exactly once: on this thread before `submit` returns when this call
    /// leads, else on the thread of the leader whose round carried the key. A leader keeps leading
    /// while keys are queued, since every queued key counts on a running leader to be served.
    func submit(_ key: String, completion: @escaping Completion) {
        lock.lock()
        queue.append(Waiting(key: key, completion: completion))
        guard leaders < roundsInFlightMax else {
            lock.unlock()
            return
        }
        leaders += 1
        while !queue.isEmpty {
            let round = Array(queue.prefix(keysPerRoundMax))
            queue.removeFirst(round.count)
            lock.unlock()
            let outcome = Result { try fetch(Array(Set(round.map(\.key)))) }
            for waiting in round { waiting.completion(outcome.map { $0[waiting.key] }) }
            lock.lock()
        }
        leaders -= 1
        lock.unlock()
    }

    /// The value for `key` (nil if absent), read in some round that started after this call;
    /// blocks until that round is done. A caller that leads may go on leading other callers'
    /// rounds while keys keep arriving, which is why the server uses `submit`.
    func read(_ key: String) throws -> Value? {
        let answer = Answer()
        submit(key) { result in answer.deliver(result) }
        return try answer.wait().get()
    }

    /// One blocking reader's answer: set once by whichever thread ran the round.
    private final class Answer: @unchecked Sendable {
        // @unchecked: `result` is written before `ready` is signalled and read only after waiting on it.
        private var result: Result<Value?, any Error>?
        private let ready = DispatchSemaphore(value: 0)

        func deliver(_ result: Result<Value?, any Error>) {
            self.result = result
            ready.signal()
        }

        func wait() -> Result<Value?, any Error> {
            ready.wait()
            return result!
        }
    }
}
