@testable import Postgres
import XCTest

/// The value types behind the connection and the pool, tested without a server.
final class StatementCacheTests: XCTestCase {
    func testLeastRecentlyUsedAreEvictedFirst() {
        var cache = StatementCache(capacity: 3)
        for sql in ["a", "b", "c"] {
            cache.insert(sql, name: cache.makeName())
        }
        XCTAssertNotNil(cache.lookup("a"))
        XCTAssertEqual(cache.victims(toFit: 1).map(\.sql), ["b"])
        XCTAssertEqual(cache.victims(toFit: 2).map(\.sql), ["b", "c"])
        XCTAssertEqual(cache.victims(toFit: 2, sparing: ["b"]).map(\.sql), ["c", "a"])
        XCTAssertEqual(cache.room(sparing: ["a", "z"]), 2)
    }

    func testNoVictimsWhileThereIsRoom() {
        var cache = StatementCache(capacity: 3)
        cache.insert("a", name: cache.makeName())
        XCTAssertTrue(cache.victims(toFit: 2).isEmpty)
    }

    func testNamesAreNeverReused() {
        var cache = StatementCache(capacity: 2)
        let first = cache.makeName()
        cache.insert("a", name: first)
        cache.removeAll()
        XCTAssertNil(cache.lookup("a"))
        XCTAssertNotEqual(cache.makeName(), first)
    }
}

final class CopyTextEncoderTests: XCTestCase {
    private func encode(_ rows: [[String?]]) throws -> String {
        var encoder = CopyTextEncoder(reservingCapacity: 64)
        for row in rows {
            try encoder.append(row)
        }
        return String(decoding: encoder.bytes, as: UTF8.self)
    }

    func testEscapesStructureAndMarksNull() throws {
        XCTAssertEqual(try encode([["a\tb", nil, "c\nd\re\\f", ""]]), "a\\tb\t\\N\tc\\nd\\re\\\\f\t\n")
        XCTAssertEqual(try encode([["1"], ["2"]]), "1\n2\n")
        XCTAssertEqual(try encode([["\\N", "é"]]), "\\\\N\té\n")
    }

    func testRefusesNul() {
        XCTAssertEqual(expectPostgresError { try self.encode([["a\u{0}"]]) }?.code, .invalidParameter)
    }
}

final class PoolStateTests: XCTestCase {
    func testConnectsLazilyUpToCapacityThenWaits() {
        var state = PoolState<Int>(capacity: 2)
        guard case .connect = state.acquire() else { return XCTFail("first acquire should connect") }
        state.connected()
        guard case .connect = state.acquire() else { return XCTFail("second acquire should connect") }
        state.connected()
        guard case .wait = state.acquire() else { return XCTFail("third acquire should wait") }
        XCTAssertNil(state.release(1, reusable: true))
        guard case .use(1) = state.acquire() else { return XCTFail("released resource should be reused") }
        XCTAssertEqual(state.created, 2)
    }

    func testBrokenResourceIsDiscardedAndItsSlotFreed() {
        var state = PoolState<Int>(capacity: 1)
        _ = state.acquire()
        state.connected()
        XCTAssertEqual(state.release(7, reusable: false), 7)
        XCTAssertEqual(state.discarded, 1)
        XCTAssertEqual(state.inUse, 0)
        guard case .connect = state.acquire() else { return XCTFail("freed slot should connect anew") }
    }

    func testFailedConnectFreesTheSlot() {
        var state = PoolState<Int>(capacity: 1)
        _ = state.acquire()
        state.connectFailed()
        guard case .connect = state.acquire() else { return XCTFail("slot should be free again") }
    }

    func testStaleIdleResourceKeepsItsSlotForTheReplacement() {
        var state = PoolState<Int>(capacity: 1)
        _ = state.acquire()
        state.connected()
        _ = state.release(1, reusable: true)
        guard case .use(1) = state.acquire() else { return XCTFail("idle resource should be offered") }
        state.replaceStale()
        state.connected()
        XCTAssertEqual(state.inUse, 1)
        XCTAssertEqual(state.discarded, 1)
        guard case .wait = state.acquire() else { return XCTFail("the slot is still taken") }
    }

    func testCloseHandsBackIdleAndRefusesLaterAcquires() {
        var state = PoolState<Int>(capacity: 2)
        _ = state.acquire()
        _ = state.acquire()
        _ = state.release(1, reusable: true)
        XCTAssertEqual(state.close(), [1])
        guard case .closed = state.acquire() else { return XCTFail("closed pool should refuse") }
        // A resource coming back after close is handed back for closing.
        XCTAssertEqual(state.release(2, reusable: true), 2)
        XCTAssertEqual(state.inUse, 0)
    }
}

final class PostgresErrorTests: XCTestCase {
    func testUnavailableMeansConnectionLevel() {
        func error(_ code: PostgresError.Code, _ sqlState: String? = nil) -> PostgresError {
            PostgresError(code: code, message: "m", sqlState: sqlState)
        }
        XCTAssertTrue(error(.connectionFailed).isUnavailable)
        XCTAssertTrue(error(.connectionLost).isUnavailable)
        XCTAssertTrue(error(.poolTimeout).isUnavailable)
        XCTAssertTrue(error(.server, "08006").isUnavailable)
        XCTAssertTrue(error(.server, "57P01").isUnavailable)
        XCTAssertTrue(error(.server, "57P03").isUnavailable)
        XCTAssertFalse(error(.server, "57014").isUnavailable)
        XCTAssertFalse(error(.server, "23505").isUnavailable)
        XCTAssertFalse(error(.poolClosed).isUnavailable)
        XCTAssertFalse(error(.unexpectedResult).isUnavailable)
    }

    func testClassifiesRetryableAndUniqueErrors() {
        XCTAssertTrue(PostgresError(code: .server, message: "m", sqlState: "40001").isSerializationFailure)
        XCTAssertTrue(PostgresError(code: .server, message: "m", sqlState: "40P01").isSerializationFailure)
        XCTAssertFalse(PostgresError(code: .server, message: "m", sqlState: "23505").isSerializationFailure)
        XCTAssertTrue(PostgresError(code: .server, message: "m", sqlState: "23505").isUniqueViolation)
    }

    func testDescriptionNamesCodeStateAndMessage() {
        let error = PostgresError(code: .server, message: "boom", sqlState: "22012", detail: "why")
        XCTAssertEqual(error.description, "PostgresError(server 22012): boom (why)")
        XCTAssertEqual(PostgresError.Code.poolTimeout.description, "poolTimeout")
    }

    func testEscapeIdentifierDoublesQuotes() {
        XCTAssertEqual(Connection.escapeIdentifier("plain"), "\"plain\"")
        XCTAssertEqual(Connection.escapeIdentifier("a\"b c"), "\"a\"\"b c\"")
    }
}
