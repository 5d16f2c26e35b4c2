import Foundation
import LoyaltyTesting
import XCTest

/// BATCH BEGIN/COMMIT/ABORT/STATUS/ERRORS: all valid lines in one durable step at COMMIT, none
/// when the connection ends first, a committed batch-id never applied twice.
final class BatchTests: EndToEndTestCase {
    func testCommitAppliesEveryValidLineAndReportsTheRest() throws {
        let hotel = try connect(as: "HOTELCO")
        XCTAssertEqual(try hotel.call(["ACCRUE", "pre", "M1", Self.today, "amount=10.00", "currency=USD"]), triple("pre", 30, 0))
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try hotel.inline("BATCH BEGIN b1"), .simple("OK"))
        let lines = [
            "ACCRUE a1 M1 \(Self.today) amount=450.00 currency=USD",
            "ACCRUE a2 M2 \(Self.today) amount=100.00 currency=USD",
            "ACCRUE a3 M1 \(Self.today) amount=5.00 currency=EUR",
            "ACCRUE pre M1 \(Self.today) amount=10.00 currency=USD",
            "ACCRUE a4 M404 \(Self.today) amount=1.00 currency=USD",
            "REVERSE a1 points=350",
            "ACCRUE a5 M1 2026-02-30 amount=1.00 currency=USD",
            "REVERSE never-sent",
            "ACCRUE a1 M1 \(Self.today) amount=450.00 currency=USD",
        ]
        for line in lines {
            XCTAssertEqual(try hotel.inline(line), .simple("QUEUED"), line)
        }
        XCTAssertEqual(try hotel.call(["PING"]), .simple("PONG"), "other commands still run at once")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(30), "nothing is applied before COMMIT")
        XCTAssertEqual(try agent.call(["BALANCE", "M2"]), .integer(0))
        let summary: RESPValue = .array([.bulk("b1"), .integer(3), .integer(2), .integer(4)])
        XCTAssertEqual(try hotel.call(["BATCH", "COMMIT"]), summary)
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(30 + 1_350 - 350))
        XCTAssertEqual(try agent.call(["BALANCE", "M2"]), .integer(300))
        XCTAssertEqual(try hotel.call(["BATCH", "STATUS", "b1"]), summary)
        XCTAssertEqual(try cli("HOTELCO", "BATCH", "STATUS", "b1"), "b1\n3\n2\n4\n")
        guard case .array(let errors) = try hotel.call(["BATCH", "ERRORS", "b1"]) else { return XCTFail("BATCH ERRORS") }
        XCTAssertEqual(errors.map { row -> [RESPValue] in
            guard case .array(let fields) = row, fields.count == 4 else { return [] }
            return Array(fields.prefix(3))
        }, [[.integer(3), .bulk("a3"), .bulk("INVALID")], [.integer(5), .bulk("a4"), .bulk("NOTFOUND")],
            [.integer(7), .bulk("a5"), .bulk("INVALID")], [.integer(8), .bulk("never-sent"), .bulk("NOTFOUND")]])
        // After COMMIT the connection is back to applying commands one by one.
        XCTAssertEqual(try hotel.call(["ACCRUE", "after", "M3", Self.today, "amount=1.00", "currency=USD"]), triple("after", 3, 0))
    }

    func testABatchOfOnlyRejectedLinesStillCommitsItsSummary() throws {
        let dine = try connect(as: "DINECO")
        XCTAssertEqual(try dine.call(["BATCH", "BEGIN", "empty"]), .simple("OK"))
        XCTAssertEqual(try dine.call(["BATCH", "COMMIT"]), .array([.bulk("empty"), .integer(0), .integer(0), .integer(0)]))
        XCTAssertEqual(try dine.call(["BATCH", "ERRORS", "empty"]), .array([]))
        XCTAssertEqual(try dine.call(["BATCH", "BEGIN", "bad"]), .simple("OK"))
        XCTAssertEqual(try dine.call(["ACCRUE", "x", "M1", "not-a-date"]), .simple("QUEUED"))
        XCTAssertEqual(try dine.call(["BATCH", "COMMIT"]), .array([.bulk("bad"), .integer(0), .integer(0), .integer(1)]))
        XCTAssertEqual(try dine.call(["BATCH", "ERRORS", "bad"]),
                       .array([.array([.integer(1), .bulk("x"), .bulk("INVALID"), .bulk("dates are YYYY-MM-DD")])]))
    }

    func testLinesWithBytesNoDatabaseTextHoldsAreRejectedOneByOne() throws {
        let hotel = try connect(as: "HOTELCO")
        XCTAssertEqual(try hotel.call(["BATCH", "BEGIN", "nul"]), .simple("OK"))
        XCTAssertEqual(try hotel.inline(#"ACCRUE "a\x00b" M1 \#(Self.today) amount=1.00 currency=USD"#), .simple("QUEUED"))
        XCTAssertEqual(try hotel.inline(#"ACCRUE a2 M1 \#(Self.today) "amount=1\x00" currency=USD"#), .simple("QUEUED"))
        XCTAssertEqual(try hotel.inline(#"ACCRUE a3 M1 \#(Self.today) amount=1.00 "\xff=USD""#), .simple("QUEUED"))
        XCTAssertEqual(try hotel.call(["ACCRUE", "a4", "M1", Self.today, "amount=1.00", "currency=USD"]), .simple("QUEUED"))
        XCTAssertEqual(try hotel.call(["BATCH", "COMMIT"]), .array([.bulk("nul"), .integer(1), .integer(0), .integer(3)]))
        guard case .array(let errors) = try hotel.call(["BATCH", "ERRORS", "nul"]) else { return XCTFail("BATCH ERRORS") }
        XCTAssertEqual(errors.map { row -> [RESPValue] in
            guard case .array(let fields) = row else { return [] }
            return Array(fields.prefix(3))
        }, [[.integer(1), .bulk(#"a\x00b"#), .bulk("INVALID")], [.integer(2), .bulk("a2"), .bulk("INVALID")],
            [.integer(3), .bulk("a3"), .bulk("INVALID")]])
        XCTAssertEqual(try connect(as: "agent:demo").call(["BALANCE", "M1"]), .integer(3))
    }

    func testAbortAppliesNothingAndFreesTheIds() throws {
        let hotel = try connect(as: "HOTELCO")
        XCTAssertEqual(try hotel.call(["BATCH", "BEGIN", "b1"]), .simple("OK"))
        XCTAssertEqual(try hotel.call(["ACCRUE", "a1", "M1", Self.today, "amount=450.00", "currency=USD"]), .simple("QUEUED"))
        XCTAssertEqual(try hotel.call(["BATCH", "ABORT"]), .simple("OK"))
        XCTAssertEqual(try hotel.call(["BATCH", "STATUS", "b1"]), .error("NOTFOUND no batch b1"))
        XCTAssertEqual(try connect(as: "agent:demo").call(["BALANCE", "M1"]), .integer(0))
        XCTAssertEqual(try hotel.call(["ACCRUE", "a1", "M1", Self.today, "amount=1.00", "currency=USD"]), triple("a1", 3, 0))
        XCTAssertEqual(try hotel.call(["BATCH", "BEGIN", "b1"]), .simple("OK"))
        XCTAssertEqual(try hotel.call(["BATCH", "COMMIT"]), .array([.bulk("b1"), .integer(0), .integer(0), .integer(0)]))
    }

    func testBatchMisuseIsERRAndInvalidIdsAreINVALID() throws {
        let hotel = try connect(as: "HOTELCO")
        XCTAssertEqual(try hotel.errorCode("BATCH", "COMMIT"), "ERR")
        XCTAssertEqual(try hotel.errorCode("BATCH", "ABORT"), "ERR")
        XCTAssertEqual(try hotel.errorCode("BATCH", "BEGIN"), "ERR")
        XCTAssertEqual(try hotel.errorCode("BATCH", "STATUS"), "ERR")
        XCTAssertEqual(try hotel.errorCode("BATCH", "FLUSH", "b1"), "ERR")
        XCTAssertEqual(try hotel.errorCode("BATCH"), "ERR")
        XCTAssertEqual(try hotel.errorCode("BATCH", "BEGIN", String(repeating: "b", count: 65)), "INVALID")
        XCTAssertEqual(try hotel.call(["BATCH", "BEGIN", "b1"]), .simple("OK"))
        XCTAssertEqual(try hotel.errorCode("BATCH", "BEGIN", "b2"), "ERR", "one batch at a time")
        XCTAssertEqual(try hotel.errorCode("ACCRUE", "a1"), "ERR", "arity is checked before queueing")
        XCTAssertEqual(try hotel.call(["BATCH", "COMMIT"]), .array([.bulk("b1"), .integer(0), .integer(0), .integer(0)]))
        assertAnswersPing(hotel)
    }

    func testABatchBelongsToThePartnerThatBeganIt() throws {
        let client = try connect(as: "HOTELCO")
        XCTAssertEqual(try client.call(["BATCH", "BEGIN", "b1"]), .simple("OK"))
        XCTAssertEqual(try client.call(["ACCRUE", "h1", "M1", Self.today, "amount=10.00", "currency=USD"]), .simple("QUEUED"))
        XCTAssertEqual(try client.call(["AUTH", "CARDCO", try secret("CARDCO")]),
                       .error("ERR a batch is open; COMMIT or ABORT it before signing in again"))
        XCTAssertEqual(try client.errorCode("HELLO", "2", "AUTH", "CARDCO", try secret("CARDCO")), "ERR")
        XCTAssertEqual(try client.call(["BATCH", "COMMIT"]), .array([.bulk("b1"), .integer(1), .integer(0), .integer(0)]))
        XCTAssertEqual(try client.call(["REVERSE", "h1"]), triple("h1", 30, 0), "HOTELCO's stay, at HOTELCO's rate")
        XCTAssertEqual(try client.call(["AUTH", "CARDCO", try secret("CARDCO")]), .simple("OK"), "no batch open any more")
        XCTAssertEqual(try client.errorCode("BATCH", "STATUS", "b1"), "NOPERM")
    }

    func testBatchStatusAndErrorsAreThePartnersOwn() throws {
        let hotel = try connect(as: "HOTELCO")
        XCTAssertEqual(try hotel.call(["BATCH", "BEGIN", "mine"]), .simple("OK"))
        XCTAssertEqual(try hotel.call(["ACCRUE", "a1", "M1", Self.today, "amount=1.00", "currency=EUR"]), .simple("QUEUED"))
        XCTAssertEqual(try hotel.call(["BATCH", "COMMIT"]), .array([.bulk("mine"), .integer(0), .integer(0), .integer(1)]))
        let dine = try connect(as: "DINECO")
        XCTAssertEqual(try dine.call(["BATCH", "STATUS", "mine"]), .error("NOPERM batch mine is another partner's"))
        XCTAssertEqual(try dine.errorCode("BATCH", "ERRORS", "mine"), "NOPERM")
        XCTAssertEqual(try dine.errorCode("BATCH", "STATUS", "nobodys"), "NOTFOUND")
        XCTAssertEqual(try dine.errorCode("BATCH", "ERRORS", "nobodys"), "NOTFOUND")
        XCTAssertEqual(try connect(as: "agent:demo").errorCode("BATCH", "STATUS", "mine"), "NOPERM")
        // The same batch-id is the other partner's own, separate batch.
        XCTAssertEqual(try dine.call(["BATCH", "BEGIN", "mine"]), .simple("OK"))
        XCTAssertEqual(try dine.call(["BATCH", "COMMIT"]), .array([.bulk("mine"), .integer(0), .integer(0), .integer(0)]))
    }

    func testABatchWhoseConnectionEndsBeforeCommitAppliesNothing() throws {
        var hotel: RawClient? = try connect(as: "HOTELCO")
        XCTAssertEqual(try hotel?.call(["BATCH", "BEGIN", "lost"]), .simple("OK"))
        for index in 1...50 {
            XCTAssertEqual(try hotel?.call(["ACCRUE", "l\(index)", "M1", Self.today, "amount=1.00", "currency=USD"]), .simple("QUEUED"))
        }
        hotel = nil
        // As `nc -N` would: lines and end of input, but no COMMIT.
        let netcat = try connect(as: "HOTELCO")
        netcat.send("BATCH BEGIN half\r\nACCRUE h1 M2 \(Self.today) amount=1.00 currency=USD\r\n")
        netcat.shutdownWrite()
        XCTAssertEqual(try netcat.readReply(), .simple("OK"))
        XCTAssertEqual(try netcat.readReply(), .simple("QUEUED"))
        XCTAssertTrue(netcat.isClosedByServer())
        usleep(200_000)
        let check = try connect(as: "HOTELCO")
        XCTAssertEqual(try check.errorCode("BATCH", "STATUS", "lost"), "NOTFOUND")
        XCTAssertEqual(try check.errorCode("BATCH", "STATUS", "half"), "NOTFOUND")
        XCTAssertEqual(try check.errorCode("REVERSE", "l1"), "NOTFOUND")
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(0))
        XCTAssertEqual(try agent.call(["BALANCE", "M2"]), .integer(0))
        XCTAssertTrue(server.log.contains("batch_discarded=yes"), "the discarded batch is logged")
    }

    func testABatchOverItsLineLimitRefusesTheExtraLineOnly() throws {
        let small = try ServerProcess(database: database, environment: ["LOYALTY_BATCH_LINES_MAX": "3"])
        let hotel = try connect(as: "HOTELCO", port: small.port)
        XCTAssertEqual(try hotel.call(["BATCH", "BEGIN", "b1"]), .simple("OK"))
        for index in 1...3 {
            XCTAssertEqual(try hotel.call(["ACCRUE", "a\(index)", "M1", Self.today, "amount=1.00", "currency=USD"]), .simple("QUEUED"))
        }
        XCTAssertEqual(try hotel.call(["ACCRUE", "a4", "M1", Self.today, "amount=1.00", "currency=USD"]),
                       .error("LIMIT a batch holds at most 3 lines"))
        assertAnswersPing(hotel)
        XCTAssertEqual(try hotel.call(["BATCH", "COMMIT"]), .array([.bulk("b1"), .integer(3), .integer(0), .integer(0)]))
        XCTAssertEqual(try hotel.errorCode("REVERSE", "a4"), "NOTFOUND", "the refused line was not queued")
        XCTAssertEqual(try connect(as: "agent:demo", port: small.port).call(["BALANCE", "M1"]), .integer(9))
    }

    func testQueuedLinesOfAllOpenBatchesShareTheServersByteBudget() throws {
        // A queued line costs 1 byte plus each argument's bytes and 4: 68 for these, so 204 is three lines.
        let line = { (txn: String) in ["ACCRUE", txn, "M1", Self.today, "amount=1.00", "currency=USD"] }
        XCTAssertEqual(1 + line("a1").reduce(0) { $0 + 4 + $1.utf8.count }, 68)
        let small = try ServerProcess(database: database, environment: ["LOYALTY_BATCH_QUEUE_BYTES_MAX": "204"])
        let hotel = try connect(as: "HOTELCO", port: small.port), card = try connect(as: "CARDCO", port: small.port)
        XCTAssertEqual(try hotel.call(["BATCH", "BEGIN", "h1"]), .simple("OK"))
        XCTAssertEqual(try card.call(["BATCH", "BEGIN", "c1"]), .simple("OK"))
        XCTAssertEqual(try hotel.call(line("a1")), .simple("QUEUED"))
        XCTAssertEqual(try card.call(line("b1")), .simple("QUEUED"))
        XCTAssertEqual(try hotel.call(line("a2")), .simple("QUEUED"), "204 bytes is on the edge")
        let refused = "LIMIT batches queued on this server hold 204 bytes at most; commit or abort one and resend"
        XCTAssertEqual(try card.call(line("b2")), .error(refused))
        XCTAssertEqual(try hotel.call(line("a3")), .error(refused))
        XCTAssertTrue(try card.call(["INFO", "stats"]).text?.contains("batch_queued_bytes:204") == true)
        // The hotel's batch ends: its bytes are free for the card's.
        XCTAssertEqual(try hotel.call(["BATCH", "COMMIT"]), .array([.bulk("h1"), .integer(2), .integer(0), .integer(0)]))
        XCTAssertEqual(try card.call(line("b2")), .simple("QUEUED"))
        XCTAssertEqual(try card.call(["BATCH", "COMMIT"]), .array([.bulk("c1"), .integer(2), .integer(0), .integer(0)]))
        // A batch left open by a connection that goes away gives its bytes back too.
        var gone: RawClient? = try connect(as: "DINECO", port: small.port)
        XCTAssertEqual(try gone?.call(["BATCH", "BEGIN", "d1"]), .simple("OK"))
        for txn in ["d1", "d2", "d3"] { XCTAssertEqual(try gone?.call(line(txn)), .simple("QUEUED")) }
        gone = nil
        try waitUntil("the closed connection's batch is discarded") {
            try card.call(["INFO", "stats"]).text?.contains("batch_queued_bytes:0") == true
        }
    }

    func testTenThousandLinesThroughRedisCLIPipeAreAppliedOnce() throws {
        let count = 10_000
        let lines = (0..<count).map { ["ACCRUE", "p\($0)", "M\($0 % 3 + 1)", Self.today, "amount=1.00", "currency=USD"] }
        let upload = resp([["AUTH", "DINECO", try secret("DINECO")], ["BATCH", "BEGIN", "big"]] + lines + [["BATCH", "COMMIT"]])
        let first = try pipe(upload)
        XCTAssertTrue(first.output.contains("errors: 0, replies: \(count + 3)"), first.output)
        XCTAssertEqual(first.status, 0)
        let dine = try connect(as: "DINECO")
        let summary: RESPValue = .array([.bulk("big"), .integer(Int64(count)), .integer(0), .integer(0)])
        XCTAssertEqual(try dine.call(["BATCH", "STATUS", "big"]), summary)
        let agent = try connect(as: "agent:demo")
        let balances: [RESPValue] = [.integer(3_334 * 3), .integer(3_333 * 3), .integer(3_333 * 3)]
        XCTAssertEqual(try ["M1", "M2", "M3"].map { try agent.call(["BALANCE", $0]) }, balances)

        // The same upload again: the stored summary, nothing applied twice.
        let again = try pipe(upload)
        XCTAssertTrue(again.output.contains("errors: 0, replies: \(count + 3)"), again.output)
        XCTAssertEqual(try dine.call(["BATCH", "STATUS", "big"]), summary)
        XCTAssertEqual(try ["M1", "M2", "M3"].map { try agent.call(["BALANCE", $0]) }, balances)
        XCTAssertEqual(try sql("SELECT count(*) FROM ledger_entries"), String(count))

        // Lines already applied, under a new batch-id: duplicates, applied nothing.
        let resent = resp([["AUTH", "DINECO", try secret("DINECO")], ["BATCH", "BEGIN", "resent"]] + lines.prefix(1_000)
                          + [["BATCH", "COMMIT"]])
        XCTAssertTrue(try pipe(resent).output.contains("errors: 0"))
        XCTAssertEqual(try dine.call(["BATCH", "STATUS", "resent"]), .array([.bulk("resent"), .integer(0), .integer(1_000), .integer(0)]))
        XCTAssertEqual(try ["M1", "M2", "M3"].map { try agent.call(["BALANCE", $0]) }, balances)
    }

    /// `redis-cli --pipe`, waiting for COMMIT longer than its default 30 s on a loaded machine.
    private func pipe(_ protocolText: String) throws -> (output: String, status: Int32) {
        try RedisCLI.run(port: server.port, [], stdin: protocolText, extra: ["--pipe", "--pipe-timeout", "300"])
    }

    /// Commands as the RESP protocol text `redis-cli --pipe` reads.
    private func resp(_ commands: [[String]]) -> String {
        commands.map(encodeRESP).joined()
    }
}
