import LoyaltyTesting
import XCTest

/// PING ECHO AUTH HELLO QUIT INFO COMMAND, and the errors of signing in: ERR, NOAUTH, WRONGPASS, LOCKED.
final class SessionCommandTests: EndToEndTestCase {
    func testPingAndEchoAreServedBeforeAuth() throws {
        let client = try connect()
        XCTAssertEqual(try client.call(["PING"]), .simple("PONG"))
        XCTAssertEqual(try client.call(["PING", "hello there"]), .bulk("hello there"))
        XCTAssertEqual(try client.call(["ECHO", "miles & more"]), .bulk("miles & more"))
        XCTAssertEqual(try client.inline(#"echo "tab\there""#), .bulk("tab\there"))
        XCTAssertEqual(try client.inline(#"echo 'as is\t'"#), .bulk(#"as is\t"#))
        XCTAssertEqual(try client.inline("ping"), .simple("PONG"))
        XCTAssertEqual(try cli(nil, "PING"), "PONG\n")
        XCTAssertEqual(try cli(nil, "ECHO", "hi"), "hi\n")
    }

    func testCommandsBeforeAuthAreRefusedWithNoAuth() throws {
        let client = try connect()
        for words in [["BALANCE", "M1"], ["INFO"], ["REWARDS"], ["ACCRUE", "t1", "M1", Self.today, "nights=1"], ["BATCH", "STATUS", "b1"]] {
            XCTAssertEqual(try client.call(words).errorCode, "NOAUTH", "\(words)")
        }
        XCTAssertEqual(try cli(nil, "BALANCE", "M1"), "NOAUTH authentication required\n\n", "redis-cli prints an error and a blank line")
        assertAnswersPing(client)
    }

    func testEveryKindOfPrincipalSignsIn() throws {
        let client = try connect()
        for principal in ["HOTELCO", "SKYAIR", "DRIVECO", "CARDCO", "DINECO", "agent:demo", "member:M1", "member:M2", "member:M3"] {
            XCTAssertEqual(try client.call(["AUTH", principal, try secret(principal)]), .simple("OK"), principal)
        }
        // The last sign-in wins: the connection now acts as member M3.
        XCTAssertEqual(try client.call(["BALANCE", "M3"]), .integer(0))
        XCTAssertEqual(try client.errorCode("BALANCE", "M1"), "NOPERM")
    }

    func testWrongSecretsNeverSayWhichPartWasWrong() throws {
        let client = try connect()
        let wrongKey = try client.call(["AUTH", "HOTELCO", "pk_wrong"])
        let unknownPartner = try client.call(["AUTH", "NOSUCH", "pk_wrong"])
        let wrongAgent = try client.call(["AUTH", "agent:demo", "nope"])
        let unknownAgent = try client.call(["AUTH", "agent:nobody", "nope"])
        let wrongPIN = try client.call(["AUTH", "member:M1", "9999"])
        let unknownMember = try client.call(["AUTH", "member:M404", "1234"])
        let anotherPartnersKey = try client.call(["AUTH", "HOTELCO", try secret("SKYAIR")])
        let replies = [wrongKey, unknownPartner, wrongAgent, unknownAgent, wrongPIN, unknownMember, anotherPartnersKey]
        XCTAssertEqual(replies.map(\.errorCode), Array(repeating: "WRONGPASS", count: replies.count))
        XCTAssertEqual(Set(replies.map(\.description)).count, 1, "the messages differ: \(replies)")
        // Still not signed in, still serving.
        XCTAssertEqual(try client.errorCode("BALANCE", "M1"), "NOAUTH")
        let cliOutput = try RedisCLI.run(port: server.port, user: "HOTELCO", password: "pk_wrong", ["PING"]).output
        XCTAssertTrue(cliOutput.contains("WRONGPASS"), cliOutput)
    }

    func testAFailedAuthSignsOutNobody() throws {
        let client = try connect(as: "agent:demo")
        XCTAssertEqual(try client.errorCode("AUTH", "agent:demo", "wrong"), "WRONGPASS")
        XCTAssertEqual(try client.call(["BALANCE", "M1"]), .integer(0), "a wrong AUTH must not change who is signed in")
    }

    func testFiveWrongPINsLockTheMemberSignInEvenForTheRightPIN() throws {
        let client = try connect()
        for attempt in 1...5 {
            XCTAssertEqual(try client.errorCode("AUTH", "member:M1", "000\(attempt)"), "WRONGPASS", "attempt \(attempt)")
        }
        XCTAssertEqual(try client.errorCode("AUTH", "member:M1", "1234"), "LOCKED")
        XCTAssertEqual(try cli(nil, "AUTH", "member:M1", "1234").prefix(6), "LOCKED")
        assertAnswersPing(client)
        // Only M1 is locked; agents still serve M1.
        XCTAssertEqual(try client.call(["AUTH", "member:M2", "1234"]), .simple("OK"))
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(0))
    }

    func testFourWrongPINsThenTheRightOneSignsIn() throws {
        let client = try connect()
        for attempt in 1...4 {
            XCTAssertEqual(try client.errorCode("AUTH", "member:M1", "000\(attempt)"), "WRONGPASS")
        }
        XCTAssertEqual(try client.call(["AUTH", "member:M1", "1234"]), .simple("OK"))
        // A success clears the count: four more wrong ones still do not lock.
        for attempt in 1...4 {
            XCTAssertEqual(try client.errorCode("AUTH", "member:M1", "000\(attempt)"), "WRONGPASS")
        }
        XCTAssertEqual(try client.call(["AUTH", "member:M1", "1234"]), .simple("OK"))
    }

    func testHelloSpeaksRESP2AndMaySignIn() throws {
        let client = try connect()
        guard case .array(let fields) = try client.call(["HELLO"]) else { return XCTFail("HELLO is not an array") }
        let pairs = Dictionary(uniqueKeysWithValues: stride(from: 0, to: fields.count - 1, by: 2).map { (fields[$0].description, fields[$0 + 1]) })
        XCTAssertEqual(pairs["\"server\""], .bulk("loyaltyd"))
        XCTAssertEqual(pairs["\"proto\""], .integer(2))
        XCTAssertEqual(try client.errorCode("HELLO", "2", "AUTH", "agent:demo", "wrong"), "WRONGPASS")
        XCTAssertEqual(try client.errorCode("BALANCE", "M1"), "NOAUTH")
        XCTAssertEqual(try client.errorCode("HELLO", "2", "BOGUS"), "ERR")
        XCTAssertEqual(try client.errorCode("HELLO", "2", "AUTH", "agent:demo", try secret("agent:demo"), "SETNAME"), "ERR")
        XCTAssertEqual(try client.errorCode("BALANCE", "M1"), "NOAUTH", "a malformed HELLO signs nobody in")
        guard case .array = try client.call(["HELLO", "2", "AUTH", "agent:demo", try secret("agent:demo"), "SETNAME", "desk"]) else {
            return XCTFail("HELLO with AUTH is not an array")
        }
        XCTAssertEqual(try client.call(["BALANCE", "M1"]), .integer(0))
    }

    func testQuitRepliesOKThenCloses() throws {
        let client = try connect()
        client.send("QUIT\r\nPING\r\n")
        XCTAssertEqual(try client.readReply(), .simple("OK"))
        XCTAssertTrue(client.isClosedByServer(), "requests after QUIT must not be served")
    }

    func testCommandDescribesTheTableSoRedisCLIStartsCleanly() throws {
        let client = try connect()
        XCTAssertEqual(try client.call(["COMMAND", "COUNT"]), .integer(27))
        XCTAssertEqual(try client.call(["COMMAND", "DOCS"]), .array([]))
        guard case .array(let rows) = try client.call(["COMMAND"]) else { return XCTFail("COMMAND is not an array") }
        let names = rows.compactMap { row -> String? in
            guard case .array(let fields) = row, case .bulk(let name) = fields.first else { return nil }
            return name
        }
        XCTAssertEqual(Set(names), ["ping", "echo", "auth", "hello", "quit", "info", "command", "enroll", "balance", "member",
                                    "pin", "tier", "statement", "accrue", "reverse", "batch", "rewards", "redeem", "hold", "capture",
                                    "release", "cancel", "transfer", "client", "select", "reset", "events"])
        let arityOf = Dictionary(uniqueKeysWithValues: rows.compactMap { row -> (String, RESPValue)? in
            guard case .array(let fields) = row, case .bulk(let name) = fields[0] else { return nil }
            return (name, fields[1])
        })
        XCTAssertEqual(arityOf["echo"], .integer(2), "a fixed arity is positive")
        XCTAssertEqual(arityOf["command"], .integer(-1), "an open arity is negative, as in Redis")
        XCTAssertEqual(arityOf["ping"], .integer(-1), "optional arguments make an arity open too")
        XCTAssertEqual(arityOf["accrue"], .integer(-4))
        XCTAssertEqual(arityOf["transfer"], .integer(5))
        // redis-cli with no command reads commands from stdin, after asking COMMAND DOCS.
        let session = try RedisCLI.run(port: server.port, [], stdin: "PING\nECHO hi\n")
        XCTAssertEqual(session.output, "PONG\nhi\n")
        XCTAssertEqual(session.status, 0)
    }

    func testInfoNeedsAuthAndIsRedisStyleText() throws {
        XCTAssertEqual(try connect().errorCode("INFO"), "NOAUTH")
        let member = try connect(as: "member:M1")
        guard case .bulk(let text) = try member.call(["INFO"]) else { return XCTFail("INFO is not bulk text") }
        for head in ["# Server", "# Clients", "# Stats", "# Commandstats", "# Errorstats", "# Database"] {
            XCTAssertTrue(text.contains(head + "\r\n"), "no \(head) in \(text)")
        }
        for line in text.split(separator: "\r\n") where !line.hasPrefix("#") {
            XCTAssertTrue(line.contains(":"), "not key:value: \(line)")
        }
        guard case .bulk(let clients) = try member.call(["INFO", "clients"]) else { return XCTFail("INFO clients") }
        XCTAssertTrue(clients.hasPrefix("# Clients\r\n"))
        XCTAssertFalse(clients.contains("# Server"))
        XCTAssertEqual(try member.errorCode("INFO", "a", "b"), "ERR")
    }

    func testCommandNamesAreCaseInsensitive() throws {
        let client = try connect()
        XCTAssertEqual(try client.call(["pInG"]), .simple("PONG"))
        XCTAssertEqual(try client.call(["auth", "agent:demo", try secret("agent:demo")]), .simple("OK"))
        XCTAssertEqual(try client.inline("balance M1"), .integer(0))
    }

    func testUnknownCommandsWrongArityAndSyntaxAreERR() throws {
        let client = try connect(as: "agent:demo")
        let unknown = try client.call(["FLUSHALL", "now", "please"])
        XCTAssertEqual(unknown, .error("ERR unknown command 'FLUSHALL', with args beginning with: 'now' 'please'"))
        XCTAssertEqual(try client.call(["ECHO"]), .error("ERR wrong number of arguments for 'echo' command"))
        XCTAssertEqual(try client.errorCode("BALANCE", "M1", "M2"), "ERR")
        XCTAssertEqual(try client.errorCode("PING", "a", "b"), "ERR")
        XCTAssertEqual(try client.errorCode("STATEMENT", "M1", "LIMIT"), "ERR")
        XCTAssertEqual(try client.errorCode("STATEMENT", "M1", "NEWEST", "5"), "ERR")
        XCTAssertEqual(try client.errorCode("REDEEM", "r1", "M1", "POINTS"), "ERR")
        XCTAssertEqual(try cli(nil, "NOSUCH").prefix(4), "ERR ")
        // Before AUTH an unknown command is still ERR, not NOAUTH.
        XCTAssertEqual(try connect().errorCode("NOSUCH"), "ERR")
        assertAnswersPing(client)
    }
}
