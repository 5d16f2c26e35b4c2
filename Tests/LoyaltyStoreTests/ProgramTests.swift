import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// `demo load`, partners and the catalog, as an operator sets them up.
final class ProgramTests: StoreTestCase {
    func testLoadingTheDemoAgainChangesNothingAndIssuesNothing() throws {
        try fund("M1", 700)
        try store.setPIN(number: "M2", pin: "8642", actor: admin)
        XCTAssertEqual(try store.loadDemo(actor: admin), [])
        XCTAssertEqual(try available("M1"), 700)
        XCTAssertEqual(try store.authenticate(principal: "member:M2", secret: "8642"), .member(number: "M2"))
        let hotelKey = try XCTUnwrap(database.credentials["HOTELCO"])
        XCTAssertEqual(try store.authenticate(principal: "HOTELCO", secret: hotelKey), hotel)
        XCTAssertEqual(try store.partners().map(\.code), ["CARDCO", "DINECO", "DRIVECO", "HOTELCO", "SKYAIR"])
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testTheCatalogIsTheDemoPrograms() throws {
        let rewards = try store.rewards(member: nil)
        XCTAssertEqual(rewards.map(\.code), ["DOM-ECON", "INTL-BIZ", "UPGRADE", "HOTEL-NIGHT", "GIFT-50"])
        XCTAssertEqual(rewards.map(\.points), [12_500, 80_000, 10_000, 25_000, 6_000])
    }

    func testANewPartnerEarnsByItsCategoryOnceItHasAKey() throws {
        try store.addPartner(code: "BISTRO", category: .dining, name: "Bistro", actor: admin)
        let listed = try XCTUnwrap(store.partners().first { $0.code == "BISTRO" })
        XCTAssertEqual(listed, PartnerRecord(code: "BISTRO", name: "Bistro", category: .dining, active: true, hasKey: false, suspended: false))
        XCTAssertLoyaltyError(try store.authenticate(principal: "BISTRO", secret: ""), .wrongPass)
        let key = try store.rotatePartnerKey(code: "BISTRO", actor: admin)
        let bistro = try store.authenticate(principal: "BISTRO", secret: key)
        XCTAssertEqual(bistro, Principal.partner(code: "BISTRO", category: .dining))
        XCTAssertEqual(try store.accrue(partner: bistro, txnID: "t", member: "M1", input: input([("amount", "20.00"), ("currency", "USD")])).points, 60)
        XCTAssertEqual(try store.partners().first { $0.code == "BISTRO" }?.hasKey, true)
        XCTAssertEqual(try store.audit().suffix(2).map(\.action), ["partner.add", "partner.key.rotate"])
    }

    func testAPartnerCodeIsAddedOnceAndMustBeWellFormed() throws {
        XCTAssertLoyaltyError(try store.addPartner(code: "HOTELCO", category: .hotel, name: nil, actor: admin), .conflict)
        XCTAssertLoyaltyError(try store.addPartner(code: "x", category: .hotel, name: nil, actor: admin), .invalid)
        XCTAssertLoyaltyError(try store.addPartner(code: "lower", category: .hotel, name: nil, actor: admin), .invalid)
        XCTAssertEqual(try store.partners().count, 5)
    }
}
