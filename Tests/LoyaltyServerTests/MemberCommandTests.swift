import LoyaltyStore
import LoyaltyTesting
import XCTest

/// ENROLL BALANCE MEMBER TIER STATEMENT: agents for any member, members for themselves only.
final class MemberCommandTests: EndToEndTestCase {
    func testEnrollThenReadTheNewMember() throws {
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.inline(#"ENROLL M100 "name=Ada Lovelace" email=ada@example.com"#), .simple("OK"))
        let member = try fields(agent, "M100")
        XCTAssertEqual(member["name"], .bulk("Ada Lovelace"))
        XCTAssertEqual(member["email"], .bulk("ada@example.com"))
        XCTAssertEqual(member["status"], .bulk("active"))
        XCTAssertEqual(try agent.call(["ENROLL", "M101"]), .simple("OK"))
        XCTAssertEqual(try agent.call(["BALANCE", "M101"]), .integer(0))
        XCTAssertEqual(try cli("agent:demo", "ENROLL", "M102", "name=Grace"), "OK\n")
    }

    func testEnrollRefusesAnExistingNumberBadInputAndNonAgents() throws {
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.call(["ENROLL", "M1", "name=Someone Else"]), .error("CONFLICT member M1 exists"))
        XCTAssertEqual(try fields(agent, "M1")["name"], .bulk("Demo member M1"), "a refused ENROLL changes nothing")
        XCTAssertEqual(try agent.errorCode("ENROLL", "M 1"), "INVALID")
        XCTAssertEqual(try agent.errorCode("ENROLL", String(repeating: "9", count: 33)), "INVALID")
        XCTAssertEqual(try agent.errorCode("ENROLL", "M200", "phone=555"), "INVALID")
        XCTAssertEqual(try agent.errorCode("ENROLL", "M200", "no-equals-sign"), "INVALID")
        XCTAssertEqual(try agent.inline(#"ENROLL M200 "name=nul\x00byte""#), .error("INVALID argument 2 contains a NUL byte"))
        XCTAssertEqual(try agent.inline(#"ENROLL M200 "name=\xc3\x28""#), .error("INVALID argument 2 is not valid UTF-8"))
        XCTAssertEqual(try agent.errorCode("BALANCE", "M200"), "NOTFOUND", "refused enrolments created nothing")
        XCTAssertEqual(try connect(as: "HOTELCO").errorCode("ENROLL", "M201"), "NOPERM")
        XCTAssertEqual(try connect(as: "member:M1").errorCode("ENROLL", "M201"), "NOPERM")
        assertAnswersPing(agent)
    }

    func testBalanceForAgentsAnyMemberAndMembersOnlyThemselves() throws {
        try credit("M1", 700)
        try credit("M2", 300)
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(700))
        XCTAssertEqual(try agent.call(["BALANCE", "M2"]), .integer(300))
        XCTAssertEqual(try agent.errorCode("BALANCE", "M404"), "NOTFOUND")
        XCTAssertEqual(try agent.errorCode("BALANCE", "not/valid"), "INVALID")
        let member = try connect(as: "member:M1")
        XCTAssertEqual(try member.call(["BALANCE", "M1"]), .integer(700))
        for words in [["BALANCE", "M2"], ["MEMBER", "M2"], ["TIER", "M2"], ["STATEMENT", "M2"], ["BALANCE", "M404"]] {
            XCTAssertEqual(try member.call(words), .error("NOPERM a member may act only on itself"), "\(words)")
        }
        XCTAssertEqual(try connect(as: "HOTELCO").errorCode("BALANCE", "M1"), "NOPERM", "partners read no balances")
        XCTAssertEqual(try cli("member:M2", "BALANCE", "M2"), "300\n")
        assertAnswersPing(member)
    }

    func testMemberShowsEveryFieldOfTheContract() throws {
        XCTAssertEqual(try cli("HOTELCO", "ACCRUE", "t1", "M1", Self.today, "amount=450.00", "currency=USD"), "t1\n1350\n0\n")
        let member = try fields(try connect(as: "member:M1"), "M1")
        let expected: [String: RESPValue] = [
            "number": .bulk("M1"), "name": .bulk("Demo member M1"), "status": .bulk("active"), "tier": .bulk("Member"),
            "tier_until": .null, "balance": .bulk("1350"), "available": .bulk("1350"), "qualifying": .bulk("0"),
            "next_tier": .bulk("Premier"), "to_next_tier": .bulk("25000"), "last_activity": .bulk(Self.today),
        ]
        for (field, value) in expected {
            XCTAssertEqual(member[field], value, field)
        }
    }

    func testTierOnTheBaseTierAndAfterQualifying() throws {
        let year = Int(Self.today.prefix(4))!
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.call(["TIER", "M1"]),
                       .array([.bulk("Member"), .null, .integer(0), .bulk("\(year)-12-31"), .bulk("Premier"), .integer(25_000)]))
        let air = try connect(as: "SKYAIR")
        XCTAssertEqual(try air.call(["ACCRUE", "f1", "M1", Self.today, "miles=26000", "cabin=Y"]), triple("f1", 26_000, 26_000))
        let until = "\(year + 2)-02-\(isLeap(year + 2) ? 29 : 28)"
        XCTAssertEqual(try agent.call(["TIER", "M1"]), .array([.bulk("Premier"), .bulk(until), .integer(26_000),
                                                               .bulk("\(year)-12-31"), .bulk("Premier Executive"), .integer(24_000)]))
        // The top tier has nothing next.
        XCTAssertEqual(try air.call(["ACCRUE", "f2", "M1", Self.today, "miles=80000"]), triple("f2", 100_000, 80_000))
        XCTAssertEqual(try agent.call(["TIER", "M1"]),
                       .array([.bulk("1K"), .bulk(until), .integer(106_000), .bulk("\(year)-12-31"), .null, .null]))
        let member = try fields(agent, "M1")
        XCTAssertEqual(member["tier"], .bulk("1K"))
        XCTAssertEqual(member["next_tier"], .null)
        XCTAssertEqual(member["to_next_tier"], .null)
        XCTAssertEqual(try cli("member:M1", "TIER", "M1"), "1K\n\(until)\n106000\n\(year)-12-31\n\n\n")
    }

    func testStatementIsNewestFirstAndPagesWithLimitAndBefore() throws {
        for index in 1...5 { try credit("M1", 100 * index, txn: "c\(index)") }
        let member = try connect(as: "member:M1")
        let all = try entries(member.call(["STATEMENT", "M1"]))
        XCTAssertEqual(all.map(\.reference), ["c5", "c4", "c3", "c2", "c1"])
        XCTAssertEqual(all.map(\.points), [500, 400, 300, 200, 100])
        XCTAssertEqual(all.map(\.qualifying), [25, 20, 15, 10, 5])
        XCTAssertEqual(Set(all.map(\.kind)), ["accrual"])
        XCTAssertEqual(Set(all.map(\.source)), ["CARDCO"])
        XCTAssertEqual(all.map(\.id), all.map(\.id).sorted(by: >))
        for entry in all {
            XCTAssertNotNil(entry.postedAt.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"#, options: .regularExpression), entry.postedAt)
        }
        let first = try entries(member.call(["STATEMENT", "M1", "LIMIT", "2"]))
        XCTAssertEqual(first.map(\.reference), ["c5", "c4"])
        let second = try entries(member.call(["STATEMENT", "M1", "LIMIT", "2", "BEFORE", String(first[1].id)]))
        XCTAssertEqual(second.map(\.reference), ["c3", "c2"])
        let third = try entries(member.call(["STATEMENT", "M1", "BEFORE", String(second[1].id), "LIMIT", "2"]))
        XCTAssertEqual(third.map(\.reference), ["c1"])
        XCTAssertEqual(try member.call(["STATEMENT", "M1", "BEFORE", String(third[0].id)]), .array([]))
        XCTAssertEqual(try connect(as: "agent:demo").call(["STATEMENT", "M2"]), .array([]))
        XCTAssertEqual(try member.errorCode("STATEMENT", "M1", "LIMIT", "0"), "INVALID")
        XCTAssertEqual(try member.errorCode("STATEMENT", "M1", "LIMIT", "1001"), "INVALID")
        XCTAssertEqual(try member.errorCode("STATEMENT", "M1", "LIMIT", "ten"), "INVALID")
        XCTAssertEqual(try member.errorCode("STATEMENT", "M1", "LIMIT", "2", "LIMIT", "3"), "ERR")
        XCTAssertEqual(try connect(as: "agent:demo").errorCode("STATEMENT", "M404"), "NOTFOUND")
        let line = try cli("member:M1", "STATEMENT", "M1", "LIMIT", "1").split(separator: "\n").map(String.init)
        XCTAssertEqual(line.count, 7)
        XCTAssertEqual(Array(line[2...]), ["accrual", "500", "25", "CARDCO", "c5"])
    }

    func testStatementBytesAreTheRowsAsTheDatabaseWritesThem() throws {
        try credit("M1", 100, txn: "c1")
        try credit("M1", 2_500, txn: "c-two")
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.call(["REDEEM", "r1", "M1", "POINTS", "7"]).arrayCount, 3)
        // The oracle: the reply built in SQL from the rows, timestamps by to_char as the protocol documents them.
        let field = { (column: String) in "E'$' || octet_length(\(column)) || E'\\r\\n' || \(column) || E'\\r\\n'" }
        let wire = { (limit: Int) in try XCTUnwrap(self.sql("""
            SELECT '*' || count(*) || E'\\r\\n' || coalesce(string_agg(E'*7\\r\\n:' || entry_id || E'\\r\\n'
                || \(field("to_char(posted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")) || \(field("kind"))
                || ':' || points || E'\\r\\n:' || qualifying || E'\\r\\n' || \(field("source")) || \(field("reference")),
                '' ORDER BY entry_id DESC), '')
            FROM (SELECT * FROM ledger_entries WHERE member_number = 'M1' ORDER BY entry_id DESC LIMIT \(limit)) e
            """)) }
        for version in ["2", "3"] {
            XCTAssertEqual(try agent.call(["HELLO", version]).errorCode, nil)
            for limit in [1, 3, 1_000] {
                let expected = Array(try wire(limit).utf8)
                agent.sendCommand(["STATEMENT", "M1", "LIMIT", String(limit)])
                XCTAssertEqual(String(decoding: try agent.readBytes(expected.count), as: UTF8.self), String(decoding: expected, as: UTF8.self),
                               "RESP\(version), LIMIT \(limit)")
                XCTAssertEqual(try agent.call(["PING"]), .simple("PONG"), "nothing after the reply")
            }
        }
        XCTAssertEqual(try agent.call(["STATEMENT", "M2"]), .array([]), "a member without entries")
    }

    func testAnAdminAdjustmentShowsInTheStatement() throws {
        let store = database.store()
        defer { store.pool.close() }
        XCTAssertEqual(try store.adjust(member: "M2", points: 250, reason: "goodwill", actor: .admin(user: "ops")), 250)
        guard case .array(let rows) = try connect(as: "member:M2").call(["STATEMENT", "M2"]), case .array(let entry) = rows.first else {
            return XCTFail("STATEMENT M2")
        }
        XCTAssertEqual(Array(entry[2...5]), [.bulk("adjustment"), .integer(250), .integer(0), .bulk("admin:ops")])
        XCTAssertEqual(try cli("member:M2", "BALANCE", "M2"), "250\n")
    }

    func testAClosedMemberIsReadableButTakesNoChanges() throws {
        try credit("M3", 20_000)
        try closeMember("M3")
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.call(["BALANCE", "M3"]), .integer(20_000))
        XCTAssertEqual(try fields(agent, "M3")["status"], .bulk("closed"))
        let card = try connect(as: "CARDCO")
        XCTAssertEqual(try card.call(["ACCRUE", "late", "M3", Self.today, "amount=10.00", "currency=USD"]),
                       .error("CLOSED member M3 is closed"))
        XCTAssertEqual(try agent.errorCode("REDEEM", "r1", "M3", "GIFT-50"), "CLOSED")
        XCTAssertEqual(try agent.errorCode("REDEEM", "r2", "M3", "POINTS", "10"), "CLOSED")
        XCTAssertEqual(try agent.errorCode("HOLD", "h1", "M3", "10"), "CLOSED")
        XCTAssertEqual(try agent.errorCode("TRANSFER", "t1", "M3", "M1", "10"), "CLOSED")
        try credit("M1", 10)
        XCTAssertEqual(try agent.errorCode("TRANSFER", "t3", "M1", "M3", "10"), "CLOSED")
        XCTAssertEqual(try agent.call(["BALANCE", "M3"]), .integer(20_000), "nothing refused changed M3")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(10), "nothing refused changed M1")
        XCTAssertEqual(try agent.call(["STATEMENT", "M3", "LIMIT", "5"]).arrayCount, 1)
        XCTAssertEqual(try connect().errorCode("AUTH", "member:M3", "1234"), "WRONGPASS", "a closed member cannot sign in")
        assertAnswersPing(agent)
    }

