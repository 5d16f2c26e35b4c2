import XCTest
import LoyaltyCore

final class AccrualInputTests: XCTestCase {
    let day = date("2026-06-10")

    func parse(_ fields: [(String, String)]) throws(LoyaltyError) -> AccrualInput {
        try AccrualInput.parse(activityDate: day, fields: fields.map { (name: $0.0, value: $0.1) })
    }

    func testParsesEveryField() throws {
        let flight = try parse([("miles", "2000"), ("cabin", "J"), ("code", "PNR-ABC123")])
        XCTAssertEqual(flight, AccrualInput(activityDate: day, miles: 2000, cabin: "J", code: "PNR-ABC123"))
        let stay = try parse([("currency", "USD"), ("nights", "3"), ("amount", "450.00")])
        XCTAssertEqual(stay.amount, Money(minorUnits: 45_000, currency: "USD"))
        XCTAssertEqual(stay.nights, 3)
        XCTAssertEqual(try parse([("days", "0")]).days, 0)
        XCTAssertEqual(try parse([("miles", "1000000000")]).miles, 1_000_000_000)
        XCTAssertEqual(try parse([]), AccrualInput(activityDate: day))
    }

    func testUnknownAndRepeatedFieldsAreRefused() {
        assertError(.invalid, mentioning: "points") { try parse([("points", "5")]) }
        assertError(.invalid, mentioning: "Miles") { try parse([("Miles", "5")]) }
        assertError(.invalid, mentioning: "miles") { try parse([("miles", "5"), ("miles", "5")]) }
        assertError(.invalid, mentioning: "currency") { try parse([("amount", "1"), ("currency", "USD"), ("currency", "USD")]) }
    }

    func testMalformedNumbersAreRefusedNamingTheField() {
        for bad in ["-1", "1.5", "", "abc", "+1", " 1", "1000000001", "99999999999999999999999", "1e3", "0x1"] {
            assertError(.invalid, mentioning: "nights=") { try parse([("nights", bad)]) }
            assertError(.invalid, mentioning: "miles=") { try parse([("miles", bad)]) }
        }
    }

    func testAmountAndCurrencyGoTogether() {
        assertError(.invalid, mentioning: "currency=") { try parse([("amount", "10.00")]) }
        assertError(.invalid, mentioning: "amount=") { try parse([("currency", "USD")]) }
        assertError(.invalid, mentioning: "XYZ") { try parse([("amount", "10.00"), ("currency", "XYZ")]) }
        assertError(.invalid, mentioning: "amount") { try parse([("amount", "-10.00"), ("currency", "USD")]) }
        assertError(.invalid, mentioning: "amount") { try parse([("amount", "10.001"), ("currency", "USD")]) }
    }

    func testCabinAndCodeShapes() {
        assertError(.invalid, mentioning: "cabin=") { try parse([("cabin", "j")]) }
        assertError(.invalid, mentioning: "cabin=") { try parse([("cabin", "")]) }
        assertError(.invalid, mentioning: "cabin=") { try parse([("cabin", "ECONOMYPLUS")]) }
        assertError(.invalid, mentioning: "code=") { try parse([("code", String(repeating: "c", count: 65))]) }
        assertError(.invalid, mentioning: "code=") { try parse([("code", "a b")]) }
    }

    func testFingerprintIsTheContentNotTheSpelling() throws {
        let a = try parse([("amount", "450"), ("currency", "USD"), ("nights", "3")])
        let b = try parse([("nights", "3"), ("currency", "USD"), ("amount", "450.00")])
        XCTAssertEqual(a.fingerprint, b.fingerprint)
        XCTAssertEqual(a.fingerprint, "activity_date=2026-06-10 amount=45000 currency=USD nights=3")

        let variants: [AccrualInput] = [
            try parse([("amount", "450.01"), ("currency", "USD"), ("nights", "3")]),
            try parse([("amount", "450"), ("currency", "EUR"), ("nights", "3")]),
            try parse([("amount", "450"), ("currency", "USD"), ("nights", "4")]),
            try parse([("amount", "450"), ("currency", "USD"), ("nights", "3"), ("code", "X")]),
            try AccrualInput.parse(activityDate: date("2026-06-11"),
                                   fields: [(name: "amount", value: "450"), (name: "currency", value: "USD"), (name: "nights", value: "3")]),
        ]
        XCTAssertEqual(Set(variants.map(\.fingerprint) + [a.fingerprint]).count, variants.count + 1)
        XCTAssertNotEqual(try parse([("days", "3")]).fingerprint, try parse([("nights", "3")]).fingerprint)
    }
}
