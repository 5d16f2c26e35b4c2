import Foundation
import LoyaltyTesting
import Postgres
import XCTest

/// Base of the end-to-end suites: every test gets a fresh demo database and its own loyaltyd,
/// and talks to it only over TCP, with redis-cli or a raw socket.
class EndToEndTestCase: XCTestCase {
    var database: TestDatabase!
    var server: ServerProcess!

    /// LOYALTY_* (or DATABASE_URL) overrides for the server of every test in the class.
    var serverEnvironment: [String: String] { [:] }

    override func setUpWithError() throws {
        do { database = try TestDatabase() } catch let error as TestEnvironmentMissing { throw XCTSkip(error.description) }
        server = try ServerProcess(database: database, environment: serverEnvironment)
    }

    override func tearDown() {
        // What the server logged explains most failures; a passing test stays quiet.
        if let run = testRun, run.totalFailureCount > 0, let server { print("loyaltyd log:\n" + server.log) }
        // The server goes first: the database is dropped with its connections forced closed.
        server = nil
        database = nil
        super.tearDown()
    }

    func secret(_ principal: String) throws -> String { try database.secret(principal) }

    /// A raw connection, signed in as `principal` when one is given.
    func connect(as principal: String? = nil, port: UInt16? = nil) throws -> RawClient {
        try RawClient.signedIn(port: port ?? server.port, as: principal, database: database)
    }

    /// `redis-cli` as a partner's engineer would run it; its raw (piped) output.
    func cli(_ principal: String?, _ words: String...) throws -> String {
        try RedisCLI.run(port: server.port, user: principal, password: try principal.map(secret), words).output
    }

    /// Credits `points` redeemable points to `member` exactly (CARDCO earns 1 per 1.00 USD).
    func credit(_ member: String, _ points: Int, txn: String = "credit-\(UUID().uuidString.prefix(8))") throws {
        let card = try connect(as: "CARDCO")
        let reply = try card.call(["ACCRUE", txn, member, Self.today, "amount=\(points).00", "currency=USD"])
        XCTAssertEqual(reply, .array([.bulk(txn), .integer(Int64(points)), .integer(Int64(points / 20))]))
    }

    /// One value from the test's database, for checks and for setting up what no command can.
    func sql(_ query: String) throws -> String? {
        let connection = try database.connect()
        defer { connection.close() }
        return try connection.query(query).first?[0]
    }

    /// Today and nearby days in the demo program's zone (UTC), as the server's clock sees them.
    static var today: String { day(0) }

    static func day(_ offset: Int) -> String { DemoCalendar.day(offset) }
}

extension RawClient {
    /// Sends one inline line, as `nc` would, and reads its reply.
    func inline(_ line: String) throws -> RESPValue {
        send(line + "\r\n")
        return try readReply()
    }

    /// The error code of the reply to `words`, or nil when it was not an error.
    func errorCode(_ words: String...) throws -> String? {
        try call(words).errorCode
    }
}

func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

/// `[id, points, third]`, the shape of most write replies.
func triple(_ id: String, _ points: Int64, _ third: Int64) -> RESPValue {
    .array([.bulk(id), .integer(points), .integer(third)])
}

/// Asserts the connection is still open and serving after whatever came before.
func assertAnswersPing(_ client: RawClient, _ message: @autoclosure () -> String = "", file: StaticString = #filePath,
                       line: UInt = #line) {
    XCTAssertEqual(try client.call(["PING"]), .simple("PONG"), "connection no longer serving " + message(), file: file, line: line)
}

/// A reply of the wrong shape, where a test needs to take it apart.
struct UnexpectedReply: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
