import Foundation
import LoyaltyTesting
import Postgres
import XCTest

/// What an operator sees: INFO, idle timeouts, graceful shutdown, PostgreSQL going away and coming back.
final class OperationsTests: EndToEndTestCase {
    func testInfoCountsCommandsErrorsBatchesAndAccruals() throws {
        let hotel = try connect(as: "HOTELCO")
        XCTAssertEqual(try hotel.call(["ACCRUE", "t1", "M1", Self.today, "amount=1.00", "currency=USD"]), triple("t1", 3, 0))
        XCTAssertEqual(try hotel.call(["ACCRUE", "t1", "M1", Self.today, "amount=1.00", "currency=USD"]), triple("t1", 3, 0))
        XCTAssertEqual(try hotel.errorCode("ACCRUE", "t2", "M1", Self.today, "amount=1.00", "currency=EUR"), "INVALID")
        XCTAssertEqual(try hotel.errorCode("NOSUCH"), "ERR")
        XCTAssertEqual(try hotel.call(["BATCH", "BEGIN", "b1"]), .simple("OK"))
        for index in 1...3 {
            XCTAssertEqual(try hotel.call(["ACCRUE", "b\(index)", "M2", Self.today, "amount=1.00", "currency=USD"]), .simple("QUEUED"))
        }
        XCTAssertEqual(try hotel.call(["BATCH", "COMMIT"]), .array([.bulk("b1"), .integer(3), .integer(0), .integer(0)]))
        // A resent batch-id and a reversal line are neither batches committed nor accruals applied.
        XCTAssertEqual(try hotel.call(["BATCH", "BEGIN", "b1"]), .simple("OK"))
        XCTAssertEqual(try hotel.call(["BATCH", "COMMIT"]), .array([.bulk("b1"), .integer(3), .integer(0), .integer(0)]))
        XCTAssertEqual(try hotel.call(["BATCH", "BEGIN", "b2"]), .simple("OK"))
        XCTAssertEqual(try hotel.call(["REVERSE", "b1", "points=1"]), .simple("QUEUED"))
        XCTAssertEqual(try hotel.call(["BATCH", "COMMIT"]), .array([.bulk("b2"), .integer(1), .integer(0), .integer(0)]))
        let framing = try connect()
        framing.send("*2\r\n$4\r\nECHO\r\n$999999999\r\n")
        XCTAssertEqual(try framing.readReply().errorCode, "LIMIT")
        XCTAssertTrue(framing.isClosedByServer())

        let agent = try connect(as: "agent:demo")
        let info = try infoFields(agent)
        XCTAssertEqual(info["loyaltyd_version"], "0.1.0")
        XCTAssertNotNil(info["uptime_in_seconds"].flatMap(Int.init), "uptime")
        XCTAssertEqual(info["connected_clients"], "2", "HOTELCO and the agent")
        XCTAssertEqual(info["cmdstat_accrue"], "calls=6", "queued lines are commands too")
        XCTAssertEqual(info["cmdstat_batch"], "calls=6")
        XCTAssertEqual(info["cmdstat_reverse"], "calls=1")
        XCTAssertEqual(info["cmdstat_auth"], "calls=2")
        XCTAssertEqual(info["errorstat_INVALID"], "count=1")
        XCTAssertEqual(info["errorstat_ERR"], "count=1")
        XCTAssertEqual(info["errorstat_LIMIT"], "count=1", "framing errors are errors too")
        XCTAssertEqual(info["batches_committed"], "2")
        XCTAssertEqual(info["accruals_applied"], "4", "one direct, three in b1; replays and reversals apply no accruals")
        XCTAssertEqual(info["db_pool_in_use"], "0")
        XCTAssertGreaterThanOrEqual(info["db_pool_idle"].flatMap(Int.init) ?? -1, 1)
        XCTAssertNotNil(info["db_pool_max"])
        XCTAssertNotNil(info["total_commands_processed"].flatMap(Int.init))
        // redis-cli shows the same text.
        XCTAssertTrue(try cli("agent:demo", "INFO", "stats").contains("batches_committed:2"))
    }

