import Foundation
import LoyaltyCore
import Postgres
@testable import LoyaltyStore
import XCTest

/// The report fixture plus five members with two years of history, so that cohorts have someone
/// to observe (docs/reports.md, "clv", walks through these numbers):
///
/// | member | history |
/// | B1 | hotel 100.00 2024-03-01, 100.00 2024-09-01, 500.00 2026-01-10 |
/// | B2 | card 200.00 2024-05-01, 200.00 2025-03-01, 300.00 2025-10-01 |
/// | B3 | hotel 100.00 2024-06-01, 100.00 2025-05-01 |
/// | B4 | dining 40.00 2024-08-01 |
/// | B5 | card 1,000.00 2025-02-01, 1,000.00 2026-04-01 |
///
/// A2 enrolled on 2025-06-01, before its first accrual; everyone else on 2026-07-01, after the as-of date.
enum CLVFixture {
    static func load(_ conn: Connection) throws {
        let w = LedgerWriter(conn: conn)
        let history: [(String, String, [(String, Int64, Int64)])] = [
            ("B1", "HOTELCO", [("2024-03-01", 300, 10_000), ("2024-09-01", 300, 10_000), ("2026-01-10", 1_500, 50_000)]),
            ("B2", "CARDCO", [("2024-05-01", 200, 20_000), ("2025-03-01", 200, 20_000), ("2025-10-01", 300, 30_000)]),
            ("B3", "HOTELCO", [("2024-06-01", 300, 10_000), ("2025-05-01", 300, 10_000)]),
            ("B4", "DINECO", [("2024-08-01", 120, 4_000)]),
            ("B5", "CARDCO", [("2025-02-01", 1_000, 100_000), ("2026-04-01", 1_000, 100_000)]),
        ]
        for (member, partner, accruals) in history {
            try w.member(member)
            for (index, accrual) in accruals.enumerated() {
                try w.accrue(member, "\(member.lowercased())-\(index + 1)", partner, on: accrual.0, points: accrual.1,
                             amountMinor: accrual.2)
            }
        }
        try enrolAfterTheAsOfDate(conn)
        _ = try conn.query("UPDATE members SET enrolled_at = '2025-06-01 10:00:00+00' WHERE member_number = 'A2'")
    }

    /// Every member enrolled on 2026-07-01, the day after the as-of date, whatever day the test runs:
    /// a member whose ledger starts earlier began with its first entry, M1-M3 had not begun.
    static func enrolAfterTheAsOfDate(_ conn: Connection) throws {
        _ = try conn.query("UPDATE members SET enrolled_at = '2026-07-01 10:00:00+00'")
    }
}

