import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// Earning through the store for every demo category, with DEMO-PROGRAM.md's worked examples.
final class EarningTests: StoreTestCase {
    private func flight(_ txn: String, _ member: String = "M1", miles: Int, cabin: String) throws -> AccrualReceipt {
        try store.accrue(partner: skyair, txnID: txn, member: member,
                         input: input([("miles", String(miles)), ("cabin", cabin)]))
    }

    private func spend(_ partner: Principal, _ txn: String, _ amount: String, currency: String = "USD",
                       member: String = "M1") throws -> AccrualReceipt {
        try store.accrue(partner: partner, txnID: txn, member: member,
                         input: input([("amount", amount), ("currency", currency)]))
    }

    func testAMemberFlyingEarnsTheCabinFactorAndNoBonus() throws {
        XCTAssertEqual(try flight("j", miles: 2_000, cabin: "J"), AccrualReceipt(txnID: "j", points: 3_000, qualifying: 3_000, duplicate: false))
        XCTAssertEqual(try flight("f", miles: 2_000, cabin: "F"), AccrualReceipt(txnID: "f", points: 3_000, qualifying: 3_000, duplicate: false))
        XCTAssertEqual(try flight("y", miles: 2_000, cabin: "Y"), AccrualReceipt(txnID: "y", points: 2_000, qualifying: 2_000, duplicate: false))
        let member = try store.member(number: "M1")
        XCTAssertEqual(member.balance, 8_000)
        XCTAssertEqual(member.qualifying, 8_000)
        XCTAssertEqual(member.tier.code, "MEMBER")
    }

    func testAPremierEarnsTheFlightBonusOnRedeemableMilesOnly() throws {
        // 20,000 miles in J: 30,000 qualifying, past the Premier threshold of 25,000.
        XCTAssertEqual(try flight("big", miles: 20_000, cabin: "J").points, 30_000)
        XCTAssertEqual(try store.member(number: "M1").tier.code, "PREMIER")
        XCTAssertEqual(try flight("y", miles: 2_000, cabin: "Y"), AccrualReceipt(txnID: "y", points: 2_500, qualifying: 2_000, duplicate: false))
        XCTAssertEqual(try flight("j", miles: 2_000, cabin: "J"), AccrualReceipt(txnID: "j", points: 3_750, qualifying: 3_000, duplicate: false))
        // The bonus is the airline's: a hotel stay earns the same for a Premier.
        XCTAssertEqual(try spend(hotel, "h", "450.00").points, 1_350)
        // Another member's flight is unaffected by M1's tier.
        XCTAssertEqual(try flight("m2", "M2", miles: 2_000, cabin: "Y").points, 2_000)
        XCTAssertEqual(try store.member(number: "M1").balance, 30_000 + 2_500 + 3_750 + 1_350)
    }

    func testTheAccrualThatCrossesTheThresholdEarnsNoBonusItself() throws {
        XCTAssertEqual(try flight("a", miles: 24_000, cabin: "Y").points, 24_000)
        XCTAssertEqual(try flight("b", miles: 2_000, cabin: "Y").points, 2_000)
        XCTAssertEqual(try store.member(number: "M1").tier.code, "PREMIER")
        XCTAssertEqual(try flight("c", miles: 1_000, cabin: "Y").points, 1_250)
    }

    func testCardSpendFloorsPointsAndQualifyingPerLine() throws {
        XCTAssertEqual(try spend(card, "c1", "1234.56"), AccrualReceipt(txnID: "c1", points: 1_234, qualifying: 61, duplicate: false))
        XCTAssertEqual(try spend(card, "c2", "19.99"), AccrualReceipt(txnID: "c2", points: 19, qualifying: 0, duplicate: false))
        XCTAssertEqual(try store.member(number: "M1").qualifying, 61)
    }

    func testCarRentalEarnsPerDayUpToTheCap() throws {
        let rental = { (txn: String, days: Int) throws -> Int64 in
            try self.store.accrue(partner: self.drive, txnID: txn, member: "M1", input: self.input([("days", String(days))])).points
        }
        XCTAssertEqual(try rental("d3", 3), 750)
        XCTAssertEqual(try rental("d5", 5), 1_250)
        XCTAssertEqual(try rental("d7", 7), 1_250)
        XCTAssertEqual(try store.member(number: "M1").balance, 3_250)
        XCTAssertEqual(try store.member(number: "M1").qualifying, 0)
    }

    func testHotelAndDiningEarnThreePerDollarFloored() throws {
        XCTAssertEqual(try spend(hotel, "h", "450.00"), AccrualReceipt(txnID: "h", points: 1_350, qualifying: 0, duplicate: false))
        XCTAssertEqual(try spend(dine, "d", "45.99"), AccrualReceipt(txnID: "d", points: 137, qualifying: 0, duplicate: false))
        XCTAssertEqual(try spend(dine, "tiny", "0.33").points, 0)
        XCTAssertEqual(try store.member(number: "M1").balance, 1_487)
    }