    // MARK: - Helpers

    private func fields(_ client: RawClient, _ number: String) throws -> [String: RESPValue] {
        guard case .array(let flat) = try client.call(["MEMBER", number]) else {
            XCTFail("MEMBER \(number) is not an array")
            return [:]
        }
        XCTAssertEqual(flat.count % 2, 0)
        var result: [String: RESPValue] = [:]
        for index in stride(from: 0, to: flat.count - 1, by: 2) {
            guard case .bulk(let name) = flat[index] else { continue }
            result[name] = flat[index + 1]
        }
        return result
    }

    private struct Entry { var id: Int64; var postedAt: String; var kind: String; var points: Int64; var qualifying: Int64
                           var source: String; var reference: String }

    private func entries(_ reply: RESPValue) throws -> [Entry] {
        guard case .array(let rows) = reply else { throw UnexpectedReply("STATEMENT is not an array: \(reply)") }
        return try rows.map { row in
            guard case .array(let f) = row, f.count == 7, case .integer(let id) = f[0], case .bulk(let postedAt) = f[1],
                  case .bulk(let kind) = f[2], case .integer(let points) = f[3], case .integer(let qualifying) = f[4],
                  case .bulk(let source) = f[5], case .bulk(let reference) = f[6] else {
                throw UnexpectedReply("malformed statement entry \(row)")
            }
            return Entry(id: id, postedAt: postedAt, kind: kind, points: points, qualifying: qualifying, source: source,
                         reference: reference)
        }
    }

    private func closeMember(_ number: String) throws {
        let store = database.store()
        defer { store.pool.close() }
        try store.closeMember(number: number, reason: "end-to-end test", actor: .admin(user: "test"))
    }

}

extension RESPValue {
    /// Items of an array reply; -1 for anything else.
    var arrayCount: Int {
        if case .array(let items) = self { return items.count }
        return -1
    }
}
