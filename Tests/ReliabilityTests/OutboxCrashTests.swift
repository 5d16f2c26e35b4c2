import Foundation
import LoyaltyTesting
import XCTest

/// The outbox through crashes: loyaltyd killed with SIGKILL (once with a REDEEM in flight) and
/// PostgreSQL killed and restarted between writes, while a consumer reads from the position it
/// keeps. In the end the consumer has read every redemption the database holds, each once, at
/// gapless positions: nothing committed was lost, and every acknowledged REDEEM is among them.
final class OutboxCrashTests: ReliabilityTestCase {
    /// What a consumer keeps: its position and what it has read.
    private struct Consumer {
        var position: Int64 = 0
        var redemptions: [String] = []

        /// Reads up to `pages` pages of `count` from its position over a new connection.
        mutating func read(_ agent: RawClient, count: Int, pages: Int = .max) throws {
            for _ in 0..<pages {
                let entries = try XCTUnwrap(agent.call(["EVENTS", "FROM", String(position), "COUNT", String(count)]).fields)
                for entry in entries {
                    let fields = try XCTUnwrap(entry.fields)
                    XCTAssertEqual(fields[0], .integer(position + 1), "positions run on without a gap")
                    position += 1
                    XCTAssertEqual(fields[2], .bulk("redemption.made"))
                    let payload = try XCTUnwrap(JSONSerialization.jsonObject(with: Data((fields[4].text ?? "").utf8)) as? [String: Any])
                    redemptions.append(try XCTUnwrap(payload["redemption"] as? String))
                }
                if entries.count < count { return }
            }
        }
    }

    func testAConsumerReadingFromItsPositionLosesNothingWhenLoyaltydAndPostgreSQLAreKilled() throws {
        try moveToPrivateCluster()
        let cluster = try XCTUnwrap(cluster)
        let card = try connect(as: "CARDCO")
        XCTAssertEqual(try card.call(["ACCRUE", "fund", "M1", Self.day(0), "amount=100000.00", "currency=USD"]).fields?.count, 3)
        var consumer = Consumer()
        var acknowledged: [String] = []
        var requestNumber = 0
        for round in 1...3 {
            let agent = try connect(as: "agent:demo")
            for _ in 0..<20 {
                requestNumber += 1
                let reply = try agent.call(["REDEEM", "q\(requestNumber)", "M1", "POINTS", "1"])
                acknowledged.append(try XCTUnwrap(reply.fields?.first?.text, "\(reply)"))
            }
            // The consumer is part way through when the crashes come.
            try consumer.read(try connect(as: "agent:demo"), count: 7, pages: 2)
            // One more REDEEM sent, its reply never read: loyaltyd dies with it in flight.
            requestNumber += 1
            agent.sendCommand(["REDEEM", "q\(requestNumber)", "M1", "POINTS", "1"])
            server.kill()
            if round < 3 { try cluster.crash() } else { try cluster.stop() }
            try cluster.start()
            server = try startServer()
        }
        try consumer.read(try connect(as: "agent:demo"), count: 7)

        let stored = try rows("SELECT redemption_id FROM redemptions ORDER BY redemption_id").compactMap { $0[0] }
        print("outbox crash test: \(acknowledged.count) acknowledged REDEEMs, \(stored.count) stored, \(consumer.redemptions.count) read")
        XCTAssertEqual(Set(consumer.redemptions).count, consumer.redemptions.count, "read once each")
        XCTAssertEqual(Set(consumer.redemptions), Set(stored), "every committed redemption was read")
        XCTAssertTrue(Set(acknowledged).isSubset(of: Set(consumer.redemptions)), "every acknowledged one among them")
        XCTAssertEqual(try value("SELECT count(*) FROM events"), String(stored.count), "one event per redemption")
        try assertLedgerVerifies()
    }
}
