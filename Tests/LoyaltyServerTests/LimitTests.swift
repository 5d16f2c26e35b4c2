import LoyaltyTesting
import XCTest

/// Framing limits set small through the environment: refused with -LIMIT before the memory is
/// spent, then the connection closes; requests on the edge are served.
final class LimitTests: EndToEndTestCase {
    override var serverEnvironment: [String: String] {
        ["LOYALTY_LINE_BYTES_MAX": "64", "LOYALTY_BULK_BYTES_MAX": "64", "LOYALTY_ARGUMENTS_MAX": "6",
         "LOYALTY_CONNECTIONS_MAX": "3"]
    }

    func testAnInlineLineOverTheLimitIsRefusedAndClosed() throws {
        let client = try connect()
        let edge = "ECHO " + String(repeating: "a", count: 59)
        XCTAssertEqual(try client.inline(edge), .bulk(String(repeating: "a", count: 59)), "64 bytes is on the edge")
        client.send("ECHO " + String(repeating: "a", count: 60) + "\r\n")
        XCTAssertEqual(try client.readReply(), .error("LIMIT line too long (max 64 bytes)"))
        XCTAssertTrue(client.isClosedByServer())
    }

    func testALineThatNeverEndsIsRefusedWithoutWaitingForIt() throws {
        let client = try connect()
        client.send("ECHO " + String(repeating: "a", count: 200))
        XCTAssertEqual(try client.readReply().errorCode, "LIMIT")
        XCTAssertTrue(client.isClosedByServer())
    }

    func testABulkOverTheLimitIsRefusedBeforeItsPayload() throws {
        let client = try connect()
        XCTAssertEqual(try client.call(["ECHO", String(repeating: "b", count: 64)]), .bulk(String(repeating: "b", count: 64)))
        // Only the header: the refusal must not wait for 1 MB that never comes.
        client.send("*2\r\n$4\r\nECHO\r\n$1000000\r\n")
        XCTAssertEqual(try client.readReply(), .error("LIMIT bulk too long (max 64 bytes)"))
        XCTAssertTrue(client.isClosedByServer())
    }

    func testTooManyArgumentsAreRefusedInRESPAndInline() throws {
        let client = try connect()
        XCTAssertEqual(try client.call(["HELLO", "2", "AUTH", "agent:demo", try secret("agent:demo"), "SETNAME"]).errorCode, "ERR",
                       "six arguments reach the command")
        client.send("*7\r\n")
        XCTAssertEqual(try client.readReply(), .error("LIMIT too many arguments (max 6)"))
        XCTAssertTrue(client.isClosedByServer())
        let inline = try connect()
        inline.send("PING 1 2 3 4 5 6\r\n")
        XCTAssertEqual(try inline.readReply().errorCode, "LIMIT")
        XCTAssertTrue(inline.isClosedByServer())
    }

    func testConnectionsOverTheLimitAreToldLimitAndClosed() throws {
        let open = try (0..<3).map { _ in try connect() }
        for client in open { assertAnswersPing(client) }
        let refused = try connect()
        XCTAssertEqual(try refused.readReply(), .error("LIMIT too many connections (max 3)"))
        XCTAssertTrue(refused.isClosedByServer())
        for client in open { assertAnswersPing(client, "the open connections are untouched") }
        XCTAssertEqual(try open[0].call(["QUIT"]), .simple("OK"))
        XCTAssertTrue(open[0].isClosedByServer())
        usleep(100_000)
        let again = try connect()
        assertAnswersPing(again, "a freed slot is taken again")
        XCTAssertTrue(try RedisCLI.run(port: server.port, ["PING"]).output.contains("LIMIT"), "redis-cli shows the refusal")
        assertAnswersPing(again)
    }
}