final class ReportCLVTests: ReportTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        let conn = try database.connect()
        defer { conn.close() }
        try CLVFixture.load(conn)
    }

    private func row(_ report: CLVReport, _ dimension: CLVDimension, _ segment: String) throws -> CLVRow {
        try XCTUnwrap(report.rows.first { $0.dimension == dimension && $0.segment == segment }, "\(dimension) \(segment)")
    }

    func testCohortsRetainAsObservedAndPoolWhenTheyHaveNobodyToObserve() throws {
        let report = try store.clvReport()
        XCTAssertEqual(report.previousWindowStart, try date("2024-07-01"))
        let cohorts = report.rows.filter { $0.dimension == .cohort }
        XCTAssertEqual(cohorts.map(\.segment), ["2024", "2025", "2026"])
        // 2024: A4, B1-B4 accrued in the year before the window; B1 and B2 again in it.
        XCTAssertEqual(cohorts[0].retention, CLVRetention(base: 5, retained: 2, pooled: false))
        // 2025: A9, A10, A11, B5 before; B5 again. A2 belongs here by its enrolment.
        XCTAssertEqual(cohorts[1].retention, CLVRetention(base: 4, retained: 1, pooled: false))
        XCTAssertEqual(cohorts[1].members, 8)
        // 2026 began inside the window: all cohorts together, 3 of 9.
        XCTAssertEqual(cohorts[2].retention, CLVRetention(base: 9, retained: 3, pooled: true))
        XCTAssertEqual(cohorts[2].retention?.rateBasisPoints, 3_333)
    }

    func testForwardValueIsTheWindowSpendTimesTheDiscountedRetentionSumFloorPerMember() throws {
        let report = try store.clvReport()
        // 2024 at 40 %: Σ_{t=1..5} (0.4/1.1)^t = 0.56779...; B1 500.00 -> 283.89, B2 300.00 -> 170.33.
        XCTAssertEqual(try row(report, .cohort, "2024").forwardMinor, 28_389 + 17_033)
        // 2025 at 25 %: 0.29393...; A3 2,000.00, A6 70.00, A7 200.00, A2 100.00, B5 1,000.00.
        XCTAssertEqual(try row(report, .cohort, "2025").forwardMinor, 58_787 + 2_057 + 5_878 + 2_939 + 29_393)
        // 2026 at 3/9: 0.43367...; A1 1,700.00, A5 600.00; closed A8 has no future.
        XCTAssertEqual(try row(report, .cohort, "2026").forwardMinor, 73_724 + 26_020)
        XCTAssertEqual(report.customerEquityMinor, 244_220)
        let total = try row(report, .total, "all")
        XCTAssertEqual(total.members, 18)
        XCTAssertEqual(total.activeMembers, 12)
        // Every accrual's spend to date: the report fixture's 7,270.00 and B1-B5's 3,640.00.
        XCTAssertEqual(total.spendMinor, 727_000 + 364_000)
        // In the window: the RFM report's 4,670.00, closed A8's 1,000.00, B1, B2 and B5.
        XCTAssertEqual(total.windowSpendMinor, 467_000 + 100_000 + 50_000 + 30_000 + 100_000)
    }

    func testEveryDimensionAddsUpToTheTotal() throws {
        let report = try store.clvReport()
        let total = try row(report, .total, "all")
        for dimension in [CLVDimension.tier, .rfm, .cohort] {
            let rows = report.rows.filter { $0.dimension == dimension }
            XCTAssertEqual(rows.reduce(0) { $0 + $1.members }, total.members, "\(dimension)")
            XCTAssertEqual(rows.reduce(0) { $0 + $1.forwardMinor }, total.forwardMinor, "\(dimension)")
            XCTAssertEqual(rows.reduce(0) { $0 + $1.pointsEarned }, total.pointsEarned, "\(dimension)")
        }
        XCTAssertEqual(report.rows.filter { $0.dimension == .tier }.map(\.segment), ["MEMBER", "PREMIER", "PREMIER_EXECUTIVE", "1K"])
        XCTAssertEqual(try row(report, .rfm, "closed").members, 1)
        XCTAssertEqual(try row(report, .rfm, "closed").spendMinor, 100_000)
    }

    func testOneMemberAndTheModelsKnobs() throws {
        let a1 = try store.clvMember(number: "A1")
        XCTAssertEqual(a1.since, try date("2026-02-01"))
        XCTAssertEqual(a1.pointsEarned, 3_000 + 500 + 600 + 20_000 - 1_000)
        XCTAssertEqual(a1.spendMinor, 170_000)
        XCTAssertEqual(a1.forwardMinor, 73_724)
        XCTAssertEqual(a1.retention, CLVRetention(base: 9, retained: 3, pooled: true))
        XCTAssertEqual(a1.rfmSegment, "champions")
        let m1 = try store.clvMember(number: "M1")
        XCTAssertNil(m1.since, "enrolled after the as-of date")
        XCTAssertEqual(m1.forwardMinor, 0)
        // One year undiscounted: exactly the window spend times the retention, 170,000 × 3/9.
        let plain = try store.clvMember(number: "A1", model: CLVModel(horizonYears: 1, discountBasisPoints: 0))
        XCTAssertEqual(plain.forwardMinor, 56_666)
        XCTAssertThrowsError(try store.clvReport(model: CLVModel(horizonYears: 31, discountBasisPoints: 0)))
        XCTAssertThrowsError(try store.clvReport(model: CLVModel(horizonYears: 5, discountBasisPoints: 10_001)))
        XCTAssertNoThrow(try store.clvReport(model: CLVModel(horizonYears: 30, discountBasisPoints: 10_000)))
    }

    func testTheCLIPrintsEveryGroupAndTheEquity() throws {
        let csv = try report(["clv", "--format", "csv"])
        XCTAssertEqual(csv.status, 0, csv.errors)
        XCTAssertEqual(csv.output, """
            dimension,segment,members,active_in_window,retention_pct,retention_from,spend_to_date,points_earned,spend_in_window,forward_value,forward_per_member
            tier,MEMBER,12,8,,,5510.00,56129,3170.00,856.89,71.40
            tier,PREMIER,4,2,,,2800.00,69400,1700.00,737.24,184.31
            tier,PREMIER_EXECUTIVE,1,1,,,2000.00,2000,2000.00,587.87,587.87
            tier,1K,1,1,,,600.00,6800,600.00,260.20,260.20
            rfm,champions,2,2,,,2300.00,29900,2300.00,997.44,498.72
            rfm,new,1,1,,,100.00,300,100.00,29.39,29.39
            rfm,loyal,2,2,,,270.00,23310,270.00,79.35,39.67
            rfm,at_risk,1,1,,,2000.00,2000,2000.00,587.87,587.87
            rfm,hibernating,7,1,,,2540.00,4220,300.00,170.33,24.33
            rfm,promising,4,4,,,2700.00,71599,1500.00,577.82,144.45
            rfm,closed,1,1,,,1000.00,3000,1000.00,0.00,0.00
            cohort,2024,5,2,40.00,cohort,1940.00,4420,800.00,454.22,90.84
            cohort,2025,8,5,25.00,cohort,5670.00,29510,3370.00,990.54,123.81
            cohort,2026,5,5,33.33,pooled,3300.00,100399,3300.00,997.44,199.48
            total,all,18,12,,,10910.00,134329,7470.00,2442.20,135.67

            """)
        let json = try report(["clv", "--format", "json", "--horizon-years", "1", "--discount-rate", "0"])
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        XCTAssertEqual(object["retention_from"] as? String, "2024-07-01")
        XCTAssertEqual(object["horizon_years"] as? String, "1")
        XCTAssertEqual(object["discount_rate_pct"] as? String, "0.00")
        // One undiscounted year: 800.00 × 2/5 + 3,370.00 × 1/4 + 2,300.00 × 3/9, floor per member (A1 566.66, A5 200.00).
        XCTAssertEqual(object["customer_equity"] as? String, "1929.16")
        let table = try report(["clv"])
        XCTAssertTrue(table.output.hasPrefix("Customer value as of 2026-06-30 "), table.output)
        XCTAssertTrue(table.output.contains("customer equity 2,442.20 USD"), table.output)
    }

    func testTheCLIRefusesModelsOutOfRange() throws {
        XCTAssertEqual(try report(["clv", "--horizon-years", "31"]).status, 2)
        XCTAssertEqual(try report(["clv", "--horizon-years", "0"]).status, 2)
        XCTAssertEqual(try report(["clv", "--discount-rate", "1.0001"]).status, 2)
        XCTAssertEqual(try report(["clv", "--discount-rate", "10%"]).status, 2)
        XCTAssertEqual(try report(["clv", "--discount-rate", ".1"]).status, 2)
        XCTAssertEqual(try report(["clv", "--member", "NOBODY"]).status, 1)
        XCTAssertEqual(try report(["clv", "--member", "A1", "--svg", "/tmp/never.svg"]).status, 2)
        let member = try report(["clv", "--member", "A1", "--horizon-years", "1", "--discount-rate", "0", "--format", "csv"])
        XCTAssertEqual(member.output, """
            member,status,tier,rfm_segment,since,spend_to_date,points_earned,spend_in_window,retention_pct,retention_from,forward_value
            A1,active,PREMIER,champions,2026-02-01,1700.00,23100,1700.00,33.33,pooled,566.66

            """)
    }
}
