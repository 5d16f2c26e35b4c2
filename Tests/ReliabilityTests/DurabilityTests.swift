import Foundation
import LoyaltyTesting
import Postgres
import XCTest

/// A reply means durable: the server's own database sessions flush every commit to the WAL
/// before the reply goes out, so killing PostgreSQL right after a reply loses nothing that was
/// acknowledged. On a private cluster with fsync on, since these tests kill PostgreSQL.
final class DurabilityTests: ReliabilityTestCase {
    /// The WAL writer flushes on its own only this rarely, so an asynchronous commit
    /// (`synchronous_commit = off`) would leave its flush for later and show up in the count of
    /// WAL syncs below.
    static let clusterSettings = ["wal_writer_delay": "10s", "wal_writer_flush_after": "0"]

    func testEveryCommitOfTheServersSessionsIsFlushedBeforeItsReply() throws {
        try moveToPrivateCluster(settings: Self.clusterSettings)
        let admin = try Connection(conninfo: databaseURL)
        defer { admin.close() }
        XCTAssertEqual(try admin.query("SELECT count(*) FROM pg_db_role_setting").first?[0], "0",
                       "no role or database turns synchronous_commit (or anything) off")

        let card = try connect(as: "CARDCO")
        XCTAssertEqual(try card.call(["ACCRUE", "warm", "M1", Self.today, "amount=1.00", "currency=USD"]).fields?.count, 3)
        _ = try admin.query("SELECT pg_stat_reset_shared('wal')")
        let writes = 40
        for index in 0..<writes {
            XCTAssertEqual(try card.call(["ACCRUE", "d\(index)", "M1", Self.today, "amount=1.00", "currency=USD"]),
                           .array([.bulk("d\(index)"), .integer(1), .integer(0)]))
        }
        // A backend reports its WAL statistics when it ends: stop the server and wait for them.
        server.stop()
        try waitUntil("the server's sessions end") {
            try admin.query("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                            [database.name]).first?[0] == "0"
        }
        let syncs = Int(try admin.query("SELECT wal_sync FROM pg_stat_wal").first?[0] ?? "") ?? -1
        XCTAssertGreaterThanOrEqual(syncs, writes, "each acknowledged commit waited for its own WAL flush (synchronous_commit on)")
    }

    func testWhatWasAcknowledgedSurvivesPostgreSQLKilledRightAfter() throws {
        try moveToPrivateCluster(settings: Self.clusterSettings)
        let cluster = try XCTUnwrap(cluster)
        let intended = IntendedAccruals(prefix: "k", count: 3_000, members: ["M1", "M2", "M3"])
        let key = try secret(IntendedAccruals.partner)
        let rounds = 3, perRound = intended.all.count / rounds
        for round in 0..<rounds {
            let share = Array(intended.all[(round * perRound)..<((round + 1) * perRound)])
            let before = intended.acknowledgedCount
            let join = intended.sendInBackground(share, port: server.port, key: key, connections: 4, window: 1)
            try intended.waitForAcknowledged(before + perRound / 3)
            // Killed while replies are going out: the last acknowledgements left a moment ago.
            try cluster.crash()
            let outcome = try join()
            XCTAssertEqual(outcome.otherErrors, [], "a dead database is UNAVAILABLE, nothing else")
            try cluster.start()
            let applied = try intended.applied(in: self)
            XCTAssertEqual(applied.acknowledgedMissing, 0, "round \(round): an acknowledged accrual was lost")
        }
        XCTAssertTrue(server.process.isRunning, "the server outlived three database crashes")
        let resent = try intended.send(intended.unacknowledged, port: server.port, key: key, connections: 4, window: 16,
                                       retryUnavailable: true, deadline: Date().addingTimeInterval(60))
        XCTAssertEqual(resent.otherErrors, [])
        XCTAssertEqual(intended.acknowledgedCount, intended.all.count)
        XCTAssertEqual(try intended.applied(in: self).totals, IntendedAccruals.totals(intended.all),
                       "every accrual applied exactly once")
        try assertLedgerVerifies()
    }
}
