import XCTest
import LoyaltyCore

final class CurrencyTests: XCTestCase {
    func testMinorDigits() {
        XCTAssertEqual(Currency.minorDigits("USD"), 2)
        XCTAssertEqual(Currency.minorDigits("EUR"), 2)
        XCTAssertEqual(Currency.minorDigits("JPY"), 0)
        XCTAssertEqual(Currency.minorDigits("KRW"), 0)
        XCTAssertEqual(Currency.minorDigits("KWD"), 3)
        XCTAssertEqual(Currency.minorDigits("BHD"), 3)
        XCTAssertNil(Currency.minorDigits("XYZ"))
        XCTAssertNil(Currency.minorDigits("usd"))
    }

    func testParseValidAmounts() throws {
        XCTAssertEqual(try Currency.parse(amount: "450.00", currency: "USD"), Money(minorUnits: 45_000, currency: "USD"))
        XCTAssertEqual(try Currency.parse(amount: "12", currency: "USD").minorUnits, 1200)
        XCTAssertEqual(try Currency.parse(amount: "0.5", currency: "USD").minorUnits, 50)
        XCTAssertEqual(try Currency.parse(amount: "0", currency: "USD").minorUnits, 0)
        XCTAssertEqual(try Currency.parse(amount: "007.10", currency: "EUR").minorUnits, 710)
        XCTAssertEqual(try Currency.parse(amount: "100", currency: "JPY").minorUnits, 100)
        XCTAssertEqual(try Currency.parse(amount: "1.234", currency: "KWD").minorUnits, 1234)
        XCTAssertEqual(try Currency.parse(amount: "999999999999999.99", currency: "USD").minorUnits, 99_999_999_999_999_999)
        XCTAssertEqual(try Currency.parse(amount: "999999999999999.999", currency: "KWD").minorUnits, 999_999_999_999_999_999)
    }

    func testParseRefusesMalformedAmounts() {
        for bad in ["450.001", "-1", "+1", "1e3", ".5", "5.", "", " 1", "1 ", "1,000.00", "1.2.3", "0x10",
                    "1000000000000000", "١٢", "NaN", "."] {
            assertError(.invalid, mentioning: "amount") { try Currency.parse(amount: bad, currency: "USD") }
        }
        assertError(.invalid, mentioning: "JPY") { try Currency.parse(amount: "100.5", currency: "JPY") }
        assertError(.invalid, mentioning: "JPY") { try Currency.parse(amount: "100.", currency: "JPY") }
        assertError(.invalid, mentioning: "KWD") { try Currency.parse(amount: "1.2345", currency: "KWD") }
        assertError(.invalid, mentioning: "XYZ") { try Currency.parse(amount: "1", currency: "XYZ") }
    }

    func testFormat() throws {
        XCTAssertEqual(Currency.format(Money(minorUnits: 45_000, currency: "USD")), "450.00")
        XCTAssertEqual(Currency.format(Money(minorUnits: 5, currency: "USD")), "0.05")
        XCTAssertEqual(Currency.format(Money(minorUnits: -123_456, currency: "USD")), "-1234.56")
        XCTAssertEqual(Currency.format(Money(minorUnits: 100, currency: "JPY")), "100")
        XCTAssertEqual(Currency.format(Money(minorUnits: 1_005, currency: "KWD")), "1.005")
        XCTAssertEqual(Currency.format(Money(minorUnits: .min, currency: "USD")), "-92233720368547758.08")
        for text in ["0.50", "1234.56", "999999999999999.99"] {
            XCTAssertEqual(Currency.format(try Currency.parse(amount: text, currency: "USD")), text)
        }
    }
}
