import LoyaltyTesting
import XCTest

/// What client libraries send on connect: HELLO 3 (RESP3), CLIENT, SELECT, RESET; and the bytes
/// of replies in each protocol.
final class ConnectionCommandTests: EndToEndTestCase {
    private func assertBytes(_ client: RawClient, _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(String(decoding: try client.readBytes(expected.utf8.count), as: UTF8.self), expected, file: file, line: line)
    }

    /// A bulk or verbatim reply's marker and text as sent (verbatim text with its `txt:` format).
    private func readText(_ client: RawClient) throws -> (marker: String, text: String) {
        var header: [UInt8] = []
        while header.last != 10 { header += try client.readBytes(1) }
        let length = try XCTUnwrap(Int(String(decoding: header.dropFirst().dropLast(2), as: UTF8.self)))
        return (String(UnicodeScalar(header[0])), String(decoding: try client.readBytes(length + 2).dropLast(2), as: UTF8.self))
    }

    /// HELLO's reply for `proto` on connection `id`, as Redis frames it in that protocol.
    private func helloBytes(proto: Int, id: Int64) -> String {
        let header = proto == 3 ? "%7\r\n" : "*14\r\n"
        return header + "$6\r\nserver\r\n$8\r\nloyaltyd\r\n$7\r\nversion\r\n$5\r\n0.1.0\r\n$5\r\nproto\r\n:\(proto)\r\n"
            + "$2\r\nid\r\n:\(id)\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
    }

    func testHello3AnswersTheRedisMapAndSwitchesToRESP3UntilHello2() throws {
        let client = try connect()
        client.sendCommand(["HELLO", "3", "AUTH", "agent:demo", try secret("agent:demo")])
        let id = try XCTUnwrap(try connect(as: "agent:demo").call(["CLIENT", "ID"]).integer) - 1
        try assertBytes(client, helloBytes(proto: 3, id: id))
        // Maps where replies are named fields; point counts are integers; null is `_`.
        client.sendCommand(["TIER", "M1"])
        try assertBytes(client, "%6\r\n$4\r\ntier\r\n$6\r\nMember\r\n$10\r\ntier_until\r\n_\r\n$10\r\nqualifying\r\n:0\r\n"
                            + "$10\r\nperiod_end\r\n$10\r\n\(Self.today.prefix(4))-12-31\r\n$9\r\nnext_tier\r\n$7\r\nPremier\r\n"
                            + "$12\r\nto_next_tier\r\n:25000\r\n")
        let member = try XCTUnwrap(try client.call(["MEMBER", "M1"]).dictionary)
        guard case .map = try client.call(["MEMBER", "M1"]) else { return XCTFail("MEMBER is not a map in RESP3") }
        XCTAssertEqual(member["balance"], .integer(0))
        XCTAssertEqual(member["to_next_tier"], .integer(25000))
        XCTAssertEqual(member["tier_until"], .null)
        XCTAssertEqual(member["number"], .bulk("M1"))
        client.sendCommand(["INFO", "clients"])
        let info = try readText(client)
        XCTAssertEqual(info.marker, "=")
        XCTAssertTrue(info.text.hasPrefix("txt:# Clients\r\nconnected_clients:"), info.text)
        // Errors, integers, arrays and PING's message are the same in both protocols.
        XCTAssertEqual(try client.call(["BALANCE", "M404"]).errorCode, "NOTFOUND")
        client.sendCommand(["PING", "still here"])
        try assertBytes(client, "$10\r\nstill here\r\n")
        client.sendCommand(["HELLO", "2"])
        try assertBytes(client, helloBytes(proto: 2, id: id))
        client.sendCommand(["TIER", "M1"])
        try assertBytes(client, "*6\r\n$6\r\nMember\r\n$-1\r\n:0\r\n")
    }