    func testAnIdleConnectionIsClosedAndABusyOneIsNot() throws {
        let quick = try ServerProcess(database: database, environment: ["LOYALTY_IDLE_TIMEOUT_SECONDS": "1"])
        let idle = try connect(as: "HOTELCO", port: quick.port)
        XCTAssertEqual(try idle.call(["BATCH", "BEGIN", "forgotten"]), .simple("OK"))
        XCTAssertEqual(try idle.call(["ACCRUE", "t1", "M1", Self.today, "amount=1.00", "currency=USD"]), .simple("QUEUED"))
        let busy = try connect(port: quick.port)
        for _ in 0..<12 {
            assertAnswersPing(busy)
            usleep(300_000)
        }
        XCTAssertTrue(idle.isClosedByServer(), "idle for 3 s with a 1 s timeout")
        assertAnswersPing(busy, "a connection in use is kept")
        XCTAssertTrue(quick.log.contains("reason=idle_timeout"))
        XCTAssertEqual(try connect(as: "agent:demo", port: quick.port).call(["BALANCE", "M1"]), .integer(0),
                       "the idle connection's open batch was discarded")
    }

    func testGracefulShutdownFinishesTheRequestInFlight() throws {
        try credit("M1", 1_000)
        let locker = try database.connect()
        defer { locker.close() }
        try locker.execute("BEGIN")
        _ = try locker.query("SELECT 1 FROM members WHERE member_number = 'M1' FOR UPDATE")
        let agent = try connect(as: "agent:demo")
        agent.sendCommand(["REDEEM", "in-flight", "M1", "POINTS", "100"])
        try waitUntil("the REDEEM waits for the row lock") {
            try sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") == "1"
        }
        let signalled = Date()
        server.process.terminate()
        try waitUntil("the listener closes") { (try? RawClient(port: server.port)) == nil }
        try locker.execute("COMMIT")
        let reply = try agent.readReply()
        guard case .array(let fields) = reply, case .bulk(let id) = fields.first else { return XCTFail("REDEEM reply \(reply)") }
        XCTAssertEqual(reply, triple(id, 100, 900), "the request in flight is finished and answered")
        XCTAssertTrue(agent.isClosedByServer())
        server.process.waitUntilExit()
        XCTAssertEqual(server.process.terminationStatus, 0)
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 5, "a drained server stops without waiting out its grace period")
        XCTAssertTrue(server.log.contains("event=stopped"))
        XCTAssertEqual(try sql("SELECT balance FROM members WHERE member_number = 'M1'"), "900", "what was answered is durable")
    }

    func testShutdownGivesUpOnAStuckRequestAfterTheGracePeriod() throws {
        let strict = try ServerProcess(database: database, environment: ["LOYALTY_SHUTDOWN_GRACE_SECONDS": "1"])
        try credit("M1", 1_000)
        let locker = try database.connect()
        defer { locker.close() }
        try locker.execute("BEGIN")
        _ = try locker.query("SELECT 1 FROM members WHERE member_number = 'M1' FOR UPDATE")
        let agent = try connect(as: "agent:demo", port: strict.port)
        agent.sendCommand(["REDEEM", "stuck", "M1", "POINTS", "100"])
        try waitUntil("the REDEEM waits for the row lock") {
            try sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") == "1"
        }
        let signalled = Date()
        strict.process.terminate()
        try waitUntil("loyaltyd exits", seconds: 8) { !strict.process.isRunning }
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 5)
        XCTAssertTrue(agent.isClosedByServer())
        try locker.execute("COMMIT")
        XCTAssertEqual(try sql("SELECT balance FROM members WHERE member_number = 'M1'"), "1000", "the unanswered request applied nothing")
    }

    func testAnUnreachableDatabaseIsUnavailableNeverACrash() throws {
        let orphan = try ServerProcess(database: database, environment: ["DATABASE_URL": "postgresql://loyalty@127.0.0.1:1/nowhere"])
        let client = try connect(port: orphan.port)
        assertAnswersPing(client)
        XCTAssertEqual(try client.call(["AUTH", "agent:demo", try secret("agent:demo")]),
                       .error("UNAVAILABLE database unavailable; nothing was applied, safe to retry"))
        assertAnswersPing(client)
        let cliOutput = try RedisCLI.run(port: orphan.port, user: "HOTELCO", password: try secret("HOTELCO"), ["PING"]).output
        XCTAssertTrue(cliOutput.contains("AUTH failed: UNAVAILABLE"), cliOutput)
        XCTAssertTrue(orphan.process.isRunning)
    }

    func testADatabaseThatGoesAwayIsUnavailableUntilItComesBack() throws {
        let target = try XCTUnwrap(URLComponents(string: try TestDatabase.serverURL()))
        let postgresPort = UInt16(target.port ?? 5432)
        var proxy = try TCPProxy(targetPort: postgresPort)
        defer { proxy.stop() }
        let fragile = try ServerProcess(database: database, environment: ["DATABASE_URL": try proxiedURL(target, port: proxy.port)])
        let agent = try connect(as: "agent:demo", port: fragile.port)
        let hotel = try connect(as: "HOTELCO", port: fragile.port)
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(0))

        proxy.stop()
        XCTAssertEqual(try agent.errorCode("BALANCE", "M1"), "UNAVAILABLE")
        XCTAssertEqual(try hotel.errorCode("ACCRUE", "t1", "M1", Self.today, "amount=450.00", "currency=USD"), "UNAVAILABLE")
        XCTAssertEqual(try connect(port: fragile.port).errorCode("AUTH", "agent:demo", try secret("agent:demo")), "UNAVAILABLE")
        assertAnswersPing(agent, "UNAVAILABLE keeps the connection")

        proxy = try TCPProxy(targetPort: postgresPort, port: proxy.port)
        try waitUntil("loyaltyd reconnects") { try agent.call(["BALANCE", "M1"]) == .integer(0) }
        XCTAssertEqual(try hotel.call(["ACCRUE", "t1", "M1", Self.today, "amount=450.00", "currency=USD"]), triple("t1", 1_350, 0),
                       "the refused ACCRUE applied nothing, so this one is the first")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(1_350))
        XCTAssertTrue(fragile.process.isRunning)
    }

    func testAServerStartedBeforeItsDatabaseServesOnceTheDatabaseIsUp() throws {
        let target = try XCTUnwrap(URLComponents(string: try TestDatabase.serverURL()))
        let postgresPort = UInt16(target.port ?? 5432)
        let placeholder = try TCPProxy(targetPort: postgresPort)
        placeholder.stop()
        let early = try ServerProcess(database: database, environment: ["DATABASE_URL": try proxiedURL(target, port: placeholder.port)])
        let agent = try connect(port: early.port)
        XCTAssertEqual(try agent.errorCode("AUTH", "agent:demo", try secret("agent:demo")), "UNAVAILABLE")
        let proxy = try TCPProxy(targetPort: postgresPort, port: placeholder.port)
        defer { proxy.stop() }
        try waitUntil("the database is reachable") {
            try agent.call(["AUTH", "agent:demo", try secret("agent:demo")]) == .simple("OK")
        }
        XCTAssertEqual(try agent.call(["REWARDS"]).arrayCount, 5, "the program loads once the database is there")
        XCTAssertEqual(try connect(as: "HOTELCO", port: early.port).call(["ACCRUE", "t1", "M1", Self.today, "amount=1.00", "currency=USD"]),
                       triple("t1", 3, 0))
    }

    // MARK: - Helpers

    /// The test database's URL, reached through a proxy on `port`.
    private func proxiedURL(_ target: URLComponents, port: UInt16) throws -> String {
        var url = target
        url.host = "127.0.0.1"
        url.port = Int(port)
        url.path = "/" + database.name
        return try XCTUnwrap(url.string)
    }

    private func infoFields(_ client: RawClient) throws -> [String: String] {
        guard case .bulk(let text) = try client.call(["INFO"]) else { throw UnexpectedReply("INFO is not bulk text") }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\r\n") where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }
}
