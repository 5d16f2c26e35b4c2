import LoyaltyCore
@testable import LoyaltyStore
import Postgres
import XCTest

/// `verify`: passes after real work, and names the broken invariant after each kind of hand tampering.
final class VerifyTests: StoreTestCase {
    private enum Invariant {
        static let balance = "member balance equals the sum of its ledger entries"
        static let available = "no available balance below zero except through a reversal"
        static let reversed = "reversals never exceed their accrual"
        static let qualifying = "qualifying months equal the ledger's qualifying points"
        static let redemption = "every redemption has its debit, and a refund if cancelled"
        static let hold = "every captured hold has exactly one redemption, and only captured holds do"
        static let transfer = "every transfer moves the same points out and in"
        static let request = "every request-id points at what it created"
        static let batch = "every batch's counts match its rejected lines"
        static let owner = "every hold, redemption and transfer belongs to a member"
        static let promotion = "promotion bonuses point at an accrual and their reversals never exceed them"
        static let entryOwner = "every ledger entry belongs to a member, and its partner exists"
        static let entryShape = "ledger entries are unique and point kinds carry the right sign"
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try mixedWorkload()
    }

    /// Every kind of write the store makes, for every kind of invariant to have rows to check.
    private func mixedWorkload() throws {
        let usd = { (amount: String) in [("amount", amount), ("currency", "USD")] }
        try fund("M1", 10_000)
        _ = try store.accrue(partner: hotel, txnID: "stay", member: "M1", input: input(usd("450.00")))
        _ = try store.accrue(partner: card, txnID: "c1", member: "M1", input: input(usd("1234.56")))
        _ = try store.reverse(partner: card, txnID: "c1", points: 617)
        _ = try store.accrue(partner: skyair, txnID: "f1", member: "M2", input: input([("miles", "2000"), ("cabin", "J")]))
        _ = try store.commitBatch(partner: dine, batchID: "B1", lines: [
            BatchLine(line: 1, txnID: "meal", operation: .accrue(member: "M3", input: try input(usd("100.00")))),
            BatchLine(line: 2, txnID: "lost", operation: .accrue(member: "NOBODY", input: try input(usd("1.00")))),
        ])
        let cancelled = try store.redeem(principal: agent, requestID: "r1", member: "M1", target: .points(500))
        _ = try store.cancel(principal: agent, redemptionID: cancelled.id)
        _ = try store.redeem(principal: agent, requestID: "r2", member: "M1", target: .reward(code: "GIFT-50", quantity: 1))
        let captured = try store.hold(principal: agent, requestID: "h1", member: "M1", points: 2_000, ttlSeconds: nil)
        _ = try store.capture(principal: agent, holdID: captured.holdID, rewardCode: nil)
        let released = try store.hold(principal: agent, requestID: "h2", member: "M1", points: 1_000, ttlSeconds: nil)
        try store.release(principal: agent, holdID: released.holdID)
        _ = try store.hold(principal: agent, requestID: "h3", member: "M1", points: 100, ttlSeconds: nil)
        _ = try store.transfer(principal: agent, requestID: "t1", from: "M2", to: "M3", points: 1_000)
        try store.setTier(number: "M3", tierCode: "PREMIER", until: store.today().adding(days: 30), reason: "test", actor: admin)
    }

    /// Tampering as an operator would do it, several statements at a psql prompt.
    private func tamper(_ statements: String) throws {
        let conn = try database.connect()
        defer { conn.close() }
        try conn.execute(statements)
    }

    /// Changes a ledger entry behind the append-only trigger's back.
    private func rewriteLedger(_ statement: String) throws {
        try tamper("""
            ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only;
            \(statement);
            ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only;
            """)
    }

    func testVerifyChecksEveryInvariantAndPassesAfterAMixedWorkload() throws {
        let checks = try store.verify()
        XCTAssertEqual(checks.map(\.name), LedgerInvariant.allCases.map(\.name))
        XCTAssertEqual(checks.filter { $0.violations > 0 }.map(\.name), [])
        XCTAssertEqual(try available("M1"), 10_000 + 1_350 + 1_234 - 617 - 6_000 - 2_000 - 100)
    }

