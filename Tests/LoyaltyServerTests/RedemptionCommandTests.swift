import Foundation
import LoyaltyTesting
import XCTest

/// REWARDS REDEEM HOLD CAPTURE RELEASE CANCEL TRANSFER: never below zero, request-ids exactly once.
final class RedemptionCommandTests: EndToEndTestCase {
    func testRewardsIsTheDemoCatalog() throws {
        let catalog: RESPValue = .array([
            .array([.bulk("DOM-ECON"), .integer(12_500), .bulk("one-way domestic economy award")]),
            .array([.bulk("INTL-BIZ"), .integer(80_000), .bulk("one-way international business award")]),
            .array([.bulk("UPGRADE"), .integer(10_000), .bulk("one cabin upgrade")]),
            .array([.bulk("HOTEL-NIGHT"), .integer(25_000), .bulk("one free night at a partner hotel")]),
            .array([.bulk("GIFT-50"), .integer(6_000), .bulk("50.00 gift card")]),
        ])
        XCTAssertEqual(try connect(as: "member:M1").call(["REWARDS"]), catalog)
        XCTAssertEqual(try connect(as: "agent:demo").call(["REWARDS"]), catalog)
        XCTAssertEqual(try connect().errorCode("REWARDS"), "NOAUTH")
        XCTAssertEqual(try connect(as: "agent:demo").errorCode("REWARDS", "M1", "M2"), "ERR")
    }

