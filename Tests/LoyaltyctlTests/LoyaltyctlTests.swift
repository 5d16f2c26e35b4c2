import LoyaltyTesting
import XCTest

/// loyaltyctl as an operator runs it: exit codes, output, and what it changes.
final class LoyaltyctlTests: XCTestCase {
    private var database: TestDatabase!

    override func setUpWithError() throws {
        do { database = try TestDatabase() } catch let error as TestEnvironmentMissing { throw XCTSkip(error.description) }
    }

    override func tearDown() { database = nil }

    private func ctl(_ arguments: String..., stdin: String? = nil) throws -> Command.Outcome {
        try Command.run("loyaltyctl", arguments + ["--database", database.url], stdin: stdin)
    }

    /// An empty database, for the migrate-from-nothing path.
    private func emptyDatabase() throws -> String {
        let admin = try database.connect()
        defer { admin.close() }
        let name = database.name + "_empty"
        try admin.execute("CREATE DATABASE \(name)")
        addTeardownBlock {
            let admin = try? self.database.connect()
            try? admin?.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
        return database.url.replacingOccurrences(of: "/" + database.name, with: "/" + name)
    }

    func testMigrateDemoLoadAndVerifyTwiceOnAnEmptyDatabase() throws {
        let url = try emptyDatabase()
        func run(_ words: [String]) throws -> Command.Outcome {
            try Command.run("loyaltyctl", words + ["--database", url, "--migrations", TestDatabase.migrationsDirectory()])
        }
        let first = try run(["migrate"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.hasPrefix("migrate: applied 0001_extensions"), first.stdout)
        XCTAssertEqual(try run(["migrate"]).stdout.prefix(21), "migrate: up to date (")
        XCTAssertEqual(try Command.run("loyaltyctl", ["demo", "load", "--database", url]).status, 0)
        let rerun = try Command.run("loyaltyctl", ["demo", "load", "--database", url])
        XCTAssertEqual(rerun.status, 0)
        XCTAssertEqual(rerun.stdout, "", "a second demo load issues no credentials")
        let verify = try Command.run("loyaltyctl", ["verify", "--database", url])
        XCTAssertEqual(verify.status, 0, verify.stdout)
        XCTAssertTrue(verify.stdout.contains("0 violated"))
        let status = try run(["migrate", "status"])
        XCTAssertEqual(status.status, 0)
        XCTAssertTrue(status.stdout.contains("0001_extensions") && status.stdout.contains("applied"))
    }

    /// The admin reads PostgreSQL's own error (SQLSTATE and message), not only "internal error".
    func testADatabaseErrorIsShownAsPostgreSQLReportedIt() throws {
        XCTAssertEqual(try ctl("points", "adjust", "M1", "+9223372036854775807", "--reason", "edge").status, 0)
        let overflow = try ctl("points", "adjust", "M1", "+1", "--reason", "one more")
        XCTAssertEqual(overflow.status, 1)
        XCTAssertTrue(overflow.stderr.contains("PostgreSQL error 22003: bigint out of range"), overflow.stderr)
    }

    /// The connection lost while COMMIT runs (the backend killed in a deferred trigger): loyaltyctl
    /// says the outcome is unknown and how to look, never "nothing was applied".
    func testAConnectionLostDuringCommitIsReportedAsOutcomeUnknown() throws {
        let conn = try database.connect()
        defer { conn.close() }
        try conn.execute("""
            CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$;
            CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON ledger_entries DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION slow_commit();
            """)
        nonisolated(unsafe) let watcher = conn
        let killer = Thread {
            for _ in 0..<1_500 {
                let killed = try? watcher.query("""
                    SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
                    WHERE datname = current_database() AND wait_event = 'PgSleep'
                    """).first
                if killed != nil { return }
                usleep(20_000)
            }
        }
        killer.start()
        let adjust = try ctl("points", "adjust", "M1", "+500", "--reason", "goodwill")
        XCTAssertEqual(adjust.status, 1)
        XCTAssertTrue(adjust.stderr.contains("whether the change was applied is unknown"), adjust.stderr)
        XCTAssertFalse(adjust.stderr.contains("nothing was applied"), adjust.stderr)
    }

    func testAdjustThenShowThenTamperMakesVerifyFail() throws {
        XCTAssertEqual(try ctl("points", "adjust", "M1", "+500", "--reason", "goodwill").status, 0)
        let show = try ctl("member", "show", "M1")
        XCTAssertTrue(show.stdout.contains("balance: 500\n"), show.stdout)
        XCTAssertTrue(show.stdout.contains("available: 500\n"))
        XCTAssertEqual(try ctl("verify").status, 0)
        let conn = try database.connect()
        _ = try conn.query("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only")
        _ = try conn.query("UPDATE ledger_entries SET points = points + 1 WHERE member_number = 'M1'")
        let verify = try ctl("verify")
        XCTAssertEqual(verify.status, 1)
        XCTAssertTrue(verify.stdout.contains("FAIL member balance equals the sum of its ledger entries"), verify.stdout)
    }

    func testAdjustNeedsASignAndAReason() throws {
        XCTAssertEqual(try ctl("points", "adjust", "M1", "500", "--reason", "x").status, 2)
        XCTAssertEqual(try ctl("points", "adjust", "M1", "+500").status, 2)
        let overdraw = try ctl("points", "adjust", "M1", "-1", "--reason", "x")
        XCTAssertEqual(overdraw.status, 1)
        XCTAssertTrue(overdraw.stderr.contains("INSUFFICIENT"), overdraw.stderr)
    }

    func testUsageErrorsExitTwoAndHelpExitsZero() throws {
        XCTAssertEqual(try Command.run("loyaltyctl", ["frobnicate"]).status, 2)
        XCTAssertEqual(try ctl("member", "show").status, 2)
        XCTAssertEqual(try ctl("member", "show", "M1", "--bogus", "x").status, 2)
        let help = try Command.run("loyaltyctl", ["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stderr.contains("loyaltyctl points adjust NUMBER (+N|-N) --reason R"))
        let verbHelp = try Command.run("loyaltyctl", ["tier", "set", "--help"])
        XCTAssertEqual(verbHelp.status, 0)
        XCTAssertTrue(verbHelp.stdout.contains("tier set NUMBER TIER --until YYYY-MM-DD --reason R"))
    }

    func testKeyRotationAndAgentPrintOnlyTheSecret() throws {
        let key = try ctl("partner", "key", "rotate", "HOTELCO")
        XCTAssertEqual(key.status, 0)
        XCTAssertNotNil(key.stdout.range(of: #"^pk_[0-9a-f]{40}\n$"#, options: .regularExpression), key.stdout)
        let agent = try ctl("agent", "add", "frontdesk")
        XCTAssertNotNil(agent.stdout.range(of: #"^ak_[0-9a-f]{40}\n$"#, options: .regularExpression), agent.stdout)
        XCTAssertEqual(try ctl("agent", "add", "frontdesk").status, 1)
        let partners = try ctl("partner", "list")
        XCTAssertTrue(partners.stdout.contains("HOTELCO"))
    }

    func testMemberLifecycleIsAudited() throws {
        XCTAssertEqual(try ctl("member", "enroll", "ZED-1", "--name", "Zed").status, 0)
        XCTAssertEqual(try ctl("member", "enroll", "ZED-1").status, 1)
        XCTAssertEqual(try ctl("member", "set-pin", "ZED-1", stdin: "4321\n").status, 0)
        XCTAssertEqual(try ctl("member", "set-pin", "ZED-1", stdin: "12\n").status, 1)
        XCTAssertEqual(try ctl("tier", "set", "ZED-1", "PREMIER", "--until", "2099-01-31", "--reason", "vip").status, 0)
        XCTAssertTrue(try ctl("member", "show", "ZED-1").stdout.contains("tier: Premier\n"))
        XCTAssertEqual(try ctl("member", "close", "ZED-1", "--reason", "asked").status, 0)
        let audit = try ctl("audit", "--member", "ZED-1")
        for action in ["member.enroll", "member.set-pin", "tier.set", "member.close"] {
            XCTAssertTrue(audit.stdout.contains(action), "\(action) missing from\n\(audit.stdout)")
        }
        XCTAssertTrue(audit.stdout.contains("vip") && audit.stdout.contains("asked"))
    }

    func testRewardVerbsEditTheCatalogAndAreAudited() throws {
        let add = try ctl("reward", "add", "lounge", "--points", "3000", "--tier-price", "Premier=2500", "--tier-price", "1K=1500",
                          "--stock", "10", "--description", "airport lounge pass")
        XCTAssertEqual(add.status, 0, add.stderr)
        XCTAssertEqual(add.stdout, "reward LOUNGE on sale\n")
        XCTAssertEqual(try catalogLine("LOUNGE"), "LOUNGE 3000 1K=1500 PREMIER=2500 10 on sale airport lounge pass")
        XCTAssertEqual(try catalogLine("GIFT-50"), "GIFT-50 6000 unlimited on sale 50.00 gift card")
        XCTAssertEqual(try ctl("reward", "set", "LOUNGE", "--tier-price", "1K=none", "--points", "3200", "--reason", "new season").status, 0)
        XCTAssertEqual(try catalogLine("LOUNGE"), "LOUNGE 3200 PREMIER=2500 10 on sale airport lounge pass")
        XCTAssertEqual(try ctl("reward", "set", "LOUNGE", "--stock", "unlimited").status, 0)
        XCTAssertEqual(try ctl("reward", "retire", "LOUNGE").status, 0)
        XCTAssertEqual(try catalogLine("LOUNGE"), "LOUNGE 3200 PREMIER=2500 unlimited retired airport lounge pass")
        XCTAssertEqual(try ctl("reward", "add", "LOUNGE", "--points", "4000").status, 0, "a retired reward goes back on sale")
        XCTAssertEqual(try catalogLine("LOUNGE"), "LOUNGE 4000 PREMIER=2500 unlimited on sale airport lounge pass")
        let audit = try ctl("audit").stdout
        // Each catalog change is a program version: its details say which, and what changed.
        XCTAssertTrue(audit.contains(#"{"points": "3200", "reward": "LOUNGE", "version": "#) && audit.contains(#""points.1K": "none"}"#), audit)
        XCTAssertTrue(audit.contains(#"{"to": "unlimited", "from": "10", "reward": "LOUNGE"}"#), audit)
        let actions = audit.split(separator: "\n").dropFirst().map { $0.split(separator: " ")[3] }.filter { $0 != "demo.load" && $0 != "program.apply" }
        XCTAssertEqual(actions, ["program.change", "reward.stock", "program.change", "reward.stock", "program.change", "program.change"])
        for reason in ["reward add LOUNGE", "new season", "reward retire LOUNGE"] {
            XCTAssertTrue(audit.contains(reason), "\(reason) missing from\n\(audit)")
        }
    }

    func testBadRewardInputIsRefusedAndChangesNothing() throws {
        let before = try ctl("reward", "list").stdout
        let refusals: [([String], Int32, String)] = [
            (["reward", "add", "GIFT-50", "--points", "100"], 1, "CONFLICT reward GIFT-50 exists"),
            (["reward", "add", "NEW", "--points", "100", "--tier-price", "GOLD=50"], 1, "INVALID no tier GOLD"),
            (["reward", "add", "NEW", "--points", "0"], 2, "--points must be a positive whole number of points"),
            (["reward", "add", "NEW"], 2, "--points is required"),
            (["reward", "add", "NEW", "--points", "100", "--tier-price", "PREMIER"], 2, "--tier-price takes TIER=N, got PREMIER"),
            (["reward", "add", "NEW", "--points", "100", "--tier-price", "PREMIER=-5"], 2, "--tier-price PREMIER must be a positive"),
            (["reward", "add", "NEW", "--points", "100", "--stock", "-1"], 2, "--stock must be a whole number"),
            (["reward", "add", "NO SPACES", "--points", "100"], 1, "INVALID reward codes are 1 to 32"),
            (["reward", "add", "NEW", "--points", "1000000000001"], 1, "points must be 1 to 1000000000000"),
            (["reward", "set", "NO-SUCH", "--points", "100"], 1, "NOTFOUND no reward NO-SUCH"),
            (["reward", "set", "NO-SUCH", "--stock", "5"], 1, "NOTFOUND no reward NO-SUCH"),
            (["reward", "set", "GIFT-50"], 1, "INVALID nothing to change"),
            (["reward", "retire", "NO-SUCH"], 1, "NOTFOUND no reward NO-SUCH"),
        ]
        for (words, status, message) in refusals {
            let outcome = try Command.run("loyaltyctl", words + ["--database", database.url])
            XCTAssertEqual(outcome.status, status, "\(words): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.contains(message), "\(words): \(outcome.stderr)")
        }
        XCTAssertEqual(try ctl("reward", "list").stdout, before)
        XCTAssertEqual(try ctl("audit").stdout.contains("program.change"), false)
        XCTAssertEqual(try ctl("reward", "retire", "GIFT-50").status, 0)
        XCTAssertEqual(try ctl("reward", "retire", "GIFT-50").stderr, "loyaltyctl: INVALID reward GIFT-50 is already retired\n")
    }

    func testMemberSetChangesNameEmailAndPIN() throws {
        let set = try ctl("member", "set", "M1", "--name", "Ada Lovelace", "--email", "ada@example.com", "--pin", "24680")
        XCTAssertEqual(set.status, 0, set.stderr)
        let show = try ctl("member", "show", "M1").stdout
        XCTAssertTrue(show.contains("name: Ada Lovelace\nemail: ada@example.com\n"), show)
        let store = database.store()
        defer { store.pool.close() }
        XCTAssertEqual(try store.authenticate(principal: "member:M1", secret: "24680"), .member(number: "M1"))
        XCTAssertEqual(try ctl("member", "set", "M1", "--pin", "-", stdin: "13579\n").status, 0)
        XCTAssertEqual(try store.authenticate(principal: "member:M1", secret: "13579"), .member(number: "M1"))
        XCTAssertEqual(try ctl("member", "set", "M1").status, 2)
        for bad in [["--email", "not-an-email"], ["--pin", "12"], ["--name", String(repeating: "x", count: 201)]] {
            XCTAssertEqual(try Command.run("loyaltyctl", ["member", "set", "M1"] + bad + ["--database", database.url]).status, 1, "\(bad)")
        }
        XCTAssertEqual(try ctl("member", "set", "M404", "--name", "x").status, 1)
        XCTAssertTrue(try ctl("member", "show", "M1").stdout.contains("name: Ada Lovelace\n"), "refusals changed nothing")
        let audit = try ctl("audit", "--member", "M1").stdout
        XCTAssertTrue(audit.contains(#"member.update"#) && audit.contains(#"{"name": "Ada Lovelace", "email": "ada@example.com"}"#), audit)
        XCTAssertEqual(audit.components(separatedBy: "member.set-pin").count - 1, 2, audit)
        XCTAssertFalse(audit.contains("24680") || audit.contains("13579"), "a PIN never reaches the audit trail")
    }

    /// The `reward list` line of `code`, its columns separated by single spaces.
    private func catalogLine(_ code: String) throws -> String? {
        try ctl("reward", "list").stdout.split(separator: "\n").first { $0.hasPrefix(code + " ") }.map {
            $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        }
    }
}
