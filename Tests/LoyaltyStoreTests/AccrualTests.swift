import LoyaltyCore
@testable import LoyaltyStore
import LoyaltyTesting
import XCTest

final class AccrualTests: StoreTestCase {
    private func today() throws -> LocalDate { try store.today() }

    private func hotelStay(_ amount: String, on date: LocalDate? = nil) throws -> AccrualInput {
        try AccrualInput.parse(activityDate: date ?? today(), fields: [("amount", amount), ("currency", "USD")])
    }

    func testHotelStayCreditsThreePerDollarExactlyOnce() throws {
        let first = try store.accrue(partner: hotel, txnID: "t1", member: "M1", input: hotelStay("450.00"))
        XCTAssertEqual(first, AccrualReceipt(txnID: "t1", points: 1350, qualifying: 0, duplicate: false))
        let again = try store.accrue(partner: hotel, txnID: "t1", member: "M1", input: hotelStay("450.00"))
        XCTAssertEqual(again, AccrualReceipt(txnID: "t1", points: 1350, qualifying: 0, duplicate: true))
        XCTAssertEqual(try store.available(number: "M1"), 1350)
    }

    func testSameTxnIDWithOtherContentIsAConflictAndChangesNothing() throws {
        _ = try store.accrue(partner: hotel, txnID: "t1", member: "M1", input: hotelStay("450.00"))
        XCTAssertThrowsError(try store.accrue(partner: hotel, txnID: "t1", member: "M1", input: hotelStay("451.00"))) {
            XCTAssertEqual(($0 as? LoyaltyError)?.code, .conflict)
        }
        XCTAssertThrowsError(try store.accrue(partner: hotel, txnID: "t1", member: "M2", input: hotelStay("450.00"))) {
            XCTAssertEqual(($0 as? LoyaltyError)?.code, .conflict)
        }
        XCTAssertEqual(try store.available(number: "M1"), 1350)
        XCTAssertEqual(try store.available(number: "M2"), 0)
    }

    func testVerifyFailsOnATamperedBalance() throws {
        _ = try store.accrue(partner: hotel, txnID: "t1", member: "M1", input: hotelStay("100.00"))
        XCTAssertTrue(try store.verify().allSatisfy { $0.violations == 0 })
        let conn = try database.connect()
        _ = try conn.query("UPDATE members SET balance = balance + 1 WHERE member_number = 'M1'")
        let failed = try store.verify().filter { $0.violations > 0 }
        XCTAssertEqual(failed.map(\.name), ["member balance equals the sum of its ledger entries"])
    }
}
