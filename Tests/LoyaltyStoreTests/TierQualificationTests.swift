import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// Qualification inside the accrual's transaction: the demo's numbers, reversals, activity
/// thresholds, rolling windows and lifetime status.
final class TierQualificationTests: TierTestCase {
    func testCrossingAThresholdUpgradesAtOnceAndTheBonusFollows() throws {
        try fly("t1", "M1", miles: 24_000, on: "2026-06-10")
        XCTAssertEqual(try tier("M1").code, "MEMBER")
        XCTAssertEqual(try store.member(number: "M1").toNextTier, 1_000)

        try fly("t2", "M1", miles: 1_000, on: "2026-06-14")
        XCTAssertEqual(try tier("M1").code, "PREMIER")
        XCTAssertEqual(try tier("M1").until, "2028-02-29", "earned in 2026: through the end of February two years on")

        let next = try fly("t3", "M1", miles: 2_000)
        XCTAssertEqual(next.points, 2_500, "a Premier's Y flight of 2,000 earns 2,000 + 25 %")
        XCTAssertEqual(next.qualifying, 2_000)

        try fly("t4", "M1", miles: 73_000)
        XCTAssertEqual(try tier("M1").code, "1K", "100,000 qualifying miles make 1K")
        XCTAssertEqual(try store.tierStatus(number: "M1").qualifying, 100_000)
        XCTAssertNil(try store.tierStatus(number: "M1").nextTier)
        let changes = try history("M1")
        XCTAssertEqual(changes.map(\.to), ["PREMIER", "1K"])
        XCTAssertEqual(changes.map(\.reason), ["accrual SKYAIR/t2", "accrual SKYAIR/t4"])
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testAReversalUnderTheThresholdTakesTheTierBackAndSaysWhy() throws {
        try fly("t1", "M1", miles: 24_000)
        try fly("t2", "M1", miles: 2_000)
        XCTAssertEqual(try tier("M1").code, "PREMIER")

        _ = try store.reverse(partner: skyair, txnID: "t2", points: 1_000)
        XCTAssertEqual(try tier("M1").code, "PREMIER", "25,000 remain: still Premier")
        _ = try store.reverse(partner: skyair, txnID: "t2", points: nil)
        XCTAssertEqual(try tier("M1").code, "MEMBER")
        XCTAssertNil(try tier("M1").until)
        let last = try XCTUnwrap(history("M1").last)
        XCTAssertEqual(last.from, "PREMIER")
        XCTAssertEqual(last.to, "MEMBER")
        XCTAssertEqual(last.reason, "reversal SKYAIR/t2")
        let revoked = try sql("""
            SELECT reason FROM tier_grants WHERE member_number = 'M1' AND revoked_at IS NOT NULL
            """).rows.map { $0["reason"] }
        XCTAssertEqual(revoked, ["24000 qualifying miles in 2026-01-01..2026-12-31: under every threshold"])
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testAReversalFromTheTopFallsToTheTierStillEarned() throws {
        try fly("t1", "M1", miles: 60_000)
        try fly("t2", "M1", miles: 45_000)
        XCTAssertEqual(try tier("M1").code, "1K")
        _ = try store.reverse(partner: skyair, txnID: "t2", points: nil)
        XCTAssertEqual(try tier("M1").code, "PREMIER_EXECUTIVE")
        XCTAssertEqual(try tier("M1").until, "2028-02-29")
    }

    func testQualifyingCountsInTheYearOfTheActivityNotOfThePosting() throws {
        today("2027-01-05")
        try fly("t1", "M1", miles: 25_000, on: "2026-12-30")
        XCTAssertEqual(try tier("M1").code, "PREMIER")
        XCTAssertEqual(try tier("M1").until, "2028-02-29", "earned in 2026")
        try fly("t2", "M1", miles: 10_000, on: "2027-01-02")
        XCTAssertEqual(try store.tierStatus(number: "M1").qualifying, 10_000, "2027 counts only its own activity")
        XCTAssertEqual(try tier("M1").until, "2028-02-29")
    }

    func testActivitiesReachATierWithTooFewPoints() throws {
        try useProgram { $0.tiers[1].qualifyingActivities = 3 }
        try fly("s1", "M1", miles: 1_000)
        try fly("s2", "M1", miles: 1_000)
        XCTAssertEqual(try tier("M1").code, "MEMBER")
        try fly("s3", "M1", miles: 1_000)
        XCTAssertEqual(try tier("M1").code, "PREMIER", "three qualifying activities reach Premier")
        _ = try store.reverse(partner: skyair, txnID: "s2", points: 500)
        XCTAssertEqual(try tier("M1").code, "PREMIER", "a partly reversed flight still counts")
        _ = try store.reverse(partner: skyair, txnID: "s2", points: nil)
        XCTAssertEqual(try tier("M1").code, "MEMBER", "a flight reversed in full does not")
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testRollingWindowsCountTheTwelveMonthsBeforeTheActivity() throws {
        try useProgram { $0.qualificationPeriod = .rolling12Months }
        today("2025-06-10")
        try fly("old", "M2", miles: 20_000)
        today("2026-06-15")
        try fly("a1", "M1", miles: 20_000, on: "2025-06-20")
        try fly("a2", "M1", miles: 5_000)
        try fly("b2", "M2", miles: 5_000)
        XCTAssertEqual(try tier("M1").code, "PREMIER", "2025-06-20 lies in the window 2025-06-16..2026-06-15")
        XCTAssertEqual(try tier("M1").until, "2027-08-31", "14 months after the window's month")
        XCTAssertEqual(try tier("M2").code, "MEMBER", "2025-06-10 fell out of the window")

        // A reversal of the older flight undoes the window it was part of.
        _ = try store.reverse(partner: skyair, txnID: "a1", points: nil)
        XCTAssertEqual(try tier("M1").code, "MEMBER")
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testLifetimeStatusOutlivesTheQualificationThatEarnedIt() throws {
        try useProgram { $0.lifetimeTiers = [LifetimeTier(tierCode: "PREMIER", lifetimeQualifying: 50_000)] }
        try fly("t1", "M1", miles: 60_000)
        XCTAssertEqual(try tier("M1").code, "PREMIER_EXECUTIVE")
        let summary = try store.evaluateTiers(asOf: day("2028-03-01"))
        XCTAssertEqual(summary.membersChanged, 1)
        XCTAssertEqual(try tier("M1").code, "PREMIER")
        XCTAssertNil(try tier("M1").until, "lifetime: no end")
        XCTAssertEqual(try history("M1").last?.reason,
                       "tiers evaluate as of 2028-03-01: PREMIER_EXECUTIVE valid through 2028-02-29 lapsed; PREMIER from 60000 lifetime qualifying miles")

        // A reversal that takes the lifetime points back takes the lifetime tier too: 40,000 left
        // in 2026 is Premier until 2028-02-29, no longer for life.
        _ = try store.reverse(partner: skyair, txnID: "t1", points: 20_000)
        XCTAssertEqual(try tier("M1").code, "PREMIER")
        XCTAssertEqual(try tier("M1").until, "2028-02-29")
        XCTAssertEqual(try store.evaluateTiers(asOf: day("2028-03-02")).membersChanged, 1)
        XCTAssertEqual(try tier("M1").code, "MEMBER")
    }

    func testAnOverrideHoldsThroughItsEndDate() throws {
        try store.setTier(number: "M3", tierCode: "1K", until: day("2026-09-30"), reason: "service recovery", actor: .admin(user: "t"))
        XCTAssertEqual(try tier("M3").code, "1K")
        XCTAssertEqual(try history("M3").last?.reason, "override: service recovery")
        XCTAssertEqual(try store.evaluateTiers(asOf: day("2026-09-30")).membersChanged, 0)
        XCTAssertEqual(try store.evaluateTiers(asOf: day("2026-10-01")).membersChanged, 1)
        XCTAssertEqual(try tier("M3").code, "MEMBER")
    }

    func testAnOverrideToALowerTierWinsUntilItEndsAndTierEarnedAfterItCounts() throws {
        try fly("t1", "M1", miles: 30_000, on: "2026-06-10")
        XCTAssertEqual(try tier("M1").code, "PREMIER")
        try store.setTier(number: "M1", tierCode: "MEMBER", until: day("2026-09-30"), reason: "fraud review", actor: .admin(user: "t"))
        XCTAssertEqual(try tier("M1").code, "MEMBER")
        XCTAssertEqual(try tier("M1").until, "2026-09-30")
        XCTAssertEqual(try store.evaluateTiers(asOf: day("2026-09-30")).membersChanged, 0, "the nightly run keeps the override")
        XCTAssertEqual(try store.evaluateTiers(asOf: day("2026-10-01")).membersChanged, 1)
        XCTAssertEqual(try tier("M1").code, "PREMIER", "what the override replaced is in force again")

        try store.setTier(number: "M1", tierCode: "MEMBER", until: day("2026-12-31"), reason: "second review", actor: .admin(user: "t"))
        XCTAssertEqual(try tier("M1").code, "MEMBER")
        try fly("t2", "M1", miles: 25_000)
        XCTAssertEqual(try tier("M1").code, "PREMIER_EXECUTIVE", "earned after the override: it counts")
        XCTAssertEqual(try brokenInvariants(), [])
    }
}
