import Foundation
import LoyaltyCore
@testable import LoyaltyStore
import LoyaltyTesting
import Postgres
import Synchronization
import XCTest

/// A fresh demo database per test, the demo principals, and helpers to earn and fund points.
class StoreTestCase: XCTestCase {
    var database: TestDatabase!
    var store: LoyaltyStore!

    let skyair = Principal.partner(code: "SKYAIR", category: .airline)
    let hotel = Principal.partner(code: "HOTELCO", category: .hotel)
    let drive = Principal.partner(code: "DRIVECO", category: .carRental)
    let card = Principal.partner(code: "CARDCO", category: .card)
    let dine = Principal.partner(code: "DINECO", category: .dining)
    let agent = Principal.agent(name: "demo")
    let admin = Principal.admin(user: "tester")

    override func setUpWithError() throws {
        do { database = try TestDatabase() } catch let error as TestEnvironmentMissing { throw XCTSkip(error.description) }
        store = database.store()
    }

    override func tearDown() {
        store?.pool.close()
        store = nil
        database = nil
    }

    /// A store whose "today" is fixed at noon UTC of `date`, for claim-window edges.
    func store(fixedAt date: String) throws -> LoyaltyStore {
        let day = try XCTUnwrap(LocalDate(date))
        let noon = Int64(day.daysSinceEpoch) * 86_400 + 43_200
        return database.store(clock: { noon })
    }

    func input(_ fields: [(String, String)], on date: LocalDate? = nil) throws -> AccrualInput {
        try AccrualInput.parse(activityDate: date ?? store.today(), fields: fields.map { (name: $0.0, value: $0.1) })
    }

    /// Credits `points` to a member through an admin adjustment, the quickest way to fund spending tests.
    func fund(_ member: String, _ points: Int64) throws {
        _ = try store.adjust(member: member, points: points, reason: "test funding", actor: admin)
    }

    func available(_ member: String) throws -> Int64 { try store.available(number: member) }

    /// The names of the invariants `verify` finds broken; empty when the ledger is sound.
    func brokenInvariants() throws -> [String] {
        try store.verify().filter { $0.violations > 0 }.map(\.name)
    }

    /// Runs SQL on a connection of its own, as an operator at a psql prompt would.
    func sql(_ text: String, _ parameters: [String?] = []) throws -> QueryResult {
        let conn = try database.connect()
        defer { conn.close() }
        return try conn.query(text, parameters)
    }
}

/// Asserts that `expression` throws a `LoyaltyError` with `code`.
func XCTAssertLoyaltyError<T>(_ expression: @autoclosure () throws -> T, _ code: LoyaltyError.Code,
                              file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try expression(), file: file, line: line) { error in
        XCTAssertEqual((error as? LoyaltyError)?.code, code, "\(error)", file: file, line: line)
    }
}

enum Ledger {
    static let balanceInvariant = "member balance equals the sum of its ledger entries"
}

/// Runs `body` on `count` threads at once and returns each thread's result, in thread order.
func concurrently<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    let results = Mutex<[T?]>(Array(repeating: nil, count: count))
    DispatchQueue.concurrentPerform(iterations: count) { index in
        let result = body(index)
        results.withLock { $0[index] = result }
    }
    return results.withLock { $0.compactMap { $0 } }
}
