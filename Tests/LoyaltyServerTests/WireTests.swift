import Foundation
import LoyaltyTesting
import XCTest

/// Framing and pipelining as real clients use them, and the rule that an error changes nothing
/// and leaves the connection serving.
final class WireTests: EndToEndTestCase {
    func testAThousandPipelinedCommandsInOneWriteAreAnsweredInOrder() throws {
        let client = try connect()
        var bytes: [UInt8] = []
        for index in 0..<1_000 {
            // Every other request inline, as nc would send it; the rest RESP, as redis-cli would.
            let words = index % 7 == 6 ? ["NOSUCH", String(index)] : ["ECHO", "n\(index)"]
            bytes += index % 2 == 0 ? Array(encodeRESP(words).utf8) : Array((words.joined(separator: " ") + "\r\n").utf8)
        }
        client.send(bytes)
        for index in 0..<1_000 {
            let reply = try client.readReply()
            if index % 7 == 6 {
                XCTAssertEqual(reply.errorCode, "ERR", "reply \(index)")
            } else {
                XCTAssertEqual(reply, .bulk("n\(index)"), "reply \(index)")
            }
        }
        assertAnswersPing(client)
    }

    /// More requests than the server reads ahead and more replies than it buffers, from a client
    /// that starts reading late: the server pauses reading until it catches up, and loses nothing.
    func testAWriterFasterThanItsReaderLosesNothing() throws {
        let payload = String(repeating: "x", count: 1_000)
        let count = 6_000
        let requests = Array((0..<count).map { encodeRESP(["ECHO", "\($0)-\(payload)"]) }.joined().utf8)
        nonisolated(unsafe) let client = try connect()
        let sent = DispatchSemaphore(value: 0)
        // Sent from another thread: the server stops reading while replies wait, so a single
        // thread that wrote everything before reading would block forever.
        Thread {
            client.send(requests)
            sent.signal()
        }.start()
        usleep(500_000)
        for index in 0..<count {
            XCTAssertEqual(try client.readReply(), .bulk("\(index)-\(payload)"))
        }
        XCTAssertEqual(sent.wait(timeout: .now() + 10), .success)
        assertAnswersPing(client)
        let piped = try RedisCLI.run(port: server.port, [], stdin: String(decoding: requests, as: UTF8.self), extra: ["--pipe"])
        XCTAssertTrue(piped.output.contains("errors: 0, replies: \(count)"), piped.output)
    }

