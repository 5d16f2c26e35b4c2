import Foundation
import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// Runs while requests come in: every member is either expired or kept by its new activity,
/// never both, and the ledger's invariants hold throughout.
final class ExpiryConcurrencyTests: TierTestCase {
    func testExpiryAndTierRunsAlongsideRequestsKeepTheLedgerWhole() throws {
        let numbers = (0..<60).map { "C" + String(100 + $0) }
        today("2026-01-10")
        for number in numbers {
            try store.enroll(number: number, actor: .admin(user: "t"))
            try stay("old-\(number)", number, amount: "100.00")
        }
        today("2027-08-10")
        let limits = { var limits = RunLimits(); limits.chunkMembers = 7; return limits }()
        let clock = self.clock!, agent = self.agent, hotel = self.hotel
        // Two runs of two workers each hold four connections; the requests need their own.
        let store = database.store(clock: { clock.now }, connections: 8)
        defer { store.pool.close() }
        let problems = concurrently(3) { worker -> [String] in
            switch worker {
            case 0:
                return (try? store.expirePoints(asOf: store.today(), limits: limits)) == nil ? ["expire failed"] : []
            case 1:
                return (try? store.evaluateTiers(limits: limits)) == nil ? ["tiers evaluate failed"] : []
            default:
                var problems: [String] = []
                for (index, number) in numbers.enumerated() where index % 2 == 0 {
                    do {
                        if index % 4 == 0 {
                            _ = try store.redeem(principal: agent, requestID: "r-\(number)", member: number, target: .points(100))
                        } else {
                            _ = try store.accrue(partner: hotel, txnID: "new-\(number)", member: number,
                                                 input: AccrualInput.parse(activityDate: store.today(),
                                                                           fields: [("amount", "10.00"), ("currency", "USD")]))
                        }
                    } catch let error as LoyaltyError where error.code == .insufficient {
                        continue   // expired first: nothing left to redeem
                    } catch {
                        problems.append("\(number): \(error)")
                    }
                }
                return problems
            }
        }
        XCTAssertEqual(problems.flatMap { $0 }, [])
        XCTAssertEqual(try brokenInvariants(), [])
        // Each member's entries are posted under its row lock, so entry order is the order things happened.
        let rows = try sql("""
            SELECT m.member_number, m.balance,
                   (SELECT min(entry_id) FROM ledger_entries e WHERE e.member_number = m.member_number AND e.kind = 'expiry') AS expired_at,
                   (SELECT min(entry_id) FROM ledger_entries e WHERE e.member_number = m.member_number
                    AND e.kind IN ('redemption', 'accrual') AND e.activity_date = '2027-08-10') AS active_at
            FROM members m WHERE m.member_number LIKE 'C%' ORDER BY m.member_number
            """).rows
        XCTAssertEqual(rows.count, numbers.count)
        for (index, row) in rows.enumerated() {
            let number = try row.string("member_number"), balance = try row.int64("balance")
            let expiredAt = try row.optionalInt64("expired_at"), activeAt = try row.optionalInt64("active_at")
            switch (index % 2, index % 4) {
            case (1, _):
                XCTAssertTrue(expiredAt != nil && balance == 0, "\(number): untouched, so expired")
            case (_, 0):
                let kept = activeAt != nil && expiredAt == nil && balance == 200
                let expired = activeAt == nil && expiredAt != nil && balance == 0
                XCTAssertTrue(kept || expired, "\(number): redeemed and kept, or expired and then refused")
            default:
                let kept = activeAt != nil && expiredAt == nil && balance == 330
                let expiredFirst = activeAt != nil && (expiredAt ?? .max) < activeAt! && balance == 30
                XCTAssertTrue(kept || expiredFirst, "\(number): kept by the stay, or expired before it")
            }
        }
    }
}
