import Foundation
import LoyaltyTesting
import Postgres
import XCTest

/// SQL-looking text, NUL, non-UTF-8 bytes and other unwelcome values in every argument of every
/// command: each is a clean refusal (or, in free text, taken literally), no table changes, the
/// server stays up and serving.
final class HostileArgumentTests: ReliabilityTestCase {
    /// None of these is a valid id, member number, number, date or code, so any command that got
    /// one where a value of that kind belongs must refuse it.
    static let hostileValues: [[UInt8]] = [
        "'; DROP TABLE members; --", "\" OR \"1\"=\"1", "1; DELETE FROM ledger_entries WHERE 'a'='a'",
        "$1); TRUNCATE audit_log CASCADE; --", "M1' OR member_number LIKE '%", "M1\0'; DROP TABLE members; --",
        "%s%s%n %x", "\r\n*1\r\n$8\r\nFLUSHALL\r\n", "M1\tM2", "\u{202E}1M", "Ｍ１", "",
        String(repeating: "'", count: 5_000),
    ].map { Array($0.utf8) } + [
        [0xff, 0xfe, 0xfd], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0x4d, 0x31, 0x80],
    ]

    /// A valid request as each kind of principal sends it. Positions listed in `freeText` take
    /// any text (ECHO's message, INFO's section); every other argument must refuse a hostile value.
    struct Template {
        var principal: String?
        var words: [String]
        var freeText: Set<Int> = []
    }

    func testHostileValuesInEveryArgumentOfEveryCommandAreRefusedAndChangeNothing() throws {
        let (holdID, redemptionID) = try seed()
        let agentSecret = try secret("agent:demo"), hotelKey = try secret("HOTELCO"), today = Self.today
        let templates: [Template] = [
            Template(words: ["PING", "x"], freeText: [1]),
            Template(words: ["ECHO", "x"], freeText: [1]),
            Template(words: ["AUTH", "agent:demo", agentSecret]),
            Template(words: ["AUTH", "HOTELCO", hotelKey]),
            Template(words: ["HELLO", "2", "AUTH", "agent:demo", agentSecret, "SETNAME", "x"], freeText: [6]),
            Template(words: ["COMMAND", "DOCS"], freeText: [1]),
            Template(principal: "agent:demo", words: ["INFO", "server"], freeText: [1]),
            Template(principal: "agent:demo", words: ["ENROLL", "M1", "name=x", "email=y"]),
            Template(principal: "agent:demo", words: ["BALANCE", "M1"]),
            Template(principal: "agent:demo", words: ["MEMBER", "M1"]),
            // An unknown member or another member's: refused whatever the other arguments hold.
            Template(principal: "agent:demo", words: ["MEMBER", "M404", "name=x", "email=y@z"]),
            Template(principal: "agent:demo", words: ["PIN", "M404", "0000", "5678"]),
            Template(principal: "member:M2", words: ["MEMBER", "M1", "name=x"]),
            Template(principal: "member:M2", words: ["PIN", "M1", "1234", "5678"]),
            Template(principal: "agent:demo", words: ["TIER", "M1"]),
            Template(principal: "agent:demo", words: ["STATEMENT", "M1", "LIMIT", "5", "BEFORE", "1000"]),
            Template(principal: "agent:demo", words: ["REWARDS"]),
            Template(principal: "agent:demo", words: ["REWARDS", "M1"]),
            Template(principal: "agent:demo", words: ["REDEEM", "r-new", "M1", "POINTS", "1"]),
            Template(principal: "agent:demo", words: ["REDEEM", "r-new", "M1", "GIFT-50", "1"]),
            Template(principal: "agent:demo", words: ["HOLD", "h-new", "M1", "1", "60"]),
            Template(principal: "agent:demo", words: ["CAPTURE", holdID, "GIFT-50"]),
            Template(principal: "agent:demo", words: ["RELEASE", holdID]),
            Template(principal: "agent:demo", words: ["CANCEL", redemptionID]),
            Template(principal: "agent:demo", words: ["TRANSFER", "t-new", "M1", "M2", "1"]),
            Template(principal: "member:M2", words: ["BALANCE", "M2"]),
            Template(principal: "member:M2", words: ["TRANSFER", "t-new", "M2", "M1", "1"]),
            Template(principal: "HOTELCO", words: ["ACCRUE", "a-new", "M1", today, "amount=1.00", "currency=USD"]),
            Template(principal: "HOTELCO", words: ["REVERSE", "seed", "points=1"]),
            Template(principal: "HOTELCO", words: ["BATCH", "BEGIN", "b-new"]),
            Template(principal: "HOTELCO", words: ["BATCH", "STATUS", "seed-batch"]),
            Template(principal: "HOTELCO", words: ["BATCH", "ERRORS", "seed-batch"]),
        ]
        let before = try tableDigests()
        var tried = 0
        for template in templates {
            // AUTH and HELLO go on a fresh connection each, to see that a refused one signed nobody in.
            let signsIn = ["AUTH", "HELLO"].contains(template.words[0])
            let shared = signsIn ? nil : try connect(as: template.principal)
            for position in template.words.indices {
                for value in Self.variants(of: template.words[position], at: position) {
                    let client = try shared ?? connect()
                    var words = template.words.map { Array($0.utf8) }
                    words[position] = value
                    client.send(resp(words))
                    let reply = try client.readReply()
                    tried += 1
                    let shown = "\(template.words[0]) with argument \(position) = \(String(decoding: value.prefix(40), as: UTF8.self).debugDescription)"
                    if position > 0 && template.freeText.contains(position) {
                        if template.words[0] == "ECHO" || template.words[0] == "PING" {
                            XCTAssertEqual(reply, .bulk(String(decoding: value, as: UTF8.self)), shown)
                        }
                    } else {
                        assertCleanRefusal(reply, shown)
                        if signsIn { XCTAssertEqual(try client.call(["INFO"]).errorCode, "NOAUTH", "\(shown) signed someone in") }
                    }
                }
            }
            if let shared { XCTAssertEqual(try shared.call(["PING"]), .simple("PONG"), "after \(template.words[0])") }
        }
        XCTAssertEqual(try tableDigests(), before, "a refused request changed a table")
        XCTAssertTrue(server.process.isRunning)
        try assertLedgerVerifies()
        print("hostile arguments: \(tried) requests over \(templates.count) command forms, \(Self.hostileValues.count) values")
    }

    func testSQLLookingAndUnusualTextIsStoredLiterally() throws {
        let agent = try connect(as: "agent:demo")
        let name = "Robert'); DROP TABLE members; -- \u{202E} Ｍ１", email = "\"x\"@'; TRUNCATE ledger_entries; --"
        XCTAssertEqual(try agent.call(["ENROLL", "Z9", "name=\(name)", "email=\(email)"]), .simple("OK"))
        guard let fields = try agent.call(["MEMBER", "Z9"]).fields else { return XCTFail("MEMBER Z9") }
        let pairs = Dictionary(uniqueKeysWithValues: stride(from: 0, to: fields.count - 1, by: 2).map {
            (fields[$0].text ?? "", fields[$0 + 1].text ?? "") })
        XCTAssertEqual(pairs["name"], name)
        XCTAssertEqual(pairs["email"], email)
        XCTAssertEqual(try value("SELECT count(*) FROM members"), "4", "the three demo members and Z9")
        XCTAssertEqual(try value("SELECT name FROM members WHERE member_number = 'Z9'"), name)
    }

    // MARK: - Helpers

    /// The hostile values, and for a `field=value` argument each also as the field's value.
    static func variants(of word: String, at position: Int) -> [[UInt8]] {
        guard position > 0, let equals = word.firstIndex(of: "=") else { return hostileValues }
        let field = Array(word[...equals].utf8)
        return hostileValues + hostileValues.map { field + $0 }
    }

    /// A documented error code for bad input, with a message that gives nothing of the
    /// database away (no "internal error", no SQLSTATE, no SQL).
    private func assertCleanRefusal(_ reply: RESPValue, _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        let codes: Set<String> = ["ERR", "INVALID", "NOTFOUND", "NOPERM", "WRONGPASS", "CONFLICT"]
        guard let code = reply.errorCode, codes.contains(code), case .error(let text) = reply else {
            return XCTFail("\(context): expected a refusal, got \(reply)", file: file, line: line)
        }
        for leak in ["internal", "SQLSTATE", "syntax error at", "relation"] where text.contains(leak) {
            XCTFail("\(context): \(reply)", file: file, line: line)
        }
    }

    /// A hold, a redemption, an accrual and a batch for the templates to point at.
    private func seed() throws -> (hold: String, redemption: String) {
        let hotel = try connect(as: "HOTELCO")
        XCTAssertEqual(try hotel.call(["ACCRUE", "seed", "M1", Self.today, "amount=5000.00", "currency=USD"]).fields?.count, 3)
        XCTAssertEqual(try hotel.call(["BATCH", "BEGIN", "seed-batch"]), .simple("OK"))
        XCTAssertEqual(try hotel.call(["ACCRUE", "seed-2", "M404", Self.today, "amount=1.00", "currency=USD"]), .simple("QUEUED"))
        XCTAssertEqual(try hotel.call(["BATCH", "COMMIT"]).fields?.count, 4)
        let agent = try connect(as: "agent:demo")
        let hold = try XCTUnwrap(try agent.call(["HOLD", "seed-hold", "M1", "100", "600"]).fields?.first?.text)
        let redemption = try XCTUnwrap(try agent.call(["REDEEM", "seed-redeem", "M1", "POINTS", "100"]).fields?.first?.text)
        return (hold, redemption)
    }

    /// A digest of every table's rows, so any change anywhere shows.
    private func tableDigests() throws -> [String: String] {
        var digests: [String: String] = [:]
        for row in try rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1") {
            let table = try XCTUnwrap(row[0])
            digests[table] = try value("SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \(Connection.escapeIdentifier(table)) t")
        }
        return digests
    }
}
