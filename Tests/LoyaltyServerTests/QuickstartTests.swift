import LoyaltyTesting
import XCTest

/// The README's first minute, through real clients: redis-cli and a raw socket typing inline commands.
final class QuickstartTests: XCTestCase {
    private var database: TestDatabase!
    private var server: ServerProcess!

    override func setUpWithError() throws {
        do { database = try TestDatabase() } catch let error as TestEnvironmentMissing { throw XCTSkip(error.description) }
        server = try ServerProcess(database: database)
    }

    override func tearDown() {
        server = nil
        database = nil
    }

    private var today: String {
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date())
    }

    func testHotelAccrualThroughRedisCLIIsExactlyOnce() throws {
        let key = try XCTUnwrap(database.credentials["HOTELCO"])
        let accrue = ["ACCRUE", "t1", "M1", today, "amount=450.00", "currency=USD"]
        let first = try RedisCLI.run(port: server.port, user: "HOTELCO", password: key, accrue)
        XCTAssertEqual(first.output, "t1\n1350\n0\n")
        let again = try RedisCLI.run(port: server.port, user: "HOTELCO", password: key, accrue)
        XCTAssertEqual(again.output, "t1\n1350\n0\n")
        let agent = try XCTUnwrap(database.credentials["agent:demo"])
        XCTAssertEqual(try RedisCLI.run(port: server.port, user: "agent:demo", password: agent, ["BALANCE", "M1"]).output, "1350\n")
    }

    func testInlineCommandsAsNetcatSendsThem() throws {
        let client = try RawClient(port: server.port)
        client.send("PING\r\nAUTH member:M1 1234\r\nBALANCE M1\r\nBALANCE M2\r\nQUIT\r\n")
        XCTAssertEqual(try client.readReply(), .simple("PONG"))
        XCTAssertEqual(try client.readReply(), .simple("OK"))
        XCTAssertEqual(try client.readReply(), .integer(0))
        XCTAssertEqual(try client.readReply().errorCode, "NOPERM")
        XCTAssertEqual(try client.readReply(), .simple("OK"))
        XCTAssertTrue(client.isClosedByServer())
    }

    func testSIGTERMStopsTheServerCleanly() throws {
        XCTAssertEqual(server.stop(), 0)
        XCTAssertTrue(server.log.contains("event=stopped"))
    }
}
