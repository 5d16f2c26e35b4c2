import Foundation
import LoyaltyTesting
import XCTest

/// `loyaltyctl import`: a partner's batch file applied exactly once, rejected lines named by file line.
final class ImportTests: XCTestCase {
    private var database: TestDatabase!
    private var directory: URL!

    override func setUpWithError() throws {
        do { database = try TestDatabase() } catch let error as TestEnvironmentMissing { throw XCTSkip(error.description) }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("import-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        database = nil
        try? FileManager.default.removeItem(at: directory)
    }

    private func ctl(_ arguments: String...) throws -> Command.Outcome {
        try Command.run("loyaltyctl", arguments + ["--database", database.url])
    }

    private func file(_ name: String, _ lines: [String]) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(lines.joined(separator: "\n").utf8).write(to: url)
        return url.path
    }

    private func balance(_ member: String) throws -> String? {
        try ctl("member", "show", member).stdout.split(separator: "\n")
            .first { $0.hasPrefix("balance: ") }.map { String($0.dropFirst("balance: ".count)) }
    }

    /// Today in UTC, the demo program's zone: accruals must be within the claim window.
    private var today: String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }

    func testAFileIsAppliedOnceAndItsBadLinesAreNamedByFileLine() throws {
        let path = try file("hotelco-2026-11.txt", [
            "# HOTELCO stays, November",
            "ACCRUE s1 M1 \(today) amount=450.00 currency=USD",
            "",
            "accrue s2 M2 \(today) amount=100 currency=USD\r",
            "ACCRUE s3 M1 \(today) nights=two",
            "ACCRUE s4 NOBODY \(today) amount=1.00 currency=USD",
            "REVERSE s1 points=350",
            "SPEND s5 M1",
        ])
        let first = try ctl("import", path, "--partner", "HOTELCO")
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("hotelco-2026-11.txt  3         0           3"), first.stdout)
        for (line, code) in [("5", "INVALID"), ("6", "NOTFOUND"), ("8", "ERR")] {
            XCTAssertNotNil(first.stdout.range(of: "\n\(line) +hotelco-2026-11.txt +s\\d +\(code) ", options: .regularExpression),
                            "line \(line) should be rejected with \(code):\n\(first.stdout)")
        }
        XCTAssertEqual(try balance("M1"), "1000", "1,350 earned, 350 reversed")
        XCTAssertEqual(try balance("M2"), "300")

        let again = try ctl("import", path, "--partner", "HOTELCO")
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("hotelco-2026-11.txt  3         0           3"), "the stored summary:\n\(again.stdout)")
        XCTAssertEqual(try balance("M1"), "1000", "a second import applies nothing")
        XCTAssertEqual(try ctl("verify").status, 0)
    }

    func testAFileOverTheChunkSizeGoesInAsNumberedBatches() throws {
        let lines = (1...5).map { "ACCRUE c\($0) M3 \(today) amount=10.00 currency=USD" }
        let path = try file("stays.txt", lines)
        let outcome = try ctl("import", path, "--partner", "HOTELCO", "--batch-id", "nov", "--chunk-lines", "2")
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        for row in ["nov.1     2", "nov.2     2", "nov.3     1", "total     5"] {
            XCTAssertTrue(outcome.stdout.contains(row), "\(row) missing from\n\(outcome.stdout)")
        }
        XCTAssertEqual(try balance("M3"), "150")

        // The same lines under another batch-id are duplicates by txn-id: still applied once.
        let renamed = try ctl("import", path, "--partner", "HOTELCO", "--batch-id", "nov-again")
        XCTAssertTrue(renamed.stdout.contains("nov-again  0         5           0"), renamed.stdout)
        XCTAssertEqual(try balance("M3"), "150")
    }

    func testUnknownPartnerMissingFileAndUsageErrors() throws {
        let path = try file("one.txt", ["ACCRUE u1 M1 \(today) amount=1.00 currency=USD"])
        let unknown = try ctl("import", path, "--partner", "NOSUCH")
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stderr.contains("no partner NOSUCH"), unknown.stderr)
        XCTAssertEqual(try ctl("import", directory.appendingPathComponent("absent.txt").path, "--partner", "HOTELCO").status, 1)
        XCTAssertEqual(try ctl("import", path).status, 2, "--partner is required")
        XCTAssertEqual(try ctl("import", path, "--partner", "HOTELCO", "--chunk-lines", "0").status, 2)
        let empty = try ctl("import", try file("empty.txt", ["# nothing yet", ""]), "--partner", "HOTELCO")
        XCTAssertEqual(empty.status, 1)
        XCTAssertTrue(empty.stderr.contains("holds no ACCRUE or REVERSE line"), empty.stderr)
        XCTAssertEqual(try balance("M1"), "0", "nothing was applied")
    }

    func testAnotherPartnersTransactionCannotBeReversedFromAFile() throws {
        let accrual = try file("a.txt", ["ACCRUE shared-1 M1 \(today) amount=100.00 currency=USD"])
        XCTAssertEqual(try ctl("import", accrual, "--partner", "HOTELCO").status, 0)
        let reversal = try file("b.txt", ["REVERSE shared-1"])
        let outcome = try ctl("import", reversal, "--partner", "DINECO")
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("b.txt     0         0           1"), outcome.stdout)
        XCTAssertEqual(try balance("M1"), "300")
    }
}
