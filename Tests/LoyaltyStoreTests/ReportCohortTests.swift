import Foundation
import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// Cohorts of the report fixture, as of 2026-06-30: the twelve months from 2025-07. A members begin
/// at their first accrual (their enrolment is later, 2026-07-01); A4 and A9-A11 began before
/// 2025-07, M1-M3 after the as-of date.
final class ReportCohortTests: ReportTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        let conn = try database.connect()
        defer { conn.close() }
        try CLVFixture.enrolAfterTheAsOfDate(conn)
    }

    func testMonthlyMatrixCountsActiveMembersPerMonthSinceEnrolment() throws {
        let report = try store.cohortReport()
        XCTAssertEqual(report.rows.count, 12)
        XCTAssertEqual(report.rows.first?.cohort, try date("2025-07-01"))
        let byLabel = Dictionary(uniqueKeysWithValues: report.rows.map { (report.by.label($0.cohort), $0) })
        XCTAssertEqual(report.rows.map(\.members), [0, 1, 0, 0, 1, 1, 1, 2, 1, 0, 1, 1])
        // A3: August, September, October; then nothing.
        XCTAssertEqual(byLabel["2025-08"]?.active, [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
        // A1 (Feb, Mar, May, Jun) and A13 (Feb only).
        XCTAssertEqual(byLabel["2026-02"]?.active, [2, 1, 0, 1, 1])
        XCTAssertEqual(byLabel["2026-02"]?.lostAfter, [1, 1, 0, 0, 0])
        // A7: November, January, May (the 31st, posted in June: activity dates decide).
        XCTAssertEqual(byLabel["2025-11"]?.active, [1, 0, 1, 0, 0, 0, 1, 0])
        // Closed A8 still belongs to its cohort: leaving is what a cohort measures.
        XCTAssertEqual(byLabel["2026-06"]?.active, [1])
        XCTAssertEqual(byLabel["2026-06"]?.lostAfter, [0], "the month after the as-of date is not known yet")
        XCTAssertEqual(byLabel["2025-07"]?.activeBasisPoints(0), nil, "an empty cohort has no shares")
        // Into month 1: of 8 members active in their first month (all cohorts but June's), A3 and A1
        // came back the next month.
        XCTAssertEqual(report.churn(1).lost, 6)
        XCTAssertEqual(report.churn(1).base, 8)
    }

    func testQuartersAndTheLimits() throws {
        let report = try store.cohortReport(by: .quarter, periods: 4)
        XCTAssertEqual(report.rows.map { report.by.label($0.cohort) }, ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"])
        XCTAssertEqual(report.rows.map(\.members), [1, 2, 4, 2])
        // Q1 2026: A1, A5, A12, A13; in Q2 A1 and A5 again.
        XCTAssertEqual(report.rows[2].active, [4, 2])
        XCTAssertNoThrow(try store.cohortReport(periods: 60))
        XCTAssertThrowsError(try store.cohortReport(periods: 61))
        XCTAssertThrowsError(try store.cohortReport(periods: 0))
    }

    func testTheCLIPrintsTheMatrixTheChurnRowAndTheHeatMap() throws {
        let csv = try report(["cohorts", "--by", "quarter", "--periods", "4", "--format", "csv"])
        XCTAssertEqual(csv.status, 0, csv.errors)
        // Churn into q1: of 7 members active in their first quarter, A6 (back only in Q2), A12 and
        // A13 were not active in the next: 3/7. Into q2: A3 (gone after Q4) of A3 and A7.
        XCTAssertEqual(csv.output, """
            cohort,members,q0_pct,q1_pct,q2_pct,q3_pct
            2025-Q3,1,100.00,100.00,0.00,0.00
            2025-Q4,2,100.00,50.00,100.00,
            2026-Q1,4,100.00,50.00,,
            2026-Q2,2,100.00,,,
            churn,,,42.85,50.00,

            """)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cohorts-\(UUID().uuidString).svg")
        defer { try? FileManager.default.removeItem(at: file) }
        let table = try report(["cohorts", "--svg", file.path])
        XCTAssertEqual(table.status, 0, table.errors)
        XCTAssertTrue(table.output.hasPrefix("Share of each enrolment month's members"), table.output)
        let svg = try String(contentsOf: file, encoding: .utf8)
        XCTAssertTrue(svg.contains("<title>2026-02 (2), 1: 50.00 %</title>"), svg)
        XCTAssertEqual(try report(["cohorts", "--by", "week"]).status, 2)
        XCTAssertEqual(try report(["cohorts", "--periods", "61"]).status, 2)
    }
}