    func testPipelinedWritesAndReadsInterleaveInOrder() throws {
        let hotel = try connect()
        var text = "AUTH HOTELCO \(try secret("HOTELCO"))\r\n"
        for index in 0..<100 {
            text += index % 2 == 0 ? "ACCRUE p\(index) M1 \(Self.today) amount=1.00 currency=USD\r\n"
                                   : encodeRESP(["ACCRUE", "p\(index - 1)", "M1", Self.today, "amount=1.00", "currency=USD"])
        }
        text += "BATCH BEGIN b1\r\nACCRUE q1 M2 \(Self.today) amount=2.00 currency=USD\r\nBATCH COMMIT\r\nQUIT\r\n"
        hotel.send(text)
        XCTAssertEqual(try hotel.readReply(), .simple("OK"))
        for index in 0..<100 {
            XCTAssertEqual(try hotel.readReply(), triple("p\(index - index % 2)", 3, 0), "reply \(index)")
        }
        XCTAssertEqual(try hotel.readReply(), .simple("OK"))
        XCTAssertEqual(try hotel.readReply(), .simple("QUEUED"))
        XCTAssertEqual(try hotel.readReply(), .array([.bulk("b1"), .integer(1), .integer(0), .integer(0)]))
        XCTAssertEqual(try hotel.readReply(), .simple("OK"))
        XCTAssertTrue(hotel.isClosedByServer())
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(150))
        XCTAssertEqual(try agent.call(["BALANCE", "M2"]), .integer(6))
    }

    func testRequestsSplitAcrossWritesAndInlineQuoting() throws {
        let client = try connect()
        for piece in ["*2\r\n$4\r", "\nECHO\r\n$1", "1\r\nhello world\r\n", "PI", "NG\r\n", "\r\n", "ECHO sp", "lit\n"] {
            client.send(piece)
            usleep(20_000)
        }
        XCTAssertEqual(try client.readReply(), .bulk("hello world"))
        XCTAssertEqual(try client.readReply(), .simple("PONG"))
        XCTAssertEqual(try client.readReply(), .bulk("split"), "a bare \\n ends an inline line too")
        XCTAssertEqual(try client.inline(#"ECHO "quote \" backslash \\ hex \x41 newline \n""#), .bulk("quote \" backslash \\ hex A newline \n"))
        XCTAssertEqual(try client.inline("ECHO\t'single \\n stays'"), .bulk("single \\n stays"))
        XCTAssertEqual(try client.call(["ECHO", "binary\r\nsafe"]), .bulk("binary\r\nsafe"))
        XCTAssertEqual(try client.call(["ECHO", ""]), .bulk(""))
    }

    func testAFramingErrorIsAnsweredThenTheConnectionCloses() throws {
        let resp = try connect()
        resp.send("*2\r\n+ECHO\r\n")
        XCTAssertEqual(try resp.readReply().errorCode, "ERR")
        XCTAssertTrue(resp.isClosedByServer())
        assertAnswersPing(try connect(), "other connections are untouched")
    }

    func testAnUnbalancedQuoteFailsThatLineOnlyAndTheConnectionGoesOn() throws {
        let quotes = try connect()
        quotes.send("ECHO \"unbalanced\r\nPING\r\n")
        XCTAssertEqual(try quotes.readReply(), .error("ERR Protocol error: unbalanced quotes in request"))
        XCTAssertEqual(try quotes.readReply(), .simple("PONG"))
        assertAnswersPing(quotes, "the connection is still in step")
    }

    /// Every error code a command can earn, on long-lived connections: after each one the
    /// connection still serves, and at the end nothing any of them touched has changed.
    func testEveryErrorCodeChangesNothingAndKeepsTheConnection() throws {
        try credit("M1", 20_000, txn: "seed")
        let agent = try connect(as: "agent:demo")
        let hold = try agent.call(["HOLD", "h-seed", "M1", "1000"])
        let before = try snapshot(agent)
        try closeM3()

        let anonymous = try connect()
        let hotel = try connect(as: "HOTELCO")
        let dine = try connect(as: "DINECO")
        let member = try connect(as: "member:M2")
        let today = Self.today
        let cases: [(RawClient, [String], String)] = [
            (agent, ["NOSUCH"], "ERR"),
            (agent, ["BALANCE"], "ERR"),
            (agent, ["STATEMENT", "M1", "LIMIT"], "ERR"),
            (anonymous, ["BALANCE", "M1"], "NOAUTH"),
            (anonymous, ["AUTH", "agent:demo", "wrong"], "WRONGPASS"),
            (dine, ["REVERSE", "seed"], "NOPERM"),
            (member, ["BALANCE", "M1"], "NOPERM"),
            (member, ["REDEEM", "r", "M1", "POINTS", "1"], "NOPERM"),
            (agent, ["BALANCE", "M404"], "NOTFOUND"),
            (agent, ["REDEEM", "r", "M1", "NO-SUCH"], "NOTFOUND"),
            (hotel, ["ACCRUE", "x", "M1", "2026-13-40", "amount=1.00", "currency=USD"], "INVALID"),
            (hotel, ["ACCRUE", "x", "M1", Self.day(-400), "amount=1.00", "currency=USD"], "INVALID"),
            (hotel, ["ACCRUE", "x", "M1", today, "amount=-1.00", "currency=USD"], "INVALID"),
            (hotel, ["ACCRUE", "x", "M1", today, "amount=1.00", "currency=USD", "color=red"], "INVALID"),
            (hotel, ["ACCRUE", "x", "M1", today, "amount=1.00", "currency=GBP"], "INVALID"),
            (try connect(as: "CARDCO"), ["ACCRUE", "seed", "M1", today, "amount=20000.01", "currency=USD"], "CONFLICT"),
            (agent, ["ENROLL", "M2"], "CONFLICT"),
            (agent, ["REDEEM", "r", "M1", "INTL-BIZ"], "INSUFFICIENT"),
            (agent, ["TRANSFER", "t", "M1", "M2", "19001"], "INSUFFICIENT"),
            (agent, ["HOLD", "h", "M1", "19001"], "INSUFFICIENT"),
            (hotel, ["ACCRUE", "x", "M3", today, "amount=1.00", "currency=USD"], "CLOSED"),
            (agent, ["TRANSFER", "t", "M1", "M3", "1"], "CLOSED"),
        ]
        for (client, words, code) in cases {
            XCTAssertEqual(try client.call(words).errorCode, code, "\(words)")
            assertAnswersPing(client, "after \(words)")
        }
        for attempt in 1...5 { _ = try anonymous.call(["AUTH", "member:M1", "bad\(attempt)"]) }
        XCTAssertEqual(try anonymous.errorCode("AUTH", "member:M1", "1234"), "LOCKED")
        assertAnswersPing(anonymous, "after LOCKED")
        XCTAssertEqual(try snapshot(agent), before, "a failed request changed something")
        XCTAssertEqual(try agent.call(["HOLD", "h-seed", "M1", "1000"]), hold, "the hold is untouched")
        // The ids the failures carried are still free.
        XCTAssertEqual(try hotel.call(["ACCRUE", "x", "M1", today, "amount=1.00", "currency=USD"]), triple("x", 3, 0))
        XCTAssertEqual(try agent.call(["REDEEM", "r", "M1", "POINTS", "3"]).arrayCount, 3)
    }

    // MARK: - Helpers

    private func snapshot(_ agent: RawClient) throws -> [RESPValue] {
        try ["M1", "M2", "M3"].flatMap { number in
            [try agent.call(["BALANCE", number]), try agent.call(["STATEMENT", number]), try agent.call(["TIER", number])]
        }
    }

    private func closeM3() throws {
        let store = database.store()
        defer { store.pool.close() }
        try store.closeMember(number: "M3", reason: "end-to-end test", actor: .admin(user: "test"))
    }
}

/// One command as a RESP array of bulk strings.
func encodeRESP(_ words: [String]) -> String {
    "*\(words.count)\r\n" + words.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()
}
