import Foundation
import LoyaltyCore
@testable import LoyaltyStore
import LoyaltyTesting
import Postgres
import XCTest

/// Writes ledger history straight into a test database, keeping every invariant `verify` checks
/// (balances, accruals' exactly-once records, reversals, qualifying months), with chosen posting times, which the
/// store's own write paths take from the database clock.
struct LedgerWriter {
    let conn: Connection

    func member(_ number: String, tier: String = "MEMBER", until: String? = nil, status: String = "active") throws {
        _ = try conn.query("INSERT INTO members (member_number, tier_code, tier_until, status) VALUES ($1, $2, $3::date, $4)",
                           [number, tier, until, status])
    }

    /// An accrual; `posted` defaults to noon UTC the day after the activity.
    func accrue(_ member: String, _ txn: String, _ partner: String, on activity: String, points: Int64,
                qualifying: Int64 = 0, amountMinor: Int64? = nil, currency: String = "USD", posted: String? = nil) throws {
        let postedAt = try posted ?? "\(XCTUnwrap(LocalDate(activity)).adding(days: 1)) 12:00:00+00"
        _ = try conn.query("""
            WITH entry AS (
                INSERT INTO ledger_entries (member_number, posted_at, kind, points, qualifying, activity_date, source,
                                            reference, partner_code, amount_minor, currency, fingerprint)
                VALUES ($1, $2::timestamptz, 'accrual', $3, $4, $5, $6, $7, $6, $8,
                        CASE WHEN $8::bigint IS NULL THEN NULL ELSE $9 END, 'fixture')
            ), months AS (
                INSERT INTO qualifying_months (member_number, month, qualifying)
                SELECT $1, date_trunc('month', $5::date)::date, $4 WHERE $4::bigint <> 0
                ON CONFLICT (member_number, month) DO UPDATE SET qualifying = qualifying_months.qualifying + EXCLUDED.qualifying
            )
            UPDATE members SET balance = balance + $3, last_activity = greatest(last_activity, $5::date) WHERE member_number = $1
            """, [member, postedAt, String(points), String(qualifying), activity, partner, txn,
                  amountMinor.map(String.init), currency])
    }

    /// Takes back part of an accrual, dated like the accrual, as the store does.
    func reverse(_ partner: String, _ txn: String, points: Int64, qualifying: Int64 = 0, posted: String) throws {
        _ = try conn.query("""
            WITH a AS (
                SELECT member_number, activity_date FROM ledger_entries WHERE kind = 'accrual' AND partner_code = $1 AND reference = $2
            ), entry AS (
                INSERT INTO ledger_entries (member_number, posted_at, kind, points, qualifying, activity_date, source, reference, partner_code)
                SELECT member_number, $5::timestamptz, 'reversal', -$3::bigint, -$4::bigint, activity_date, $1, $2, $1 FROM a
            ), months AS (
                UPDATE qualifying_months q SET qualifying = q.qualifying - $4 FROM a
                WHERE q.member_number = a.member_number AND q.month = date_trunc('month', a.activity_date)::date AND $4::bigint <> 0
            )
            UPDATE members m SET balance = balance - $3 FROM a WHERE m.member_number = a.member_number
            """, [partner, txn, String(points), String(qualifying), posted])
    }

    /// A debit or credit without a partner: `expiry`, `adjustment`.
    func entry(_ member: String, kind: String, points: Int64, on activity: String) throws {
        _ = try conn.query("""
            WITH entry AS (
                INSERT INTO ledger_entries (member_number, posted_at, kind, points, activity_date, source, reference)
                VALUES ($1, $3::date + time '03:00', $2, $4, $3::date, 'system', 'fixture')
            )
            UPDATE members SET balance = balance + $4 WHERE member_number = $1
            """, [member, kind, activity, String(points)])
    }

    /// A hold that expires `expiresInSeconds` from now (negative: already lapsed).
    func hold(_ member: String, _ id: String, points: Int64, status: String = "active", expiresInSeconds: Int = 3_600) throws {
        _ = try conn.query("""
            INSERT INTO holds (member_number, hold_id, points, expires_at, status, principal)
            VALUES ($1, $2, $3, now() + make_interval(secs => $4::int), $5, 'agent:demo')
            """, [member, id, String(points), String(expiresInSeconds), status])
    }

