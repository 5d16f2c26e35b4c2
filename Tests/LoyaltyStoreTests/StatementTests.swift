import LoyaltyCore
@testable import LoyaltyStore
import XCTest

/// STATEMENT and MEMBER: what a member sees of its account.
final class StatementTests: StoreTestCase {
    func testTheStatementPagesNewestFirst() throws {
        for points in 1...5 { try fund("M1", Int64(points)) }
        let all = try store.statement(number: "M1", limit: nil, before: nil)
        XCTAssertEqual(all.map(\.points), [5, 4, 3, 2, 1])
        XCTAssertEqual(all.map(\.entryID), all.map(\.entryID).sorted(by: >))
        let first = try store.statement(number: "M1", limit: 2, before: nil)
        XCTAssertEqual(first.map(\.points), [5, 4])
        let next = try store.statement(number: "M1", limit: 2, before: first.last?.entryID)
        XCTAssertEqual(next.map(\.points), [3, 2])
        let last = try store.statement(number: "M1", limit: 2, before: next.last?.entryID)
        XCTAssertEqual(last.map(\.points), [1])
        XCTAssertEqual(try store.statement(number: "M1", limit: 2, before: last.last?.entryID), [])
        // Timestamps are RFC 3339 in UTC.
        XCTAssertNotNil(all.first?.postedAt.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/), all.first?.postedAt ?? "")
        // Only the member's own entries.
        XCTAssertEqual(try store.statement(number: "M2", limit: nil, before: nil), [])
    }

    func testStatementTimestampsAreWhatToCharWrites() throws {
        // Edges of the hand-written formatting: epochs, fractions truncated, leap day, zones, years far apart.
        let instants = ["2000-01-01 00:00:00+00", "1999-12-31 23:59:59.999999+00", "1970-01-01 00:00:00+00",
                        "1969-12-31 23:59:59.5+00", "2024-02-29 23:59:59.999999+00", "2026-06-01 01:30:00+02",
                        "1900-03-01 12:00:00+00", "0001-01-01 00:00:00+00", "9999-12-31 23:59:59.999999+00"]
        for (index, instant) in instants.enumerated() {
            _ = try sql("""
                INSERT INTO ledger_entries (member_number, posted_at, kind, points, activity_date, source, reference)
                VALUES ('M1', $1, 'adjustment', 1, '2026-01-01', 'admin:test', $2)
                """, [instant, "t\(index)"])
        }
        let expected = try sql("""
            SELECT to_char(posted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS posted_at
            FROM ledger_entries WHERE member_number = 'M1' ORDER BY entry_id DESC
            """).rows.map { try $0.string("posted_at") }
        XCTAssertEqual(expected.count, instants.count)
        XCTAssertEqual(try store.statement(number: "M1", limit: nil, before: nil).map(\.postedAt), expected)
    }

    func testTheStatementLimitHoldsAtItsEdges() throws {
        try fund("M1", 1)
        XCTAssertLoyaltyError(try store.statement(number: "M1", limit: 0, before: nil), .invalid)
        XCTAssertLoyaltyError(try store.statement(number: "M1", limit: store.limits.statementLimitMax + 1, before: nil), .invalid)
        XCTAssertEqual(try store.statement(number: "M1", limit: store.limits.statementLimitMax, before: nil).count, 1)
        XCTAssertLoyaltyError(try store.statement(number: "NOBODY", limit: nil, before: nil), .notFound)
    }

    func testTheMemberSummaryAddsUp() throws {
        _ = try store.accrue(partner: skyair, txnID: "f", member: "M1", input: input([("miles", "2000"), ("cabin", "J")]))
        _ = try store.hold(principal: agent, requestID: "h", member: "M1", points: 1_000, ttlSeconds: nil)
        let member = try store.member(number: "M1")
        XCTAssertEqual(member.balance, 3_000)
        XCTAssertEqual(member.held, 1_000)
        XCTAssertEqual(member.available, 2_000)
        XCTAssertEqual(member.qualifying, 3_000)
        XCTAssertEqual(member.nextTier?.code, "PREMIER")
        XCTAssertEqual(member.toNextTier, 22_000)
        XCTAssertEqual(member.lastActivity, try store.today())
        XCTAssertEqual(try store.available(number: "M1"), member.available)
    }
}