    func testEveryAccrualIsOnTheStatementWithItsPartnerAndTxnID() throws {
        _ = try spend(hotel, "stay-1", "100.00")
        _ = try flight("pnr-1", miles: 1_000, cabin: "J")
        let entries = try store.statement(number: "M1", limit: nil, before: nil)
        XCTAssertEqual(entries.map(\.kind), ["accrual", "accrual"])
        XCTAssertEqual(entries.map(\.source), ["SKYAIR", "HOTELCO"])
        XCTAssertEqual(entries.map(\.reference), ["pnr-1", "stay-1"])
        XCTAssertEqual(entries.map(\.points), [1_500, 300])
        XCTAssertEqual(entries.map(\.qualifying), [1_500, 0])
    }

    func testTheClaimWindowIs365DaysBackAndOneDayAhead() throws {
        store = try store(fixedAt: "2026-06-15")
        let stay = { (txn: String, date: String) throws -> AccrualReceipt in
            try self.store.accrue(partner: self.hotel, txnID: txn, member: "M1",
                                  input: self.input([("amount", "10.00"), ("currency", "USD")], on: XCTUnwrap(LocalDate(date))))
        }
        XCTAssertEqual(try stay("oldest", "2025-06-15").points, 30)
        XCTAssertEqual(try stay("tomorrow", "2026-06-16").points, 30)
        XCTAssertLoyaltyError(try stay("too-old", "2025-06-14"), .invalid)
        XCTAssertLoyaltyError(try stay("too-new", "2026-06-17"), .invalid)
        XCTAssertEqual(try available("M1"), 60)
        // A refused line leaves its txn-id unused.
        XCTAssertEqual(try stay("too-old", "2026-06-01").points, 30)
    }

    func testAnotherCurrencyIsRefusedAndCreditsNothing() throws {
        XCTAssertLoyaltyError(try spend(hotel, "eur", "450.00", currency: "EUR"), .invalid)
        XCTAssertLoyaltyError(try spend(card, "gbp", "10.00", currency: "GBP"), .invalid)
        XCTAssertEqual(try available("M1"), 0)
        XCTAssertTrue(try store.statement(number: "M1", limit: nil, before: nil).isEmpty)
    }

    func testAMissingMeasureIsInvalid() throws {
        XCTAssertLoyaltyError(try store.accrue(partner: skyair, txnID: "x", member: "M1", input: input([("cabin", "J")])), .invalid)
        XCTAssertLoyaltyError(try store.accrue(partner: hotel, txnID: "x", member: "M1", input: input([("nights", "3")])), .invalid)
        XCTAssertLoyaltyError(try store.accrue(partner: drive, txnID: "x", member: "M1", input: input([])), .invalid)
        XCTAssertEqual(try available("M1"), 0)
    }

    func testAnUnknownMemberIsNotFound() throws {
        XCTAssertLoyaltyError(try spend(hotel, "t", "10.00", member: "NOBODY"), .notFound)
        XCTAssertLoyaltyError(try store.available(number: "NOBODY"), .notFound)
        XCTAssertLoyaltyError(try store.member(number: "NOBODY"), .notFound)
    }

    func testAClosedMemberCannotEarnOrSpend() throws {
        try fund("M1", 20_000)
        _ = try spend(hotel, "before", "10.00")
        try store.closeMember(number: "M1", reason: "asked to leave", actor: admin)
        XCTAssertEqual(try store.member(number: "M1").status, "closed")
        XCTAssertLoyaltyError(try spend(hotel, "after", "10.00"), .closed)
        XCTAssertLoyaltyError(try store.redeem(principal: agent, requestID: "r", member: "M1", target: .points(100)), .closed)
        XCTAssertLoyaltyError(try store.redeem(principal: agent, requestID: "g", member: "M1",
                                               target: .reward(code: "GIFT-50", quantity: 1)), .closed)
        XCTAssertLoyaltyError(try store.hold(principal: agent, requestID: "h", member: "M1", points: 100, ttlSeconds: nil), .closed)
        XCTAssertLoyaltyError(try store.transfer(principal: agent, requestID: "t", from: "M1", to: "M2", points: 100), .closed)
        XCTAssertLoyaltyError(try store.transfer(principal: agent, requestID: "u", from: "M2", to: "M1", points: 100), .closed)
        XCTAssertEqual(try available("M1"), 20_030)
        // A re-sent ACCRUE of an earlier transaction still gets its original reply.
        XCTAssertEqual(try spend(hotel, "before", "10.00").duplicate, true)
    }
}
