import Foundation
import Postgres
import XCTest

/// LISTEN and waiting for notifications: delivered at the sender's COMMIT, not before, and never
/// for a rolled-back transaction; a wait with none ends at its timeout.
final class NotificationTests: DatabaseTestCase {
    func testANotificationArrivesWhenItsTransactionCommits() throws {
        try connection.listen("outbox news")
        let sender = try database.connect()
        defer { sender.close() }
        XCTAssertEqual(try connection.notifications(waitingMilliseconds: 50), [], "nothing sent yet")
        try sender.transaction { conn in _ = try conn.query("SELECT pg_notify('outbox news', '')") }
        XCTAssertEqual(try connection.notifications(waitingMilliseconds: 5_000), ["outbox news"])
        XCTAssertThrowsError(try sender.transaction { conn in
            _ = try conn.query("SELECT pg_notify('outbox news', '')")
            throw CancellationError()
        })
        let started = Date()
        XCTAssertEqual(try connection.notifications(waitingMilliseconds: 300), [], "a rolled-back transaction notifies no one")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.29)
        XCTAssertEqual(try connection.query("SELECT 1 AS one").first?.int("one"), 1, "the connection is still usable")
    }

    func testNotifyAfterCommitGoesWithTheCommitOrAfterItThroughTheNotifierAndNeverOnRollback() throws {
        try connection.listen("after commit")
        let notifier = CommitNotifier(conninfo: database.conninfo)
        defer { notifier.close() }
        for notifying in [nil, notifier] {
            let sender = try database.connect()
            defer { sender.close() }
            sender.commitNotifier = notifying
            // Two asks in one transaction, one notification.
            try sender.transaction { conn in
                _ = try conn.query("SELECT 1")
                conn.notifyAfterCommit("after commit")
                conn.notifyAfterCommit("after commit")
            }
            XCTAssertEqual(try connection.notifications(waitingMilliseconds: 5_000), ["after commit"])
            XCTAssertEqual(try connection.notifications(waitingMilliseconds: 200), [])
            XCTAssertThrowsError(try sender.transaction { conn in
                _ = try conn.query("SELECT 1")
                conn.notifyAfterCommit("after commit")
                throw CancellationError()
            })
            XCTAssertEqual(try connection.notifications(waitingMilliseconds: 300), [], "a rolled-back transaction notifies no one")
        }
    }

    func testALostConnectionIsReportedNotWaitedOn() throws {
        try connection.listen("gone")
        let killer = try database.connect()
        defer { killer.close() }
        let pid = try connection.query("SELECT pg_backend_pid() AS pid").first!.string("pid")
        _ = try killer.query("SELECT pg_terminate_backend($1::int)", [pid])
        XCTAssertEqual(expectPostgresError { try connection.notifications(waitingMilliseconds: 5_000) }?.code, .connectionLost)
    }
}