    func testRedisCLIInRESP3ShowsTheMaps() throws {
        let tier = try RedisCLI.run(port: server.port, user: "agent:demo", password: try secret("agent:demo"), ["TIER", "M1"],
                                    extra: ["-3"]).output
        XCTAssertTrue(tier.hasPrefix("tier Member\ntier_until \nqualifying 0\n"), tier)
        let member = try RedisCLI.run(port: server.port, user: "agent:demo", password: try secret("agent:demo"), ["MEMBER", "M1"],
                                      extra: ["-3", "--no-raw"]).output
        XCTAssertTrue(member.contains("7# \"balance\" => (integer) 0\n"), member)
    }

    func testWithoutHelloOrWithHello2RepliesAreRESP2ByteForByte() throws {
        let agent = try connect(as: "agent:demo")
        let id = try XCTUnwrap(try agent.call(["CLIENT", "ID"]).integer)
        agent.sendCommand(["HELLO"])
        try assertBytes(agent, helloBytes(proto: 2, id: id))
        agent.sendCommand(["MEMBER", "M1"])
        try assertBytes(agent, "*32\r\n$6\r\nnumber\r\n$2\r\nM1\r\n")
        let rest = try (0..<30).map { _ in try agent.readReply() }
        XCTAssertEqual(rest[11], .bulk("0"), "balance is a bulk string in RESP2")
        XCTAssertEqual(rest[9], .null, "tier_until")
        agent.sendCommand(["INFO", "clients"])
        let info = try readText(agent)
        XCTAssertEqual(info.marker, "$")
        XCTAssertTrue(info.text.hasPrefix("# Clients\r\nconnected_clients:"), info.text)
        agent.sendCommand(["HELLO", "2"])
        try assertBytes(agent, helloBytes(proto: 2, id: id))
        agent.sendCommand(["TIER", "M1"])
        try assertBytes(agent, "*6\r\n$6\r\nMember\r\n$-1\r\n:0\r\n")
    }

    func testAnUnsupportedProtocolVersionIsNoProtoAndChangesNothing() throws {
        let client = try connect()
        for version in ["1", "4", "30"] {
            client.sendCommand(["HELLO", version, "AUTH", "agent:demo", try secret("agent:demo")])
            try assertBytes(client, "-NOPROTO unsupported protocol version\r\n")
        }
        XCTAssertEqual(try client.errorCode("HELLO", "three"), "ERR")
        XCTAssertEqual(try client.errorCode("BALANCE", "M1"), "NOAUTH", "a refused HELLO signs nobody in")
        XCTAssertEqual(try client.errorCode("HELLO", "3", "AUTH", "agent:demo", "wrong"), "WRONGPASS")
        client.sendCommand(["ECHO", "x"])
        client.sendCommand(["HELLO"])
        try assertBytes(client, "$1\r\nx\r\n*14\r\n")  // a refused HELLO 3 leaves RESP2
        _ = try (0..<14).map { _ in try client.readReply() }
    }

