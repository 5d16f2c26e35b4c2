import LoyaltyTesting
import XCTest

/// ACCRUE and REVERSE on the demo program: exact points, exactly once, a partner's own transactions only.
final class PartnerCommandTests: EndToEndTestCase {
    func testEveryCategoryEarnsTheDemoProgramsWorkedExamples() throws {
        let today = Self.today
        XCTAssertEqual(try connect(as: "SKYAIR").call(["ACCRUE", "f1", "M1", today, "miles=2000", "cabin=J"]), triple("f1", 3_000, 3_000))
        XCTAssertEqual(try connect(as: "HOTELCO").call(["ACCRUE", "h1", "M1", today, "amount=450.00", "currency=USD"]),
                       triple("h1", 1_350, 0))
        let drive = try connect(as: "DRIVECO")
        XCTAssertEqual(try drive.call(["ACCRUE", "d1", "M1", today, "days=7"]), triple("d1", 1_250, 0), "capped at 1,250")
        XCTAssertEqual(try drive.call(["ACCRUE", "d2", "M1", today, "days=3"]), triple("d2", 750, 0))
        XCTAssertEqual(try connect(as: "CARDCO").call(["ACCRUE", "c1", "M1", today, "amount=1234.56", "currency=USD"]),
                       triple("c1", 1_234, 61))
        XCTAssertEqual(try connect(as: "DINECO").call(["ACCRUE", "n1", "M1", today, "amount=12", "currency=USD", "code=TABLE7"]),
                       triple("n1", 36, 0))
        XCTAssertEqual(try connect(as: "agent:demo").call(["BALANCE", "M1"]), .integer(3_000 + 1_350 + 1_250 + 750 + 1_234 + 36))
    }

    func testAPremierEarnsTheFlightBonusOnRedeemableMilesOnly() throws {
        let air = try connect(as: "SKYAIR")
        XCTAssertEqual(try air.call(["ACCRUE", "q1", "M2", Self.today, "miles=25000"]), triple("q1", 25_000, 25_000))
        XCTAssertEqual(try air.call(["ACCRUE", "q2", "M2", Self.today, "miles=2000", "cabin=Y"]), triple("q2", 2_500, 2_000))
        XCTAssertEqual(try cli("SKYAIR", "ACCRUE", "q3", "M2", Self.today, "miles=2000", "cabin=F"), "q3\n3750\n3000\n")
    }

