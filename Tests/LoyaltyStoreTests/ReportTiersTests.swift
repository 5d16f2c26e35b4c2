import LoyaltyCore
@testable import LoyaltyStore
import XCTest

final class ReportTiersTests: ReportTestCase {
    func testMembersCandidatesAndLapsesPerTier() throws {
        let report = try store.tierReport()
        XCTAssertEqual(report.qualificationStart, try date("2026-01-01"))
        XCTAssertEqual(report.tiers, [
            // A7 has exactly 90 % of Premier's 25,000 (22,500); A12's 22,499 is one short. Closed A8 is not counted.
            TierReportRow(tierCode: "MEMBER", tierName: "Member", rank: 0, threshold: 0, members: 9,
                          upgradeCandidates: 1, lapsing: 0),
            // A13 has 45,000 of Premier Executive's 50,000; A1 (2026-09-15) and A11 (2026-07-31) lapse
            // before 2026-09-28; A10 (2026-12-31) does not.
            TierReportRow(tierCode: "PREMIER", tierName: "Premier", rank: 1, threshold: 25_000, members: 4,
                          upgradeCandidates: 1, lapsing: 2),
            TierReportRow(tierCode: "PREMIER_EXECUTIVE", tierName: "Premier Executive", rank: 2, threshold: 50_000, members: 1,
                          upgradeCandidates: 0, lapsing: 0),
            // The top tier has no next threshold, so no candidates; A5's 1K ends 2026-07-31.
            TierReportRow(tierCode: "1K", tierName: "1K", rank: 3, threshold: 100_000, members: 1,
                          upgradeCandidates: 0, lapsing: 1),
        ])
        XCTAssertEqual(report.members, 15)
    }

    func testQualifyingCountsOnlyThisPeriodUpToTheAsOfDate() throws {
        // On 2026-01-14 A7's 22,500 (dated 01-15) has not happened yet, and A1's lapse on
        // 2026-09-15 is beyond 90 days.
        let report = try store.tierReport(asOf: try date("2026-01-14"))
        XCTAssertEqual(report.tiers.map(\.upgradeCandidates), [0, 0, 0, 0])
        XCTAssertEqual(report.tiers.map(\.lapsing), [0, 0, 0, 0])
    }

    func testHorizonAndBandEdges() throws {
        // A5's 1K and A11's Premier are valid through 2026-07-31 and so lapse on 08-01, 32 days on.
        var settings = ReportSettings()
        settings.tierLapseHorizonDays = 31
        XCTAssertEqual(try store.tierReport(settings: settings).tiers.map(\.lapsing), [0, 0, 0, 0])
        settings.tierLapseHorizonDays = 32
        XCTAssertEqual(try store.tierReport(settings: settings).tiers.map(\.lapsing), [0, 1, 0, 1])
        // Within 11 % of 25,000 starts at 22,250, which takes in A12's 22,499 too.
        settings.upgradeProximityPercent = 11
        XCTAssertEqual(try store.tierReport(settings: settings).tiers.map(\.upgradeCandidates), [2, 1, 0, 0])
    }
}
