import Foundation
import Postgres
import XCTest

/// A database of the test's own on the shared test server, dropped afterwards, so tests never
/// see each other's tables.
final class TestDatabase {
    let name: String
    /// Conninfo (URI) for the test database.
    let conninfo: String
    /// Connected to the server's default database, for CREATE/DROP DATABASE and for killing backends.
    let admin: Connection

    init() throws {
        guard let url = ProcessInfo.processInfo.environment["LOYALTY_TEST_DATABASE_URL"], !url.isEmpty else {
            throw XCTSkip("LOYALTY_TEST_DATABASE_URL is not set")
        }
        guard var components = URLComponents(string: url) else {
            preconditionFailure("LOYALTY_TEST_DATABASE_URL is not a URL: \(url)")
        }
        name = "pgtest_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        components.path = "/" + name
        conninfo = components.string!
        admin = try Connection(conninfo: url)
        try admin.execute("CREATE DATABASE \(Connection.escapeIdentifier(name))")
    }

    func connect() throws -> Connection {
        try Connection(conninfo: conninfo)
    }

    func drop() {
        try? admin.execute("DROP DATABASE IF EXISTS \(Connection.escapeIdentifier(name)) WITH (FORCE)")
        admin.close()
    }

    /// The server process behind `connection`.
    func backendPID(of connection: Connection) throws -> Int64 {
        try connection.query("SELECT pg_backend_pid() AS pid").first!.int64("pid")
    }

    /// Terminates a backend from the admin connection and waits until it has exited, so the
    /// victim's socket has seen the server's farewell.
    func terminate(pid: Int64) throws {
        let killed = try admin.query("SELECT pg_terminate_backend($1::int) AS killed", [String(pid)])
        XCTAssertEqual(try killed.first!.bool("killed"), true)
        for _ in 0..<500 {
            let left = try admin.query("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1::int", [String(pid)])
            if try left.first!.int("n") == 0 { return }
            usleep(10_000)
        }
        XCTFail("backend \(pid) still alive after 5 s")
    }
}

/// Base class: a fresh database per test and one connection to it.
class DatabaseTestCase: XCTestCase {
    var database: TestDatabase!
    var connection: Connection!

    override func setUpWithError() throws {
        database = try TestDatabase()
        connection = try database.connect()
    }

    override func tearDown() {
        connection?.close()
        database?.drop()
        connection = nil
        database = nil
    }
}

/// Asserts that `body` throws a `PostgresError` and returns it for further checks.
func expectPostgresError<T>(
    _ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line
) -> PostgresError? {
    do {
        _ = try body()
        XCTFail("expected a PostgresError", file: file, line: line)
    } catch let error as PostgresError {
        return error
    } catch {
        XCTFail("expected a PostgresError, got \(error)", file: file, line: line)
    }
    return nil
}
