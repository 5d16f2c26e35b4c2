import Foundation
import LoyaltyTesting
import XCTest

/// EVENTS WAIT woken by PostgreSQL NOTIFY: the poll is set to a minute here, so an answer that
/// comes sooner came from the notification. Two serving threads, so parked waits that held them
/// would stop PING.
final class EventWaitTests: EndToEndTestCase {
    override var serverEnvironment: [String: String] {
        ["LOYALTY_EVENTS_POLL_MS": "60000", "LOYALTY_EVENTS_WAIT_MS_MAX": "5000", "LOYALTY_WORKER_THREADS": "2"]
    }

    private func ctl(_ arguments: String...) throws -> Command.Outcome {
        try Command.run("loyaltyctl", arguments + ["--database", database.url])
    }

    func testAWaitIsAnsweredWhenAnEventCommitsAndHoldsNoServingThread() throws {
        let waiters = try (0..<3).map { _ in try connect(as: "agent:demo") }
        for waiter in waiters { waiter.sendCommand(["EVENTS", "WAIT", "0", "5000"]) }
        // Three waits parked, two serving threads: both still answer.
        usleep(300_000)
        XCTAssertEqual(try connect(as: "agent:demo").call(["EVENTS", "FROM", "0", "COUNT", "1"]), .array([]))
        assertAnswersPing(try connect())
        let started = Date()
        XCTAssertEqual(try ctl("member", "close", "M3", "--reason", "asked to leave").status, 0)
        for waiter in waiters {
            let entries = try XCTUnwrap(waiter.readReply().fields)
            XCTAssertEqual(entries.count, 1)
            XCTAssertEqual(entries.first?.fields?[0], .integer(1))
            XCTAssertEqual(entries.first?.fields?[2], .bulk("member.closed"))
        }
        let waited = Date().timeIntervalSince(started)
        XCTAssertLessThan(waited, 3, "woken by the notification, not the minute's poll")
        print("EVENTS WAIT answered \(Int(waited * 1000)) ms after loyaltyctl member close started (the process included)")
        // Past what is there already: at once.
        XCTAssertEqual(try waiters[0].call(["EVENTS", "WAIT", "0", "5000"]).fields?.count, 1)
    }

    func testTheServersOwnWriteWakesAWaitAfterItsCommit() throws {
        try credit("M1", 100)
        let waiter = try connect(as: "agent:demo")
        waiter.sendCommand(["EVENTS", "WAIT", "0", "5000"])
        usleep(300_000)
        let started = Date()
        XCTAssertEqual(try connect(as: "agent:demo").call(["REDEEM", "wake-1", "M1", "POINTS", "1"]).arrayCount, 3)
        let entries = try XCTUnwrap(waiter.readReply().fields)
        XCTAssertEqual(entries.first?.fields?[2], .bulk("redemption.made"))
        XCTAssertLessThan(Date().timeIntervalSince(started), 3, "woken by the notification sent after the commit, not the minute's poll")
    }

    func testAWaitWithNothingNewEndsEmptyAtItsTimeoutWithinTheLimit() throws {
        let agent = try connect(as: "agent:demo")
        let started = Date()
        XCTAssertEqual(try agent.call(["EVENTS", "WAIT", "0", "400"]), .array([]))
        let waited = Date().timeIntervalSince(started)
        XCTAssertGreaterThanOrEqual(waited, 0.39)
        XCTAssertLessThan(waited, 3)
        XCTAssertEqual(try agent.call(["EVENTS", "WAIT", "0", "0"]), .array([]), "0 only looks")
        XCTAssertEqual(try agent.call(["EVENTS", "WAIT", "0", "5001"]), .error("INVALID timeout-ms must be an integer in 0...5000"))
        XCTAssertEqual(try agent.errorCode("EVENTS", "WAIT", "-1", "10"), "INVALID")
        XCTAssertEqual(try agent.errorCode("EVENTS", "WAIT", "0", "10", "20"), "ERR")
        XCTAssertEqual(try connect(as: "member:M1").errorCode("EVENTS", "WAIT", "0", "10"), "NOPERM")
        assertAnswersPing(agent)
    }
}

/// A notification that never comes (an event inserted by hand sends none, as if it was lost to a
/// reconnect) only delays the answer to the next poll.
final class EventWaitPollTests: EndToEndTestCase {
    override var serverEnvironment: [String: String] { ["LOYALTY_EVENTS_POLL_MS": "200"] }

    func testWithoutANotificationThePollAnswers() throws {
        let agent = try connect(as: "agent:demo")
        agent.sendCommand(["EVENTS", "WAIT", "0", "10000"])
        usleep(300_000)
        _ = try sql("INSERT INTO events (kind, member_number) VALUES ('test.quiet', 'M1') RETURNING id")
        let started = Date()
        let entries = try XCTUnwrap(agent.readReply().fields)
        XCTAssertEqual(entries.first?.fields?[2], .bulk("test.quiet"))
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
    }
}