    func testClientNamesAreKeptAndListedForAgents() throws {
        let desk = try connect(as: "member:M1")
        XCTAssertEqual(try desk.call(["CLIENT", "GETNAME"]), .null)
        XCTAssertEqual(try desk.call(["CLIENT", "SETNAME", "front-desk-7"]), .simple("OK"))
        XCTAssertEqual(try desk.call(["CLIENT", "GETNAME"]), .bulk("front-desk-7"))
        XCTAssertEqual(try desk.call(["CLIENT", "SETINFO", "LIB-NAME", "redis-py"]), .simple("OK"))
        XCTAssertEqual(try desk.call(["CLIENT", "SETINFO", "lib-ver", "8.2.0"]), .simple("OK"))
        let info = try XCTUnwrap(try desk.call(["CLIENT", "INFO"]).text)
        XCTAssertTrue(info.contains(" name=front-desk-7 ") && info.contains(" user=member:M1 ") && info.contains(" resp=2 ")
                          && info.contains(" lib-name=redis-py lib-ver=8.2.0"), info)
        XCTAssertEqual(try desk.errorCode("CLIENT", "LIST"), "NOPERM", "only agents see other connections")
        XCTAssertEqual(try desk.errorCode("CLIENT", "SETINFO", "LIB-COLOUR", "red"), "ERR")
        XCTAssertEqual(try desk.errorCode("CLIENT", "KILL", "ID", "1"), "ERR")
        XCTAssertEqual(try desk.errorCode("CLIENT", "SETNAME"), "ERR")
        // Names are like client-chosen ids: 1-64 printable ASCII without spaces; empty clears the name.
        XCTAssertEqual(try desk.call(["CLIENT", "SETNAME", String(repeating: "n", count: 64)]), .simple("OK"))
        for refused in [String(repeating: "n", count: 65), "two words", "line\nbreak", "é"] {
            XCTAssertEqual(try desk.errorCode("CLIENT", "SETNAME", refused), "INVALID", refused)
        }
        XCTAssertEqual(try desk.call(["CLIENT", "GETNAME"]), .bulk(String(repeating: "n", count: 64)), "a refused name changes nothing")
        XCTAssertEqual(try desk.call(["CLIENT", "SETNAME", "front-desk-7"]), .simple("OK"))

        let named = try connect()
        _ = try named.call(["HELLO", "3", "AUTH", "HOTELCO", try secret("HOTELCO"), "SETNAME", "night-batch"])
        let agent = try connect(as: "agent:demo")
        let list = try XCTUnwrap(try agent.call(["CLIENT", "LIST"]).text)
        XCTAssertEqual(list.split(separator: "\n").count, 3, list)
        XCTAssertTrue(list.contains(" name=front-desk-7 ") && list.contains(" name=night-batch age="), list)
        XCTAssertTrue(list.contains(" user=HOTELCO resp=3 "), list)
        XCTAssertEqual(try cli("agent:demo", "CLIENT", "GETNAME"), "\n", "redis-cli: no name")
        _ = try named.call(["QUIT"])
        try waitUntil("a closed connection leaves the list") {
            try !(XCTUnwrap(try agent.call(["CLIENT", "LIST"]).text).contains("night-batch"))
        }
    }

    func testClientAndSelectNeedASignInAsBeforeWhileResetAndPingDoNot() throws {
        let client = try connect()
        for words in [["CLIENT", "SETNAME", "x"], ["CLIENT", "ID"], ["CLIENT", "SETINFO", "LIB-NAME", "x"], ["SELECT", "0"]] {
            XCTAssertEqual(try client.call(words).errorCode, "NOAUTH", "\(words)")
        }
        XCTAssertEqual(try client.call(["RESET"]), .simple("RESET"))
        XCTAssertEqual(try client.call(["PING", "hi"]), .bulk("hi"))
        XCTAssertEqual(try client.call(["AUTH", "agent:demo", try secret("agent:demo")]), .simple("OK"))
        XCTAssertEqual(try client.call(["SELECT", "0"]), .simple("OK"))
        XCTAssertEqual(try client.call(["SELECT", "1"]), .error("ERR DB index is out of range: loyaltyd has only database 0"))
        XCTAssertEqual(try client.errorCode("SELECT", "zero"), "ERR")
    }

    func testResetSignsOutDiscardsTheBatchAndGoesBackToRESP2() throws {
        let partner = try connect(as: "DINECO")
        _ = try partner.call(["HELLO", "3", "SETNAME", "uploader"])
        XCTAssertEqual(try partner.call(["BATCH", "BEGIN", "reset-1"]), .simple("OK"))
        XCTAssertEqual(try partner.call(["ACCRUE", "r-1", "M1", Self.today, "amount=10.00", "currency=USD"]), .simple("QUEUED"))
        XCTAssertEqual(try partner.call(["RESET"]), .simple("RESET"))
        XCTAssertEqual(try partner.errorCode("BATCH", "COMMIT"), "NOAUTH")
        XCTAssertEqual(try partner.call(["AUTH", "DINECO", try secret("DINECO")]), .simple("OK"))
        XCTAssertEqual(try partner.errorCode("BATCH", "COMMIT"), "ERR", "the batch was discarded")
        XCTAssertEqual(try partner.call(["CLIENT", "GETNAME"]), .null)
        partner.sendCommand(["CLIENT", "GETNAME"])
        try assertBytes(partner, "$-1\r\n")
        XCTAssertEqual(try connect(as: "agent:demo").call(["BALANCE", "M1"]), .integer(0), "nothing of the batch was applied")
    }
}
