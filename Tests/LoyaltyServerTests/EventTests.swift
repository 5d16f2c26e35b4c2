import Foundation
import LoyaltyTesting
import XCTest

/// Outbound events: written with the change they report, read by position over EVENTS FROM and
/// `loyaltyctl events tail`, the same events both ways.
final class EventTests: EndToEndTestCase {
    private func ctl(_ arguments: String...) throws -> Command.Outcome {
        try Command.run("loyaltyctl", arguments + ["--database", database.url])
    }

    /// `[kind, member, payload]` of each entry of an EVENTS reply, after checking its positions
    /// run on from `after` without a gap.
    private func entries(_ reply: RESPValue, after: Int64, file: StaticString = #filePath,
                         line: UInt = #line) throws -> [(kind: String, member: String, payload: [String: Any])] {
        let rows = try XCTUnwrap(reply.fields, "\(reply)", file: file, line: line)
        return try rows.enumerated().map { index, row in
            let fields = try XCTUnwrap(row.fields, file: file, line: line)
            XCTAssertEqual(fields.count, 5, file: file, line: line)
            XCTAssertEqual(fields[0], .integer(after + Int64(index) + 1), "positions have no gap", file: file, line: line)
            XCTAssertNotNil(fields[1].text.flatMap(ISO8601DateFormatter.withFractionalSeconds.date), "\(fields[1])",
                            file: file, line: line)
            let payload = try XCTUnwrap(JSONSerialization.jsonObject(with: Data((fields[4].text ?? "").utf8)) as? [String: Any],
                                        file: file, line: line)
            return (fields[2].text ?? "", fields[3].text ?? "", payload)
        }
    }

    func testEachChangeIsOneEventInCommitOrderAndTailPrintsTheSame() throws {
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.call(["EVENTS", "FROM", "0", "COUNT", "10"]), .array([]), "the demo database has none")
        let air = try connect(as: "SKYAIR")
        XCTAssertEqual(try air.call(["ACCRUE", "f1", "M1", Self.today, "miles=26000"]), triple("f1", 26_000, 26_000))
        XCTAssertEqual(try air.call(["REVERSE", "f1"]), triple("f1", 26_000, 26_000))
        try credit("M2", 30_000)
        let redeemed = try XCTUnwrap(agent.call(["REDEEM", "r1", "M2", "GIFT-50"]).fields?.first?.text)
        XCTAssertEqual(try agent.call(["REDEEM", "r1", "M2", "GIFT-50"]).fields?.first?.text, redeemed, "a replay")
        XCTAssertEqual(try agent.errorCode("REDEEM", "r2", "M2", "INTL-BIZ"), "INSUFFICIENT")
        let hold = try XCTUnwrap(agent.call(["HOLD", "h1", "M2", "1000"]).fields?.first?.text)
        let captured = try XCTUnwrap(agent.call(["CAPTURE", hold]).fields?.first?.text)
        XCTAssertEqual(try agent.call(["CANCEL", redeemed]), triple(redeemed, 6_000, 29_000))
        XCTAssertEqual(try agent.call(["CANCEL", redeemed]), triple(redeemed, 6_000, 29_000), "cancelling again changes nothing")
        XCTAssertEqual(try ctl("member", "close", "M3", "--reason", "asked to leave").status, 0)
        XCTAssertEqual(try agent.call(["ENROLL", "M4"]), .simple("OK"))
        XCTAssertEqual(try ctl("member", "merge", "M4", "M2", "--reason", "duplicate").status, 0)

