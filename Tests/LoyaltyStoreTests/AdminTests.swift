import LoyaltyCore
@testable import LoyaltyStore
import LoyaltyTesting
import XCTest

/// Admin actions: adjustments, tier overrides, enrolment and closing, each in the audit trail.
final class AdminTests: StoreTestCase {
    func testAdjustmentsMovePointsBothWaysAndAreAudited() throws {
        XCTAssertEqual(try store.adjust(member: "M1", points: 500, reason: "goodwill: delayed bag", actor: admin), 500)
        XCTAssertEqual(try store.adjust(member: "M1", points: -200, reason: "duplicate goodwill", actor: admin), 300)
        XCTAssertEqual(try available("M1"), 300)
        let entries = try store.statement(number: "M1", limit: nil, before: nil)
        XCTAssertEqual(entries.map(\.kind), ["adjustment", "adjustment"])
        XCTAssertEqual(entries.map(\.points), [-200, 500])
        XCTAssertEqual(entries.map(\.source), ["admin:tester", "admin:tester"])
        let audit = try store.audit(member: "M1")
        XCTAssertEqual(audit.map(\.action), ["points.adjust", "points.adjust"])
        XCTAssertEqual(audit.map(\.actor), ["admin:tester", "admin:tester"])
        XCTAssertEqual(audit.map(\.reason), ["goodwill: delayed bag", "duplicate goodwill"])
        XCTAssertTrue(audit[0].details.contains("500"), audit[0].details)
        XCTAssertTrue(audit[1].details.contains("-200"), audit[1].details)
        XCTAssertFalse(audit[0].at.isEmpty)
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testAnAdjustmentMayNotTakeAvailableBelowZero() throws {
        try fund("M1", 1_000)
        _ = try store.hold(principal: agent, requestID: "h", member: "M1", points: 600, ttlSeconds: nil)
        XCTAssertLoyaltyError(try store.adjust(member: "M1", points: -401, reason: "too much", actor: admin), .insufficient)
        XCTAssertEqual(try store.adjust(member: "M1", points: -400, reason: "exactly what is free", actor: admin), 600)
        XCTAssertEqual(try available("M1"), 0)
        XCTAssertEqual(try store.audit(member: "M1").filter { $0.action == "points.adjust" }.count, 2)
    }

    func testAdjustmentsNeedAReasonANonZeroAmountAndAKnownMember() throws {
        XCTAssertLoyaltyError(try store.adjust(member: "M1", points: 10, reason: "", actor: admin), .invalid)
        XCTAssertLoyaltyError(try store.adjust(member: "M1", points: 0, reason: "nothing", actor: admin), .invalid)
        XCTAssertLoyaltyError(try store.adjust(member: "NOBODY", points: 10, reason: "who?", actor: admin), .notFound)
        XCTAssertEqual(try store.audit(member: "M1"), [])
    }

    func testATierSetByHandHoldsUntilItsDateAndIsAudited() throws {
        let until = try store.today().adding(days: 90)
        try store.setTier(number: "M2", tierCode: "PREMIER_EXECUTIVE", until: until, reason: "status match", actor: admin)
        let member = try store.member(number: "M2")
        XCTAssertEqual(member.tier.code, "PREMIER_EXECUTIVE")
        XCTAssertEqual(member.tierUntil, until)
        let record = try XCTUnwrap(store.audit(member: "M2").last)
        XCTAssertEqual(record.action, "tier.set")
        XCTAssertEqual(record.actor, "admin:tester")
        XCTAssertEqual(record.reason, "status match")
        XCTAssertTrue(record.details.contains("PREMIER_EXECUTIVE"), record.details)
        let history = try sql("SELECT from_tier, to_tier, reason FROM tier_history WHERE member_number = 'M2'").rows
        XCTAssertEqual(history.map { $0["to_tier"] }, ["PREMIER_EXECUTIVE"])
        XCTAssertEqual(history.first?["reason"]?.contains("status match"), true)
        // The override's flight bonus applies at once.
        XCTAssertEqual(try store.accrue(partner: skyair, txnID: "f", member: "M2", input: input([("miles", "1000")])).points, 1_500)
    }

    func testATierSetNeedsAKnownTierAFutureDateAndAReason() throws {
        let today = try store.today()
        XCTAssertLoyaltyError(try store.setTier(number: "M1", tierCode: "GOLD", until: today, reason: "r", actor: admin), .invalid)
        XCTAssertLoyaltyError(try store.setTier(number: "M1", tierCode: "PREMIER", until: today.adding(days: -1), reason: "r", actor: admin), .invalid)
        XCTAssertLoyaltyError(try store.setTier(number: "M1", tierCode: "PREMIER", until: today, reason: "", actor: admin), .invalid)
        XCTAssertLoyaltyError(try store.setTier(number: "NOBODY", tierCode: "PREMIER", until: today, reason: "r", actor: admin), .notFound)
        XCTAssertEqual(try store.member(number: "M1").tier.code, "MEMBER")
        XCTAssertEqual(try store.audit(member: "M1"), [])
    }

    func testEnrolmentIsAuditedAndANumberIsEnrolledOnce() throws {
        try store.enroll(number: "M100", name: "Ada", email: "ada@example.com", actor: agent)
        let member = try store.member(number: "M100")
        XCTAssertEqual([member.name, member.email, member.status, member.tier.code], ["Ada", "ada@example.com", "active", "MEMBER"])
        XCTAssertEqual(member.balance, 0)
        XCTAssertLoyaltyError(try store.enroll(number: "M100", name: "Someone else", actor: agent), .conflict)
        XCTAssertLoyaltyError(try store.enroll(number: "M1", actor: agent), .conflict)
        XCTAssertLoyaltyError(try store.enroll(number: "bad number", actor: agent), .invalid)
        XCTAssertEqual(try store.member(number: "M100").name, "Ada")
        XCTAssertEqual(try store.audit(member: "M100").map(\.action), ["member.enroll"])
        XCTAssertEqual(try store.audit(member: "M100").map(\.actor), ["agent:demo"])
    }

    func testClosingAMemberIsAuditedWithItsReason() throws {
        XCTAssertLoyaltyError(try store.closeMember(number: "M3", reason: "", actor: admin), .invalid)
        try store.closeMember(number: "M3", reason: "fraud review", actor: admin)
        let record = try XCTUnwrap(store.audit(member: "M3").last)
        XCTAssertEqual([record.action, record.actor, record.reason], ["member.close", "admin:tester", "fraud review"])
        XCTAssertLoyaltyError(try store.adjust(member: "M3", points: 10, reason: "after close", actor: admin), .closed)
    }

    func testTheAuditTrailCannotBeRewritten() throws {
        _ = try store.adjust(member: "M1", points: 10, reason: "r", actor: admin)
        XCTAssertThrowsError(try sql("UPDATE audit_log SET reason = 'nothing to see'"))
        XCTAssertThrowsError(try sql("DELETE FROM audit_log"))
        XCTAssertEqual(try store.audit(member: "M1").map(\.reason), ["r"])
    }
}
