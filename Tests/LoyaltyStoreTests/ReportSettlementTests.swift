import LoyaltyCore
@testable import LoyaltyStore
import XCTest

final class ReportSettlementTests: ReportTestCase {
    private func row(_ partner: String, _ month: String, _ accruals: Int64, _ issued: Int64,
                     _ reversals: Int64 = 0, _ reversed: Int64 = 0, price: Int64) -> SettlementRow {
        SettlementRow(partnerCode: partner, month: month, accruals: accruals, pointsIssued: issued, reversals: reversals,
                      pointsReversed: reversed, pricePerThousandMinor: price)
    }

    func testPerPartnerAndPostingMonthWithExactAmountsOwed() throws {
        let report = try store.settlementReport()
        XCTAssertEqual(report.firstMonth, try date("2025-07-01"))
        XCTAssertEqual(report.rows, [
            row("CARDCO", "2025-08", 2, 800, price: 800), row("CARDCO", "2025-09", 2, 800, price: 800),
            row("CARDCO", "2025-10", 1, 400, price: 800), row("CARDCO", "2026-05", 1, 500, price: 800),
            row("DINECO", "2025-12", 1, 150, price: 999), row("DINECO", "2026-06", 1, 60, price: 999),
            row("HOTELCO", "2025-11", 1, 300, price: 1_250), row("HOTELCO", "2026-03", 1, 600, price: 1_250),
            row("HOTELCO", "2026-04", 1, 1_800, price: 1_250), row("HOTELCO", "2026-05", 1, 300, price: 1_250),
            // A7's stay of 05-31 was posted 06-01 00:30, so June pays for it; so does the reversal of A1's.
            row("HOTELCO", "2026-06", 3, 6_300, 1, 1_000, price: 1_250),
            row("SKYAIR", "2026-01", 2, 27_500, price: 1_500), row("SKYAIR", "2026-02", 2, 65_000, price: 1_500),
            row("SKYAIR", "2026-03", 1, 22_499, price: 1_500),
        ])
        // 60 × 9.99 / 1,000 = 59.94 and 22,499 × 15.00 / 1,000 = 33,748.5: floor per row.
        XCTAssertEqual(report.rows.map(\.owedMinor), [640, 640, 320, 400, 149, 59, 375, 750, 2_250, 375, 6_625, 41_250, 97_500, 33_748])
        XCTAssertEqual(report.owedMinor, 185_081)
        XCTAssertEqual(report.currency, "USD")
    }

    func testAReversalInALaterMonthIsACredit() throws {
        let conn = try database.connect()
        defer { conn.close() }
        try LedgerWriter(conn: conn).reverse("CARDCO", "a3-1", points: 400, qualifying: 20, posted: "2026-06-10 08:00:00+00")
        let june = try store.settlementReport().rows.filter { $0.partnerCode == "CARDCO" && $0.month == "2026-06" }
        XCTAssertEqual(june, [row("CARDCO", "2026-06", 0, 0, 1, 400, price: 800)])
        XCTAssertEqual(june.first?.owedMinor, -320)
    }

    func testTheWindowEndsWithTheAsOfDateInTheProgramsZone() throws {
        // As of 2026-05-31 the window is 2025-06..2026-05: A7's stay posted 06-01 00:30 UTC is out.
        let may = try store.settlementReport(asOf: try date("2026-05-31"))
        XCTAssertEqual(may.rows.filter { $0.partnerCode == "HOTELCO" && $0.month == "2026-05" }.map(\.accruals), [1])
        XCTAssertFalse(may.rows.contains { $0.month == "2026-06" })
        // An hour west of UTC, 00:30 UTC on 06-01 is 23:30 on 05-31: May pays for it.
        var program = Program.demo
        program.utcOffsetSeconds = -3_600
        try database.connect().transaction { conn in try ProgramRecords.save(conn, program) }
        try store.reloadProgram()
        let west = try store.settlementReport(asOf: try date("2026-05-31"))
        XCTAssertEqual(west.rows.filter { $0.partnerCode == "HOTELCO" && $0.month == "2026-05" }.map(\.accruals), [2])
    }
}
