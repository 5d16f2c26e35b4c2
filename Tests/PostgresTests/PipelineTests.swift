import Postgres
import XCTest

final class PipelineTests: DatabaseTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try connection.execute("CREATE TABLE events (id int PRIMARY KEY, kind text NOT NULL)")
    }

    private func eventCount() throws -> Int {
        try connection.query("SELECT count(*) AS n FROM events").first!.int("n")
    }

    func testResultsComeBackInOrder() throws {
        let insert = "INSERT INTO events VALUES ($1::int, $2) RETURNING id"
        let results = try connection.pipeline([
            (insert, ["1", "earn"]),
            (insert, ["2", "burn"]),
            ("SELECT kind FROM events ORDER BY id", []),
            ("SELECT $1::text AS echoed", [nil]),
            ("UPDATE events SET kind = $1 WHERE id > 0", ["void"]),
        ])
        XCTAssertEqual(results.count, 5)
        XCTAssertEqual(results[0].first?["id"], "1")
        XCTAssertEqual(results[1].first?["id"], "2")
        XCTAssertEqual(results[2].rows.map { $0["kind"] }, ["earn", "burn"])
        XCTAssertEqual(results[3].count, 1)
        XCTAssertNil(results[3].first?["echoed"])
        XCTAssertEqual(results[4].affectedRows, 2)
        XCTAssertTrue(connection.isHealthy)
    }

    func testErrorInTheMiddleIsThrownAndNothingIsApplied() throws {
        let insert = "INSERT INTO events VALUES ($1::int, $2)"
        let error = expectPostgresError {
            try connection.pipeline([
                (insert, ["1", "earn"]),
                (insert, ["1", "duplicate"]),
                (insert, ["2", "after"]),
            ])
        }
        XCTAssertEqual(error?.isUniqueViolation, true)
        XCTAssertTrue(connection.isHealthy)
        XCTAssertEqual(try eventCount(), 0)
        // The connection is out of pipeline mode and the same statements work afterwards.
        XCTAssertEqual(try connection.pipeline([(insert, ["1", "earn"]), (insert, ["2", "burn"])]).count, 2)
        XCTAssertEqual(try eventCount(), 2)
    }

    func testSyntaxErrorWhilePreparingIsThrown() throws {
        let error = expectPostgresError {
            try connection.pipeline([("INSERT INTO events VALUES (1, 'a')", []), ("SELEC nonsense", [])])
        }
        XCTAssertEqual(error?.sqlState, "42601")
        XCTAssertEqual(try eventCount(), 0)
    }

    func testNulParameterRefusesTheWholeBatch() throws {
        let insert = "INSERT INTO events VALUES ($1::int, $2)"
        let error = expectPostgresError {
            try connection.pipeline([(insert, ["1", "fine"]), (insert, ["2", "bad\u{0}"])])
        }
        XCTAssertEqual(error?.code, .invalidParameter)
        XCTAssertEqual(try eventCount(), 0)
    }

    func testPipelineSharesThePreparedStatementCache() throws {
        let insert = "INSERT INTO events VALUES ($1::int, $2)"
        let batch = (1...100).map { (sql: insert, parameters: [String($0), "earn"] as [String?]) }
        XCTAssertEqual(try connection.pipeline(batch).count, 100)
        _ = try connection.query(insert, ["101", "earn"])
        let prepared = try connection.query(
            "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement = $1", [insert])
        XCTAssertEqual(try prepared.first!.int("n"), 1)
        XCTAssertEqual(try eventCount(), 101)
    }

    func testEmptyPipelineReturnsNothing() throws {
        XCTAssertEqual(try connection.pipeline([]).count, 0)
    }

    func testInsideATransactionItJoinsTheTransaction() throws {
        struct Abandon: Error {}
        XCTAssertThrowsError(try connection.transaction { connection in
            XCTAssertEqual(try connection.pipeline([("INSERT INTO events VALUES (1, 'a')", [])]).count, 1)
            throw Abandon()
        })
        XCTAssertEqual(try eventCount(), 0)
    }
}
