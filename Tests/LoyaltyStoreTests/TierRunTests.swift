import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// `tiers evaluate`: lapses, soft landing, idempotency, chunks, resumption, one run at a time.
final class TierRunTests: TierTestCase {
    func testAfterValidityEndsATierFallsToTheBestStillValid() throws {
        try fly("t1", "M1", miles: 100_000)
        try fly("t2", "M2", miles: 25_000)
        today("2027-03-01")
        try fly("t3", "M1", miles: 30_000, on: "2027-02-20")
        XCTAssertEqual(try tier("M1").code, "1K")

        let onLastDay = try store.evaluateTiers(asOf: day("2028-02-29"))
        XCTAssertEqual(onLastDay.membersChanged, 0, "valid through the end of February")
        let after = try store.evaluateTiers(asOf: day("2028-03-01"))
        XCTAssertEqual(after.membersChanged, 2)
        XCTAssertEqual(after.membersScanned, 3)
        XCTAssertEqual(try tier("M1").code, "PREMIER", "earned in 2027, valid through 2029-02-28")
        XCTAssertEqual(try tier("M1").until, "2029-02-28")
        XCTAssertEqual(try history("M1").last?.reason, "tiers evaluate as of 2028-03-01: 1K valid through 2028-02-29 lapsed; "
                       + "PREMIER from 30000 qualifying miles in 2027-01-01..2027-12-31")
        XCTAssertEqual(try tier("M2").code, "MEMBER")
        XCTAssertNil(try tier("M2").until)
        XCTAssertEqual(try history("M2").last?.reason, "tiers evaluate as of 2028-03-01: PREMIER valid through 2028-02-29 lapsed")
        XCTAssertEqual(after.summaryLine.prefix(68), "tiers evaluate: as of 2028-03-01: 2 members changed tier, 0 grants m")
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testSoftLandingDropsOneTierPerEvaluation() throws {
        try useProgram { $0.softLandingMonths = 12 }
        try fly("t1", "M1", miles: 100_000)
        let first = try store.evaluateTiers(asOf: day("2028-03-01"))
        XCTAssertEqual(first.membersChanged, 1)
        XCTAssertEqual(first.grantsMade, 1)
        XCTAssertEqual(try tier("M1").code, "PREMIER_EXECUTIVE", "1K lapsed: one tier down, not to Member")
        XCTAssertEqual(try tier("M1").until, "2029-02-28", "through the end of the month 12 months after the lapse")
        XCTAssertEqual(try history("M1").last?.reason, "tiers evaluate as of 2028-03-01: 1K valid through 2028-02-29 lapsed; "
                       + "PREMIER_EXECUTIVE from soft landing from 1K valid through 2028-02-29")
        XCTAssertEqual(try store.evaluateTiers(asOf: day("2029-02-28")).membersChanged, 0)
        _ = try store.evaluateTiers(asOf: day("2029-03-01"))
        XCTAssertEqual(try tier("M1").code, "PREMIER")
        XCTAssertEqual(try tier("M1").until, "2030-02-28")
        let last = try store.evaluateTiers(asOf: day("2030-03-01"))
        XCTAssertEqual(last.grantsMade, 0, "one below Premier is the base tier: no grant needed")
        XCTAssertEqual(try tier("M1").code, "MEMBER")
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testSoftLandingIsNotNeededWhenALaterTierIsOneBelow() throws {
        try useProgram { $0.softLandingMonths = 12 }
        try fly("t1", "M1", miles: 100_000)
        today("2027-03-01")
        try fly("t2", "M1", miles: 50_000, on: "2027-02-20")
        let run = try store.evaluateTiers(asOf: day("2028-03-01"))
        XCTAssertEqual(run.grantsMade, 0)
        XCTAssertEqual(try tier("M1").code, "PREMIER_EXECUTIVE")
        XCTAssertEqual(try tier("M1").until, "2029-02-28")
    }

    func testASecondRunForTheSameDateChangesNothing() throws {
        try fly("t1", "M1", miles: 25_000)
        let first = try store.evaluateTiers(asOf: day("2028-03-01"))
        XCTAssertEqual(first.membersChanged, 1)
        XCTAssertFalse(first.alreadyDone)
        let again = try store.evaluateTiers(asOf: day("2028-03-01"))
        XCTAssertTrue(again.alreadyDone)
        XCTAssertEqual(again.membersChanged, 1, "the first run's figures")
        XCTAssertEqual(again.membersScanned, 0)
        XCTAssertEqual(try history("M1").count, 2)

        // Even without its record, the run is idempotent by construction.
        _ = try sql("DELETE FROM runs")
        let rerun = try store.evaluateTiers(asOf: day("2028-03-01"))
        XCTAssertEqual(rerun.membersChanged, 0)
        XCTAssertEqual(try history("M1").count, 2)
    }

    func testChunksCoverEveryMemberAndReportProgress() throws {
        for number in ["A1", "Z9", "M10"] { try store.enroll(number: number, actor: .admin(user: "t")) }
        for (index, number) in ["A1", "M1", "M10", "M3", "Z9"].enumerated() {
            try fly("t\(index)", number, miles: 25_000)
        }
        var limits = RunLimits()
        limits.chunkMembers = 2
        limits.workers = 1
        var reports: [RunProgress] = []
        let run = try store.evaluateTiers(asOf: day("2028-03-01"), limits: limits) { reports.append($0) }
        XCTAssertEqual(run.membersChanged, 5)
        XCTAssertEqual(run.membersScanned, 6)
        XCTAssertEqual(reports.map(\.membersDone), [0, 2, 4, 6])
        XCTAssertEqual(Set(reports.map(\.membersTotal)), [6])
        for number in ["A1", "M1", "M10", "M2", "M3", "Z9"] { XCTAssertEqual(try tier(number).code, "MEMBER") }
    }

    func testWorkersShareTheChunksAndTheCursorOnlyCoversWhatCommittedInOrder() throws {
        let numbers = (0..<40).map { "W" + String(100 + $0) }
        for (index, number) in numbers.enumerated() {
            try store.enroll(number: number, actor: .admin(user: "t"))
            if index % 3 == 0 { try fly("w\(index)", number, miles: 25_000) }
        }
        var limits = RunLimits()
        limits.chunkMembers = 3
        limits.workers = 3
        var reports: [RunProgress] = []
        let run = try store.evaluateTiers(asOf: day("2028-03-01"), limits: limits) { reports.append($0) }
        XCTAssertEqual(run.membersChanged, 14)
        XCTAssertEqual(run.membersScanned, 43)
        XCTAssertEqual(reports.last, RunProgress(membersDone: 43, membersTotal: 43))
        XCTAssertEqual(reports.map(\.membersDone), reports.map(\.membersDone).sorted(), "progress never goes back")
        let recorded = try sql("SELECT done_through, members FROM runs WHERE kind = 'tiers'").first
        XCTAssertEqual(recorded?["done_through"], "W139", "the last member: every chunk committed")
        XCTAssertEqual(recorded?["members"], "14")
        for number in numbers { XCTAssertEqual(try tier(number).code, "MEMBER") }
    }

    func testAnInterruptedRunResumesAfterItsLastCommittedChunk() throws {
        try fly("t1", "M1", miles: 25_000)
        try fly("t2", "M2", miles: 25_000)
        // As if a run had committed the chunk ending at M1 and then stopped.
        _ = try sql("""
            INSERT INTO runs (kind, as_of, run_id, done_through) VALUES ('tiers', '2028-03-01', 'tiers-2028-03-01', 'M1')
            """)
        let resumed = try store.evaluateTiers(asOf: day("2028-03-01"))
        XCTAssertEqual(resumed.membersScanned, 2, "M2 and M3")
        XCTAssertEqual(try tier("M1").code, "PREMIER", "done before the stop, so not visited again")
        XCTAssertEqual(try tier("M2").code, "MEMBER")
    }

    func testOnlyOneRunAtATime() throws {
        let other = try database.connect()
        defer { other.close() }
        _ = try other.query("SELECT pg_advisory_lock(\(RunKind.tiers.lockKey))")
        XCTAssertThrowsError(try store.evaluateTiers(asOf: day("2028-03-01"))) { error in
            XCTAssertEqual((error as? LoyaltyError)?.code, .conflict)
            XCTAssertEqual((error as? LoyaltyError)?.message, "another tiers run is in progress; try again when it has finished")
        }
        _ = try other.query("SELECT pg_advisory_unlock(\(RunKind.tiers.lockKey))")
        XCTAssertFalse(try store.evaluateTiers(asOf: day("2028-03-01")).alreadyDone)
    }
}
