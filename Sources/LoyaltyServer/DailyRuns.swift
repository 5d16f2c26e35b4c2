import Foundation
import LoyaltyCore
import LoyaltyStore

/// The server's own daily runs: `tiers evaluate`, then `expire`, once a day at `hourUTC`:00 UTC
/// for today's date in the program's time zone, on a background thread of their own.
///
/// Safe to have in every instance: each run takes its advisory lock, so with several servers one
/// does the work and the others log that it was taken; and a run is recorded per date, so a
/// restart, or a start after the hour (which runs at once, to catch up), repeats nothing.
/// A run holds one pooled database connection while it works.
final class DailyRuns: @unchecked Sendable {
    // @unchecked: `stopped` is read and written only with `wake`'s lock held.
    /// Hour of day (UTC) when unset: quiet hours for most programs.
    static let hourUTCDefault = 3
    static let secondsPerDay: Int64 = 86_400

    let store: LoyaltyStore
    let hourUTC: Int
    private let wake = NSCondition()
    private var stopped = false

    init(store: LoyaltyStore, hourUTC: Int) {
        precondition((0..<24).contains(hourUTC), "hourUTC must be 0-23")
        self.store = store
        self.hourUTC = hourUTC
    }

    /// Starts the thread: runs at once if today's hour has passed, then every day at the hour.
    func start() {
        let thread = Thread { [self] in loop() }
        thread.name = "daily-runs"
        thread.start()
        Log.event("daily_runs_scheduled", ["hour_utc": String(hourUTC)])
    }

    /// Stops the thread after the run in progress, if any.
    func stop() {
        wake.withLock {
            stopped = true
            wake.broadcast()
        }
    }

    private func loop() {
        var next = Self.firstRun(now: Self.now(), hourUTC: hourUTC)
        while sleep(until: next) {
            runOnce()
            next = Self.nextRun(after: max(next, Self.now()), hourUTC: hourUTC)
        }
    }

    /// Both runs for today, each logged with its summary line; a failure is logged, not fatal.
    func runOnce() {
        do {
            let tiers = try store.evaluateTiers()
            Log.event("daily_run", ["run": "tiers", "summary": tiers.summaryLine])
        } catch {
            Log.error("daily_run_failed", ["run": "tiers", "error": "\(error)"])
        }
        do {
            let expiry = try store.expirePoints()
            Log.event("daily_run", ["run": "expire", "summary": expiry.summaryLine])
        } catch {
            Log.error("daily_run_failed", ["run": "expire", "error": "\(error)"])
        }
    }

    /// Waits until `epochSeconds`; false when stopped first.
    private func sleep(until epochSeconds: Int64) -> Bool {
        let deadline = Date(timeIntervalSince1970: TimeInterval(epochSeconds))
        return wake.withLock {
            while !stopped && Date() < deadline {
                _ = wake.wait(until: deadline)
            }
            return !stopped
        }
    }

    /// Today's hour when it has passed already (catch up at once), else today's hour ahead.
    static func firstRun(now: Int64, hourUTC: Int) -> Int64 {
        let today = startOfDay(now) + Int64(hourUTC) * 3_600
        return today <= now ? now : today
    }

    /// The first occurrence of the hour strictly after `time`.
    static func nextRun(after time: Int64, hourUTC: Int) -> Int64 {
        let candidate = startOfDay(time) + Int64(hourUTC) * 3_600
        return candidate > time ? candidate : candidate + secondsPerDay
    }

    private static func startOfDay(_ epochSeconds: Int64) -> Int64 {
        epochSeconds - ((epochSeconds % secondsPerDay) + secondsPerDay) % secondsPerDay
    }

    private static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }
}
