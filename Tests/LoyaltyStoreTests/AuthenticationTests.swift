import Foundation
import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// AUTH for partners, agents and members: one WRONGPASS for every failure, PIN lockout, no plain-text secrets.
final class AuthenticationTests: StoreTestCase {
    private func secret(_ principal: String) throws -> String {
        try XCTUnwrap(database.credentials[principal], "demo load issued no secret for \(principal)")
    }

    /// The error an AUTH attempt fails with, or nil when it succeeds.
    private func failure(_ principal: String, _ secret: String) -> LoyaltyError? {
        do {
            _ = try store.authenticate(principal: principal, secret: secret)
            return nil
        } catch {
            return error
        }
    }

    func testEachKindOfPrincipalSignsInWithItsSecret() throws {
        XCTAssertEqual(try store.authenticate(principal: "HOTELCO", secret: secret("HOTELCO")), hotel)
        XCTAssertEqual(try store.authenticate(principal: "SKYAIR", secret: secret("SKYAIR")), skyair)
        XCTAssertEqual(try store.authenticate(principal: "agent:demo", secret: secret("agent:demo")), agent)
        XCTAssertEqual(try store.authenticate(principal: "member:M1", secret: "1234"), .member(number: "M1"))
    }

    func testEveryWrongSignInIsTheSameWrongPass() throws {
        let hotelKey = try secret("HOTELCO")
        let attempts = [
            ("HOTELCO", "pk_wrong"), ("HOTELCO", ""), ("NOSUCH", hotelKey), ("DINECO", hotelKey),
            ("agent:demo", "ak_wrong"), ("agent:nobody", try secret("agent:demo")), ("agent:", ""),
            ("member:M1", "9999"), ("member:NOBODY", "1234"), ("member:", "1234"), ("M1", "1234"), ("", ""),
        ]
        let failures = attempts.map { failure($0.0, $0.1) }
        XCTAssertEqual(failures.map { $0?.code }, Array(repeating: .wrongPass, count: attempts.count))
        XCTAssertEqual(Set(failures.map { $0?.message }).count, 1, "the message must not say which part was wrong")
    }

    func testRotatingAPartnerKeyRetiresTheOldOne() throws {
        let old = try secret("CARDCO")
        let new = try store.rotatePartnerKey(code: "CARDCO", actor: admin)
        XCTAssertNotEqual(new, old)
        XCTAssertEqual(failure("CARDCO", old)?.code, .wrongPass)
        XCTAssertEqual(try store.authenticate(principal: "CARDCO", secret: new), card)
        XCTAssertEqual(try store.audit().last?.action, "partner.key.rotate")
        XCTAssertLoyaltyError(try store.rotatePartnerKey(code: "NOSUCH", actor: admin), .notFound)
    }

    func testANewAgentSignsInWithTheSecretItWasGivenOnce() throws {
        let secret = try store.addAgent(name: "front-desk", actor: admin)
        XCTAssertEqual(try store.authenticate(principal: "agent:front-desk", secret: secret), .agent(name: "front-desk"))
        XCTAssertLoyaltyError(try store.addAgent(name: "front-desk", actor: admin), .conflict)
        XCTAssertEqual(try store.authenticate(principal: "agent:front-desk", secret: secret), .agent(name: "front-desk"))
    }

    func testFiveWrongPINsLockSignInEvenWithTheRightPIN() throws {
        for _ in 1..<store.limits.pinFailuresMax {
            XCTAssertEqual(failure("member:M1", "0000")?.code, .wrongPass)
        }
        // One short of the limit, the right PIN still works, and it starts the count afresh.
        XCTAssertEqual(try store.authenticate(principal: "member:M1", secret: "1234"), .member(number: "M1"))
        for _ in 1...store.limits.pinFailuresMax {
            XCTAssertEqual(failure("member:M1", "0000")?.code, .wrongPass)
        }
        XCTAssertEqual(failure("member:M1", "1234")?.code, .locked)
        XCTAssertEqual(failure("member:M1", "0000")?.code, .locked)
        // Other members are not affected.
        XCTAssertEqual(try store.authenticate(principal: "member:M2", secret: "1234"), .member(number: "M2"))
    }

