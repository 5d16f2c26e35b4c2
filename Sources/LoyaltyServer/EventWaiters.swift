import Dispatch
import Foundation
import LoyaltyCore
import LoyaltyStore
import Postgres

/// EVENTS WAIT without holding a serving thread: each wait is parked here until an event past its
/// position commits or its time is up. A listener thread with its own PostgreSQL connection
/// LISTENs for the outbox's notification (sent by the inserting transaction, delivered at its
/// commit) and also looks every `pollMilliseconds`, so a notification lost to a reconnect or a
/// PostgreSQL restart only delays an answer, never loses it: the answer is read from the outbox,
/// not from the notification.
final class EventWaiters: @unchecked Sendable {
    // @unchecked: `waiters`, `nextID` and `stopped` are touched only with `lock` held.
    static let pollMillisecondsDefault = 1_000
    static let waitMillisecondsMaxDefault = 60_000

    typealias Answer = @Sendable (Result<[OutboundEvent], LoyaltyError>) -> Void
    private struct Waiter {
        var position: Int64
        var answer: Answer
    }

    let store: LoyaltyStore
    let conninfo: String
    let pollMilliseconds: Int
    private let lock = NSLock()
    private var waiters: [Int: Waiter] = [:]
    private var nextID = 0
    private var stopped = false

    init(store: LoyaltyStore, conninfo: String, pollMilliseconds: Int) {
        precondition(pollMilliseconds > 0, "the poll interval must be positive")
        self.store = store
        self.conninfo = conninfo
        self.pollMilliseconds = pollMilliseconds
    }

    /// Answers with the events after `position` as soon as there are any, or with none after
    /// `timeoutMilliseconds`. Looks once at once (on the caller's thread), after parking, so an
    /// event that commits in between is not waited for until the next poll.
    func wait(after position: Int64, timeoutMilliseconds: Int, answer: @escaping Answer) {
        let id: Int? = lock.withLock {
            guard !stopped else { return nil }
            nextID += 1
            waiters[nextID] = Waiter(position: position, answer: answer)
            return nextID
        }
        guard let id else { return answer(.success([])) }
        let found = events(after: position)
        if case .success(let events) = found, events.isEmpty, timeoutMilliseconds > 0 {
            // Whichever comes first, an event or the timeout, takes the wait and answers it.
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(timeoutMilliseconds)) { [self] in
                for waiter in take([id]) { waiter.answer(.success([])) }
            }
            return
        }
        if let waiter = take([id]).first { waiter.answer(found) }
    }

    func start() {
        let thread = Thread { [self] in listen() }
        thread.name = "event-waiters"
        thread.start()
    }

    /// Answers every parked wait with no events (the server is stopping) and ends the listener.
    func stop() {
        let all = lock.withLock {
            stopped = true
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
        for waiter in all { waiter.answer(.success([])) }
    }

    // MARK: - The listener thread

    private func listen() {
        var connection: Connection?
        var failing = false
        while !lock.withLock({ stopped }) {
            let wait = Int32(pollMilliseconds)
            do {
                if connection == nil {
                    let opened = try Connection(conninfo: conninfo)
                    try opened.listen(LoyaltyStore.eventsChannel)
                    connection = opened
                    if failing { Log.event("events_listen_recovered") }
                    failing = false
                }
                _ = try connection?.notifications(waitingMilliseconds: wait)
            } catch {
                // Without a connection the waits are still served, by the poll.
                if !failing { Log.error("events_listen_failed", ["message": error.message]) }
                failing = true
                connection?.close()
                connection = nil
                usleep(UInt32(wait) * 1_000)
            }
            serve()
        }
        connection?.close()
    }

    /// Answers the waits behind the newest event with what follows their position (one read per
    /// distinct position).
    private func serve() {
        let parked = lock.withLock { waiters }
        guard !parked.isEmpty, let newest = try? store.newestEventPosition() else { return }
        let behind = Dictionary(grouping: parked.filter { $0.value.position < newest }, by: \.value.position)
        for (position, group) in behind {
            let found = events(after: position)
            for waiter in take(group.map(\.key)) { waiter.answer(found) }
        }
    }

    private func events(after position: Int64) -> Result<[OutboundEvent], LoyaltyError> {
        Result(catching: { () throws(LoyaltyError) in try store.events(after: position, count: store.limits.eventsCountMax) })
    }

    /// Removes the waits with these ids that are still parked: each is answered exactly once.
    private func take(_ ids: [Int]) -> [Waiter] {
        lock.withLock { ids.compactMap { waiters.removeValue(forKey: $0) } }
    }

}