    func price(_ partner: String, perThousandMinor: Int64) throws {
        _ = try conn.query("UPDATE partners SET price_per_thousand_points_minor = $2 WHERE code = $1",
                           [partner, String(perThousandMinor)])
    }
}

/// The report tests' known data set, as of 2026-06-30 (12-month window from 2025-07-01), next to
/// the demo members M1-M3, who never earned. docs/reports.md walks through the same numbers.
///
/// | member | tier (until)                 | history |
/// | A1  | PREMIER (2026-09-15)            | hotel 1,000.00 06-20 (1,000 of 3,000 reversed 06-25), card 500.00 05-15, hotel 200.00 03-01, flight 20,000 02-01; hold 2,000 |
/// | A2  | MEMBER                          | hotel 100.00 2026-05-10 |
/// | A3  | PREMIER_EXECUTIVE (2027-02-28)  | card 400.00 five times 2025-08-01..10-01 |
/// | A4  | MEMBER                          | hotel 300.00 2024-12-01, expired 900 on 2026-06-02 |
/// | A5  | 1K (2026-07-31)                 | flight 5,000 01-10, hotel 600.00 04-15 |
/// | A6  | MEMBER                          | dining 50.00 2025-12-01, 20.00 2026-06-01 |
/// | A7  | MEMBER                          | hotel 100.00 2025-11-01, flight 22,500 01-15, hotel 100.00 05-31 (posted 06-01 00:30), -500 adjusted 06-15 |
/// | A8  | MEMBER, closed                  | hotel 1,000.00 2026-06-10 |
/// | A9  | MEMBER                          | hotel 200.00 2025-01-20 (expires 2026-07-20) |
/// | A10 | PREMIER (2026-12-31)            | card 1,000.00 2025-02-15 (would expire 2026-08-15, exempt) |
/// | A11 | PREMIER (2026-07-31)            | dining 100.00 2025-03-10 (expires 2026-09-10, tier gone by then) |
/// | A12 | MEMBER                          | flight 22,499 2026-03-03 |
/// | A13 | PREMIER (2027-02-28)            | flight 45,000 2026-02-02 |
enum ReportFixture {
    static let asOf = LocalDate(year: 2026, month: 6, day: 30)!
    /// Noon UTC on the as-of date, so that `today()` is the as-of date.
    static let clock: @Sendable () -> Int64 = { Int64(asOf.daysSinceEpoch) * 86_400 + 43_200 }

