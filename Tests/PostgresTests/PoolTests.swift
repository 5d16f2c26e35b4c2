import Foundation
import Postgres
import XCTest

final class PoolTests: DatabaseTestCase {
    /// Runs `body` on `count` real threads at once and waits for all of them.
    private func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            Thread {
                body(index)
                group.leave()
            }.start()
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
    }

    func testConcurrentThreadsNeverExceedMaxConnections() throws {
        let pool = ConnectionPool(conninfo: database.conninfo, maxConnections: 3, acquireTimeoutMilliseconds: 30_000)
        defer { pool.close() }
        let tracker = ConcurrencyTracker()
        let failures = ConcurrencyTracker()
        onThreads(10) { index in
            for round in 0..<5 {
                do {
                    let value = try pool.withConnection { connection in
                        tracker.enter()
                        defer { tracker.leave() }
                        usleep(5_000)
                        return try connection.query("SELECT $1::int AS v", [String(index * 100 + round)]).first!.int("v")
                    }
                    if value != index * 100 + round { failures.enter() }
                } catch {
                    failures.enter()
                }
            }
        }
        XCTAssertEqual(failures.total, 0)
        XCTAssertLessThanOrEqual(tracker.peak, 3)
        XCTAssertGreaterThan(tracker.peak, 1, "threads should have shared the pool concurrently")
        let statistics = pool.statistics
        XCTAssertLessThanOrEqual(statistics.created, 3)
        XCTAssertEqual(statistics.inUse, 0)
        XCTAssertEqual(statistics.idle, statistics.created)
        XCTAssertEqual(statistics.max, 3)
        let backends = try database.admin.query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1", [database.name])
        // The pool's connections plus the test's own one.
        XCTAssertLessThanOrEqual(try backends.first!.int("n"), 3 + 1)
    }

    func testSessionSettingsHoldOnEveryConnectionThePoolOpens() throws {
        let pool = ConnectionPool(conninfo: database.conninfo, maxConnections: 2,
                                  sessionSettings: [("plan_cache_mode", "force_generic_plan"), ("application_name", "pool-test")])
        defer { pool.close() }
        let seen = try (0..<2).map { _ in
            try pool.withConnection { try $0.query("SELECT current_setting('plan_cache_mode') || '/' || current_setting('application_name') AS s").first?.string("s") }
        }
        XCTAssertEqual(seen, ["force_generic_plan/pool-test", "force_generic_plan/pool-test"])
        let broken = ConnectionPool(conninfo: database.conninfo, maxConnections: 1, sessionSettings: [("no_such.setting_x", "1"), ("plan_cache_mode", "bogus")])
        defer { broken.close() }
        XCTAssertThrowsError(try broken.withConnection { _ in }, "a setting the server refuses fails the connect, loudly")
    }

    func testExhaustedPoolTimesOut() throws {
        let pool = ConnectionPool(conninfo: database.conninfo, maxConnections: 1, acquireTimeoutMilliseconds: 200)
        defer { pool.close() }
        let holding = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        Thread {
            try? pool.withConnection { _ in
                holding.signal()
                done.wait()
            }
        }.start()
        holding.wait()
        let started = Date()
        let error = expectPostgresError { try pool.withConnection { _ in () } }
        XCTAssertEqual(error?.code, .poolTimeout)
        XCTAssertEqual(error?.isUnavailable, true)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.19)
        done.signal()
        // Once released, the connection is available again.
        XCTAssertEqual(try pool.withConnection { try $0.query("SELECT 1 AS one").first!.int("one") }, 1)
        XCTAssertEqual(pool.statistics.created, 1)
    }

    func testWaiterGetsConnectionWhenReleased() throws {
        let pool = ConnectionPool(conninfo: database.conninfo, maxConnections: 1, acquireTimeoutMilliseconds: 10_000)
        defer { pool.close() }
        let holding = DispatchSemaphore(value: 0)
        Thread {
            try? pool.withConnection { _ in
                holding.signal()
                usleep(100_000)
            }
        }.start()
        holding.wait()
        XCTAssertEqual(try pool.withConnection { try $0.query("SELECT 2 AS two").first!.int("two") }, 2)
    }

    func testKilledBackendFailsOnceThenPoolReconnects() throws {
        let pool = ConnectionPool(conninfo: database.conninfo, maxConnections: 1)
        defer { pool.close() }
        let error = expectPostgresError {
            try pool.withConnection { connection in
                try database.terminate(pid: try database.backendPID(of: connection))
                return try connection.query("SELECT 1")
            }
        }
        XCTAssertEqual(error?.isUnavailable, true)
        XCTAssertEqual(try pool.withConnection { try $0.query("SELECT 1 AS one").first!.int("one") }, 1)
        XCTAssertEqual(pool.statistics.created, 2)
        XCTAssertEqual(pool.statistics.discarded, 1)
    }

    func testIdleConnectionKilledBetweenUsesIsReplacedTransparently() throws {
        let pool = ConnectionPool(conninfo: database.conninfo, maxConnections: 1)
        defer { pool.close() }
        let pid = try pool.withConnection { try database.backendPID(of: $0) }
        try database.terminate(pid: pid)
        let newPID = try pool.withConnection { try database.backendPID(of: $0) }
        XCTAssertNotEqual(newPID, pid)
        XCTAssertEqual(pool.statistics.discarded, 1)
    }

    func testConnectionLeftInTransactionIsDiscarded() throws {
        let pool = ConnectionPool(conninfo: database.conninfo, maxConnections: 1)
        defer { pool.close() }
        try pool.withConnection { try $0.execute("BEGIN; CREATE TABLE leftover (n int)") }
        XCTAssertEqual(pool.statistics.discarded, 1)
        XCTAssertEqual(pool.statistics.idle, 0)
        let leaked = try pool.withConnection {
            try $0.query("SELECT to_regclass('leftover') IS NOT NULL AS visible").first!.bool("visible")
        }
        XCTAssertFalse(leaked, "the next user must not inherit the open transaction")
    }

    func testConnectionReturnedWithAResultUnreadIsDiscarded() throws {
        let pool = ConnectionPool(conninfo: database.conninfo, maxConnections: 1)
        defer { pool.close() }
        try pool.withConnection { _ = try $0.send("SELECT pg_sleep(0.1)", []) }
        XCTAssertEqual(pool.statistics.discarded, 1)
        XCTAssertEqual(try pool.withConnection { try $0.query("SELECT 3 AS three").first!.int64("three") }, 3,
                       "the next user must not read the abandoned statement's result")
    }

    func testUnreachableServerIsConnectionFailedAndFreesTheSlot() {
        let pool = ConnectionPool(conninfo: "postgresql://nobody@127.0.0.1:1/none", maxConnections: 1)
        defer { pool.close() }
        for _ in 0..<2 {
            let error = expectPostgresError { try pool.withConnection { _ in () } }
            XCTAssertEqual(error?.code, .connectionFailed)
            XCTAssertEqual(error?.isUnavailable, true)
        }
        XCTAssertEqual(pool.statistics.inUse, 0)
    }

    func testClosedPoolRefusesAcquires() throws {
        let pool = ConnectionPool(conninfo: database.conninfo, maxConnections: 2)
        try pool.withConnection { _ = try $0.query("SELECT 1") }
        pool.close()
        XCTAssertEqual(pool.statistics.idle, 0)
        let error = expectPostgresError { try pool.withConnection { _ in () } }
        XCTAssertEqual(error?.code, .poolClosed)
        XCTAssertEqual(error?.isUnavailable, false)
    }
}

/// Counts threads inside a section, remembering the most at once.
final class ConcurrencyTracker: @unchecked Sendable {
    private let lock = NSLock()
    private var current = 0
    private var peakValue = 0
    private var totalValue = 0

    var peak: Int { lock.withLock { peakValue } }
    var total: Int { lock.withLock { totalValue } }

    func enter() {
        lock.withLock {
            current += 1
            totalValue += 1
            peakValue = max(peakValue, current)
        }
    }

    func leave() {
        lock.withLock { current -= 1 }
    }
}
