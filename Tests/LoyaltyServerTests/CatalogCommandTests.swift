import Foundation
import LoyaltyTesting
import XCTest

/// The rewards catalog as clients meet it: REWARDS at the caller's tier price, REDEEM and CAPTURE
/// charging it, stock that runs out and comes back, retired rewards. Set up with the real loyaltyctl.
final class CatalogCommandTests: EndToEndTestCase {
    func testEachCallerSeesAndPaysItsOwnTiersPrice() throws {
        try ctl("reward", "set", "UPGRADE", "--tier-price", "PREMIER=8000", "--tier-price", "1k=5000")
        try ctl("tier", "set", "M1", "PREMIER", "--until", "2099-01-31", "--reason", "test")
        try restartServer()
        let member = try connect(as: "member:M1"), agent = try connect(as: "agent:demo")
        XCTAssertEqual(try price(member.call(["REWARDS"]), "UPGRADE"), 8_000)
        XCTAssertEqual(try price(member.call(["REWARDS", "M1"]), "UPGRADE"), 8_000)
        XCTAssertEqual(try price(connect(as: "member:M2").call(["REWARDS"]), "UPGRADE"), 10_000, "the base tier pays the base price")
        XCTAssertEqual(try price(agent.call(["REWARDS"]), "UPGRADE"), 10_000, "an agent naming nobody sees base prices")
        XCTAssertEqual(try price(agent.call(["REWARDS", "M1"]), "UPGRADE"), 8_000)
        XCTAssertEqual(try price(agent.call(["REWARDS", "M1"]), "GIFT-50"), 6_000, "no tier price: the base price")
        XCTAssertEqual(try cli("member:M1", "REWARDS").components(separatedBy: "\n").prefix(9).joined(separator: " "),
                       "DOM-ECON 12500 one-way domestic economy award INTL-BIZ 80000 one-way international business award UPGRADE 8000 one cabin upgrade")
        XCTAssertEqual(try connect(as: "member:M2").errorCode("REWARDS", "M1"), "NOPERM")
        XCTAssertEqual(try connect(as: "HOTELCO").errorCode("REWARDS", "M1"), "NOPERM")
        XCTAssertEqual(try agent.errorCode("REWARDS", "M404"), "NOTFOUND")
        XCTAssertEqual(try agent.errorCode("REWARDS", "M1", "M2"), "ERR")

        try credit("M1", 30_000)
        let redeemed = try agent.call(["REDEEM", "r1", "M1", "upgrade", "2"])
        XCTAssertEqual(redeemed, triple(try id(redeemed), 16_000, 14_000), "two upgrades at the Premier price")
        let hold = try id(try member.call(["HOLD", "h1", "M1", "9000"]))
        let captured = try member.call(["CAPTURE", hold, "UPGRADE"])
        XCTAssertEqual(captured, triple(try id(captured), 8_000, 6_000), "a capture for a reward pays the tier price too")
    }

    func testStockRunsOutAndACancelGivesItBack() throws {
        try credit("M1", 100_000)
        try ctl("reward", "set", "GIFT-50", "--stock", "2")
        let agent = try connect(as: "agent:demo")
        let first = try agent.call(["REDEEM", "r1", "M1", "GIFT-50"])
        XCTAssertEqual(first, triple(try id(first), 6_000, 94_000))
        XCTAssertEqual(try agent.call(["REDEEM", "r1", "M1", "GIFT-50"]), first, "a replay returns the first reply")
        XCTAssertEqual(try stock("GIFT-50"), "1", "and takes no more stock")
        XCTAssertEqual(try agent.errorCode("REDEEM", "r2", "M1", "GIFT-50", "2"), "INSUFFICIENT", "one left, two asked")
        let second = try agent.call(["REDEEM", "r2", "M1", "GIFT-50"])
        XCTAssertEqual(second.arrayCount, 3)
        XCTAssertEqual(try agent.call(["REDEEM", "r3", "M1", "GIFT-50"]), .error("INSUFFICIENT stock: not enough GIFT-50 left for 1"))
        let hold = try id(try agent.call(["HOLD", "h1", "M1", "6000"]))
        XCTAssertEqual(try agent.errorCode("CAPTURE", hold, "GIFT-50"), "INSUFFICIENT", "a capture takes stock too")
        XCTAssertEqual(try agent.call(["RELEASE", hold]), .simple("OK"))
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(88_000), "the refusals changed nothing")
        XCTAssertEqual(try stock("GIFT-50"), "0")
        XCTAssertEqual(try agent.call(["REDEEM", "r4", "M1", "UPGRADE"]).arrayCount, 3, "other rewards are unlimited")