    func testTheLedgerRefusesUpdatesAndDeletes() throws {
        XCTAssertThrowsError(try sql("UPDATE ledger_entries SET points = points + 1"))
        XCTAssertThrowsError(try sql("DELETE FROM ledger_entries WHERE kind = 'reversal'"))
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testABalanceEditedByHandIsCaught() throws {
        _ = try sql("UPDATE members SET balance = -5 WHERE member_number = 'M3'")
        let checks = try store.verify().filter { $0.violations > 0 }
        XCTAssertEqual(checks.map(\.name), [Invariant.balance, Invariant.available])
        XCTAssertEqual(checks.first?.examples, ["M3"])
    }

    /// A balance that stays positive while its active holds exceed it is found from the holds.
    func testAHoldBeyondTheBalanceIsCaught() throws {
        let held = try store.hold(principal: agent, requestID: "h9", member: "M2", points: 10, ttlSeconds: nil)
        _ = try sql("UPDATE holds SET points = 10000000 WHERE hold_id = $1", [held.holdID])
        let broken = try store.verify().filter { $0.violations > 0 }
        XCTAssertEqual(broken.map(\.name), [Invariant.available])
        XCTAssertEqual(broken.first?.examples, ["M2"])
    }

    func testAnEntryInsertedByHandIsCaught() throws {
        _ = try sql("""
            INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference)
            VALUES ('M2', 'adjustment', 50000, current_date, 'psql', 'oops')
            """)
        XCTAssertEqual(try brokenInvariants(), [Invariant.balance])
    }

    func testAnAccrualEntryWithoutItsExactlyOnceRecordIsRefused() throws {
        XCTAssertThrowsError(try tamper("""
            INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference, partner_code)
            VALUES ('M2', 'accrual', 50000, current_date, 'SKYAIR', 'made-up', 'SKYAIR');
            """))
        XCTAssertThrowsError(try tamper("""
            INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference, partner_code, fingerprint)
            VALUES ('M2', 'accrual', 50000, current_date, 'HOTELCO', 'stay', 'HOTELCO', 'again');
            """), "a txn-id is accrued once")
        XCTAssertEqual(try brokenInvariants(), [])
    }

    func testAReversalBeyondItsAccrualIsCaught() throws {
        try tamper("""
            INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference, partner_code)
            VALUES ('M1', 'reversal', -1000, current_date, 'CARDCO', 'c1', 'CARDCO');
            UPDATE members SET balance = balance - 1000 WHERE member_number = 'M1';
            """)
        XCTAssertEqual(try brokenInvariants(), [Invariant.reversed])
    }

    /// The schema keeps each kind's sign (migration 0014): a hand-made entry of the wrong sign,
    /// or one rewritten to it behind the append-only trigger, is refused, not left for verify.
    func testAnEntryWithTheWrongSignIsRefused() throws {
        let wrong = [("transfer_out", 700), ("redemption", 1), ("expiry", 5), ("reversal", 9), ("hold_capture", 3),
                     ("accrual", -1), ("refund", -2), ("transfer_in", -700)]
        for (kind, points) in wrong {
            XCTAssertThrowsError(try tamper("""
                INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference, partner_code, fingerprint)
                VALUES ('M2', '\(kind)', \(points), current_date, 'psql', 'backwards', 'HOTELCO', 'f');
                """), kind) { error in
                XCTAssertEqual((error as? PostgresError)?.constraint, "ledger_entries_sign_per_kind", "\(kind): \(error)")
            }
        }
        XCTAssertThrowsError(try rewriteLedger("UPDATE ledger_entries SET points = -points WHERE kind = 'transfer_in'"))
        XCTAssertEqual(try brokenInvariants(), [])
    }

    /// The sign and uniqueness of entries are the schema's to keep (the check constraint above, the
    /// primary key): verify checks that both are in place, and fails when one is gone.
    func testTheSignAndUniquenessConstraintsAreCheckedInPlace() throws {
        let shape = try XCTUnwrap(try store.verify().first { $0.name == Invariant.entryShape })
        XCTAssertEqual(shape.enforcedBy, "ledger_entries_pkey, ledger_entries_sign_per_kind")
        XCTAssertEqual(shape.violations, 0)
        try tamper("ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_sign_per_kind")
        XCTAssertEqual(try brokenInvariants(), [Invariant.entryShape])
        try tamper("""
            INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference)
            VALUES ('M2', 'expiry', 5, current_date, 'psql', 'backwards');
            UPDATE members SET balance = balance + 5 WHERE member_number = 'M2';
            ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_sign_per_kind CHECK (kind <> 'expiry' OR points <= 0) NOT VALID
            """)
        let broken = try store.verify().filter { $0.violations > 0 }
        XCTAssertEqual(broken.map(\.name), [Invariant.entryShape])
        XCTAssertEqual(broken.first?.examples, ["constraint ledger_entries_sign_per_kind missing or not validated"])
    }

    func testAnEntryOfNoMemberIsCaught() throws {
        _ = try sql("""
            INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference)
            VALUES ('NOBODY', 'adjustment', 0, current_date, 'psql', 'lost')
            """)
        let broken = try store.verify().filter { $0.violations > 0 }
        XCTAssertEqual(broken.map(\.name), [Invariant.entryOwner])
        XCTAssertEqual(broken.first?.examples, ["NOBODY"])
    }

    /// Partner codes are read from the ledger's indexes, not its rows: an accrual's, a reversal's,
    /// a promotion bonus's and one on an entry of another kind are each found.
    func testAnEntryOfAPartnerThatDoesNotExistIsCaught() throws {
        try tamper("""
            INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference, partner_code, fingerprint)
            VALUES ('M2', 'accrual', 0, current_date, 'GHOST', 'g1', 'GHOST', 'f');
            INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference, partner_code)
            VALUES ('M2', 'adjustment', 0, current_date, 'psql', 'g2', 'PHANTOM'),
                   ('M2', 'reversal', 0, current_date, 'SPECTRE', 'g1', 'SPECTRE');
            INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference, partner_code, promotion_id)
            VALUES ('M2', 'promotion', 1, current_date, 'WRAITH', 'g3', 'WRAITH', 'P1');
            UPDATE members SET balance = balance + 1 WHERE member_number = 'M2';
            """)
        let broken = try store.verify().filter { $0.violations > 0 }
        XCTAssertEqual(broken.map(\.name), [Invariant.entryOwner, Invariant.reversed, Invariant.promotion])
        XCTAssertEqual(broken.first?.examples.sorted(), ["partner GHOST", "partner PHANTOM", "partner SPECTRE", "partner WRAITH"])
    }

    func testVerifyWorkMemoryIsBounded() throws {
        XCTAssertThrowsError(try store.verify(workMemMegabytes: 3))
        XCTAssertThrowsError(try store.verify(workMemMegabytes: 4_097))
        XCTAssertEqual(try store.verify(workMemMegabytes: 4).filter { $0.violations > 0 }.map(\.name), [])
        XCTAssertEqual(try store.verify(workMemMegabytes: 4_096).filter { $0.violations > 0 }.map(\.name), [])
    }

    func testAMergeIntoAMemberThatDoesNotExistIsRefused() throws {
        XCTAssertThrowsError(try tamper("UPDATE members SET status = 'merged', merged_into = 'NOBODY' WHERE member_number = 'M3'")) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "23503", "\(error)")
        }
    }

    func testAnAccrualEntryRewrittenBehindTheTriggerIsCaught() throws {
        try rewriteLedger("UPDATE ledger_entries SET points = points / 10 WHERE kind = 'accrual' AND reference = 'c1'")
        XCTAssertEqual(try brokenInvariants(), [Invariant.balance, Invariant.reversed])
    }

    func testARewrittenEntryWithItsBalanceFixedUpIsStillCaught() throws {
        try rewriteLedger("""
            UPDATE ledger_entries SET points = 5000 WHERE kind = 'transfer_in';
            UPDATE members SET balance = balance + 4000 WHERE member_number = 'M3'
            """)
        XCTAssertEqual(try brokenInvariants(), [Invariant.transfer])
    }

    func testADeletedReversalIsCaught() throws {
        try rewriteLedger("DELETE FROM ledger_entries WHERE kind = 'reversal'")
        XCTAssertEqual(try brokenInvariants(), [Invariant.balance, Invariant.qualifying])
    }

    func testADeletedRefundIsCaught() throws {
        try rewriteLedger("""
            DELETE FROM ledger_entries WHERE kind = 'refund';
            UPDATE members SET balance = balance - 500 WHERE member_number = 'M1'
            """)
        XCTAssertEqual(try brokenInvariants(), [Invariant.redemption])
    }

    func testQualifyingMilesEditedByHandAreCaught() throws {
        _ = try sql("UPDATE qualifying_months SET qualifying = qualifying + 30000 WHERE member_number = 'M2'")
        XCTAssertEqual(try brokenInvariants(), [Invariant.qualifying])
    }

    func testAHoldMarkedCapturedWithoutARedemptionIsCaught() throws {
        _ = try sql("UPDATE holds SET status = 'captured' WHERE status = 'released'")
        XCTAssertEqual(try brokenInvariants(), [Invariant.hold])
    }

    func testARequestPointingNowhereIsCaught() throws {
        _ = try sql("UPDATE requests SET result_id = 'RD0' WHERE request_id = 'r2'")
        XCTAssertEqual(try brokenInvariants(), [Invariant.request])
    }

    func testAHoldOfNoMemberIsCaught() throws {
        _ = try sql("UPDATE holds SET member_number = 'NOBODY' WHERE status = 'released'")
        // Its request record now points nowhere too.
        XCTAssertEqual(try brokenInvariants(), [Invariant.owner, Invariant.request])
    }

    func testALostBatchErrorIsCaught() throws {
        _ = try sql("DELETE FROM batch_errors")
        XCTAssertEqual(try brokenInvariants(), [Invariant.batch])
    }
}
