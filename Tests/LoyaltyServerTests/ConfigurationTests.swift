import Foundation
import LoyaltyServer
import LoyaltyTesting
import XCTest

/// loyaltyd's settings: one table (`Setting.all`), checked together at start.
final class ConfigurationTests: EndToEndTestCase {
    func testTheREADMEConfigurationTableIsTheSettingsTable() throws {
        let readme = try String(contentsOfFile: TestDatabase.migrationsDirectory() + "/../README.md", encoding: .utf8)
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = try XCTUnwrap(lines.firstIndex(of: "| variable | meaning | range | default |"), "the README's configuration table")
        let rows = lines[(header + 2)...].prefix { $0.hasPrefix("|") }
        XCTAssertEqual(Array(rows), Setting.all.map(\.markdownRow),
                       "README.md should read:\n" + Setting.all.map(\.markdownRow).joined(separator: "\n"))
    }

    /// A line or bulk limit past the request limit used to trip a precondition at the first
    /// connection (line) or have no effect (bulk); now the server refuses to start, naming both.
    func testLimitsThatCannotWorkTogetherStopTheServerAtStart() throws {
        let refused: [(String, String)] = [("LOYALTY_LINE_BYTES_MAX", "8388608"), ("LOYALTY_LINE_BYTES_MAX", "4194303"),
                                           ("LOYALTY_BULK_BYTES_MAX", "8388608"), ("LOYALTY_BULK_BYTES_MAX", "4194241"),
                                           ("LOYALTY_UNAUTHENTICATED_BUFFERED_BYTES_MAX", "100000")]
        for (name, value) in refused {
            // Under `timeout`: a server that does start must not hang the test.
            let outcome = try Command.run(executable: "/usr/bin/timeout", ["10", ServerProcess.binary("loyaltyd")],
                                          environment: ["DATABASE_URL": database.url, "LOYALTY_LISTEN": "127.0.0.1:0",
                                                        "LOYALTY_DAILY_RUNS_HOUR": "off", name: value])
            XCTAssertEqual(outcome.status, 2, "\(name)=\(value): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.contains(name), "\(name)=\(value): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.contains("LOYALTY_REQUEST_BYTES_MAX") || name.hasPrefix("LOYALTY_UNAUTHENTICATED"), outcome.stderr)
        }
    }

    /// On the edge: a line of 4 MiB less its CRLF is served, and so is a larger one once the
    /// request limit is raised to hold it.
    func testLinesUpToTheRequestLimitAreServed() throws {
        for (environment, lineBytes) in [([String: String](), 4_194_302), (["LOYALTY_REQUEST_BYTES_MAX": "8388610"], 8_388_608)] {
            var settings = environment
            settings["LOYALTY_LINE_BYTES_MAX"] = String(lineBytes)
            let server = try ServerProcess(database: database, environment: settings)
            let client = try RawClient(port: server.port, timeoutSeconds: 30)
            XCTAssertEqual(try client.call(["AUTH", "agent:demo", try secret("agent:demo")]), .simple("OK"))
            let word = String(repeating: "a", count: lineBytes - 5)
            XCTAssertEqual(try client.inline("ECHO " + word), .bulk(word), "a line of \(lineBytes) bytes")
        }
    }
}
