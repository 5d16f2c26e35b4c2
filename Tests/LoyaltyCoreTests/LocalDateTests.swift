import XCTest
@testable import LoyaltyCore

final class LocalDateTests: XCTestCase {
    func testEpochAndRoundTripOfText() {
        XCTAssertEqual(LocalDate("1970-01-01")?.daysSinceEpoch, 0)
        XCTAssertEqual(LocalDate("1970-01-02")?.daysSinceEpoch, 1)
        XCTAssertEqual(LocalDate("1969-12-31")?.daysSinceEpoch, -1)
        XCTAssertEqual(LocalDate("2000-03-01")?.daysSinceEpoch, 11_017)
        for text in ["1900-01-01", "1999-12-31", "2024-02-29", "2026-11-23", "9999-12-31"] {
            XCTAssertEqual(LocalDate(text)?.description, text)
        }
        // Arithmetic may leave the four-digit years the wire takes; such a date still prints whole.
        XCTAssertEqual(LocalDate(daysSinceEpoch: LocalDate.days(year: 10_000, month: 3, day: 7)).description, "10000-03-07")
        XCTAssertEqual(LocalDate(daysSinceEpoch: LocalDate.days(year: 812, month: 1, day: 31)).description, "0812-01-31")
    }

    func testEveryDayOfFourHundredYearsRoundTripsThroughComponents() {
        var expected = date("1900-01-01")
        for year in 1900..<2300 {
            for month in 1...12 {
                for day in 1...LocalDate.daysIn(year: year, month: month) {
                    let built = LocalDate(year: year, month: month, day: day)
                    XCTAssertEqual(built, expected)
                    XCTAssertEqual(built.map { [$0.year, $0.month, $0.day] }, [year, month, day])
                    expected = expected.adding(days: 1)
                }
            }
        }
    }

    func testLeapYears() {
        XCTAssertNil(LocalDate("2026-02-29"))
        XCTAssertNotNil(LocalDate("2028-02-29"))
        XCTAssertNotNil(LocalDate("2000-02-29"))  // divisible by 400
        XCTAssertNil(LocalDate("1900-02-29"))     // divisible by 100 only
        XCTAssertNil(LocalDate("2100-02-29"))
        XCTAssertNil(LocalDate(year: 2026, month: 2, day: 29))
        XCTAssertNotNil(LocalDate(year: 2028, month: 2, day: 29))
    }

    func testStrictTextRefusesEverythingElse() {
        for text in ["2026-1-05", "2026-01-5", "26-01-05", "2026/01/05", "2026-01-05 ", " 2026-01-05",
                     "2026-13-01", "2026-00-10", "2026-04-31", "2026-01-00", "2026-01-32", "", "20260105",
                     "+026-01-05", "2026-0a-05", "1899-12-31", "２０２６-01-05", "2026-01-05T00:00"] {
            XCTAssertNil(LocalDate(text), text)
        }
        XCTAssertNil(LocalDate(year: 10_000, month: 1, day: 1))
        XCTAssertNil(LocalDate(year: 1899, month: 12, day: 31))
    }

    func testOrdering() {
        XCTAssertLessThan(date("2025-12-31"), date("2026-01-01"))
        XCTAssertEqual([date("2026-03-01"), date("2024-03-01"), date("2025-03-01")].sorted(),
                       [date("2024-03-01"), date("2025-03-01"), date("2026-03-01")])
    }

    func testMonthArithmeticClampsToTheLastDay() {
        XCTAssertEqual(date("2026-01-31").adding(months: 1), date("2026-02-28"))
        XCTAssertEqual(date("2028-01-31").adding(months: 1), date("2028-02-29"))
        XCTAssertEqual(date("2026-03-31").adding(months: 1), date("2026-04-30"))
        XCTAssertEqual(date("2026-12-31").adding(months: 14), date("2028-02-29"))
        XCTAssertEqual(date("2026-11-23").adding(months: -18), date("2025-05-23"))
        XCTAssertEqual(date("2026-03-31").adding(months: -1), date("2026-02-28"))
        XCTAssertEqual(date("2026-01-15").adding(months: -13), date("2024-12-15"))
        XCTAssertEqual(date("2026-05-10").adding(months: 0), date("2026-05-10"))
        XCTAssertEqual(date("2028-02-29").adding(months: 12), date("2029-02-28"))
    }

    func testDayArithmeticAndBoundaries() {
        XCTAssertEqual(date("2026-12-31").adding(days: 1), date("2027-01-01"))
        XCTAssertEqual(date("2028-03-01").adding(days: -1), date("2028-02-29"))
        XCTAssertEqual(date("2026-11-23").adding(days: -365), date("2025-11-23"))
        XCTAssertEqual(date("2028-02-10").endOfMonth, date("2028-02-29"))
        XCTAssertEqual(date("2026-02-10").endOfMonth, date("2026-02-28"))
        XCTAssertEqual(date("2026-04-01").endOfMonth, date("2026-04-30"))
        XCTAssertEqual(date("2026-07-04").startOfYear, date("2026-01-01"))
        XCTAssertEqual(date("2026-07-04").endOfYear, date("2026-12-31"))
    }

    func testDateOfAnInstantInATimeZone() {
        XCTAssertEqual(LocalDate(epochSeconds: 0), date("1970-01-01"))
        XCTAssertEqual(LocalDate(epochSeconds: 86_399), date("1970-01-01"))
        XCTAssertEqual(LocalDate(epochSeconds: 86_400), date("1970-01-02"))
        XCTAssertEqual(LocalDate(epochSeconds: -1), date("1969-12-31"))
        // 2026-01-01T02:00:00Z is still New Year's Eve in New York (UTC-5) and already the 1st in Tokyo.
        let instant: Int64 = 1_767_232_800
        XCTAssertEqual(LocalDate(epochSeconds: instant), date("2026-01-01"))
        XCTAssertEqual(LocalDate(epochSeconds: instant, utcOffsetSeconds: -5 * 3600), date("2025-12-31"))
        XCTAssertEqual(LocalDate(epochSeconds: instant - 3 * 3600, utcOffsetSeconds: 9 * 3600), date("2026-01-01"))
        // The extremes of a 64-bit clock must not trap.
        XCTAssertEqual(LocalDate(epochSeconds: .max, utcOffsetSeconds: 14 * 3600).daysSinceEpoch, 106_751_991_167_301)
        XCTAssertEqual(LocalDate(epochSeconds: .min, utcOffsetSeconds: -12 * 3600).daysSinceEpoch, -106_751_991_167_302)
    }

    func testCodableAsText() throws {
        let encoded = try JSONEncoder().encode([date("2028-02-29")])
        XCTAssertEqual(String(decoding: encoded, as: UTF8.self), #"["2028-02-29"]"#)
        XCTAssertEqual(try JSONDecoder().decode([LocalDate].self, from: encoded), [date("2028-02-29")])
        XCTAssertThrowsError(try JSONDecoder().decode([LocalDate].self, from: Data(#"["2026-02-29"]"#.utf8)))
    }
}
