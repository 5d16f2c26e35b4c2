import Foundation
import LoyaltyTesting
import XCTest

/// PIN and MEMBER updates: a member looks after its own sign-in and details; agents after anyone's.
final class SelfServiceTests: EndToEndTestCase {
    func testAMemberChangesItsPINWithTheCurrentOne() throws {
        let member = try connect(as: "member:M1")
        XCTAssertEqual(try member.call(["PIN", "M1", "1234", "98765"]), .simple("OK"))
        XCTAssertEqual(try RawClient(port: server.port).call(["AUTH", "member:M1", "98765"]), .simple("OK"))
        XCTAssertEqual(try RawClient(port: server.port).errorCode("AUTH", "member:M1", "1234"), "WRONGPASS", "the old PIN is gone")
        assertAnswersPing(member, "the session that changed it stays signed in")
        // An agent (a member app's back end) relays a change; it needs the current PIN too.
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.call(["PIN", "M2", "1234", "4321"]), .simple("OK"))
        XCTAssertEqual(try RawClient(port: server.port).call(["AUTH", "member:M2", "4321"]), .simple("OK"))
        XCTAssertEqual(try sql("SELECT string_agg(actor || ' ' || action, ', ' ORDER BY audit_id) FROM audit_log WHERE action = 'member.change-pin'"),
                       "member:M1 member.change-pin, agent:demo member.change-pin")
    }

    func testWrongCurrentPINsCountTowardTheLockoutAndBadNewPINsChangeNothing() throws {
        let member = try connect(as: "member:M1")
        for bad in ["123", "1234567890123", "12a4", "１２３４"] {
            XCTAssertEqual(try member.call(["PIN", "M1", "1234", bad]).errorCode, "INVALID", bad)
        }
        XCTAssertEqual(try member.call(["PIN", "M1", "1234", "1234567890123"]), .error("INVALID a PIN is 4-12 digits"))
        XCTAssertEqual(try member.call(["PIN", "M1", "1234", "123456789012"]), .simple("OK"), "12 digits is the longest")
        XCTAssertEqual(try member.call(["PIN", "M1", "123456789012", "1234"]), .simple("OK"), "4 the shortest")
        XCTAssertEqual(try connect(as: "member:M2").errorCode("PIN", "M1", "1234", "5555"), "NOPERM")
        XCTAssertEqual(try connect(as: "HOTELCO").errorCode("PIN", "M1", "1234", "5555"), "NOPERM")
        XCTAssertEqual(try member.errorCode("PIN", "M1", "1234"), "ERR")
        // Four wrong current PINs and one wrong sign-in make the five that lock (pinFailuresMax).
        for _ in 0..<4 { XCTAssertEqual(try member.call(["PIN", "M1", "0000", "5555"]), .error("WRONGPASS wrong PIN")) }
        XCTAssertEqual(try RawClient(port: server.port).errorCode("AUTH", "member:M1", "0000"), "WRONGPASS")
        XCTAssertEqual(try RawClient(port: server.port).errorCode("AUTH", "member:M1", "1234"), "LOCKED", "the right PIN is locked out too")
        XCTAssertEqual(try member.errorCode("PIN", "M1", "1234", "5555"), "LOCKED", "so is a change")
        XCTAssertEqual(try sql("SELECT count(*) FROM audit_log WHERE action = 'member.change-pin'"), "2")
    }

    func testMembersAndAgentsUpdateNameAndEmail() throws {
        let member = try connect(as: "member:M1")
        XCTAssertEqual(try member.inline(#"MEMBER M1 "name=Ada Lovelace" email=ada@example.com"#), .simple("OK"))
        XCTAssertEqual(try field(member, "M1", "name"), .bulk("Ada Lovelace"))
        XCTAssertEqual(try field(member, "M1", "email"), .bulk("ada@example.com"))
        XCTAssertEqual(try member.call(["MEMBER", "M1", "email="]), .simple("OK"), "an empty email removes it")
        XCTAssertEqual(try field(member, "M1", "email"), .bulk(""))
        XCTAssertEqual(try field(member, "M1", "name"), .bulk("Ada Lovelace"), "a field not given is kept")
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try cli("agent:demo", "MEMBER", "M2", "email=grace@example.com"), "OK\n")
        XCTAssertEqual(try field(agent, "M2", "email"), .bulk("grace@example.com"))
        XCTAssertEqual(try sql("SELECT string_agg(actor || ' ' || details::text, ' | ' ORDER BY audit_id) FROM audit_log WHERE action = 'member.update'"),
                       #"member:M1 {"name": "Ada Lovelace", "email": "ada@example.com"} | member:M1 {"email": ""} | agent:demo {"email": "grace@example.com"}"#)
    }

    func testBadMemberUpdatesAreRefusedAndChangeNothing() throws {
        let member = try connect(as: "member:M1")
        let local = String(repeating: "a", count: 254 - "@example.com".utf8.count)
        XCTAssertEqual(try member.call(["MEMBER", "M1", "email=\(local)@example.com"]), .simple("OK"), "254 bytes is the longest email")
        XCTAssertEqual(try member.call(["MEMBER", "M1", "email=a\(local)@example.com"]), .error("INVALID email is longer than 254 bytes"))
        XCTAssertEqual(try member.call(["MEMBER", "M1", "name=\(String(repeating: "n", count: 200))"]), .simple("OK"))
        XCTAssertEqual(try member.call(["MEMBER", "M1", "name=\(String(repeating: "n", count: 201))"]).errorCode, "INVALID")
        for bad in [["email=no-at-sign"], ["email=two@at@signs"], ["email=@example.com"], ["name=tab\there"], ["phone=555"],
                    ["name=a", "name=b"], ["name"]] {
            XCTAssertEqual(try member.call(["MEMBER", "M1"] + bad).errorCode, "INVALID", "\(bad)")
        }
        XCTAssertEqual(try member.errorCode("MEMBER", "M1", "name=a", "email=b@c", "x=y"), "ERR")
        XCTAssertEqual(try member.errorCode("MEMBER", "M2", "name=Mallory"), "NOPERM")
        XCTAssertEqual(try connect(as: "HOTELCO").errorCode("MEMBER", "M1", "name=Mallory"), "NOPERM")
        XCTAssertEqual(try connect(as: "agent:demo").errorCode("MEMBER", "M404", "name=Nobody"), "NOTFOUND")
        XCTAssertEqual(try field(member, "M1", "name"), .bulk(String(repeating: "n", count: 200)))
        XCTAssertEqual(try field(connect(as: "agent:demo"), "M2", "name"), .bulk("Demo member M2"))
    }

    private func field(_ client: RawClient, _ number: String, _ name: String) throws -> RESPValue? {
        guard case .array(let pairs) = try client.call(["MEMBER", number]) else { throw UnexpectedReply("MEMBER \(number)") }
        return stride(from: 0, to: pairs.count - 1, by: 2).first { pairs[$0] == .bulk(name) }.map { pairs[$0 + 1] }
    }
}