    func testTheLockLiftsOnItsOwnAfterItsTime() throws {
        var limits = StoreLimits()
        limits.pinLockSeconds = 1
        store = database.store(limits: limits)
        for _ in 1...limits.pinFailuresMax { _ = failure("member:M1", "0000") }
        XCTAssertEqual(failure("member:M1", "1234")?.code, .locked)
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertEqual(try store.authenticate(principal: "member:M1", secret: "1234"), .member(number: "M1"))
    }

    func testSettingAPINClearsTheLock() throws {
        for _ in 1...store.limits.pinFailuresMax { _ = failure("member:M1", "0000") }
        XCTAssertEqual(failure("member:M1", "1234")?.code, .locked)
        try store.setPIN(number: "M1", pin: "246810", actor: agent)
        XCTAssertEqual(try store.authenticate(principal: "member:M1", secret: "246810"), .member(number: "M1"))
        XCTAssertEqual(failure("member:M1", "1234")?.code, .wrongPass)
        XCTAssertLoyaltyError(try store.setPIN(number: "M1", pin: "12a4", actor: agent), .invalid)
        XCTAssertLoyaltyError(try store.setPIN(number: "M1", pin: "123", actor: agent), .invalid)
        XCTAssertLoyaltyError(try store.setPIN(number: "NOBODY", pin: "1234", actor: agent), .notFound)
    }

    func testSettingAPINStartsTheWrongPINCountAfresh() throws {
        for _ in 1..<store.limits.pinFailuresMax { _ = failure("member:M1", "0000") }
        try store.setPIN(number: "M1", pin: "4321", actor: agent)
        // A new PIN gets the full allowance of wrong tries before it locks.
        for _ in 1..<store.limits.pinFailuresMax {
            XCTAssertEqual(failure("member:M1", "0000")?.code, .wrongPass)
        }
        XCTAssertEqual(try store.authenticate(principal: "member:M1", secret: "4321"), .member(number: "M1"))
    }

    func testAClosedMemberCannotSignIn() throws {
        try store.closeMember(number: "M1", reason: "closed at member's request", actor: admin)
        XCTAssertEqual(failure("member:M1", "1234")?.code, .wrongPass)
    }

    func testNoSecretIsStoredInPlainText() throws {
        let partnerKey = try secret("HOTELCO"), agentSecret = try secret("agent:demo")
        let dump = try sql("""
            SELECT string_agg(t::text, ' ') AS everything FROM (
                SELECT key_sha256 AS t FROM partner_keys UNION ALL SELECT secret_sha256 FROM agents
                UNION ALL SELECT pin_hash FROM members WHERE pin_hash IS NOT NULL) s
            """).first?["everything"] ?? ""
        XCTAssertFalse(dump.isEmpty)
        XCTAssertFalse(dump.contains(partnerKey))
        XCTAssertFalse(dump.contains(agentSecret))
        let pins = try sql("SELECT pin_hash FROM members WHERE member_number IN ('M1', 'M2', 'M3')").rows.compactMap { $0["pin_hash"] }
        XCTAssertEqual(pins.count, 3)
        XCTAssertTrue(pins.allSatisfy { $0.hasPrefix("$2") && $0 != "1234" }, "PINs are bcrypt hashes: \(pins)")
        XCTAssertEqual(Set(pins).count, 3, "the same PIN hashes differently per member (salted)")
        // Nor does the audit trail of a rotation or a PIN change carry them.
        let rotated = try store.rotatePartnerKey(code: "HOTELCO", actor: admin)
        try store.setPIN(number: "M2", pin: "97531", actor: agent)
        let audit = try sql("SELECT string_agg(a::text, ' ') AS everything FROM audit_log a").first?["everything"] ?? ""
        XCTAssertFalse(audit.contains(rotated))
        XCTAssertFalse(audit.contains("97531"))
    }
}