        let year = Int(Self.today.prefix(4))!
        let until = "\(year + 2)-02-\(isLeap(year + 2) ? 29 : 28)"
        let events = try entries(try agent.call(["EVENTS", "FROM", "0", "COUNT", "100"]), after: 0)
        XCTAssertEqual(events.map(\.kind), ["tier.changed", "tier.changed", "redemption.made", "redemption.made",
                                            "redemption.cancelled", "member.closed", "member.merged"])
        XCTAssertEqual(events.map(\.member), ["M1", "M1", "M2", "M2", "M2", "M3", "M4"])
        XCTAssertEqual(events[0].payload as NSDictionary,
                       ["from": "MEMBER", "to": "PREMIER", "until": until, "change": "up", "lifetime": false] as NSDictionary)
        XCTAssertEqual(events[1].payload["change"] as? String, "down", "the reversal took the tier back")
        XCTAssertEqual(events[2].payload as NSDictionary,
                       ["redemption": redeemed, "reward": "GIFT-50", "quantity": 1, "points": 6_000, "hold": NSNull()] as NSDictionary)
        XCTAssertEqual(events[3].payload["redemption"] as? String, captured)
        XCTAssertEqual(events[3].payload["hold"] as? String, hold)
        XCTAssertEqual(events[4].payload["points_refunded"] as? Int, 6_000)
        XCTAssertEqual(events[5].payload["erased"] as? Bool, false)
        XCTAssertEqual(events[6].payload["into"] as? String, "M2")

        // A consumer goes on from the last position it read, a COUNT at a time.
        XCTAssertEqual(try entries(try agent.call(["EVENTS", "FROM", "5", "COUNT", "1"]), after: 5).map(\.kind), ["member.closed"])
        XCTAssertEqual(try agent.call(["EVENTS", "FROM", "7", "COUNT", "1000"]), .array([]))

