import Foundation

/// What a `ReadCombiner` leader reads through while it leads (a connection): `send` starts one
/// round's query, `receive` waits for its answers; at most one round is sent and not yet received.
protocol CombinedRounds<Value>: AnyObject {
    associatedtype Value
    func send(_ keys: [String]) throws
    func receive() throws -> [String: Value]
}

/// Combines concurrent point reads into one set-based query (flat combining): a caller that finds
/// a round slot free leads rounds, each with every key queued so far, until nothing is queued;
/// a caller that finds every slot taken only queues its key, and a running leader serves it. Under
/// load many BALANCE requests cost one round trip and one index scan together; alone, a read
/// costs the same single query as before.
///
/// A leader overlaps its rounds without splitting them: as soon as a round's answers are in, it
/// sends the next round's query (every key queued meanwhile) and only then hands the answers out,
/// so the database works on the next round while the replies of the last are written.
///
/// Answers are handed over by completion, run on the leader's thread, so that a server thread
/// never sleeps waiting for another: the leader writes each reply itself (`submit`). `read` is
/// the blocking form for callers that must have the value before going on.
final class ReadCombiner<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `queue` and `leaders` are touched only under `lock`.
    typealias Completion = @Sendable (Result<Value?, any Error>) -> Void
    typealias Answers = Result<[String: Value], any Error>
    private struct Waiting {
        let key: String
        let completion: Completion
    }

    private let lock = NSLock()
    private var queue: [Waiting] = []
    private var leaders = 0
    /// Leaders at once, each with its own connection and one round in flight.
    let roundsInFlightMax: Int
    /// Keys that must be queued before a further leader starts beside a running one: below it they
    /// wait for the running leader's next round, which keeps rounds fat (a round's cost is mostly
    /// its round trip), while a leader that stalls (descheduled on a busy machine) holds up no more
    /// than this many keys before another takes over.
    let keysForAnotherRoundMin: Int
    /// Keys one round may carry.
    let keysPerRoundMax: Int
    /// Lends `CombinedRounds` (a connection) to the body for as long as a leader leads.
    private let lead: ((any CombinedRounds<Value>) throws -> Void) throws -> Void

    init(roundsInFlightMax: Int = 1, keysForAnotherRoundMin: Int = 1, keysPerRoundMax: Int = 256,
         lead: @escaping ((any CombinedRounds<Value>) throws -> Void) throws -> Void) {
        precondition(roundsInFlightMax >= 1 && keysForAnotherRoundMin >= 1 && keysPerRoundMax >= 1)
        self.roundsInFlightMax = roundsInFlightMax
        self.keysForAnotherRoundMin = keysForAnotherRoundMin
        self.keysPerRoundMax = keysPerRoundMax
        self.lead = lead
    }

    /// Asks for the value of `key` (nil if absent) as read in some round that starts after this
    /// call. `completion` runs exactly once: on this thread before `submit` returns when this call
    /// leads, else on the thread of the leader whose round carried the key. A leader keeps leading
    /// while keys are queued, since every queued key counts on a running leader to be served.
    func submit(_ key: String, completion: @escaping Completion) {
        lock.lock()
        queue.append(Waiting(key: key, completion: completion))
        guard leaders == 0 || (leaders < roundsInFlightMax && queue.count >= keysForAnotherRoundMin) else {
            lock.unlock()
            return
        }
        leaders += 1
        var round = nextRound(resigning: false)
        lock.unlock()
        while !round.isEmpty {
            do {
                try lead { rounds in try self.serve(&round, through: rounds) }
            } catch {
                // The round sent and not answered fails; keys queued behind it get a new connection.
                complete(round, .failure(error))
            }
            lock.lock()
            round = nextRound(resigning: true)
            lock.unlock()
        }
    }

    /// Serves `round` and every round queued behind it, one query in flight, until the queue is
    /// empty. On a throw, `round` is the round whose answers did not come.
    private func serve(_ round: inout [Waiting], through rounds: any CombinedRounds<Value>) throws {
        try rounds.send(Self.keys(round))
        while true {
            let answers = try rounds.receive()
            lock.lock()
            let next = nextRound(resigning: false)
            lock.unlock()
            if !next.isEmpty {
                do {
                    try rounds.send(Self.keys(next))
                } catch {
                    complete(round, .success(answers))
                    round = next
                    throw error
                }
            }
            complete(round, .success(answers))
            round = next
            if round.isEmpty {
                // Keys that came while the answers were handed out start a round of their own.
                lock.lock()
                round = nextRound(resigning: false)
                lock.unlock()
                guard !round.isEmpty else { return }
                try rounds.send(Self.keys(round))
            }
        }
    }

    /// The next round's keys, taken off the queue; with nothing queued and `resigning`, the caller
    /// stops leading (decided under the lock, so no key is left without a leader). Call under `lock`.
    private func nextRound(resigning: Bool) -> [Waiting] {
        if queue.isEmpty {
            if resigning { leaders -= 1 }
            return []
        }
        let round = Array(queue.prefix(keysPerRoundMax))
        queue.removeFirst(round.count)
        return round
    }

    private static func keys(_ round: [Waiting]) -> [String] {
        Array(Set(round.map(\.key)))
    }

    private func complete(_ round: [Waiting], _ answers: Answers) {
        for waiting in round { waiting.completion(answers.map { $0[waiting.key] }) }
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
