import Foundation
import LoyaltyTesting
import XCTest

/// What one connection may make the server hold: Redis's tighter limits before AUTH, and a
/// client that reads none of its replies is closed once its output stalls.
final class ConnectionBudgetTests: EndToEndTestCase {
    override var serverEnvironment: [String: String] { ["LOYALTY_OUTPUT_STALL_SECONDS": "1"] }

    func testBeforeAuthABulkIsAtMost16KiBAndARequestTenArguments() throws {
        let client = try connect()
        let edge = String(repeating: "b", count: 16_384)
        XCTAssertEqual(try client.call(["ECHO", edge]), .bulk(edge))
        XCTAssertEqual(try client.call(["ECHO"] + Array(repeating: "x", count: 9)).errorCode, "ERR", "ten arguments reach the command")
        client.sendCommand(["ECHO"] + Array(repeating: "x", count: 10))
        XCTAssertEqual(try client.readReply(), .error("LIMIT too many arguments (max 10)"))
        XCTAssertTrue(client.isClosedByServer())

        let over = try connect()
        over.sendCommand(["ECHO", edge + "b"])
        XCTAssertEqual(try over.readReply(), .error("LIMIT bulk too long (max 16384 bytes)"))
        XCTAssertTrue(over.isClosedByServer())
    }

    /// The limits widen with AUTH, also for requests pipelined right behind it.
    func testAfterAuthTheClientsOwnLimitsApplyEvenPipelinedBehindIt() throws {
        let client = try connect()
        let large = String(repeating: "c", count: 1_048_576)
        client.send(resp(["AUTH", "agent:demo", try secret("agent:demo")]) + resp(["ECHO", large]) + resp(["ECHO"] + Array(repeating: "y", count: 11)))
        XCTAssertEqual(try client.readReply(), .simple("OK"))
        XCTAssertEqual(try client.readReply(), .bulk(large))
        XCTAssertEqual(try client.readReply().errorCode, "ERR", "twelve arguments reach the command")
    }

    /// A client that sends and never reads: once the server holds replies it cannot hand over
    /// for LOYALTY_OUTPUT_STALL_SECONDS, the connection is closed; one that reads stays.
    func testAClientThatReadsNoneOfItsRepliesIsClosed() throws {
        let stalled = try connect(as: "agent:demo")
        let reader = try connect(as: "agent:demo")
        let echo = resp(["ECHO", String(repeating: "s", count: 64 * 1024)])
        let chunk = Array((0..<16).map { _ in echo }.joined())
        var offset = 0
        let deadline = Date().addingTimeInterval(20)
        while !server.log.contains("reason=output_stalled") && Date() < deadline {
            offset += stalled.sendAvailable(chunk, from: offset % chunk.count)
            XCTAssertEqual(try reader.call(["PING"]), .simple("PONG"))
            usleep(50_000)
        }
        XCTAssertTrue(server.log.contains("reason=output_stalled"), server.log)
        XCTAssertTrue(stalled.isClosedByServer())
        XCTAssertEqual(try reader.call(["PING"]), .simple("PONG"), "a client that reads is not closed")
    }
}
