import Foundation
import LoyaltyCore
@testable import LoyaltyStore
import LoyaltyTesting
import XCTest

/// "Today" for a store under test; tests move it to earn, redeem and run on chosen days.
final class TestClock: @unchecked Sendable {
    // @unchecked: `seconds` is read and written with `lock` held.
    private let lock = NSLock()
    private var seconds: Int64 = 0

    init(_ day: LocalDate) { set(day) }

    /// Noon UTC of `day`.
    func set(_ day: LocalDate) {
        lock.withLock { seconds = Int64(day.daysSinceEpoch) * 86_400 + 43_200 }
    }

    var now: Int64 { lock.withLock { seconds } }
}

/// The store tests' frame with a movable "today", and the steps the tier and expiry tests take.
class TierTestCase: StoreTestCase {
    var clock: TestClock!

    override func setUpWithError() throws {
        try super.setUpWithError()
        clock = TestClock(day("2026-06-15"))
        let clock = clock!
        store.pool.close()
        store = database.store(clock: { clock.now })
    }

    func day(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> LocalDate {
        guard let value = LocalDate(text) else {
            XCTFail("bad date literal \(text)", file: file, line: line)
            return LocalDate(daysSinceEpoch: 0)
        }
        return value
    }

    /// Moves today to `text`.
    func today(_ text: String) { clock.set(day(text)) }

    @discardableResult
    func fly(_ txnID: String, _ member: String, miles: Int64, cabin: String = "Y", on text: String? = nil) throws -> AccrualReceipt {
        let date = try text.map { day($0) } ?? store.today()
        return try store.accrue(partner: skyair, txnID: txnID, member: member,
                                input: AccrualInput(activityDate: date, miles: miles, cabin: cabin))
    }

    @discardableResult
    func stay(_ txnID: String, _ member: String, amount: String, on text: String? = nil) throws -> AccrualReceipt {
        let date = try text.map { day($0) } ?? store.today()
        return try store.accrue(partner: hotel, txnID: txnID, member: member,
                                input: input([("amount", amount), ("currency", "USD")], on: date))
    }

    func tier(_ member: String) throws -> (code: String, until: String?) {
        let summary = try store.member(number: member)
        return (summary.tier.code, summary.tierUntil?.description)
    }

    func history(_ member: String) throws -> [(from: String, to: String, until: String?, reason: String)] {
        try sql("""
            SELECT from_tier, to_tier, valid_until::text, reason FROM tier_history WHERE member_number = $1 ORDER BY change_id
            """, [member]).rows.map { row in
            (try row.string("from_tier"), try row.string("to_tier"), row["valid_until"], try row.string("reason"))
        }
    }

    /// Saves a variant of the demo program, as an operator would load one.
    func useProgram(_ change: (inout Program) -> Void) throws {
        var program = Program.demo
        change(&program)
        try store.write { conn in try ProgramRecords.save(conn, program) }
        try store.reloadProgram()
    }
}
