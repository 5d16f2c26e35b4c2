import Foundation
import Glibc
import LoyaltyTesting
import Postgres
import XCTest

/// Base of the reliability suites: a fresh demo database and a loyaltyd of its own per test,
/// reached only over TCP, checked afterwards through SQL and `loyaltyctl verify`.
class ReliabilityTestCase: XCTestCase {
    var database: TestDatabase!
    var server: ServerProcess!
    /// Set by `moveToPrivateCluster`: the cluster the test may stop, restart or crash.
    var cluster: PrivateCluster?
    /// Where the server's data is: the test's database, or its copy on the private cluster.
    private(set) var databaseURL: String!

    /// LOYALTY_* (or DATABASE_URL) overrides for the server of every test in the class.
    var serverEnvironment: [String: String] { [:] }

    override func setUpWithError() throws {
        do { database = try TestDatabase() } catch let error as TestEnvironmentMissing { throw XCTSkip(error.description) }
        databaseURL = database.url
        server = try ServerProcess(database: database, environment: serverEnvironment)
    }

    /// Copies the test's database onto a private cluster and restarts the server on it.
    func moveToPrivateCluster(settings: [String: String] = [:]) throws {
        let cluster = try PrivateCluster(settings: settings)
        self.cluster = cluster
        databaseURL = try cluster.copy(of: database)
        server = nil
        server = try startServer()
    }

    /// Another loyaltyd on the test's data (after the first was killed, say).
    func startServer() throws -> ServerProcess {
        try ServerProcess(database: database, environment: serverEnvironment.merging(["DATABASE_URL": databaseURL]) { $1 })
    }

    override func tearDown() {
        if ProcessInfo.processInfo.environment["RELIABILITY_DEBUG"] != nil { print(server?.log ?? "") }
        // The server goes first: the database is dropped with its connections forced closed.
        server = nil
        cluster = nil
        database = nil
        super.tearDown()
    }

    func secret(_ principal: String) throws -> String { try database.secret(principal) }

    /// A raw connection, signed in as `principal` when one is given.
    func connect(as principal: String? = nil, port: UInt16? = nil) throws -> RawClient {
        try RawClient.signedIn(port: port ?? server.port, as: principal, database: database)
    }

    /// Rows of a query on the test's database, each as text columns.
    func rows(_ query: String, _ parameters: [String?] = []) throws -> [[String?]] {
        let connection = try Connection(conninfo: databaseURL)
        defer { connection.close() }
        let result = try connection.query(query, parameters)
        return result.rows.map { row in result.columns.indices.map { row[$0] } }
    }

    /// One value from the test's database.
    func value(_ query: String, _ parameters: [String?] = []) throws -> String? {
        try rows(query, parameters).first?.first ?? nil
    }

    /// `loyaltyctl verify` passes on the server's data: every invariant holds.
    func assertLedgerVerifies(file: StaticString = #filePath, line: UInt = #line) throws {
        let outcome = try Command.run("loyaltyctl", ["verify", "--database", databaseURL])
        XCTAssertEqual(outcome.status, 0, "verify failed:\n\(outcome.stdout)\(outcome.stderr)", file: file, line: line)
    }

    /// Today in the demo program's zone (UTC), as the server's clock sees it. (A test that runs
    /// across midnight UTC may see the claim window move; none runs that long.)
    static let today = day(0)

    static func day(_ offset: Int) -> String { DemoCalendar.day(offset) }
}

extension RawClient {
    /// The next reply, or nil once the server has closed the connection (an orderly close, or a
    /// reset because it closed with input unread). A reply that is not RESP, or none within the
    /// timeout, throws.
    func readReplyUnlessClosed() throws -> RESPValue? {
        let started = Date()
        do {
            return try readReply()
        } catch let error as TestEnvironmentMissing where error.description.contains("closed")
                    || Date().timeIntervalSince(started) < Double(timeoutSeconds) - 1 {
            return nil
        }
    }
}

/// Something a test did not expect to see.
struct Unexpected: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