        let tail = try ctl("events", "tail", "--from", "5")
        XCTAssertEqual(tail.status, 0, tail.stderr)
        let lines = tail.stdout.split(separator: "\n").map { String($0) }
        XCTAssertEqual(lines.count, 2)
        let first = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(first["position"] as? Int, 6)
        XCTAssertEqual(first["kind"] as? String, "member.closed")
        XCTAssertEqual(first["member"] as? String, "M3")
        XCTAssertEqual((first["payload"] as? [String: Any])?["erased"] as? Bool, false)
        XCTAssertNotNil((first["time"] as? String).flatMap(ISO8601DateFormatter.withFractionalSeconds.date))
        XCTAssertEqual(try ctl("events", "tail").stdout.split(separator: "\n").count, 7)
        XCTAssertEqual(try ctl("events", "tail", "--from", "-1").status, 2)
    }

    func testTheDailyRunsAnnounceExpiringPointsAndLapsingTiersOnce() throws {
        try credit("M2", 500)
        let air = try connect(as: "SKYAIR")
        XCTAssertEqual(try air.call(["ACCRUE", "f1", "M1", Self.today, "miles=26000"]), triple("f1", 26_000, 26_000))
        let year = Int(Self.today.prefix(4))!
        let expiryRun = try XCTUnwrap(try sql("SELECT (('\(Self.today)'::date + interval '18 months')::date - 30)::text"))
        for _ in 0..<2 {
            XCTAssertEqual(try ctl("expire", "--as-of", expiryRun).status, 0)
            XCTAssertEqual(try ctl("tiers", "evaluate", "--as-of", "\(year + 2)-01-15").status, 0)
        }
        let lines = try ctl("events", "tail").stdout.split(separator: "\n").map { String($0) }
        let notices = try lines.compactMap { line -> [String: Any]? in
            let event = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return event["kind"] as? String == "tier.changed" ? nil : event
        }
        // By then M1's Premier (through February of the year after next) no longer exempts it.
        XCTAssertEqual(notices.map { $0["kind"] as? String }, ["points.expiring", "points.expiring", "tier.lapsing"],
                       "once each, run twice")
        XCTAssertEqual(notices.map { $0["member"] as? String }, ["M1", "M2", "M1"])
        XCTAssertEqual((notices[1]["payload"] as? [String: Any])?["lot_date"] as? String, Self.today)
        XCTAssertEqual((notices[1]["payload"] as? [String: Any])?["points"] as? Int, 500)
        XCTAssertEqual((notices[2]["payload"] as? [String: Any])?["tier"] as? String, "PREMIER")
    }

    /// An event whose transaction began first but commits last must not land below a position a
    /// consumer has already read: positions are given at read time, to committed rows only.
    func testAnEventCommittedLateStillComesAfterWhatTheConsumerRead() throws {
        let slow = try database.connect()
        defer { slow.close() }
        _ = try slow.query("BEGIN")
        _ = try slow.query("INSERT INTO events (kind, member_number) VALUES ('test.slow', 'M1')")
        XCTAssertEqual(try ctl("member", "close", "M3", "--reason", "asked to leave").status, 0)
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try entries(try agent.call(["EVENTS", "FROM", "0", "COUNT", "10"]), after: 0).map(\.kind), ["member.closed"])
        _ = try slow.query("COMMIT")
        XCTAssertEqual(try entries(try agent.call(["EVENTS", "FROM", "1", "COUNT", "10"]), after: 1).map(\.kind), ["test.slow"])
        XCTAssertEqual(try sql("SELECT string_agg(kind, ' ' ORDER BY id) FROM events"), "test.slow member.closed",
                       "the late one took the lower id")
    }

    func testTailFollowPrintsEventsAsTheyCommit() throws {
        XCTAssertEqual(try ctl("member", "close", "M3", "--reason", "asked to leave").status, 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServerProcess.binary("loyaltyctl"))
        process.arguments = ["events", "tail", "--from", "1", "--follow", "--database", database.url]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        usleep(700_000)
        XCTAssertTrue(process.isRunning, "--follow keeps waiting after catching up")
        XCTAssertEqual(try connect(as: "agent:demo").call(["ENROLL", "M4"]), .simple("OK"))
        XCTAssertEqual(try ctl("member", "close", "M4", "--reason", "asked to leave").status, 0)
        // Read on another thread, so a tail that never prints fails the test instead of hanging it.
        nonisolated(unsafe) var line = Data()
        let printed = DispatchSemaphore(value: 0)
        Thread {
            line = output.fileHandleForReading.availableData
            printed.signal()
        }.start()
        XCTAssertEqual(printed.wait(timeout: .now() + 10), .success, "printed within 10 s")
        let event = try XCTUnwrap(JSONSerialization.jsonObject(with: line) as? [String: Any], String(decoding: line, as: UTF8.self))
        XCTAssertEqual(event["position"] as? Int, 2, "only what follows --from")
        XCTAssertEqual(event["member"] as? String, "M4")
    }

    func testEventsAreForAgentsAndRefuseBadArguments() throws {
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try connect(as: "member:M1").errorCode("EVENTS", "FROM", "0", "COUNT", "1"), "NOPERM")
        XCTAssertEqual(try connect(as: "HOTELCO").errorCode("EVENTS", "FROM", "0", "COUNT", "1"), "NOPERM")
        XCTAssertEqual(try connect().errorCode("EVENTS", "FROM", "0", "COUNT", "1"), "NOAUTH")
        XCTAssertEqual(try agent.call(["EVENTS", "FROM", "0", "COUNT", "1000"]), .array([]), "1000 is on the edge")
        for bad in [["FROM", "0", "COUNT", "1001"], ["FROM", "0", "COUNT", "0"], ["FROM", "-1", "COUNT", "1"], ["FROM", "x", "COUNT", "1"]] {
            XCTAssertEqual(try agent.call(["EVENTS"] + bad).errorCode, "INVALID", "\(bad)")
        }
        XCTAssertEqual(try agent.errorCode("EVENTS", "AFTER", "0", "COUNT", "1"), "ERR")
        XCTAssertEqual(try agent.errorCode("EVENTS", "FROM", "0"), "ERR")
    }
}

/// LOYALTY_EVENTS_COUNT_MAX moves the ceiling of COUNT.
final class EventLimitTests: EndToEndTestCase {
    override var serverEnvironment: [String: String] { ["LOYALTY_EVENTS_COUNT_MAX": "3"] }

    func testCountIsBoundedByTheConfiguredLimit() throws {
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.call(["EVENTS", "FROM", "0", "COUNT", "3"]), .array([]))
        XCTAssertEqual(try agent.call(["EVENTS", "FROM", "0", "COUNT", "4"]), .error("INVALID COUNT must be an integer in 1...3"))
    }
}

extension ISO8601DateFormatter {
    static var withFractionalSeconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
