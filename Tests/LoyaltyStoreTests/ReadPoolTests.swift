import LoyaltyCore
import LoyaltyStore
import LoyaltyTesting
import Postgres
import XCTest

/// DATABASE_READ_URL: reads that tolerate staleness go to the read pool, everything a write decides
/// on stays on the primary, and an unreachable replica costs freshness, not answers.
/// A second database stands in for a lagging replica: it is the same demo program without the
/// primary's later writes.
final class ReadPoolTests: XCTestCase {
    private var primary: TestDatabase!
    private let hotel = Principal.partner(code: "HOTELCO", category: .hotel)
    private let agent = Principal.agent(name: "demo")

    override func setUpWithError() throws {
        do { primary = try TestDatabase() } catch let error as TestEnvironmentMissing { throw XCTSkip(error.description) }
    }

    private func store(readURL: String?) -> LoyaltyStore {
        LoyaltyStore(pool: ConnectionPool(conninfo: primary.url, maxConnections: 2),
                     readPool: readURL.map { ConnectionPool(conninfo: $0, maxConnections: 2, acquireTimeoutMilliseconds: 1_000) })
    }

    private func accrue(_ store: LoyaltyStore, _ txnID: String, dollars: String) throws {
        let input = try AccrualInput.parse(activityDate: try store.today(), fields: [("amount", dollars), ("currency", "USD")])
        _ = try store.accrue(partner: hotel, txnID: txnID, member: "M1", input: input)
    }

    func testStaleReadsComeFromTheReadPoolAndSpendingDecidesOnThePrimary() throws {
        let lagging = try TestDatabase()
        let store = store(readURL: lagging.url)
        defer { store.close() }
        try accrue(store, "t1", dollars: "100.00") // 300 points on the primary only

        XCTAssertEqual(try store.available(number: "M1"), 0, "BALANCE reads the replica, which has not seen the accrual")
        XCTAssertEqual(try store.member(number: "M1").balance, 0)
        XCTAssertEqual(try store.statement(number: "M1", limit: nil, before: nil), [])

        let hold = try store.hold(principal: agent, requestID: "r1", member: "M1", points: 300, ttlSeconds: nil)
        XCTAssertEqual(hold.points, 300, "HOLD decided on the primary's 300 points, not the replica's 0")
        XCTAssertThrowsError(try store.hold(principal: agent, requestID: "r2", member: "M1", points: 1, ttlSeconds: nil)) {
            XCTAssertEqual(($0 as? LoyaltyError)?.code, .insufficient, "the primary knows the 300 are held")
        }
        XCTAssertEqual(store.readReplicaStatus(), .notStandby, "a read URL naming a primary is reported as such")
    }

    func testAnUnreachableReplicaFallsBackToThePrimary() throws {
        let store = store(readURL: "postgresql://loyalty@127.0.0.1:1/loyalty?connect_timeout=2")
        defer { store.close() }
        try accrue(store, "t1", dollars: "100.00")
        XCTAssertEqual(try store.available(number: "M1"), 300)
        XCTAssertEqual(try store.member(number: "M1").balance, 300)
        XCTAssertEqual(try store.statement(number: "M1", limit: nil, before: nil).map(\.points), [300])
        XCTAssertEqual(store.readReplicaStatus(), .unreachable)
    }

    func testWithoutAReadURLEverythingReadsThePrimary() throws {
        let store = store(readURL: nil)
        defer { store.close() }
        try accrue(store, "t1", dollars: "100.00")
        XCTAssertEqual(try store.available(number: "M1"), 300)
        XCTAssertTrue(store.readPool === store.pool)
        XCTAssertEqual(store.readReplicaStatus(), .none)
    }
}
