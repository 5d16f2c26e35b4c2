import Foundation
import XCTest

/// `loyaltyctl report` end to end on the known data set: what a person or a pipe receives.
final class ReportCLITests: ReportTestCase {
    func testSettlementAsCSVIsPlainAndExact() throws {
        let result = try report(["settlement", "--format", "csv"])
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertEqual(result.output, """
            partner,month,accruals,points_issued,reversals,points_reversed,net_points,promotion_points,currency,price_per_1000,owed
            CARDCO,2025-08,2,800,0,0,800,0,USD,8.00,6.40
            CARDCO,2025-09,2,800,0,0,800,0,USD,8.00,6.40
            CARDCO,2025-10,1,400,0,0,400,0,USD,8.00,3.20
            CARDCO,2026-05,1,500,0,0,500,0,USD,8.00,4.00
            DINECO,2025-12,1,150,0,0,150,0,USD,9.99,1.49
            DINECO,2026-06,1,60,0,0,60,0,USD,9.99,0.59
            HOTELCO,2025-11,1,300,0,0,300,0,USD,12.50,3.75
            HOTELCO,2026-03,1,600,0,0,600,0,USD,12.50,7.50
            HOTELCO,2026-04,1,1800,0,0,1800,0,USD,12.50,22.50
            HOTELCO,2026-05,1,300,0,0,300,0,USD,12.50,3.75
            HOTELCO,2026-06,3,6300,1,1000,5300,0,USD,12.50,66.25
            SKYAIR,2026-01,2,27500,0,0,27500,0,USD,15.00,412.50
            SKYAIR,2026-02,2,65000,0,0,65000,0,USD,15.00,975.00
            SKYAIR,2026-03,1,22499,0,0,22499,0,USD,15.00,337.48
            total,,20,127009,1,1000,126009,0,USD,,1850.81

            """)
    }

    func testTiersAsATableAlignsNumbersRight() throws {
        let result = try report(["tiers"])
        XCTAssertEqual(result.status, 0, result.errors)
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("Active members by tier as of 2026-06-30"))
        XCTAssertEqual(Array(lines[1...6]), [
            "tier               rank  threshold  members  members_pct  upgrade_candidates  lapsing_90d",
            "-----------------  ----  ---------  -------  -----------  ------------------  -----------",
            "MEMBER                0          0        9        60.00                   1            0",
            "PREMIER               1     25,000        4        26.66                   1            2",
            "PREMIER_EXECUTIVE     2     50,000        1         6.66                   0            0",
            "1K                    3    100,000        1         6.66                   0            1",
        ])
    }

    func testParetoAsJSONCarriesExactNumbersAndTheDates() throws {
        let result = try report(["pareto", "--format", "json"])
        XCTAssertEqual(result.status, 0, result.errors)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        XCTAssertEqual(object["as_of"] as? String, "2026-06-30")
        XCTAssertEqual(object["window_start"] as? String, "2025-07-01")
        let rows = try XCTUnwrap(object["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["measure"] as? String }, ["points", "spend"])
        XCTAssertEqual(rows[0]["total"] as? Int, 126_009)
        XCTAssertEqual(rows[0]["members_to_80"] as? Int, 4)
        XCTAssertTrue(result.output.contains(#""top20_pct": 90.23"#))
        XCTAssertTrue(result.output.contains(#""total": 5670.00"#), "spend is money with its decimals")
    }

    func testSVGIsWrittenForEveryReportThatDrawsOne() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["rfm", "pareto", "liability", "tiers", "settlement", "clv", "cohorts", "ladder"] {
            let file = directory.appendingPathComponent("\(name).svg")
            let result = try report([name, "--format", "csv", "--svg", file.path])
            XCTAssertEqual(result.status, 0, result.errors)
            let svg = try String(contentsOf: file, encoding: .utf8)
            XCTAssertTrue(svg.hasPrefix("<?xml") && svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""), name)
            XCTAssertTrue(svg.hasSuffix("</svg>\n"), name)
        }
    }

    func testOneMemberAndTheUsageErrors() throws {
        let member = try report(["rfm", "--member", "A6", "--format", "csv"])
        XCTAssertEqual(member.output, """
            member,status,segment,first_accrual,last_accrual,recency_days,frequency,monetary,r,f,m
            A6,active,loyal,2025-12-01,2026-06-01,29,2,70.00,5,3,3

            """)
        XCTAssertEqual(try report(["rfm", "--member", "A6", "--svg", "/tmp/never.svg"]).status, 2)
        XCTAssertEqual(try report(["pareto", "--format", "xml"]).status, 2)
        XCTAssertEqual(try report(["rfm", "--member", "NOBODY"]).status, 1)
    }
}
