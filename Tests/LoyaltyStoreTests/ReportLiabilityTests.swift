import LoyaltyCore
@testable import LoyaltyStore
import XCTest

final class ReportLiabilityTests: ReportTestCase {
    func testOutstandingHeldExpiringAndBreakageByTier() throws {
        let report = try store.liabilityReport()
        XCTAssertEqual(report.horizonsDays, [30, 60, 90])
        XCTAssertEqual(report.tiers, [
            // A9's 600 lapse on 2026-07-20 (18 months after 2025-01-20); A4's expiry is the 900 of breakage.
            LiabilityRow(tierCode: "MEMBER", tierName: "Member", members: 10, outstanding: 49_209, held: 0,
                         expiring: [600, 600, 600], earned: 49_109, expired: 900),
            // A1's active hold only; A10 is exempt (Premier through 2026-12-31, past its 2026-08-15),
            // A11's Premier ends 2026-07-31, before its points do on 2026-09-10.
            LiabilityRow(tierCode: "PREMIER", tierName: "Premier", members: 4, outstanding: 69_400, held: 2_000,
                         expiring: [0, 0, 300], earned: 68_100, expired: 0),
            LiabilityRow(tierCode: "PREMIER_EXECUTIVE", tierName: "Premier Executive", members: 1, outstanding: 2_000, held: 0,
                         expiring: [0, 0, 0], earned: 2_000, expired: 0),
            LiabilityRow(tierCode: "1K", tierName: "1K", members: 1, outstanding: 6_800, held: 0,
                         expiring: [0, 0, 0], earned: 6_800, expired: 0),
        ])
        let total = report.total
        XCTAssertEqual(total.outstanding, 127_409)
        XCTAssertEqual(total.expiring, [600, 600, 900])
        XCTAssertEqual(total.earned, 126_009)
        XCTAssertEqual(total.breakageBasisPoints, 71)
        XCTAssertEqual(report.tiers[0].breakageBasisPoints, 183)
    }

    func testHistoryGivesOutstandingAtEachMonthEndAndTheAsOfDate() throws {
        let history = try store.liabilityReport().history
        XCTAssertEqual(history.count, 13)
        XCTAssertEqual(history.first, LiabilityPoint(date: try date("2025-06-30"), outstanding: 2_800, expiredSinceStart: 0))
        XCTAssertEqual(history[7], LiabilityPoint(date: try date("2026-01-31"), outstanding: 32_750, expiredSinceStart: 0))
        XCTAssertEqual(history.last, LiabilityPoint(date: ReportFixture.asOf, outstanding: 127_409, expiredSinceStart: 900))
    }

    func testExpiringIsWhatTheDailyRunWouldTakeOnEachHorizon() throws {
        let conn = try database.connect()
        defer { conn.close() }
        let w = LedgerWriter(conn: conn)
        // Z2's 400 are due since 2026-07-10, but its Premier shields them through 2026-08-15:
        // the run of day 30 (07-30) leaves them, the run of day 60 (08-29) takes them.
        try w.member("Z2", tier: "PREMIER", until: "2026-08-15")
        try w.accrue("Z2", "z2-1", "HOTELCO", on: "2025-01-10", points: 400)
        XCTAssertEqual(try store.liabilityReport().tiers[1].expiring, [0, 400, 700])
    }

    func testLotExpiryConsumesTheOldestLotsFirst() throws {
        var program = Program.demo
        program.expiry = .lot(months: 18)
        try database.connect().transaction { conn in try ProgramRecords.save(conn, program) }
        try store.reloadProgram()
        let conn = try database.connect()
        defer { conn.close() }
        let w = LedgerWriter(conn: conn)
        // Z1: lots of 100 (2025-01-10) and 200 (2025-03-05); 150 spent on 2025-06-01 takes the first
        // lot whole and 50 of the second, so 150 remain and expire on 2026-09-05, within 90 days.
        try w.member("Z1")
        try w.accrue("Z1", "z1-1", "HOTELCO", on: "2025-01-10", points: 100)
        try w.accrue("Z1", "z1-2", "HOTELCO", on: "2025-03-05", points: 200)
        try w.entry("Z1", kind: "adjustment", points: -150, on: "2025-06-01")
        let member = try XCTUnwrap(try store.liabilityReport().tiers.first)
        // Every other Member lot of the fixture: A9's 600 (expires 2026-07-20) and A11 is Premier.
        XCTAssertEqual(member.expiring, [600, 600, 750])
        // Lots know no tier exemption: A10's 1,000 go on 2026-08-15, A11's 300 on 2026-09-10.
        XCTAssertEqual(try store.liabilityReport().tiers[1].expiring, [0, 1_000, 1_300])
    }
}
