import Foundation
import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// The report fixture plus two long-standing members, as of 2026-06-30 against 2025-06-30:
///
/// | member | history |
/// | C1 | MEMBER; hotel 2024-01-15, hotel 2025-09-01, card 2026-02-01 |
/// | C2 | PREMIER since 2025-09-01 (MEMBER before); flight 2024-02-01; flight 2024-08-01, hotel 2025-01-01, dining 2025-02-01; flight 2025-08-01, hotel 2025-12-01, dining 2026-03-01 |
final class ReportLadderTests: ReportTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        let conn = try database.connect()
        defer { conn.close() }
        let w = LedgerWriter(conn: conn)
        try w.member("C1")
        for (index, (partner, day)) in [("HOTELCO", "2024-01-15"), ("HOTELCO", "2025-09-01"), ("CARDCO", "2026-02-01")].enumerated() {
            try w.accrue("C1", "c1-\(index)", partner, on: day, points: 100)
        }
        try w.member("C2", tier: "PREMIER", until: "2027-02-28")
        for (index, (partner, day)) in [("SKYAIR", "2024-02-01"), ("SKYAIR", "2024-08-01"), ("HOTELCO", "2025-01-01"),
                                        ("DINECO", "2025-02-01"), ("SKYAIR", "2025-08-01"), ("HOTELCO", "2025-12-01"),
                                        ("DINECO", "2026-03-01")].enumerated() {
            try w.accrue("C2", "c2-\(index)", partner, on: day, points: 100)
        }
        _ = try conn.query("""
            INSERT INTO tier_history (member_number, changed_at, from_tier, to_tier, valid_until, reason)
            VALUES ('C2', '2025-09-01 03:00:00+00', 'MEMBER', 'PREMIER', '2027-02-28', 'qualified')
            """)
        try CLVFixture.enrolAfterTheAsOfDate(conn)
    }

    func testEveryActiveMemberOnOneRungOnEachDate() throws {
        let report = try store.ladderReport()
        XCTAssertEqual(report.from.asOf, try date("2025-06-30"))
        XCTAssertEqual(report.from.windowStart, try date("2024-07-01"))
        // Now: A4, A9-A11 lapsed; A2, A12, A13 once; A1, A3, A5-A7 repeat but young; C1 tenured with two
        // partners; C2 with three and Premier.
        XCTAssertEqual(LadderRung.enrolled.map { report.membersOn(asOf: $0) }, [4, 3, 5, 1, 1])
        // A year earlier: eight had not begun; A4 and A9-A11 had one accrual; C1 none in that year;
        // C2 three partners but still a Member: a supporter, not an advocate.
        XCTAssertEqual(LadderRung.allCases.map { report.membersOn(from: $0) }, [8, 1, 4, 0, 1, 0])
        XCTAssertEqual(report.count(from: .customer, to: .prospect), 4)
        XCTAssertEqual(report.count(from: .prospect, to: .supporter), 1)
        XCTAssertEqual(report.count(from: .supporter, to: .advocate), 1)
        XCTAssertEqual(report.count(from: .notEnrolled, to: .client), 5)
        XCTAssertEqual(LadderRung.allCases.map { report.moved(from: $0, up: true) }, [0, 1, 0, 0, 1, 0])
        XCTAssertEqual(LadderRung.allCases.map { report.moved(from: $0, up: false) }, [0, 0, 4, 0, 0, 0])
    }

    func testATierChangeAndOneAccrualMoveMembersOverOneDay() throws {
        // 2025-08-31 and 2025-09-01 see the same three partners of C2; its tier became Premier on
        // 09-01 at 03:00 UTC, so it is a supporter on the first day and an advocate on the second.
        // C1's accrual of 09-01 makes it a customer that day.
        let report = try store.ladderReport(asOf: try date("2025-09-01"), from: try date("2025-08-31"))
        XCTAssertEqual(report.count(from: .supporter, to: .advocate), 1)
        XCTAssertEqual(report.count(from: .prospect, to: .customer), 1)
        XCTAssertThrowsError(try store.ladderReport(asOf: try date("2026-01-31"), from: try date("2026-01-31")))
    }

    func testTheCLIPrintsTheMovementMatrix() throws {
        let csv = try report(["ladder", "--format", "csv"])
        XCTAssertEqual(csv.status, 0, csv.errors)
        XCTAssertEqual(csv.output, """
            rung_before,members,prospect,customer,client,supporter,advocate,moved_up,moved_down
            not_enrolled,8,0,3,5,0,0,,
            prospect,1,0,0,0,1,0,1,0
            customer,4,4,0,0,0,0,0,4
            client,0,0,0,0,0,0,0,0
            supporter,1,0,0,0,0,1,1,0
            advocate,0,0,0,0,0,0,0,0
            total,14,4,3,5,1,1,2,4

            """)
        XCTAssertEqual(try report(["ladder", "--from", "2026-13-01"]).status, 2)
        XCTAssertEqual(try report(["ladder", "--from", "2026-07-01"]).status, 1)
    }
}
