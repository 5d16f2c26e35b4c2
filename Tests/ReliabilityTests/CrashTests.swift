import Foundation
import LoyaltyTesting
import XCTest

/// `kill -9` of loyaltyd in the middle of a 100,000-line batch and of a stream of accruals, and
/// PostgreSQL restarted under load: the client resends whatever it did not see acknowledged,
/// with the same ids, and the ledger ends up exactly as if everything had been applied once.
final class CrashTests: ReliabilityTestCase {
    static let batchLines = 100_000

    func testKillingTheServerInTheMiddleOfAHundredThousandLineBatchAppliesAllOrNothing() throws {
        let members = (0..<10).map { "B\($0)" }
        let agent = try connect(as: "agent:demo")
        for member in members { XCTAssertEqual(try agent.call(["ENROLL", member]), .simple("OK")) }
        let intended = IntendedAccruals(prefix: "b", count: Self.batchLines, members: members)
        let key = try secret(IntendedAccruals.partner)
        var batch = resp(["AUTH", IntendedAccruals.partner, key]) + resp(["BATCH", "BEGIN", "big"])
        for accrual in intended.all { batch += resp(intended.words(accrual)) }
        let commit = resp(["BATCH", "COMMIT"])

        // Killed while the lines are being queued: nothing of the batch may be applied.
        nonisolated(unsafe) let queueing = try RawClient(port: server.port)
        let queuedBefore = Self.batchLines / 10
        let firstHalf = Array(batch.prefix(batch.count / 2))
        Thread { queueing.send(firstHalf) }.start()
        for _ in 0..<(2 + queuedBefore) { _ = try queueing.readReply() }
        server.kill()
        try assertBatch("big", appliedAllOf: nil)

        // Killed while COMMIT is writing the batch: none of it is applied yet.
        let name = database.name
        try sendKilling(batch + commit, when: "COMMIT's transaction has written rows") {
            try self.value("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND backend_xid IS NOT NULL", [name]) != "0"
        }
        XCTAssertFalse(try assertBatch("big", appliedAllOf: intended), "killed before its COMMIT, the batch is not applied")

        // Killed once COMMIT has landed, before the client read the reply: all of it is applied.
        try sendKilling(batch + commit, when: "the batch is committed") {
            try self.value("SELECT count(*) FROM batches WHERE batch_id = 'big'") == "1"
        }
        XCTAssertTrue(try assertBatch("big", appliedAllOf: intended), "killed after its COMMIT, the batch is applied whole")

        // The client saw neither COMMIT acknowledged: it sends the same batch again, this time
        // with redis-cli --pipe as a partner's uploader would, and gets the stored summary.
        server = try startServer()
        let piped = try RedisCLI.run(port: server.port, [], stdin: String(decoding: batch + commit, as: UTF8.self), extra: ["--pipe"])
        XCTAssertTrue(piped.output.contains("errors: 0, replies: \(Self.batchLines + 3)"), piped.output)
        XCTAssertEqual(try connect(as: IntendedAccruals.partner).call(["BATCH", "STATUS", "big"]),
                       .array([.bulk("big"), .integer(Int64(Self.batchLines)), .integer(0), .integer(0)]))
        XCTAssertEqual(try intended.applied(in: self).totals, IntendedAccruals.totals(intended.all), "applied exactly once")
        try assertLedgerVerifies()
    }

    func testKillingTheServerInTheMiddleOfAStreamOfAccrualsLosesAndDoublesNothing() throws {
        let intended = IntendedAccruals(prefix: "s", count: 6_000, members: ["M1", "M2", "M3"])
        let key = try secret(IntendedAccruals.partner)
        for _ in 1...3 {
            let before = intended.acknowledgedCount
            let join = intended.sendInBackground(intended.unacknowledged, port: server.port, key: key, connections: 4, window: 32)
            try intended.waitForAcknowledged(before + 800)
            server.kill()
            let outcome = try join()
            XCTAssertEqual(outcome.otherErrors, [])
            XCTAssertGreaterThan(outcome.connectionsLost, 0, "the kill cut the clients off mid-stream")
            XCTAssertEqual(try intended.applied(in: self).acknowledgedMissing, 0, "an acknowledged accrual was lost")
            server = try startServer()
        }
        // Everything not acknowledged is resent with the same ids; some were applied before the kill.
        let resent = try intended.send(intended.unacknowledged, port: server.port, key: key, connections: 4, window: 32)
        XCTAssertEqual(resent.otherErrors, [])
        XCTAssertEqual(intended.acknowledgedCount, intended.all.count)
        XCTAssertEqual(try intended.applied(in: self).totals, IntendedAccruals.totals(intended.all), "applied exactly once")
        try assertLedgerVerifies()
    }

