import LoyaltyCore
@testable import LoyaltyStore
import XCTest

final class ReportRFMTests: ReportTestCase {
    func testSegmentsCountEveryActiveMemberOnceWithTheirWindowSpend() throws {
        let report = try store.rfmReport()
        XCTAssertEqual(report.period.asOf, ReportFixture.asOf)
        XCTAssertEqual(report.period.windowStart, try date("2025-07-01"))
        let expected: [(RFMSegment, members: Int64, accruals: Int64, spend: Int64)] = [
            (.champions, 2, 7, 190_000),   // A1, A7
            (.new, 1, 1, 10_000),          // A2
            (.loyal, 2, 4, 67_000),        // A5, A6
            (.atRisk, 1, 5, 200_000),      // A3
            (.hibernating, 4, 0, 0),       // A4, A9, A10, A11: nothing in the window
            (.promising, 2, 2, 0),         // A12, A13: recent flights, no spend
            (.noActivity, 3, 0, 0),        // M1-M3; closed A8 is not counted at all
        ]
        XCTAssertEqual(report.segments, expected.map {
            RFMSegmentRow(segment: $0.0, members: $0.members, accruals: $0.accruals, spendMinor: $0.spend)
        })
        XCTAssertEqual(report.members, 15)
        XCTAssertEqual(report.spendMinor, 467_000)
    }

    func testOneMembersScoresShareTheirTiesWithEqualValues() throws {
        // Twelve scored members: rank k scores 1 + 5(k-1)/12. A6's last accrual is the second most
        // recent (rank 11: R 5); its two accruals tie with A5's at ranks 7-8 (both F 3).
        let a6 = try store.rfmMember(number: "A6")
        XCTAssertEqual(a6, RFMMemberScore(
            period: try store.rfmReport().period, number: "A6", status: "active", firstAccrual: try date("2025-12-01"), lastAccrual: try date("2026-06-01"),
            recencyDays: 29, frequency: 2, monetaryMinor: 7_000, recencyScore: 5, frequencyScore: 3, monetaryScore: 3,
            segment: .loyal))
        let a5 = try store.rfmMember(number: "A5")
        XCTAssertEqual(a5.frequencyScore, 3)
        XCTAssertEqual(a5.segment, .loyal)
        // Four members with nothing in the window tie at the bottom: all F 1 and M 1.
        let a10 = try store.rfmMember(number: "A10")
        XCTAssertEqual([a10.recencyScore, a10.frequencyScore, a10.monetaryScore], [1, 1, 1])
        XCTAssertEqual(a10.segment, .hibernating)
        XCTAssertEqual(try store.rfmMember(number: "A2").segment, .new)
    }

    func testMembersOutsideThePopulation() throws {
        let never = try store.rfmMember(number: "M1")
        XCTAssertEqual(never.segment, .noActivity)
        XCTAssertNil(never.recencyScore)
        XCTAssertNil(never.lastAccrual)
        let closed = try store.rfmMember(number: "A8")
        XCTAssertEqual(closed.status, "closed")
        XCTAssertNil(closed.segment)
        XCTAssertThrowsError(try store.rfmMember(number: "NOBODY")) {
            XCTAssertEqual(($0 as? LoyaltyError)?.code, .notFound)
        }
    }

    func testAsOfIgnoresLaterActivityAndMovesTheWindow() throws {
        // On 2026-01-31 A1 has not earned yet (its first accrual is dated 02-01), and A10's card
        // spend of 2025-02-15 is inside the window that starts 2025-02-01.
        let report = try store.rfmReport(asOf: try date("2026-01-31"))
        XCTAssertEqual(report.period.windowStart, try date("2025-02-01"))
        XCTAssertEqual(report.members, 15)
        let a1 = try store.rfmMember(number: "A1", asOf: try date("2026-01-31"))
        XCTAssertEqual(a1.segment, .noActivity)
        let a10 = try store.rfmMember(number: "A10", asOf: try date("2026-01-31"))
        XCTAssertEqual(a10.frequency, 1)
        XCTAssertEqual(a10.monetaryMinor, 100_000)
        XCTAssertEqual(a10.recencyDays, 350)
    }

    func testForeignSpendConvertsAtTheProgramsRateFloorPerAccrual() throws {
        var program = Program.demo
        program.exchangeRates = [ExchangeRate(currency: "EUR", numerator: 108, denominator: 100)]
        try database.connect().transaction { conn in try ProgramRecords.save(conn, program) }
        try store.reloadProgram()
        let conn = try database.connect()
        defer { conn.close() }
        let w = LedgerWriter(conn: conn)
        try w.member("Z1")
        // 10.01 EUR is 10.8108 USD: 1,081 cents. GBP has no rate, so its spend is left out.
        try w.accrue("Z1", "z1-1", "HOTELCO", on: "2026-06-01", points: 30, amountMinor: 1_001, currency: "EUR")
        try w.accrue("Z1", "z1-2", "HOTELCO", on: "2026-06-02", points: 30, amountMinor: 5_000, currency: "GBP")
        let z1 = try store.rfmMember(number: "Z1")
        XCTAssertEqual(z1.frequency, 2)
        XCTAssertEqual(z1.monetaryMinor, 1_081)
    }

    func testSettingsOutOfRangeAreRefused() throws {
        var settings = ReportSettings()
        settings.windowMonths = 0
        XCTAssertThrowsError(try store.rfmReport(settings: settings)) {
            XCTAssertEqual(($0 as? LoyaltyError)?.code, .invalid)
        }
    }
}