        XCTAssertEqual(try agent.call(["CANCEL", try id(first)]).arrayCount, 3)
        XCTAssertEqual(try stock("GIFT-50"), "1", "the cancelled redemption's stock is back")
        XCTAssertEqual(try agent.call(["CANCEL", try id(first)]).arrayCount, 3)
        XCTAssertEqual(try stock("GIFT-50"), "1", "cancelling again gives back nothing more")
        XCTAssertEqual(try agent.call(["REDEEM", "r3", "M1", "GIFT-50"]).arrayCount, 3, "the refused request-id is free")
        XCTAssertEqual(try stock("GIFT-50"), "0")
        // A capture for the reward takes stock, and its cancel gives it back, like a REDEEM's.
        XCTAssertEqual(try agent.call(["CANCEL", try id(second)]).arrayCount, 3)
        let captured = try id(try agent.call(["CAPTURE", try id(try agent.call(["HOLD", "h2", "M1", "6000"])), "GIFT-50"]))
        XCTAssertEqual(try stock("GIFT-50"), "0")
        XCTAssertEqual(try agent.call(["CANCEL", captured]).arrayCount, 3)
        XCTAssertEqual(try stock("GIFT-50"), "1")
    }

    func testEightClientsRacingForFiveInStockGetExactlyFive() throws {
        try ctl("reward", "set", "HOTEL-NIGHT", "--stock", "5")
        let members = (1...8).map { "R\($0)" }
        let agent = try connect(as: "agent:demo")
        for number in members {
            XCTAssertEqual(try agent.call(["ENROLL", number]), .simple("OK"))
            try credit(number, 25_000)
        }
        let port = server.port, agentSecret = try secret("agent:demo")
        let clients = try members.map { _ in try RawClient(port: port) }
        for client in clients { XCTAssertEqual(try client.call(["AUTH", "agent:demo", agentSecret]), .simple("OK")) }
        nonisolated(unsafe) let racing = clients
        let replies = try concurrently(8) { index in
            try racing[index].call(["REDEEM", "night-\(index)", members[index], "HOTEL-NIGHT"])
        }
        XCTAssertEqual(replies.filter { $0.arrayCount == 3 }.count, 5, "\(replies)")
        XCTAssertEqual(replies.filter { $0 == .error("INSUFFICIENT stock: not enough HOTEL-NIGHT left for 1") }.count, 3, "\(replies)")
        XCTAssertEqual(try stock("HOTEL-NIGHT"), "0")
        XCTAssertEqual(try sql("SELECT count(*) FROM redemptions WHERE reward_code = 'HOTEL-NIGHT'"), "5")
        XCTAssertEqual(try sql("SELECT count(*) FROM members WHERE member_number LIKE 'R_' AND balance = 0"), "5")
    }

    func testARetiredRewardCannotBeRedeemedButItsRedemptionsLiveOn() throws {
        try credit("M1", 20_000)
        let agent = try connect(as: "agent:demo")
        let first = try agent.call(["REDEEM", "r1", "M1", "GIFT-50"])
        try ctl("reward", "retire", "GIFT-50", "--reason", "supplier gone")
        // The running server refuses it at once: whether a reward is on sale is read with its stock.
        XCTAssertEqual(try agent.call(["REDEEM", "r2", "M1", "GIFT-50"]), .error("NOTFOUND reward GIFT-50 is retired"))
        XCTAssertEqual(try agent.call(["REDEEM", "r1", "M1", "GIFT-50"]), first, "a replay still returns the stored reply")
        try restartServer()
        let member = try connect(as: "member:M1")
        XCTAssertNil(try rewardCodes(member.call(["REWARDS"])).firstIndex(of: "GIFT-50"), "REWARDS no longer lists it")
        XCTAssertEqual(try member.errorCode("REDEEM", "r2", "M1", "GIFT-50"), "NOTFOUND")
        let hold = try id(try member.call(["HOLD", "h1", "M1", "6000"]))
        XCTAssertEqual(try member.call(["CAPTURE", hold, "GIFT-50"]), .error("NOTFOUND reward GIFT-50 is retired"))
        XCTAssertEqual(try member.call(["CANCEL", try id(first)]), triple(try id(first), 6_000, 14_000), "its redemptions can be cancelled")
    }

    // MARK: - Helpers

    /// Runs the real loyaltyctl on the test's database; fails the test unless it succeeds.
    private func ctl(_ arguments: String...) throws {
        let outcome = try Command.run("loyaltyctl", arguments + ["--database", database.url])
        XCTAssertEqual(outcome.status, 0, "loyaltyctl \(arguments.joined(separator: " ")): \(outcome.stderr)")
    }

    /// A new loyaltyd, which reads the program afresh.
    private func restartServer() throws {
        server = nil
        server = try ServerProcess(database: database, environment: serverEnvironment)
    }

    private func stock(_ code: String) throws -> String? {
        try sql("SELECT coalesce(stock::text, 'unlimited') FROM rewards WHERE code = '\(code)'")
    }

    private func price(_ rewards: RESPValue, _ code: String) throws -> Int64? {
        guard case .array(let entries) = rewards else { throw UnexpectedReply("REWARDS \(rewards)") }
        for case .array(let entry) in entries where entry.first == .bulk(code) {
            guard entry.count == 3, case .integer(let points) = entry[1] else { throw UnexpectedReply("REWARDS entry \(entry)") }
            return points
        }
        return nil
    }

    private func rewardCodes(_ rewards: RESPValue) throws -> [String] {
        guard case .array(let entries) = rewards else { throw UnexpectedReply("REWARDS \(rewards)") }
        return entries.compactMap { entry in
            guard case .array(let fields) = entry, case .bulk(let code)? = fields.first else { return nil }
            return code
        }
    }

    private func id(_ reply: RESPValue) throws -> String {
        guard case .array(let fields) = reply, fields.count == 3, case .bulk(let id) = fields[0] else {
            throw UnexpectedReply("not [id, points, third]: \(reply)")
        }
        return id
    }
}
