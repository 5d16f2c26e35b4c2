import Foundation
import LoyaltyTesting
import XCTest

/// Real Redis client libraries, each with its usual settings, drive the same script against a
/// fresh loyaltyd (Tests/ClientLibraries/README.md). `Deploy/local/client-libraries.sh`, which
/// `make test` runs, installs them; a missing one fails its test.
final class ClientLibraryTests: EndToEndTestCase {
    /// What every library's script does and reports as `ok STEP`.
    static let steps = ["wrong-password", "partner-accrue", "batch-pipeline-1000", "agent-balance", "client-name",
                        "error-reply", "member-statement", "member-redeem-replay", "member-fields"]
    static let root = URL(fileURLWithPath: TestDatabase.migrationsDirectory()).deletingLastPathComponent().path
    static let scripts = root + "/Tests/ClientLibraries/"

    func testRedisPyWithItsDefaultSettingsSpeaksRESP3() throws {
        try drive(try python(), [Self.scripts + "redis_py.py", "resp3"], alsoSteps: ["info", "protocol"])
    }

    func testRedisPyWithProtocol2() throws {
        try drive(try python(), [Self.scripts + "redis_py.py", "resp2"], alsoSteps: ["info", "protocol"])
    }

    func testRedisPyAsyncioThroughAConnectionPool() throws {
        try drive(try python(), [Self.scripts + "redis_py.py", "asyncio"], alsoSteps: ["info"])
    }

    func testHiredisTheCClient() throws {
        let binary = NSTemporaryDirectory() + "loyalty-hiredis-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: binary) }
        let compiled = try Command.run(executable: "/usr/bin/env",
                                       ["cc", "-Wall", "-Werror", "-o", binary, Self.scripts + "hiredis.c", "-lhiredis"])
        XCTAssertEqual(compiled.status, 0, "hiredis.c does not compile (Deploy/local/client-libraries.sh installs libhiredis-dev): \(compiled.stderr)")
        try drive(binary, [])
    }

    func testRedisRbTheRubyClient() throws {
        try drive("/usr/bin/env", ["ruby", Self.scripts + "redis_rb.rb"])
    }

    func testNodeRedisTheNodeClient() throws {
        // Debian's node-redis lives in /usr/share/nodejs, which a node not from Debian does not search.
        try drive("/usr/bin/env", ["node", Self.scripts + "node_redis.js"], environment: ["NODE_PATH": "/usr/share/nodejs"])
    }

    /// redis-py in the venv the install script made.
    private func python() throws -> String {
        let path = Self.root + "/.loyalty/client-libraries/venv/bin/python"
        return try XCTUnwrap(FileManager.default.isExecutableFile(atPath: path) ? path : nil,
                             "no redis-py at \(path): run Deploy/local/client-libraries.sh")
    }

    /// Runs one library's script against this test's server, then checks what it left, over a raw connection.
    private func drive(_ executable: String, _ arguments: [String], alsoSteps: [String] = [],
                       environment: [String: String] = [:]) throws {
        var env = ProcessInfo.processInfo.environment
        env["LOYALTY_PORT"] = String(server.port)
        env["LOYALTY_TODAY"] = Self.today
        env["CARDCO_KEY"] = try secret("CARDCO")
        env["AGENT_SECRET"] = try secret("agent:demo")
        env.merge(environment) { $1 }
        let outcome = try Command.run(executable: executable, arguments, environment: env)
        let passed = Set(outcome.stdout.split(separator: "\n").filter { $0.hasPrefix("ok ") }.map { String($0.dropFirst(3)) })
        XCTAssertEqual(outcome.status, 0, "\(arguments.last ?? executable):\n\(outcome.stdout)\(outcome.stderr)")
        for step in Self.steps + alsoSteps { XCTAssertTrue(passed.contains(step), "step \(step) did not pass:\n\(outcome.stdout)") }
        XCTAssertTrue(outcome.stdout.hasSuffix("done\n"), outcome.stdout)
        // 100 + 1,000 accrued, 100 redeemed once although asked twice.
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(1000))
        let newest = try agent.call(["STATEMENT", "M1", "LIMIT", "2"]).fields?.compactMap { $0.fields?[2].text }
        XCTAssertEqual(newest, ["redemption", "accrual"], "one redemption, after the accruals")
    }
}
