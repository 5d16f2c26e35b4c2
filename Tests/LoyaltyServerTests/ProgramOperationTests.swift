import Foundation
import LoyaltyTesting
import XCTest

/// The operator's side, as a programme owner works it: `loyaltyctl` changes the program, a
/// partner or a promotion, and the running server follows without a restart.
final class ProgramOperationTests: EndToEndTestCase {
    private func ctl(_ words: String..., stdin: String? = nil) throws -> Command.Outcome {
        try Command.run("loyaltyctl", words + ["--database", database.url], stdin: stdin)
    }

    /// The exported document, changed by `edit`, as JSON text.
    private func editedProgram(_ edit: (inout [String: Any]) throws -> Void) throws -> String {
        let export = try ctl("program", "export")
        XCTAssertEqual(export.status, 0, export.stderr)
        var document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(export.stdout.utf8)) as? [String: Any])
        try edit(&document)
        return String(decoding: try JSONSerialization.data(withJSONObject: document), as: UTF8.self)
    }

    private func apply(_ document: String, _ extra: String...) throws {
        let applied = try Command.run("loyaltyctl", ["program", "apply", "-", "--reason", "test"] + extra + ["--database", database.url],
                                      stdin: document)
        XCTAssertEqual(applied.status, 0, applied.stderr)
    }

    private func setHotelRate(_ numerator: Int) -> (inout [String: Any]) throws -> Void {
        { document in
            var rules = try XCTUnwrap(document["earnRules"] as? [String: Any])
            var hotel = try XCTUnwrap(rules["hotel"] as? [String: Any])
            hotel["pointsNumerator"] = numerator
            rules["hotel"] = hotel
            document["earnRules"] = rules
        }
    }

    private func info(_ client: RawClient) throws -> String {
        try XCTUnwrap(client.call(["INFO", "program"]).text)
    }

    private func stay(_ client: RawClient, _ txn: String, _ member: String = "M1", day: String = EndToEndTestCase.today,
                      _ extra: String...) throws -> RESPValue {
        try client.call(["ACCRUE", txn, member, day, "amount=450.00", "currency=USD"] + extra)
    }

    func testAnAppliedVersionIsServedWithinFiveSecondsAndEarlierDaysKeepTheirRules() throws {
        let hotel = try connect(as: "HOTELCO")
        XCTAssertTrue(try info(hotel).contains("program_version:1\r\n"))
        XCTAssertEqual(try stay(hotel, "before"), triple("before", 1_350, 0))

        // An agent keeps asking for a balance while the version is applied and loaded: nothing fails.
        let document = try editedProgram(setHotelRate(5))
        let port = server.port, url = database.url, agentSecret = try secret("agent:demo")
        let stop = ManagedFlag()
        let outcomes = try concurrently(2) { client -> [String] in
            if client == 0 {
                defer { stop.set() }
                let applied = try Command.run("loyaltyctl", ["program", "apply", "-", "--reason", "test", "--database", url], stdin: document)
                guard applied.status == 0 else { return [applied.stderr] }
                let start = Date()
                let watcher = try RawClient.signedIn(port: port, as: "agent:demo", secret: agentSecret)
                try waitUntil("the server serves version 2", seconds: 5) {
                    try watcher.call(["INFO", "program"]).text?.contains("program_version:2\r\n") == true
                }
                return Date().timeIntervalSince(start) < 5 ? [] : ["took \(Date().timeIntervalSince(start)) s"]
            }
            let reader = try RawClient.signedIn(port: port, as: "agent:demo", secret: agentSecret)
            var failures: [String] = []
            while !stop.isSet {
                let reply = try reader.call(["BALANCE", "M1"])
                if reply.integer == nil { failures.append("\(reply)") }
            }
            return failures
        }
        XCTAssertEqual(outcomes, [[], []])

        XCTAssertEqual(try stay(hotel, "after"), triple("after", 2_250, 0), "5 per 1.00 from today")
        // A claim for yesterday's stay earns at yesterday's rules.
        XCTAssertEqual(try stay(hotel, "yesterday", day: Self.day(-1)), triple("yesterday", 1_350, 0))
        let history = try ctl("program", "history")
        XCTAssertEqual(history.stdout.split(separator: "\n").count, 3, history.stdout)
        XCTAssertTrue(history.stdout.contains("admin:") && history.stdout.contains("test"))
    }

    func testABackDatedVersionGovernsClaimsOfItsDaysOnly() throws {
        try apply(try editedProgram(setHotelRate(4)), "--effective", Self.day(-10))
        let hotel = try connect(as: "HOTELCO")
        try waitUntil("the server serves version 2", seconds: 5) { try info(hotel).contains("program_version:2\r\n") }
        XCTAssertEqual(try stay(hotel, "d-5", day: Self.day(-5)), triple("d-5", 1_800, 0))
        XCTAssertEqual(try stay(hotel, "d-11", day: Self.day(-11)), triple("d-11", 1_350, 0), "before it, version 1's rules")
        // A version cannot take effect before the latest one.
        let refused = try Command.run("loyaltyctl", ["program", "apply", "-", "--reason", "late", "--effective", Self.day(-20),
                                                     "--database", database.url], stdin: try editedProgram(setHotelRate(9)))
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("versions take effect in order"), refused.stderr)
        XCTAssertEqual(try sql("SELECT count(*) FROM program_versions"), "2")
    }

    func testABrokenDocumentIsRefusedByCheckAndApplyAndChangesNothing() throws {
        let broken = try editedProgram { document in
            document["colour"] = "blue"
            var tiers = try XCTUnwrap(document["tiers"] as? [[String: Any]])
            tiers[2]["qualifyingThreshold"] = 20_000
            document["tiers"] = tiers
            document["promotions"] = [["id": "X", "name": "x", "bonusPoints": 5, "partners": ["NOPE"], "from": "2026-01-01", "to": "2026-12-31"]]
        }
        let expected = """
            $.colour: unknown field
            $.tiers[2].qualifyingThreshold: tier PREMIER_EXECUTIVE: thresholds must strictly ascend with rank (overlaps PREMIER)
            $.promotions[0].partners[0]: promotion X: unknown partner NOPE
            """
        for verb in [["program", "check", "-"], ["program", "apply", "-", "--reason", "r"]] {
            let outcome = try Command.run("loyaltyctl", verb + ["--database", database.url], stdin: broken)
            XCTAssertEqual(outcome.status, 2, verb.joined(separator: " "))
            XCTAssertTrue(outcome.stderr.contains(expected), outcome.stderr)
        }
        XCTAssertEqual(try sql("SELECT count(*) FROM program_versions"), "1")
        let unchanged = try Command.run("loyaltyctl", ["program", "apply", "-", "--reason", "same", "--database", database.url],
                                        stdin: try ctl("program", "export").stdout)
        XCTAssertEqual(unchanged.stdout, "program apply: no change against version 1; nothing applied\n", unchanged.stderr)
        XCTAssertEqual(try sql("SELECT count(*) FROM program_versions"), "1")
        let diff = try ctl("program", "diff", "-", stdin: try editedProgram(setHotelRate(5)))
        XCTAssertEqual(diff.stdout, "changed earnRules.hotel.pointsNumerator: 3 -> 5\n")
        let shown = try ctl("program", "show")
        XCTAssertTrue(shown.stdout.hasPrefix("Demo Coalition Miles: version 1, effective "), shown.stdout)
        XCTAssertTrue(shown.stdout.contains("category hotel       amount (USD)  3/100"), shown.stdout)
        XCTAssertEqual(try ctl("program", "show", "--format", "json").stdout, try ctl("program", "export", "--version", "1").stdout)
        XCTAssertEqual(try ctl("program", "show", "--version", "7").stderr, "loyaltyctl: NOTFOUND no program version 7\n")
    }

    func testASuspendedPartnerCannotEarnButCanReverse() throws {
        let hotel = try connect(as: "HOTELCO")
        XCTAssertEqual(try stay(hotel, "t1"), triple("t1", 1_350, 0))
        XCTAssertEqual(try ctl("partner", "suspend", "HOTELCO", "--reason", "unpaid invoices").status, 0)
        XCTAssertEqual(try stay(hotel, "t2"), .error("NOPERM partner suspended"))
        XCTAssertEqual(try hotel.call(["BATCH", "BEGIN", "b1"]), .error("NOPERM partner suspended"))
        XCTAssertEqual(try stay(hotel, "t1"), .array([.bulk("t1"), .integer(1_350), .integer(0)]), "a replay is still answered")
        XCTAssertEqual(try hotel.call(["REVERSE", "t1"]), triple("t1", 1_350, 0))
        let shown = try ctl("partner", "show", "HOTELCO")
        XCTAssertTrue(shown.stdout.contains("unpaid invoices"), shown.stdout)
        XCTAssertEqual(try ctl("partner", "resume", "HOTELCO", "--reason", "paid").status, 0)
        XCTAssertEqual(try stay(hotel, "t2"), triple("t2", 1_350, 0))
        XCTAssertEqual(try sql("SELECT string_agg(action, ',' ORDER BY audit_id) FROM audit_log WHERE action LIKE 'partner.%'"),
                       "partner.suspend,partner.resume")
    }

    func testAPartnerInANewCategoryWithItsOwnRuleAndPrice() throws {
        try apply(try editedProgram { document in
            var rules = try XCTUnwrap(document["earnRules"] as? [String: Any])
            rules["telecom"] = ["measure": "amount", "pointsNumerator": 2, "pointsDenominator": 100]
            document["earnRules"] = rules
        })
        XCTAssertEqual(try ctl("partner", "add", "TELCO", "--category", "telecom").status, 0)
        XCTAssertEqual(try ctl("partner", "add", "SHIPCO", "--category", "cruise").status, 1, "no rule for cruise yet")
        let key = try ctl("partner", "key", "rotate", "TELCO").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // Its own rule, in a version applied once it exists, replaces the category's for it alone.
        try apply(try editedProgram { document in document["partnerRules"] = ["TELCO": ["measure": "amount", "pointsNumerator": 7, "pointsDenominator": 100]] })
        let telco = try RawClient(port: server.port)
        XCTAssertEqual(try telco.call(["AUTH", "TELCO", key]), .simple("OK"))
        try waitUntil("the server serves version 3", seconds: 5) { try info(telco).contains("program_version:3\r\n") }
        XCTAssertEqual(try telco.call(["ACCRUE", "bill-1", "M1", Self.today, "amount=100.00", "currency=USD"]), triple("bill-1", 700, 0))
        XCTAssertEqual(try ctl("partner", "set", "TELCO", "--price-per-1000", "4.25", "--currency", "EUR").status, 0)
        let shown = try ctl("partner", "show", "TELCO").stdout
        XCTAssertTrue(shown.contains("4.25 EUR") && shown.contains("(the partner's own)"), shown)
        let settlement = try ctl("report", "settlement", "--format", "csv").stdout
        XCTAssertTrue(settlement.contains(",700,0,EUR,4.25,2.97\n"), settlement)
    }

    /// Double points at HOTELCO with the code SNOW, capped at 2,000 a member.
    private func winterPromotion(budget: Int? = nil, bonusPoints: Int? = nil) throws -> String {
        try editedProgram { document in
            var promotion: [String: Any] = ["id": "WINTER", "name": "Winter at the hotel", "partners": ["HOTELCO"],
                                            "from": Self.day(-30), "to": Self.day(30), "code": "SNOW", "perMemberCap": 2_000]
            if let bonusPoints { promotion["bonusPoints"] = bonusPoints } else { promotion["bonusPercent"] = 100 }
            if let budget { promotion["budget"] = budget }
            document["promotions"] = [promotion]
        }
    }

    func testAPromotionGrantsItsOwnEntriesWhichReversalsTakeBackInProportion() throws {
        try apply(try winterPromotion())
        let hotel = try connect(as: "HOTELCO")
        try waitUntil("the server serves version 2", seconds: 5) { try info(hotel).contains("program_promotions:1\r\n") }
        XCTAssertEqual(try stay(hotel, "plain"), triple("plain", 1_350, 0), "no code, no bonus")
        XCTAssertEqual(try stay(hotel, "snow1", "M1", "code=SNOW"), triple("snow1", 2_700, 0))
        XCTAssertEqual(try stay(hotel, "snow1", "M1", "code=SNOW"), triple("snow1", 2_700, 0), "a replay says the same")
        XCTAssertEqual(try stay(hotel, "snow2", "M1", "code=SNOW"), triple("snow2", 2_000, 0), "650 left under the cap")
        XCTAssertEqual(try stay(hotel, "snow3", "M1", "code=SNOW"), triple("snow3", 1_350, 0), "cap reached")
        let agent = try connect(as: "agent:demo")
        guard case .array(let rows) = try agent.call(["STATEMENT", "M1", "LIMIT", "3"]) else { return XCTFail("no statement") }
        XCTAssertEqual(rows.map { $0.fields?[2].text }, ["accrual", "promotion", "accrual"])
        XCTAssertEqual(rows[1].fields?[3], .integer(650))
        XCTAssertEqual(rows[1].fields?[6].text, "snow2")

        // Half of snow1's 2,700 back: 675 of the accrual's own, 675 of the bonus; the cap gets them back.
        XCTAssertEqual(try hotel.call(["REVERSE", "snow1", "points=1350", "id=r1"]), triple("snow1", 1_350, 0))
        XCTAssertEqual(try hotel.call(["REVERSE", "snow1", "points=1350", "id=r1"]), triple("snow1", 1_350, 0), "resent: the first reply")
        XCTAssertEqual(try hotel.call(["REVERSE", "snow1", "points=1000", "id=r1"]).errorCode, "CONFLICT")
        XCTAssertEqual(try stay(hotel, "snow4", "M1", "code=SNOW"), triple("snow4", 2_025, 0))
        XCTAssertEqual(try hotel.call(["REVERSE", "snow1"]), triple("snow1", 1_350, 0), "what remains")
        let report = try ctl("promotion", "report", "WINTER").stdout
        XCTAssertTrue(report.contains("points granted     2675\n") && report.contains("points reversed    1350\n")
                      && report.contains("members reached    1\n"), report)
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]).integer, 1_350 + 2_700 + 2_000 + 1_350 - 2_700 + 2_025)
        let verify = try ctl("verify")
        XCTAssertEqual(verify.status, 0, verify.stdout)
    }

    func testABudgetIsNeverExceededByConcurrentAccrualsAndBatches() throws {
        // 100 points a stay, 1,000 in all: ten stays get a bonus, however they race.
        try apply(try winterPromotion(budget: 1_000, bonusPoints: 100))
        let probe = try connect(as: "HOTELCO")
        try waitUntil("the server serves version 2", seconds: 5) { try info(probe).contains("program_promotions:1\r\n") }
        let members = ["M1", "M2", "M3"], port = server.port, hotelKey = try secret("HOTELCO"), today = Self.today
        let failures = try concurrently(8) { client -> [String] in
            let hotel = try RawClient.signedIn(port: port, as: "HOTELCO", secret: hotelKey)
            let lines = (0..<10).map { n in
                ["ACCRUE", "c\(client)-\(n)", members[n % 3], today, "amount=450.00", "currency=USD", "code=SNOW"]
            }
            guard client % 2 == 1 else {
                return try lines.map { try hotel.call($0) }.filter { $0.errorCode != nil }.map(\.description)
            }
            _ = try hotel.call(["BATCH", "BEGIN", "batch-\(client)"])
            for line in lines { _ = try hotel.call(line) }
            let summary = try hotel.call(["BATCH", "COMMIT"])
            return summary.fields?[1] == .integer(10) ? [] : [summary.description]
        }
        XCTAssertEqual(failures.flatMap { $0 }, [])
        XCTAssertEqual(try sql("SELECT count(*) FROM ledger_entries WHERE kind = 'accrual'"), "80")
        XCTAssertEqual(try sql("SELECT sum(points) FROM ledger_entries WHERE kind = 'promotion'"), "1000")
        XCTAssertEqual(try sql("SELECT granted FROM promotion_totals WHERE promotion_id = 'WINTER'"), "1000")
        XCTAssertTrue(try ctl("promotion", "report", "WINTER").stdout.contains("budget left        0\n"))
        XCTAssertEqual(try ctl("verify").status, 0)
    }
}

/// A flag one thread sets and another polls.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
