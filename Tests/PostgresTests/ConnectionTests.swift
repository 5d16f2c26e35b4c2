import Postgres
import XCTest

final class ConnectionTests: DatabaseTestCase {
    func testTCPKeepalivesAreOnByDefaultAndTheConninfoCanSetItsOwn() throws {
        XCTAssertEqual(connection.connectionOption("keepalives_idle"), "10")
        XCTAssertEqual(connection.connectionOption("tcp_user_timeout"), "30000")
        XCTAssertEqual(connection.connectionOption("connect_timeout"), "10")
        let own = try Connection(conninfo: database.conninfo + (database.conninfo.contains("?") ? "&" : "?")
                                 + "keepalives_idle=77&connect_timeout=3")
        defer { own.close() }
        XCTAssertEqual(own.connectionOption("keepalives_idle"), "77")
        XCTAssertEqual(own.connectionOption("connect_timeout"), "3")
        XCTAssertEqual(own.connectionOption("keepalives_interval"), "5")
        XCTAssertNil(own.connectionOption("no_such_option"))
    }

    func testParametersRoundTripIncludingNullUnicodeAndSQLText() throws {
        let tricky = "'); DROP TABLE notes; --"
        let unicode = "héllo wörld 🌍 日本語"
        let row = try connection.query(
            "SELECT $1::text AS missing, $2::text AS unicode, $3::text AS tricky, $4::int8 + 1 AS next",
            [nil, unicode, tricky, "41"]
        ).first!
        XCTAssertNil(row["missing"])
        XCTAssertEqual(row["unicode"], unicode)
        XCTAssertEqual(row["tricky"], tricky)
        XCTAssertEqual(try row.int64("next"), 42)
    }

    func testAResultReadInPlaceInTextAndInBinary() throws {
        let sql = "SELECT $1::int8 AS n, $2::text AS t, NULL::text AS missing, '2000-01-01 00:00:01.5+00'::timestamptz AS at"
        let text = try connection.query(sql, ["-42", "héllo"]) { view in
            (view.rowCount, view.columnCount, view.string(row: 0, column: 0), view.string(row: 0, column: 1),
             view.isNull(row: 0, column: 2), view.bytes(row: 0, column: 2).count)
        }
        XCTAssertEqual(text.0, 1)
        XCTAssertEqual(text.1, 4)
        XCTAssertEqual(text.2, "-42")
        XCTAssertEqual(text.3, "héllo")
        XCTAssertTrue(text.4)
        XCTAssertEqual(text.5, 0)
        let binary = try connection.query(sql, ["-42", "héllo"], binary: true) { view in
            (view.int64(row: 0, column: 0), view.string(row: 0, column: 1), view.int64(row: 0, column: 3))
        }
        XCTAssertEqual(binary.0, -42, "a bigint, big-endian")
        XCTAssertEqual(binary.1, "héllo", "text is its UTF-8 bytes in binary too")
        XCTAssertEqual(binary.2, 1_500_000, "a timestamptz is microseconds since 2000-01-01 UTC")
    }

