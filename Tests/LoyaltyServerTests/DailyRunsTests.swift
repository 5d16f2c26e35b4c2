import Foundation
import LoyaltyTesting
import XCTest

/// The server's own daily tier and expiry runs.
final class DailyRunsTests: EndToEndTestCase {
    /// Hour 0 has always passed today, so the server catches up at once when it starts.
    override var serverEnvironment: [String: String] { ["LOYALTY_DAILY_RUNS_HOUR": "0"] }

    func testAServerStartedAfterTheHourRunsTiersAndExpiryForTodayOnce() throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && !server.log.contains("run=expire") { usleep(100_000) }
        XCTAssertTrue(server.log.contains("event=daily_run run=tiers"), server.log)
        XCTAssertTrue(server.log.contains("event=daily_run run=expire"), server.log)
        XCTAssertEqual(try sql("SELECT count(*) FROM runs WHERE as_of = '\(Self.today)' AND finished_at IS NOT NULL"), "2")
        // A second server on the same database finds today's runs done and changes nothing.
        let second = try ServerProcess(database: database, environment: serverEnvironment)
        let again = Date().addingTimeInterval(30)
        while Date() < again && !second.log.contains("run=expire") { usleep(100_000) }
        XCTAssertEqual(try sql("SELECT count(*) FROM runs"), "2")
        XCTAssertEqual(try sql("SELECT count(*) FROM ledger_entries WHERE kind = 'expiry'"), "0")
    }

    func testAnHourOutsideTheDayStopsTheServerAtStart() throws {
        XCTAssertThrowsError(try ServerProcess(database: database, environment: ["LOYALTY_DAILY_RUNS_HOUR": "24"]))
    }
}
