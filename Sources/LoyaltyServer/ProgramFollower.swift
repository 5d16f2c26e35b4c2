import Foundation
import LoyaltyStore

/// Keeps the server's program current: every `interval` it reads the program generation (one row)
/// and reloads the versions when an operator changed them, so `loyaltyctl program apply` takes
/// effect in every running loyaltyd within one interval, with no restart and no request failed:
/// a request uses the versions it started with, the next one the new ones.
///
/// A poll rather than LISTEN/NOTIFY: it needs no connection held open for it, survives a
/// PostgreSQL restart or failover with nothing to re-subscribe and no notification to lose, and
/// works through a connection pooler; one primary-key read a second costs PostgreSQL nothing.
final class ProgramFollower: @unchecked Sendable {
    // @unchecked: `stopped` is read and written only with `wake`'s lock held.
    static let intervalMillisecondsDefault = 1_000

    let store: LoyaltyStore
    let intervalMilliseconds: Int
    private let wake = NSCondition()
    private var stopped = false
    /// Only the polling thread touches it: a database that stays away is logged once, not every interval.
    private var failing = false

    init(store: LoyaltyStore, intervalMilliseconds: Int) {
        precondition(intervalMilliseconds > 0, "the interval must be positive")
        self.store = store
        self.intervalMilliseconds = intervalMilliseconds
    }

    func start() {
        let thread = Thread { [self] in
            while waitInterval() { poll() }
        }
        thread.name = "program-follower"
        thread.start()
    }

    func stop() {
        wake.withLock {
            stopped = true
            wake.broadcast()
        }
    }

    /// One look; a database that cannot be reached is tried again at the next interval.
    func poll() {
        do {
            if try store.followProgramChanges() {
                let version = try store.programVersionInForce()
                Log.event("program_reloaded", ["version": String(version.version), "effective": version.effectiveFrom.description])
            }
            if failing { Log.event("program_poll_recovered") }
            failing = false
        } catch {
            if !failing { Log.error("program_poll_failed", ["code": error.code.rawValue, "message": error.message]) }
            failing = true
        }
    }

    /// False when stopped first.
    private func waitInterval() -> Bool {
        let deadline = Date().addingTimeInterval(Double(intervalMilliseconds) / 1_000)
        return wake.withLock {
            while !stopped && Date() < deadline { _ = wake.wait(until: deadline) }
            return !stopped
        }
    }
}