    func testSQLLookingParametersAreStoredNotRun() throws {
        try connection.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text)")
        let bodies = ["x'); DROP TABLE notes; --", "$1", "\\'; SELECT pg_sleep(10); --", "a\"b"]
        for body in bodies {
            let inserted = try connection.query("INSERT INTO notes (body) VALUES ($1)", [body])
            XCTAssertEqual(inserted.affectedRows, 1)
        }
        let stored = try connection.query("SELECT body FROM notes ORDER BY id")
        XCTAssertEqual(stored.rows.map { $0["body"] }, bodies)
    }

    func testResultShapeAndRowAccessors() throws {
        let result = try connection.query(
            "SELECT 7::int8 AS n, NULL::int8 AS maybe, true AS yes, false AS no, 'abc' AS word"
        )
        XCTAssertEqual(result.columns, ["n", "maybe", "yes", "no", "word"])
        XCTAssertEqual(result.count, 1)
        let row = try XCTUnwrap(result.first)
        XCTAssertEqual(try row.int("n"), 7)
        XCTAssertEqual(row[0], "7")
        XCTAssertNil(try row.optionalInt64("maybe"))
        XCTAssertEqual(try row.optionalInt64("n"), 7)
        XCTAssertTrue(try row.bool("yes"))
        XCTAssertFalse(try row.bool("no"))
        XCTAssertEqual(expectPostgresError { try row.int64("maybe") }?.code, .unexpectedResult)
        XCTAssertEqual(expectPostgresError { try row.string("maybe") }?.code, .unexpectedResult)
        XCTAssertEqual(expectPostgresError { try row.int64("word") }?.code, .unexpectedResult)
        XCTAssertEqual(expectPostgresError { try row.bool("word") }?.code, .unexpectedResult)
        XCTAssertNil(try connection.query("SELECT 1 WHERE false").first)
    }

    func testUniqueViolationCarriesSQLStateAndConstraint() throws {
        try connection.execute("CREATE TABLE members (email text CONSTRAINT members_email_key UNIQUE)")
        _ = try connection.query("INSERT INTO members VALUES ($1)", ["a@example.com"])
        let error = expectPostgresError { try connection.query("INSERT INTO members VALUES ($1)", ["a@example.com"]) }
        XCTAssertEqual(error?.code, .server)
        XCTAssertEqual(error?.sqlState, "23505")
        XCTAssertEqual(error?.constraint, "members_email_key")
        XCTAssertNotNil(error?.detail)
        XCTAssertEqual(error?.isUniqueViolation, true)
        XCTAssertEqual(error?.isUnavailable, false)
        XCTAssertEqual(error?.isSerializationFailure, false)
        // The failed statement leaves the connection usable.
        XCTAssertTrue(connection.isHealthy)
        XCTAssertEqual(try connection.query("SELECT count(*) AS n FROM members").first!.int("n"), 1)
    }

    func testSyntaxErrorAndDivisionByZeroCarrySQLState() throws {
        let syntax = expectPostgresError { try connection.query("SELEC 1") }
        XCTAssertEqual(syntax?.sqlState, "42601")
        XCTAssertEqual(syntax?.code, .server)
        let division = expectPostgresError { try connection.query("SELECT 1 / $1::int AS q", ["0"]) }
        XCTAssertEqual(division?.sqlState, "22012")
        XCTAssertEqual(division?.message, "division by zero")
        let simple = expectPostgresError { try connection.execute("SELECT 1; SELECT 1 / 0") }
        XCTAssertEqual(simple?.sqlState, "22012")
        XCTAssertTrue(connection.isHealthy)
    }

    func testSentStatementRunsWhileTheCallerWorksAndItsResultIsReadOnce() throws {
        let started = Date()
        let sent = try connection.send("SELECT $1::int8 * 2 AS doubled, pg_sleep(0.2) IS NULL AS slept", ["21"])
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.15, "send waited for the statement")
        let result = try connection.receive(sent)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.2)
        XCTAssertEqual(try result.first!.int64("doubled"), 42)
        // A failing statement's error comes with receive, and the connection is usable after it.
        let failing = try connection.send("SELECT 1 / $1::int8 AS quotient", ["0"])
        do {
            _ = try connection.receive(failing)
            XCTFail("division by zero was answered")
        } catch {
            XCTAssertEqual(error.sqlState, "22012")
        }
        XCTAssertEqual(try connection.query("SELECT 7 AS seven").first?.int64("seven"), 7)
    }

    func testExecuteRunsSeveralStatements() throws {
        try connection.execute("CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2); INSERT INTO t VALUES (3)")
        XCTAssertEqual(try connection.query("SELECT sum(n) AS s FROM t").first!.int("s"), 6)
    }

    func testAffectedRows() throws {
        try connection.execute("CREATE TABLE t (n int)")
        XCTAssertEqual(try connection.query("INSERT INTO t SELECT generate_series(1, 5)").affectedRows, 5)
        XCTAssertEqual(try connection.query("UPDATE t SET n = n + 1 WHERE n > $1::int", ["2"]).affectedRows, 3)
        XCTAssertEqual(try connection.query("DELETE FROM t WHERE n < 0").affectedRows, 0)
        XCTAssertEqual(try connection.query("SELECT * FROM t").affectedRows, 5)
    }

    func testPreparedStatementIsPreparedOnceAndReused() throws {
        let sql = "SELECT $1::int * 2 AS doubled"
        for value in 0..<50 {
            XCTAssertEqual(try connection.query(sql, [String(value)]).first!.int("doubled"), value * 2)
        }
        let prepared = try connection.query(
            "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement = $1", [sql])
        XCTAssertEqual(try prepared.first!.int("n"), 1)
    }

    func testPreparedStatementsStayWithinTheLimit() throws {
        let limit = Connection.preparedStatementsMax
        for value in 0..<(limit + 20) {
            XCTAssertEqual(try connection.query("SELECT \(value) AS v").first!.int("v"), value)
        }
        let prepared = try connection.query("SELECT count(*) AS n FROM pg_prepared_statements")
        // The query counting them is prepared too, inside the limit.
        XCTAssertEqual(try prepared.first!.int("n"), limit)
        // The most recently used are the ones kept.
        let last = try connection.query(
            "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement = $1", ["SELECT \(limit + 19) AS v"])
        XCTAssertEqual(try last.first!.int("n"), 1)
    }

    func testStatementDeallocatedBehindOurBackIsPreparedAgain() throws {
        let sql = "SELECT 1 AS one"
        _ = try connection.query(sql)
        try connection.execute("DEALLOCATE ALL")
        XCTAssertEqual(expectPostgresError { try connection.query(sql) }?.sqlState, "26000")
        XCTAssertEqual(try connection.query(sql).first!.int("one"), 1)
    }

    func testNulInParameterIsRefused() throws {
        let error = expectPostgresError { try connection.query("SELECT $1::text AS t", ["a\u{0}b"]) }
        XCTAssertEqual(error?.code, .invalidParameter)
        XCTAssertTrue(connection.isHealthy)
    }

    func testClientEncodingIsAlwaysUTF8() throws {
        let latin = try Connection(conninfo: database.conninfo + "?client_encoding=LATIN1")
        defer { latin.close() }
        XCTAssertEqual(try latin.query("SHOW client_encoding").first![0], "UTF8")
        XCTAssertEqual(try latin.query("SELECT $1::text AS t", ["ñ€"]).first!["t"], "ñ€")
    }

    func testServerVersionIsFifteenOrLater() {
        XCTAssertGreaterThanOrEqual(connection.serverVersion, 150_000)
    }

    func testEscapedIdentifierNamesADatabase() throws {
        let name = database.name + "_odd \"name\""
        try database.admin.execute("CREATE DATABASE \(Connection.escapeIdentifier(name))")
        defer { try? database.admin.execute("DROP DATABASE \(Connection.escapeIdentifier(name))") }
        let found = try database.admin.query("SELECT count(*) AS n FROM pg_database WHERE datname = $1", [name])
        XCTAssertEqual(try found.first!.int("n"), 1)
    }

    func testBadConninfoIsConnectionFailedAndUnavailable() {
        let unreachable = expectPostgresError { try Connection(conninfo: "postgresql://nobody@127.0.0.1:1/none") }
        XCTAssertEqual(unreachable?.code, .connectionFailed)
        XCTAssertEqual(unreachable?.isUnavailable, true)
        XCTAssertFalse(unreachable?.message.isEmpty ?? true)
        let malformed = expectPostgresError { try Connection(conninfo: "host=127.0.0.1 nonsense_keyword=1") }
        XCTAssertEqual(malformed?.code, .connectionFailed)
    }

    func testTerminatedBackendIsConnectionLost() throws {
        _ = try connection.query("SELECT 1")
        try database.terminate(pid: try database.backendPID(of: connection))
        let error = expectPostgresError { try connection.query("SELECT 1") }
        XCTAssertEqual(error?.code, .connectionLost)
        XCTAssertEqual(error?.isUnavailable, true)
        XCTAssertFalse(connection.isHealthy)
    }

    func testCloseIsIdempotent() {
        connection.close()
        connection.close()
        XCTAssertFalse(connection.isHealthy)
    }
}
