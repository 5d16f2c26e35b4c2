import Foundation
import Postgres
import XCTest

final class TransactionTests: DatabaseTestCase {
    private struct BodyFailed: Error {}

    override func setUpWithError() throws {
        try super.setUpWithError()
        try connection.execute("CREATE TABLE accounts (id int PRIMARY KEY, points int8 NOT NULL)")
    }

    private func accountCount() throws -> Int {
        try connection.query("SELECT count(*) AS n FROM accounts").first!.int("n")
    }

    func testCommitKeepsWritesAndReturnsBodyValue() throws {
        let value = try connection.transaction { connection in
            _ = try connection.query("INSERT INTO accounts VALUES (1, 100)")
            _ = try connection.query("INSERT INTO accounts VALUES (2, 50)")
            return "done"
        }
        XCTAssertEqual(value, "done")
        XCTAssertEqual(try accountCount(), 2)
        XCTAssertTrue(connection.isHealthy)
    }

    func testStatementsQueuedForTheCommitAreAppliedWithItOrNotAtAll() throws {
        try connection.transaction { connection in
            _ = try connection.query("INSERT INTO accounts VALUES (1, 100)")
            connection.executeBeforeCommit("INSERT INTO accounts VALUES ($1, $2)", ["2", "50"])
        }
        XCTAssertEqual(try accountCount(), 2)
        XCTAssertTrue(connection.isHealthy)
        // The queued statement fails (duplicate key): nothing of the transaction stays.
        XCTAssertThrowsError(try connection.transaction { connection in
            _ = try connection.query("INSERT INTO accounts VALUES (3, 1)")
            connection.executeBeforeCommit("INSERT INTO accounts VALUES ($1, $2)", ["1", "1"])
        }) { error in XCTAssertTrue((error as? PostgresError)?.isUniqueViolation == true, "\(error)") }
        XCTAssertEqual(try accountCount(), 2)
        XCTAssertTrue(connection.isHealthy)
        // A body that throws drops what it queued.
        XCTAssertThrowsError(try connection.transaction { connection in
            connection.executeBeforeCommit("INSERT INTO accounts VALUES ($1, $2)", ["4", "1"])
            throw BodyFailed()
        })
        try connection.transaction { connection in _ = try connection.query("SELECT 1") }
        XCTAssertEqual(try accountCount(), 2)
    }

    /// A COMMIT whose backend is killed while it runs (a deferred trigger sleeps in it): the
    /// transaction may or may not be applied, so it must not pass for "nothing ran, retry".
    func testAConnectionLostDuringCommitIsOutcomeUnknown() throws {
        try connection.execute("""
            CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$;
            CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON accounts DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION slow_commit();
            """)
        let pid = try database.backendPID(of: connection)
        nonisolated(unsafe) let database = self.database!
        let killed = DispatchSemaphore(value: 0)
        let killer = Thread {
            // Once the COMMIT is in the trigger's sleep.
            while (try? database.admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1::int AND wait_event = 'PgSleep'",
                                             [String(pid)]).first) == nil { usleep(20_000) }
            try? database.terminate(pid: pid)
            killed.signal()
        }
        killer.start()
        XCTAssertThrowsError(try connection.transaction { try $0.query("INSERT INTO accounts VALUES (1, 100)") }) { error in
            XCTAssertEqual((error as? PostgresError)?.code, .commitOutcomeUnknown, "\(error)")
            XCTAssertEqual((error as? PostgresError)?.isUnavailable, false, "not safe to retry blindly")
        }
        // The killer uses the admin connection, which tearDown uses next: one thread on it at a time.
        XCTAssertEqual(killed.wait(timeout: .now() + 60), .success)
    }

    /// The server's hint comes with its error, for the admin to read.
    func testAServerErrorCarriesItsHint() throws {
        XCTAssertThrowsError(try connection.query("SELECT no_such_function(1)")) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "42883")
            XCTAssertTrue((error as? PostgresError)?.hint?.contains("No function matches") == true, "\(error)")
        }
    }

    func testThrowingBodyRollsBackAndRethrows() throws {
        XCTAssertThrowsError(try connection.transaction { connection in
            _ = try connection.query("INSERT INTO accounts VALUES (1, 100)")
            throw BodyFailed()
        }) { XCTAssertTrue($0 is BodyFailed) }
        XCTAssertEqual(try accountCount(), 0)
        // The connection is outside any transaction again: a new one can start.
        try connection.transaction { _ = try $0.query("INSERT INTO accounts VALUES (3, 1)") }
        XCTAssertEqual(try accountCount(), 1)
    }

    func testFailingStatementRollsBackEarlierWrites() throws {
        let error = expectPostgresError {
            try connection.transaction { connection in
                _ = try connection.query("INSERT INTO accounts VALUES (1, 100)")
                _ = try connection.query("INSERT INTO accounts VALUES (1, 200)")
            }
        }
        XCTAssertEqual(error?.isUniqueViolation, true)
        XCTAssertEqual(try accountCount(), 0)
    }

    func testSwallowedErrorIsNotReportedAsCommitted() throws {
        let error = expectPostgresError {
            try connection.transaction { connection in
                _ = try connection.query("INSERT INTO accounts VALUES (1, 100)")
                _ = try? connection.query("SELECT 1 / 0")
            }
        }
        XCTAssertEqual(error?.code, .unexpectedResult)
        XCTAssertEqual(try accountCount(), 0)
    }

    func testIsolationLevelIsApplied() throws {
        for (level, name) in [
            (IsolationLevel.readCommitted, "read committed"), (.repeatableRead, "repeatable read"),
            (.serializable, "serializable"),
        ] {
            let shown = try connection.transaction(level) { try $0.query("SHOW transaction_isolation").first![0] }
            XCTAssertEqual(shown, name)
        }
    }

    func testConcurrentSerializableWritesReportSerializationFailure() throws {
        try connection.execute("INSERT INTO accounts VALUES (1, 0), (2, 0)")
        let other = try database.connect()
        defer { other.close() }
        // Write skew: each reads the sum, then writes a different row; one of them must fail.
        try connection.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
        try other.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
        _ = try connection.query("SELECT sum(points) FROM accounts")
        _ = try other.query("SELECT sum(points) FROM accounts")
        _ = try connection.query("UPDATE accounts SET points = 1 WHERE id = 1")
        _ = try other.query("UPDATE accounts SET points = 1 WHERE id = 2")
        try connection.execute("COMMIT")
        let error = expectPostgresError { try other.execute("COMMIT") }
        XCTAssertEqual(error?.sqlState, "40001")
        XCTAssertEqual(error?.isSerializationFailure, true)
        XCTAssertEqual(error?.isUnavailable, false)
    }
}
