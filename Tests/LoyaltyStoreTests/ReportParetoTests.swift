import LoyaltyCore
@testable import LoyaltyStore
import XCTest

final class ReportParetoTests: ReportTestCase {
    func testTopSharesSmallestGroupForEightyPercentAndGini() throws {
        let report = try store.paretoReport()
        XCTAssertEqual(report.rows.map(\.measure), [.points, .spend])
        let points = report.rows[0], spend = report.rows[1]
        // All 16 members count, closed A8 and the never-earning M1-M3 included.
        // Points in the window, largest first: A13 45,000; A1 23,100 (after the reversal); A7 23,100;
        // A12 22,499; A5 6,800; A8 3,000; A3 2,000; ...; total 126,009.
        XCTAssertEqual(points.members, 16)
        XCTAssertEqual(points.total, 126_009)
        XCTAssertEqual(points.top, [ParetoTop(percent: 1, members: 1, sum: 45_000), ParetoTop(percent: 5, members: 1, sum: 45_000),
                                    ParetoTop(percent: 10, members: 2, sum: 68_100), ParetoTop(percent: 20, members: 4, sum: 113_699)])
        XCTAssertEqual(points.top.map { basisPoints($0.sum, of: points.total) }, [3_571, 3_571, 5_404, 9_023])
        XCTAssertEqual(points.membersForValueShare, 4)
        XCTAssertEqual(points.giniBasisPoints, 7_442)

        XCTAssertEqual(spend.total, 567_000)
        XCTAssertEqual(spend.top.map(\.sum), [200_000, 200_000, 370_000, 530_000])
        XCTAssertEqual(spend.membersForValueShare, 3)
        XCTAssertEqual(spend.giniBasisPoints, 7_783)
        XCTAssertEqual(report.valuePercent, 80)
    }

    func testLorenzCurveRunsFromNothingToEverythingAndNeverFalls() throws {
        let points = try XCTUnwrap(try store.paretoReport().rows.first)
        XCTAssertEqual(points.lorenz.count, 101)
        XCTAssertEqual(points.lorenz.first, LorenzStep(membersBasisPoints: 0, valueBasisPoints: 0))
        XCTAssertEqual(points.lorenz.last, LorenzStep(membersBasisPoints: 10_000, valueBasisPoints: 10_000))
        // Step 10 is the bottom 1 of 16 members (6.25 %), who earned nothing; step 90 the bottom 14,
        // who hold all but A13's 45,000 and A1's 23,100: 57,909 of 126,009.
        XCTAssertEqual(points.lorenz[10], LorenzStep(membersBasisPoints: 625, valueBasisPoints: 0))
        XCTAssertEqual(points.lorenz[90], LorenzStep(membersBasisPoints: 8_750, valueBasisPoints: 4_595))
        for (before, after) in zip(points.lorenz, points.lorenz.dropFirst()) {
            XCTAssertLessThanOrEqual(before.membersBasisPoints, after.membersBasisPoints)
            XCTAssertLessThanOrEqual(before.valueBasisPoints, after.valueBasisPoints)
        }
    }

    func testAnEarlierAsOfLeavesOutLaterActivity() throws {
        // Up to 2026-01-31 (window from 2025-02-01): A3's 2,000, A10's 1,000, A11's 300, A7's 300 +
        // 22,500, A6's 150, A5's 5,000.
        let points = try XCTUnwrap(try store.paretoReport(asOf: try date("2026-01-31")).rows.first)
        XCTAssertEqual(points.total, 31_250)
        XCTAssertEqual(points.top.first, ParetoTop(percent: 1, members: 1, sum: 22_800))
    }

    func testNothingEarnedGivesZeroSharesNotADivisionByZero() throws {
        let points = try XCTUnwrap(try store.paretoReport(asOf: try date("2020-01-01")).rows.first)
        XCTAssertEqual(points.total, 0)
        XCTAssertEqual(points.giniBasisPoints, 0)
        XCTAssertEqual(points.membersForValueShare, 0)
        XCTAssertEqual(points.lorenz[50], LorenzStep(membersBasisPoints: 5_000, valueBasisPoints: 5_000))
    }
}