    func testRedeemARewardAQuantityAndPlainPointsExactlyOnce() throws {
        try credit("M1", 50_000)
        let agent = try connect(as: "agent:demo")
        let first = try agent.call(["REDEEM", "r1", "M1", "DOM-ECON"])
        let id = try redemptionID(first)
        XCTAssertEqual(first, triple(id, 12_500, 37_500))
        XCTAssertEqual(try agent.call(["REDEEM", "r1", "M1", "DOM-ECON"]), first, "a replay returns the original reply")
        XCTAssertEqual(try agent.call(["REDEEM", "r1", "M1", "DOM-ECON", "2"]),
                       .error("CONFLICT request-id r1 was already used with different content"))
        XCTAssertEqual(try agent.errorCode("REDEEM", "r1", "M1", "UPGRADE"), "CONFLICT")
        let gifts = try agent.call(["REDEEM", "r2", "M1", "GIFT-50", "3"])
        XCTAssertEqual(gifts, triple(try redemptionID(gifts), 18_000, 19_500))
        let points = try agent.call(["REDEEM", "r3", "M1", "points", "500"])
        XCTAssertEqual(points, triple(try redemptionID(points), 500, 19_000))
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(19_000))
        let member = try connect(as: "member:M1")
        let own = try member.call(["REDEEM", "app-1", "M1", "UPGRADE"])
        XCTAssertEqual(own, triple(try redemptionID(own), 10_000, 9_000))
        let sameIDOtherPrincipal = try member.call(["REDEEM", "r1", "M1", "POINTS", "1000"])
        XCTAssertEqual(sameIDOtherPrincipal, triple(try redemptionID(sameIDOtherPrincipal), 1_000, 8_000), "request-ids are per principal")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(8_000))
    }

    func testRedeemRefusalsChangeNothingAndLeaveTheRequestIDFree() throws {
        try credit("M1", 10_000)
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.call(["REDEEM", "r1", "M1", "INTL-BIZ"]), .error("INSUFFICIENT 80000 needed, 10000 available"))
        XCTAssertEqual(try agent.errorCode("REDEEM", "r1", "M1", "POINTS", "10001"), "INSUFFICIENT")
        XCTAssertEqual(try agent.errorCode("REDEEM", "r1", "M1", "GIFT-50", "2"), "INSUFFICIENT")
        XCTAssertEqual(try agent.call(["REDEEM", "r1", "M1", "NO-SUCH"]), .error("NOTFOUND no reward NO-SUCH"))
        XCTAssertEqual(try agent.errorCode("REDEEM", "r1", "M404", "GIFT-50"), "NOTFOUND")
        for bad in [["GIFT-50", "0"], ["GIFT-50", "101"], ["GIFT-50", "one"], ["POINTS", "0"], ["POINTS", "-5"], ["POINTS", "1.5"]] {
            XCTAssertEqual(try agent.call(["REDEEM", "r1", "M1"] + bad).errorCode, "INVALID", "\(bad)")
        }
        XCTAssertEqual(try agent.errorCode("REDEEM", "has space", "M1", "GIFT-50"), "INVALID")
        XCTAssertEqual(try connect(as: "member:M2").errorCode("REDEEM", "r1", "M1", "GIFT-50"), "NOPERM")
        XCTAssertEqual(try connect(as: "HOTELCO").errorCode("REDEEM", "r1", "M1", "GIFT-50"), "NOPERM")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(10_000))
        XCTAssertEqual(try agent.call(["STATEMENT", "M1"]).arrayCount, 1, "only the credit")
        // r1 was never used: after more points arrive it redeems normally.
        try credit("M1", 70_000)
        XCTAssertEqual(try agent.call(["REDEEM", "r1", "M1", "INTL-BIZ"]).arrayCount, 3)
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(0))
        assertAnswersPing(agent)
    }

    func testHoldSetsPointsAsideAndCaptureSpendsThem() throws {
        try credit("M1", 30_000)
        let agent = try connect(as: "agent:demo")
        let hold = try agent.call(["HOLD", "h1", "M1", "5000"])
        guard case .array(let fields) = hold, fields.count == 3, case .bulk(let firstHold) = fields[0],
              case .bulk(let expiresAt) = fields[2] else { return XCTFail("HOLD reply \(hold)") }
        XCTAssertEqual(fields[1], .integer(5_000))
        let expiry = try XCTUnwrap(ISO8601DateFormatter().date(from: expiresAt), "expires_at \(expiresAt) is not RFC 3339")
        XCTAssertEqual(expiry.timeIntervalSinceNow, 900, accuracy: 10, "the default hold lasts 15 minutes")
        XCTAssertTrue(expiresAt.hasSuffix("Z"), "timestamps are UTC")
        XCTAssertEqual(try agent.call(["HOLD", "h1", "M1", "5000"]), hold, "a replay returns the same hold")
        XCTAssertEqual(try agent.errorCode("HOLD", "h1", "M1", "5001"), "CONFLICT")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(25_000), "available is balance less holds")
        XCTAssertEqual(try agent.errorCode("REDEEM", "r1", "M1", "POINTS", "25001"), "INSUFFICIENT", "held points are not available")
        let capture = try agent.call(["CAPTURE", firstHold])
        XCTAssertEqual(capture, triple(try redemptionID(capture), 5_000, 25_000))
        XCTAssertEqual(try agent.call(["CAPTURE", firstHold]), capture, "capturing twice returns the first capture")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(25_000))
        XCTAssertEqual(try agent.errorCode("RELEASE", firstHold), "INVALID", "a captured hold cannot be released")
        // A capture for a reward takes the reward's points and releases the rest.
        let bigger = try holdID(try agent.call(["HOLD", "h2", "M1", "12000", "60"]))
        let upgrade = try agent.call(["CAPTURE", bigger, "UPGRADE"])
        XCTAssertEqual(upgrade, triple(try redemptionID(upgrade), 10_000, 15_000))
        let small = try holdID(try agent.call(["HOLD", "h3", "M1", "6000"]))
        XCTAssertEqual(try agent.errorCode("CAPTURE", small, "DOM-ECON"), "INSUFFICIENT", "the reward needs more than is held")
        XCTAssertEqual(try agent.errorCode("CAPTURE", small, "NO-SUCH"), "NOTFOUND")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(9_000))
        XCTAssertEqual(try agent.errorCode("HOLD", "h4", "M1", "9001"), "INSUFFICIENT")
        XCTAssertEqual(try agent.errorCode("HOLD", "h4", "M1", "0"), "INVALID")
        XCTAssertEqual(try agent.errorCode("HOLD", "h4", "M1", "10", "0"), "INVALID")
        XCTAssertEqual(try agent.errorCode("HOLD", "h4", "M1", "10", String(7 * 86_400 + 1)), "INVALID")
        XCTAssertEqual(try agent.errorCode("CAPTURE", "H-never"), "NOTFOUND")
        XCTAssertEqual(try agent.errorCode("RELEASE", "H-never"), "NOTFOUND")
    }

    func testReleaseGivesTheHoldBackAndIsHarmlessTwice() throws {
        try credit("M1", 8_000)
        let member = try connect(as: "member:M1")
        let hold = try holdID(try member.call(["HOLD", "h1", "M1", "8000", "300"]))
        XCTAssertEqual(try member.call(["BALANCE", "M1"]), .integer(0))
        XCTAssertEqual(try connect(as: "member:M2").errorCode("RELEASE", hold), "NOPERM")
        XCTAssertEqual(try connect(as: "member:M2").errorCode("CAPTURE", hold), "NOPERM")
        XCTAssertEqual(try member.call(["BALANCE", "M1"]), .integer(0), "another member's attempts changed nothing")
        XCTAssertEqual(try member.call(["RELEASE", hold]), .simple("OK"))
        XCTAssertEqual(try member.call(["RELEASE", hold]), .simple("OK"))
        XCTAssertEqual(try cli("member:M1", "BALANCE", "M1"), "8000\n")
        XCTAssertEqual(try member.errorCode("CAPTURE", hold), "INVALID", "a released hold cannot be captured")
    }

    func testAHoldLapsesOnItsOwn() throws {
        try credit("M1", 1_000)
        let agent = try connect(as: "agent:demo")
        let hold = try holdID(try agent.call(["HOLD", "h1", "M1", "600", "1"]))
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(400))
        usleep(1_500_000)
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(1_000), "the lapsed hold no longer counts")
        XCTAssertEqual(try agent.errorCode("CAPTURE", hold), "INVALID", "a lapsed hold cannot be captured")
        XCTAssertEqual(try agent.call(["REDEEM", "r1", "M1", "POINTS", "1000"]).arrayCount, 3, "its points are spendable again")
    }

    func testCancelRefundsOnce() throws {
        try credit("M1", 20_000)
        let agent = try connect(as: "agent:demo")
        let id = try redemptionID(try agent.call(["REDEEM", "r1", "M1", "DOM-ECON"]))
        XCTAssertEqual(try connect(as: "member:M2").errorCode("CANCEL", id), "NOPERM")
        let cancel = try connect(as: "member:M1").call(["CANCEL", id])
        XCTAssertEqual(cancel, triple(id, 12_500, 20_000))
        XCTAssertEqual(try agent.call(["CANCEL", id]), cancel, "cancelling again refunds nothing more")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(20_000))
        XCTAssertEqual(try agent.call(["CANCEL", "RD-never"]), .error("NOTFOUND no redemption RD-never"))
    }

    func testTransferMovesPointsBetweenMembersOnce() throws {
        try credit("M1", 5_000)
        let member = try connect(as: "member:M1")
        let transfer = try member.call(["TRANSFER", "gift-1", "M1", "M2", "1500"])
        guard case .array(let fields) = transfer, case .bulk(let id) = fields.first else { return XCTFail("TRANSFER \(transfer)") }
        XCTAssertTrue(id.hasPrefix("TR"), id)
        XCTAssertEqual(transfer, triple(id, 1_500, 3_500))
        XCTAssertEqual(try member.call(["TRANSFER", "gift-1", "M1", "M2", "1500"]), transfer)
        XCTAssertEqual(try member.errorCode("TRANSFER", "gift-1", "M1", "M3", "1500"), "CONFLICT")
        XCTAssertEqual(try member.errorCode("TRANSFER", "gift-2", "M1", "M2", "3501"), "INSUFFICIENT")
        XCTAssertEqual(try member.errorCode("TRANSFER", "gift-2", "M2", "M1", "1"), "NOPERM", "a member gives only its own points")
        XCTAssertEqual(try member.errorCode("TRANSFER", "gift-2", "M1", "M1", "1"), "INVALID")
        XCTAssertEqual(try member.errorCode("TRANSFER", "gift-2", "M1", "M404", "1"), "NOTFOUND")
        XCTAssertEqual(try member.errorCode("TRANSFER", "gift-2", "M1", "M2", "0"), "INVALID")
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(3_500))
        XCTAssertEqual(try agent.call(["BALANCE", "M2"]), .integer(1_500))
        XCTAssertEqual(try agent.call(["BALANCE", "M3"]), .integer(0))
        let desk = try agent.call(["TRANSFER", "desk-1", "M2", "M3", "500"])
        XCTAssertEqual(desk, triple(try redemptionID(desk, prefix: "TR"), 500, 1_000))
    }

    func testEverySpendingKindShowsInTheStatement() throws {
        try credit("M1", 40_000, txn: "earn")
        let agent = try connect(as: "agent:demo")
        let redemption = try redemptionID(try agent.call(["REDEEM", "r1", "M1", "GIFT-50"]))
        _ = try agent.call(["CANCEL", redemption])
        let hold = try holdID(try agent.call(["HOLD", "h1", "M1", "1000"]))
        let captured = try redemptionID(try agent.call(["CAPTURE", hold]))
        let transfer = try redemptionID(try agent.call(["TRANSFER", "t1", "M1", "M2", "700"]), prefix: "TR")
        guard case .array(let rows) = try agent.call(["STATEMENT", "M1"]) else { return XCTFail("STATEMENT") }
        let summary = rows.map { row -> String in
            guard case .array(let f) = row, case .bulk(let kind) = f[2], case .integer(let points) = f[3],
                  case .bulk(let source) = f[5], case .bulk(let reference) = f[6] else { return "\(row)" }
            return "\(kind) \(points) \(source) \(reference)"
        }
        XCTAssertEqual(summary, ["transfer_out -700 agent:demo \(transfer)", "hold_capture -1000 agent:demo \(captured)",
                                 "refund 6000 agent:demo \(redemption)", "redemption -6000 agent:demo \(redemption)",
                                 "accrual 40000 CARDCO earn"])
        guard case .array(let received) = try agent.call(["STATEMENT", "M2"]), case .array(let entry) = received.first else {
            return XCTFail("STATEMENT M2")
        }
        XCTAssertEqual(Array(entry[2...]), [.bulk("transfer_in"), .integer(700), .integer(0), .bulk("agent:demo"), .bulk(transfer)])
    }

    // MARK: - Helpers

    private func redemptionID(_ reply: RESPValue, prefix: String = "RD") throws -> String {
        guard case .array(let fields) = reply, fields.count == 3, case .bulk(let id) = fields[0], id.hasPrefix(prefix) else {
            throw UnexpectedReply("not [\(prefix)..., points, available_after]: \(reply)")
        }
        return id
    }

    private func holdID(_ reply: RESPValue) throws -> String {
        guard case .array(let fields) = reply, fields.count == 3, case .bulk(let id) = fields[0] else {
            throw UnexpectedReply("not [hold-id, points, expires_at]: \(reply)")
        }
        return id
    }
}
