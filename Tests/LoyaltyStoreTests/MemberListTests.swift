import Foundation
import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// `loyaltyctl members list` on the report fixture as of 2026-06-30: the members each report
/// counts, one by one, with the figures behind the choice.
final class MemberListTests: ReportTestCase {
    private func list(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        try run(["members", "list"] + arguments + ["--as-of", "2026-06-30"])
    }

    func testEachFilterListsWhatItsReportCounts() throws {
        // The rfm report's at_risk and promising members.
        XCTAssertEqual(try list(["--segment", "at-risk"]).output, """
            member,segment,recency_days,frequency,monetary,r,f,m
            A3,at_risk,272,5,2000.00,2,5,5

            """)
        XCTAssertEqual(try list(["--segment", "promising"]).output, """
            member,segment,recency_days,frequency,monetary,r,f,m
            A12,promising,119,1,0.00,3,2,1
            A13,promising,148,1,0.00,3,2,1

            """)
        XCTAssertEqual(try list(["--segment", "no_activity"]).output, "member,segment,recency_days,frequency,monetary,r,f,m\nM1,no_activity,,0,0.00,,,\nM2,no_activity,,0,0.00,,,\nM3,no_activity,,0,0.00,,,\n")
        // The tiers report's lapsing and candidates: A12's 22,499 of 25,000 misses by one point.
        XCTAssertEqual(try list(["--lapsing-within", "90"]).output, """
            member,tier,tier_until,lapses_on,days_left
            A1,PREMIER,2026-09-15,2026-09-16,78
            A11,PREMIER,2026-07-31,2026-08-01,32
            A5,1K,2026-07-31,2026-08-01,32

            """)
        // Valid through 07-31 lapses on 08-01, day 32: within 32 days, not within 31.
        XCTAssertEqual(try list(["--lapsing-within", "32"]).output.split(separator: "\n").count, 3)
        XCTAssertEqual(try list(["--lapsing-within", "31"]).output, "member,tier,tier_until,lapses_on,days_left\n")
        XCTAssertEqual(try list(["--upgrade-within", "10"]).output, """
            member,tier,qualifying,next_tier,next_threshold,short
            A13,PREMIER,45000,PREMIER_EXECUTIVE,50000,5000
            A7,MEMBER,22500,PREMIER,25000,2500

            """)
        XCTAssertEqual(try list(["--tier", "PREMIER_EXECUTIVE"]).output, """
            member,tier,tier_until,balance
            A3,PREMIER_EXECUTIVE,2027-02-28,2000

            """)
        // The liability report's lot of A9 expiring on 2026-07-20 (18 months of inactivity).
        XCTAssertEqual(try list(["--expiring-within", "30"]).output, """
            member,tier,balance,expiring,expiry_run
            A9,MEMBER,600,600,2026-07-30

            """)
    }

    func testJSONAndChunksGiveTheSameRowsAsOneFetch() throws {
        let whole = try list(["--tier", "MEMBER", "--format", "json"])
        let chunked = try list(["--tier", "MEMBER", "--format", "json", "--fetch-rows", "1"])
        XCTAssertEqual(whole.status, 0, whole.errors)
        XCTAssertEqual(whole.output, chunked.output)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(whole.output.utf8)) as? [String: Any])
        XCTAssertEqual(object["filter"] as? String, "tier=MEMBER")
        let rows = try XCTUnwrap(object["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["member"] as? String }, ["A12", "A2", "A4", "A6", "A7", "A9", "M1", "M2", "M3"])
        XCTAssertEqual(rows.first?["balance"] as? Int, 22_499)
        let empty = try list(["--lapsing-within", "1", "--format", "json"])
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(empty.output.utf8)))
    }

    /// 300,000 members stream through a client whose memory stays what a chunk needs: were the
    /// list held whole, it would take about 90 MB more (0.3 KB a row, measured).
    func testAListOfThreeHundredThousandMembersStaysInConstantMemory() throws {
        let members = 300_000
        let conn = try database.connect()
        defer { conn.close() }
        _ = try conn.query("""
            INSERT INTO members (member_number, tier_code)
            SELECT 'Z' || lpad(i::text, 7, '0'), 'MEMBER' FROM generate_series(1, $1::int) i
            """, [String(members)])
        // A parent of its own that reports its one child's peak resident set: this test process's
        // RUSAGE_CHILDREN would count every server the suite has started before.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import resource, subprocess, sys
            code = subprocess.call(sys.argv[1:])
            sys.stderr.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
            sys.exit(code)
            """, try loyaltyctl().path, "members", "list", "--tier", "MEMBER", "--database", database.url]
        let output = Pipe(), peak = Pipe()
        process.standardOutput = output
        process.standardError = peak
        try process.run()
        // Counted as it arrives, so the test does not hold the list either.
        var lines = 0, last = UInt8(0)
        while case let data = output.fileHandleForReading.availableData, !data.isEmpty {
            lines += data.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            last = data.last ?? last
        }
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertEqual(lines, 1 + members + 9, "the header, the new members and the fixture's nine Members")
        XCTAssertEqual(last, UInt8(ascii: "\n"))
        let peakKiB = try XCTUnwrap(Int(String(decoding: peak.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)))
        XCTAssertLessThan(peakKiB, 60 * 1_024, "loyaltyctl's peak RSS in KiB")
    }

    func testUsageErrorsAtTheEdges() throws {
        XCTAssertEqual(try list([]).status, 2)
        XCTAssertEqual(try list(["--tier", "MEMBER", "--segment", "new"]).status, 2)
        XCTAssertEqual(try list(["--segment", "sleepy"]).status, 2)
        XCTAssertEqual(try list(["--expiring-within", "0"]).status, 2)
        XCTAssertEqual(try list(["--expiring-within", "3660"]).status, 0)
        XCTAssertEqual(try list(["--expiring-within", "3661"]).status, 2)
        XCTAssertEqual(try list(["--upgrade-within", "100"]).status, 2)
        XCTAssertEqual(try list(["--tier", "MEMBER", "--fetch-rows", "0"]).status, 2)
        XCTAssertEqual(try list(["--tier", "MEMBER", "--fetch-rows", "100001"]).status, 2)
        XCTAssertEqual(try list(["--tier", "GOLD"]).status, 1)
        XCTAssertEqual(try list(["--tier", "MEMBER", "--format", "table"]).status, 2)
    }
}
