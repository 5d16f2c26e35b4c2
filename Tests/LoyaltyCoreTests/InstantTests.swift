import LoyaltyCore
import XCTest

/// Timestamps on the wire; StatementTests checks them against PostgreSQL's own to_char.
final class InstantTests: XCTestCase {
    func testTheEpochsAndTruncationToTheSecond() {
        XCTAssertEqual(Instant(microsecondsSincePostgresEpoch: 0).rfc3339, "2000-01-01T00:00:00Z")
        XCTAssertEqual(Instant(microsecondsSincePostgresEpoch: -1).rfc3339, "1999-12-31T23:59:59Z")
        XCTAssertEqual(Instant(microsecondsSincePostgresEpoch: -946_684_800_000_000).rfc3339, "1970-01-01T00:00:00Z")
        XCTAssertEqual(Instant(microsecondsSincePostgresEpoch: 999_999).rfc3339, "2000-01-01T00:00:00Z")
    }

    func testInfinityAtEitherEndOfInt64IsWrittenNotATrap() {
        // PostgreSQL sends ±infinity as Int64's ends: far years, as many digits as they take.
        XCTAssertEqual(Instant(microsecondsSincePostgresEpoch: .max).rfc3339, "294277-01-09T04:00:54Z")
        XCTAssertTrue(Instant(microsecondsSincePostgresEpoch: .min).rfc3339.hasPrefix("-2"))
    }
}