    func testPostgreSQLRestartedUnderLoadIsUnavailableThenServesAgainOnItsOwn() throws {
        try moveToPrivateCluster()
        let cluster = try XCTUnwrap(cluster)
        let intended = IntendedAccruals(prefix: "r", count: 2_000, members: ["M1", "M2", "M3"])
        let pid = server.process.processIdentifier
        let join = intended.sendInBackground(intended.all, port: server.port, key: try secret(IntendedAccruals.partner),
                                             connections: 4, window: 4, retryUnavailable: true)
        let reader = try connect(as: "agent:demo")
        try intended.waitForAcknowledged(500)
        // Down for a while: a fast shutdown ends the server's sessions, then nothing answers.
        try cluster.stop()
        XCTAssertEqual(try reader.call(["BALANCE", "M1"]).errorCode, "UNAVAILABLE")
        XCTAssertEqual(try reader.call(["PING"]), .simple("PONG"), "UNAVAILABLE keeps the connection")
        usleep(1_000_000)
        try cluster.start()
        try intended.waitForAcknowledged(1_500)
        // And a plain restart, as `pg_ctl restart -m fast` does it.
        try cluster.stop()
        try cluster.start()
        let outcome = try join()

        print("postgresql restarts: \(outcome.unavailable) UNAVAILABLE replies, resent; slowest request \(outcome.slowestSeconds) s")
        XCTAssertGreaterThan(outcome.unavailable, 0, "clients were told UNAVAILABLE while PostgreSQL was down")
        XCTAssertEqual(outcome.otherErrors, [], "nothing but UNAVAILABLE: no crash, no internal error")
        XCTAssertEqual(outcome.connectionsLost, 0, "no client connection was dropped")
        XCTAssertLessThan(outcome.slowestSeconds, 6, "no request waited past the pool's 5 s acquire timeout")
        XCTAssertTrue(server.process.isRunning)
        XCTAssertEqual(server.process.processIdentifier, pid, "the same server recovered by itself")
        XCTAssertEqual(intended.acknowledgedCount, intended.all.count, "every accrual was acknowledged in the end")
        XCTAssertEqual(try intended.applied(in: self).totals, IntendedAccruals.totals(intended.all), "applied exactly once")
        XCTAssertEqual(try reader.call(["BALANCE", "M1"]).integer,
                       intended.all.filter { $0.member == "M1" }.reduce(0) { $0 + $1.points })
        try assertLedgerVerifies()
    }

    // MARK: - Helpers

    /// Starts a server, sends `bytes` on one connection without reading the replies, and kills
    /// the server with `kill -9` as soon as `condition` holds.
    private func sendKilling(_ bytes: [UInt8], when what: String, _ condition: () throws -> Bool) throws {
        server = try startServer()
        nonisolated(unsafe) let client = try RawClient(port: server.port)
        Thread { client.send(bytes) }.start()
        try waitUntil(what, seconds: 120, condition)
        server.kill()
    }

    /// After the server died: once its database sessions are gone, either the batch's summary is
    /// stored and every one of `intended` is applied, or neither is. Nil `intended`: nothing may
    /// be applied. Returns whether the batch was applied.
    @discardableResult
    private func assertBatch(_ batchID: String, appliedAllOf intended: IntendedAccruals?,
                             file: StaticString = #filePath, line: UInt = #line) throws -> Bool {
        let name = database.name
        try waitUntil("the dead server's database sessions end", seconds: 60) {
            try value("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]) == "0"
        }
        let stored = try value("SELECT count(*) FROM batches WHERE batch_id = $1", [batchID]) == "1"
        let accruals = Int(try value("SELECT count(*) FROM ledger_entries WHERE batch_id = $1", [batchID]) ?? "") ?? -1
        XCTAssertEqual(accruals, stored ? intended?.all.count ?? -1 : 0,
                       "the batch is applied whole or not at all (summary stored: \(stored))", file: file, line: line)
        return stored
    }
}