    static func load(_ conn: Connection) throws {
        let w = LedgerWriter(conn: conn)
        for (partner, price) in [("SKYAIR", 1_500), ("HOTELCO", 1_250), ("CARDCO", 800), ("DINECO", 999)] as [(String, Int64)] {
            try w.price(partner, perThousandMinor: price)
        }
        try w.member("A1", tier: "PREMIER", until: "2026-09-15")
        try w.accrue("A1", "a1-1", "HOTELCO", on: "2026-06-20", points: 3_000, amountMinor: 100_000, posted: "2026-06-21 10:00:00+00")
        try w.accrue("A1", "a1-2", "CARDCO", on: "2026-05-15", points: 500, qualifying: 25, amountMinor: 50_000)
        try w.accrue("A1", "a1-3", "HOTELCO", on: "2026-03-01", points: 600, amountMinor: 20_000)
        try w.accrue("A1", "a1-4", "SKYAIR", on: "2026-02-01", points: 20_000, qualifying: 20_000)
        try w.reverse("HOTELCO", "a1-1", points: 1_000, posted: "2026-06-25 09:00:00+00")
        try w.hold("A1", "h-active", points: 2_000)
        try w.hold("A1", "h-released", points: 100, status: "released")
        try w.member("A2")
        try w.accrue("A2", "a2-1", "HOTELCO", on: "2026-05-10", points: 300, amountMinor: 10_000)
        try w.member("A3", tier: "PREMIER_EXECUTIVE", until: "2027-02-28")
        for (index, day) in ["2025-08-01", "2025-08-15", "2025-09-01", "2025-09-15", "2025-10-01"].enumerated() {
            try w.accrue("A3", "a3-\(index + 1)", "CARDCO", on: day, points: 400, qualifying: 20, amountMinor: 40_000)
        }
        try w.hold("A3", "h-lapsed", points: 50, expiresInSeconds: -3_600)
        try w.member("A4")
        try w.accrue("A4", "a4-1", "HOTELCO", on: "2024-12-01", points: 900, amountMinor: 30_000)
        try w.entry("A4", kind: "expiry", points: -900, on: "2026-06-02")
        try w.member("A5", tier: "1K", until: "2026-07-31")
        try w.accrue("A5", "a5-1", "SKYAIR", on: "2026-01-10", points: 5_000, qualifying: 5_000)
        try w.accrue("A5", "a5-2", "HOTELCO", on: "2026-04-15", points: 1_800, amountMinor: 60_000)
        try w.member("A6")
        try w.accrue("A6", "a6-1", "DINECO", on: "2025-12-01", points: 150, amountMinor: 5_000)
        try w.accrue("A6", "a6-2", "DINECO", on: "2026-06-01", points: 60, amountMinor: 2_000)
        try w.member("A7")
        try w.accrue("A7", "a7-1", "HOTELCO", on: "2025-11-01", points: 300, amountMinor: 10_000)
        try w.accrue("A7", "a7-2", "SKYAIR", on: "2026-01-15", points: 22_500, qualifying: 22_500)
        try w.accrue("A7", "a7-3", "HOTELCO", on: "2026-05-31", points: 300, amountMinor: 10_000, posted: "2026-06-01 00:30:00+00")
        try w.entry("A7", kind: "adjustment", points: -500, on: "2026-06-15")
        try w.member("A8", status: "closed")
        try w.accrue("A8", "a8-1", "HOTELCO", on: "2026-06-10", points: 3_000, amountMinor: 100_000)
        try w.member("A9")
        try w.accrue("A9", "a9-1", "HOTELCO", on: "2025-01-20", points: 600, amountMinor: 20_000)
        try w.member("A10", tier: "PREMIER", until: "2026-12-31")
        try w.accrue("A10", "a10-1", "CARDCO", on: "2025-02-15", points: 1_000, qualifying: 50, amountMinor: 100_000)
        try w.member("A11", tier: "PREMIER", until: "2026-07-31")
        try w.accrue("A11", "a11-1", "DINECO", on: "2025-03-10", points: 300, amountMinor: 10_000)
        try w.member("A12")
        try w.accrue("A12", "a12-1", "SKYAIR", on: "2026-03-03", points: 22_499, qualifying: 22_499)
        try w.member("A13", tier: "PREMIER", until: "2027-02-28")
        try w.accrue("A13", "a13-1", "SKYAIR", on: "2026-02-02", points: 45_000, qualifying: 45_000)
    }
}

/// A fresh demo database with the fixture loaded and the clock on the as-of date.
class ReportTestCase: XCTestCase {
    var database: TestDatabase!
    var store: LoyaltyStore!

    override func setUpWithError() throws {
        do { database = try TestDatabase() } catch let error as TestEnvironmentMissing { throw XCTSkip(error.description) }
        store = database.store(clock: ReportFixture.clock)
        let conn = try database.connect()
        defer { conn.close() }
        try ReportFixture.load(conn)
        let broken = try store.verify().filter { $0.violations > 0 }
        XCTAssertEqual(broken.map(\.name), [], "the fixture must keep the ledger's invariants")
    }

    func date(_ text: String) throws -> LocalDate { try XCTUnwrap(LocalDate(text)) }

    /// The built loyaltyctl: $LOYALTY_BIN_DIR (set by `make test`), else next to the test bundle.
    func loyaltyctl() throws -> URL {
        let directory = ProcessInfo.processInfo.environment["LOYALTY_BIN_DIR"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let binary = directory.appendingPathComponent("loyaltyctl")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("no loyaltyctl at \(binary.path); run `swift build` first")
        }
        return binary
    }

    /// Runs `loyaltyctl report ...` as of the fixture's date on the test database.
    func report(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        try run(["report"] + arguments + ["--as-of", "2026-06-30"])
    }

    /// Runs `loyaltyctl WORDS...` on the test database and returns exit code, standard output and errors.
    func run(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = try loyaltyctl()
        process.arguments = arguments + ["--database", database.url]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }
}