    func testTheSameAccrualTwiceIsAppliedOnceAndOtherContentIsAConflict() throws {
        let hotel = try connect(as: "HOTELCO")
        let accrue = ["ACCRUE", "stay-1", "M1", Self.today, "amount=450.00", "currency=USD"]
        XCTAssertEqual(try hotel.call(accrue), triple("stay-1", 1_350, 0))
        XCTAssertEqual(try hotel.call(accrue), triple("stay-1", 1_350, 0))
        XCTAssertEqual(try connect(as: "HOTELCO").call(accrue), triple("stay-1", 1_350, 0), "a new connection replays too")
        XCTAssertEqual(try hotel.call(["ACCRUE", "stay-1", "M1", Self.today, "amount=451.00", "currency=USD"]),
                       .error("CONFLICT txn-id stay-1 was already used with different content"))
        XCTAssertEqual(try hotel.errorCode("ACCRUE", "stay-1", "M2", Self.today, "amount=450.00", "currency=USD"), "CONFLICT")
        XCTAssertEqual(try hotel.errorCode("ACCRUE", "stay-1", "M1", Self.day(-1), "amount=450.00", "currency=USD"), "CONFLICT")
        // txn-ids are per partner: another partner's stay-1 is its own transaction.
        XCTAssertEqual(try connect(as: "DINECO").call(["ACCRUE", "stay-1", "M1", Self.today, "amount=1.00", "currency=USD"]),
                       triple("stay-1", 3, 0))
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(1_353))
        XCTAssertEqual(try agent.call(["BALANCE", "M2"]), .integer(0))
        XCTAssertEqual(try agent.call(["STATEMENT", "M1"]).arrayCount, 2)
    }

    func testMalformedAndOutOfRuleAccrualsAreInvalidAndChangeNothing() throws {
        let hotel = try connect(as: "HOTELCO")
        let cases: [(String, [String])] = [
            ("no such date", ["2026-02-30"]),
            ("not a date", ["yesterday"]),
            ("more than 365 days ago", [Self.day(-366)]),
            ("after tomorrow", [Self.day(2)]),
            ("negative amount", [Self.today, "amount=-450.00", "currency=USD"]),
            ("too many decimals", [Self.today, "amount=1.005", "currency=USD"]),
            ("floating point", [Self.today, "amount=1e3", "currency=USD"]),
            ("unknown field", [Self.today, "amount=1.00", "currency=USD", "points=500"]),
            ("not field=value", [Self.today, "amount=1.00", "currency=USD", "bonus"]),
            ("field twice", [Self.today, "amount=1.00", "amount=2.00", "currency=USD"]),
            ("wrong currency", [Self.today, "amount=450.00", "currency=EUR"]),
            ("amount without currency", [Self.today, "amount=450.00"]),
            ("the rule's field missing", [Self.today, "nights=3"]),
        ]
        for (index, (why, tail)) in cases.enumerated() {
            let words = ["ACCRUE", "bad-\(index)", "M1"] + (tail.count == 1 ? tail + ["amount=1.00", "currency=USD"] : tail)
            XCTAssertEqual(try hotel.call(words).errorCode, "INVALID", why)
        }
        XCTAssertEqual(try hotel.errorCode("ACCRUE", String(repeating: "x", count: 65), "M1", Self.today, "amount=1.00", "currency=USD"),
                       "INVALID", "txn-id over 64")
        XCTAssertEqual(try hotel.errorCode("ACCRUE", "t1", "M1!", Self.today, "amount=1.00", "currency=USD"), "INVALID")
        XCTAssertEqual(try connect(as: "DRIVECO").errorCode("ACCRUE", "d1", "M1", Self.today, "days=-1"), "INVALID")
        XCTAssertEqual(try connect(as: "SKYAIR").errorCode("ACCRUE", "f1", "M1", Self.today, "miles=12.5"), "INVALID")
        XCTAssertEqual(try hotel.call(["ACCRUE", "t1", "M1", Self.today, "amount=450.00", "currency=EUR"]),
                       .error("INVALID hotel amounts must be in USD; no exchange rate for EUR"))
        XCTAssertEqual(try connect(as: "agent:demo").call(["STATEMENT", "M1"]), .array([]), "nothing refused was applied")
        // The window's edges are inside it, and a refused txn-id is still free to use.
        XCTAssertEqual(try hotel.call(["ACCRUE", "bad-0", "M1", Self.day(-365), "amount=1.00", "currency=USD"]), triple("bad-0", 3, 0))
        XCTAssertEqual(try hotel.call(["ACCRUE", "edge-2", "M1", Self.day(1), "amount=1.00", "currency=USD"]), triple("edge-2", 3, 0))
        assertAnswersPing(hotel)
    }

    func testAccrualForAnUnknownMemberIsNotFound() throws {
        let hotel = try connect(as: "HOTELCO")
        XCTAssertEqual(try hotel.call(["ACCRUE", "t1", "M404", Self.today, "amount=1.00", "currency=USD"]),
                       .error("NOTFOUND no member M404"))
        XCTAssertEqual(try hotel.errorCode("REVERSE", "never-sent"), "NOTFOUND")
        // The txn-id was not used up by the failure.
        XCTAssertEqual(try hotel.call(["ACCRUE", "t1", "M1", Self.today, "amount=1.00", "currency=USD"]), triple("t1", 3, 0))
    }

    func testOnlyPartnersAccrueAndReverse() throws {
        for principal in ["agent:demo", "member:M1"] {
            let client = try connect(as: principal)
            XCTAssertEqual(try client.errorCode("ACCRUE", "t1", "M1", Self.today, "amount=1.00", "currency=USD"), "NOPERM", principal)
            XCTAssertEqual(try client.errorCode("REVERSE", "t1"), "NOPERM", principal)
            XCTAssertEqual(try client.errorCode("BATCH", "BEGIN", "b1"), "NOPERM", principal)
        }
    }

    func testReversePartlyThenTheRemainder() throws {
        let card = try connect(as: "CARDCO")
        XCTAssertEqual(try card.call(["ACCRUE", "c1", "M1", Self.today, "amount=1234.56", "currency=USD"]), triple("c1", 1_234, 61))
        XCTAssertEqual(try card.call(["REVERSE", "c1", "points=617"]), triple("c1", 617, 30), "qualifying back in proportion, floored")
        XCTAssertEqual(try card.errorCode("REVERSE", "c1", "points=618"), "INVALID", "more than remains")
        for bad in ["points=0", "points=-5", "points=ten", "miles=5"] {
            XCTAssertEqual(try card.errorCode("REVERSE", "c1", bad), "INVALID", bad)
        }
        XCTAssertEqual(try card.call(["REVERSE", "c1"]), triple("c1", 617, 31), "the remainder, with the rest of qualifying")
        XCTAssertEqual(try card.call(["REVERSE", "c1"]), triple("c1", 0, 0), "nothing remains")
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(0))
        guard case .array(let rows) = try agent.call(["STATEMENT", "M1"]) else { return XCTFail("STATEMENT") }
        XCTAssertEqual(rows.map { row -> RESPValue in
            guard case .array(let fields) = row else { return .null }
            return .array([fields[2], fields[3], fields[4], fields[6]])
        }, [.array([.bulk("reversal"), .integer(-617), .integer(-31), .bulk("c1")]),
            .array([.bulk("reversal"), .integer(-617), .integer(-30), .bulk("c1")]),
            .array([.bulk("accrual"), .integer(1_234), .integer(61), .bulk("c1")])])
    }

    /// A partial reversal with its id is exactly once: resent (a lost reply, a timeout) it returns
    /// the first reply, even after later reversals; another amount under the same id is a conflict.
    func testAPartialReversalWithAnIDIsAppliedOnce() throws {
        let card = try connect(as: "CARDCO")
        XCTAssertEqual(try card.call(["ACCRUE", "c1", "M1", Self.today, "amount=1234.56", "currency=USD"]), triple("c1", 1_234, 61))
        XCTAssertEqual(try card.call(["REVERSE", "c1", "points=100", "id=r1"]), triple("c1", 100, 4))
        XCTAssertEqual(try card.call(["REVERSE", "c1", "id=r1", "points=100"]), triple("c1", 100, 4), "the same reversal again")
        XCTAssertEqual(try card.call(["REVERSE", "c1", "points=200", "id=r2"]), triple("c1", 200, 9))
        XCTAssertEqual(try card.call(["REVERSE", "c1", "points=100", "id=r1"]), triple("c1", 100, 4), "its first reply, after r2")
        XCTAssertEqual(try card.call(["REVERSE", "c1", "id=r1"]), triple("c1", 100, 4), "no points= replays too")
        XCTAssertEqual(try card.errorCode("REVERSE", "c1", "points=101", "id=r1"), "CONFLICT")
        for bad in ["id=", "points=1 points=2", "id=a id=b", "id=a\u{7f}"] {
            XCTAssertEqual(try card.call(["REVERSE", "c1"] + bad.split(separator: " ").map(String.init)).errorCode, "INVALID", bad)
        }
        XCTAssertEqual(try connect(as: "agent:demo").call(["BALANCE", "M1"]), .integer(1_234 - 300))
        XCTAssertEqual(try connect(as: "DINECO").call(["ACCRUE", "c1", "M2", Self.today, "amount=10", "currency=USD"]), triple("c1", 30, 0))
        XCTAssertEqual(try connect(as: "DINECO").call(["REVERSE", "c1", "points=10", "id=r1"]), triple("c1", 10, 0),
                       "reversal ids are per partner and txn-id")
        // Without an id a partial reversal is a new one each time, as documented.
        XCTAssertEqual(try card.call(["REVERSE", "c1", "points=1"]), triple("c1", 1, 0))
        XCTAssertEqual(try card.call(["REVERSE", "c1", "points=1"]), triple("c1", 1, 0))
        XCTAssertEqual(try connect(as: "agent:demo").call(["BALANCE", "M1"]), .integer(1_234 - 302))
    }

    func testAPartnerCannotReverseAnotherPartnersTransaction() throws {
        XCTAssertEqual(try cli("HOTELCO", "ACCRUE", "t1", "M1", Self.today, "amount=450.00", "currency=USD"), "t1\n1350\n0\n")
        let dining = try connect(as: "DINECO")
        XCTAssertEqual(try dining.call(["REVERSE", "t1"]), .error("NOPERM txn-id t1 is another partner's transaction"))
        XCTAssertEqual(try cli("SKYAIR", "REVERSE", "t1", "points=1").prefix(6), "NOPERM")
        XCTAssertEqual(try connect(as: "agent:demo").call(["BALANCE", "M1"]), .integer(1_350))
        assertAnswersPing(dining)
    }

    func testAReversalUnderTheThresholdTakesTheTierBack() throws {
        let air = try connect(as: "SKYAIR")
        XCTAssertEqual(try air.call(["ACCRUE", "big", "M1", Self.today, "miles=25000"]), triple("big", 25_000, 25_000))
        let agent = try connect(as: "agent:demo")
        guard case .array(let premier) = try agent.call(["TIER", "M1"]) else { return XCTFail("TIER") }
        XCTAssertEqual(premier.first, .bulk("Premier"))
        XCTAssertEqual(try air.call(["REVERSE", "big", "points=1"]), triple("big", 1, 1))
        guard case .array(let base) = try agent.call(["TIER", "M1"]) else { return XCTFail("TIER") }
        XCTAssertEqual(Array(base.prefix(3)), [.bulk("Member"), .null, .integer(24_999)])
    }
}
