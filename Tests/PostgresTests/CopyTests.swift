import Postgres
import XCTest

final class CopyTests: DatabaseTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try connection.execute("CREATE TABLE items (id int8 PRIMARY KEY, label text, note text)")
    }

    private func storedRows() throws -> [[String?]] {
        try connection.query("SELECT id, label, note FROM items ORDER BY id").rows.map { [$0[0], $0[1], $0[2]] }
    }

    func testAwkwardValuesRoundTripExactly() throws {
        let rows: [[String?]] = [
            ["1", "tab\there", "new\nline"],
            ["2", "back\\slash", "carriage\rreturn"],
            ["3", nil, ""],
            ["4", "\\N", "\\."],
            ["5", "ünïcödé 🎉", "\\\t\n\r\\\\"],
            ["6", "trailing backslash\\", nil],
        ]
        XCTAssertEqual(try connection.copyIn("COPY items (id, label, note) FROM STDIN", rows: rows), rows.count)
        XCTAssertEqual(try storedRows(), rows)
    }

    func testManyRowsSpanSeveralChunks() throws {
        let count = 20_000
        let label = String(repeating: "x", count: 20)
        let rows = (1...count).lazy.map { [String($0), label, "row \($0)"] as [String?] }
        XCTAssertEqual(try connection.copyIn("COPY items FROM STDIN", rows: rows), count)
        let summary = try connection.query("SELECT count(*) AS n, sum(id) AS s FROM items").first!
        XCTAssertEqual(try summary.int("n"), count)
        XCTAssertEqual(try summary.int("s"), count * (count + 1) / 2)
    }

    func testBadValueIsServerErrorAndNothingIsCopied() throws {
        let rows: [[String?]] = [["1", "a", "b"], ["not a number", "c", "d"]]
        let error = expectPostgresError { try connection.copyIn("COPY items FROM STDIN", rows: rows) }
        XCTAssertEqual(error?.code, .server)
        XCTAssertEqual(error?.sqlState, "22P02")
        XCTAssertTrue(connection.isHealthy)
        XCTAssertEqual(try storedRows(), [])
    }

    func testWrongColumnCountAbortsTheCopy() throws {
        let rows: [[String?]] = [["1", "a", "b"], ["2", "c"]]
        let error = expectPostgresError { try connection.copyIn("COPY items FROM STDIN", rows: rows) }
        XCTAssertEqual(error?.code, .copyFailed)
        XCTAssertTrue(connection.isHealthy)
        XCTAssertEqual(try storedRows(), [])
    }

    func testNulValueIsRefused() throws {
        let rows: [[String?]] = [["1", "a\u{0}", "b"]]
        XCTAssertEqual(expectPostgresError { try connection.copyIn("COPY items FROM STDIN", rows: rows) }?.code,
                       .invalidParameter)
        XCTAssertTrue(connection.isHealthy)
        XCTAssertEqual(try storedRows(), [])
    }

    func testStatementThatIsNotCopyInIsRefused() throws {
        let notCopy = expectPostgresError { try connection.copyIn("SELECT 1", rows: [[String?]]()) }
        XCTAssertEqual(notCopy?.code, .copyFailed)
        let copyOut = expectPostgresError { try connection.copyIn("COPY items TO STDOUT", rows: [[String?]]()) }
        XCTAssertEqual(copyOut?.code, .copyFailed)
        XCTAssertTrue(connection.isHealthy)
        XCTAssertEqual(try connection.query("SELECT 1 AS one").first!.int("one"), 1)
    }

    func testCopyInsideQueryLeavesConnectionUsable() throws {
        let error = expectPostgresError { try connection.execute("COPY items FROM STDIN") }
        XCTAssertEqual(error?.code, .unexpectedResult)
        XCTAssertTrue(connection.isHealthy)
        XCTAssertEqual(try storedRows(), [])
    }
}
