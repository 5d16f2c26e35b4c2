import Foundation
import LoyaltyTesting
import Postgres
import XCTest

/// A set of CARDCO accruals a test means to apply exactly once, each with its own txn-id, and
/// which of them the server acknowledged. CARDCO earns 1 point per 1.00 USD, so every line's
/// points are known in advance, and after any failure the ledger can be compared with
/// exactly-once application of the whole set.
final class IntendedAccruals: @unchecked Sendable {
    struct Accrual: Sendable {
        let txnID: String
        let member: String
        let points: Int64
    }

    static let partner = "CARDCO"
    let all: [Accrual]
    private let lock = NSLock()
    private var acknowledgedIDs: Set<String> = []

    init(prefix: String, count: Int, members: [String]) {
        all = (0..<count).map { index in
            Accrual(txnID: "\(prefix)-\(index)", member: members[index % members.count], points: Int64(index % 97 + 1))
        }
    }

    func words(_ accrual: Accrual) -> [String] {
        ["ACCRUE", accrual.txnID, accrual.member, ReliabilityTestCase.today, "amount=\(accrual.points).00", "currency=USD"]
    }

    /// The reply that acknowledges `accrual`, the first time and on every resend.
    func expectedReply(_ accrual: Accrual) -> RESPValue {
        .array([.bulk(accrual.txnID), .integer(accrual.points), .integer(accrual.points / 20)])
    }

    func acknowledge(_ accrual: Accrual) { _ = lock.withLock { acknowledgedIDs.insert(accrual.txnID) } }
    var acknowledgedCount: Int { lock.withLock { acknowledgedIDs.count } }
    var acknowledged: [Accrual] { lock.withLock { all.filter { acknowledgedIDs.contains($0.txnID) } } }
    var unacknowledged: [Accrual] { lock.withLock { all.filter { !acknowledgedIDs.contains($0.txnID) } } }

    /// Member -> [count, points] if every accrual of `accruals` were applied once.
    static func totals(_ accruals: [Accrual]) -> [String: [Int64]] {
        var totals: [String: [Int64]] = [:]
        for accrual in accruals {
            let sofar = totals[accrual.member] ?? [0, 0]
            totals[accrual.member] = [sofar[0] + 1, sofar[1] + accrual.points]
        }
        return totals
    }
}

/// What a group of sending connections saw.
struct SendOutcome: Sendable {
    var unavailable = 0
    var otherErrors: [String] = []
    var slowestSeconds = 0.0
    /// A connection ended under the client (the server died).
    var connectionsLost = 0
}

extension IntendedAccruals {
    /// Sends `accruals` over `connections` connections at once, each keeping up to `window`
    /// requests in flight, and acknowledges every matching reply. A connection that breaks stops
    /// its share. With `retryUnavailable`, an UNAVAILABLE reply is resent with the same id, as
    /// a well-behaved client does, until it succeeds or `deadline` passes.
    func send(_ accruals: [Accrual], port: UInt16, key: String, connections: Int, window: Int,
              retryUnavailable: Bool = false, deadline: Date = .distantFuture) throws -> SendOutcome {
        let shares = (0..<connections).map { share in stride(from: share, to: accruals.count, by: connections).map { accruals[$0] } }
        let outcomes = try concurrently(connections) { index -> SendOutcome in
            var outcome = SendOutcome()
            guard let client = try? RawClient(port: port), (try? client.call(["AUTH", Self.partner, key])) == .simple("OK") else {
                outcome.connectionsLost += 1
                return outcome
            }
            var queue = shares[index][...]
            while !queue.isEmpty && Date() < deadline {
                let flight = Array(queue.prefix(window))
                let started = Date()
                client.send(flight.flatMap { resp(self.words($0)) })
                var retry: [Accrual] = []
                for accrual in flight {
                    guard let reply = try? client.readReply() else {
                        outcome.connectionsLost += 1
                        return outcome
                    }
                    if reply == self.expectedReply(accrual) {
                        self.acknowledge(accrual)
                    } else if reply.errorCode == "UNAVAILABLE" {
                        outcome.unavailable += 1
                        retry.append(accrual)
                    } else {
                        outcome.otherErrors.append("\(accrual.txnID): \(reply)")
                    }
                }
                outcome.slowestSeconds = max(outcome.slowestSeconds, Date().timeIntervalSince(started))
                queue = queue.dropFirst(flight.count)
                if retryUnavailable && !retry.isEmpty {
                    queue = retry[...] + queue
                    usleep(50_000)
                }
            }
            return outcome
        }
        return outcomes.reduce(into: SendOutcome()) { total, one in
            total.unavailable += one.unavailable
            total.otherErrors += one.otherErrors
            total.slowestSeconds = max(total.slowestSeconds, one.slowestSeconds)
            total.connectionsLost += one.connectionsLost
        }
    }

    /// `send` on a thread of its own, while the test breaks something; call the result to wait for it.
    func sendInBackground(_ accruals: [Accrual], port: UInt16, key: String, connections: Int, window: Int,
                          retryUnavailable: Bool = false) -> () throws -> SendOutcome {
        let result = Gathered<Result<SendOutcome, any Error>>()
        let done = DispatchSemaphore(value: 0)
        Thread {
            result.set(0, Result { try self.send(accruals, port: port, key: key, connections: connections, window: window,
                                                 retryUnavailable: retryUnavailable,
                                                 deadline: Date().addingTimeInterval(90)) })
            done.signal()
        }.start()
        return {
            done.wait()
            return try XCTUnwrap(result.get(0)).get()
        }
    }

    /// Waits until at least `count` accruals have been acknowledged.
    func waitForAcknowledged(_ count: Int, seconds: Double = 60) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while acknowledgedCount < count {
            guard Date() < deadline else { throw Unexpected("only \(acknowledgedCount) of \(count) acknowledged after \(seconds) s") }
            usleep(2_000)
        }
    }

    /// Member -> [count, points] of this set's accruals in the ledger, and how many of this
    /// set's acknowledged txn-ids have no accrual there (must be none).
    func applied(in test: ReliabilityTestCase) throws -> (totals: [String: [Int64]], acknowledgedMissing: Int) {
        let prefix = String(all[0].txnID.prefix { $0 != "-" }) + "-%"
        let connection = try Connection(conninfo: test.databaseURL)
        defer { connection.close() }
        var totals: [String: [Int64]] = [:]
        for row in try connection.query("""
            SELECT e.member_number, count(*), sum(e.points) FROM ledger_entries e
            WHERE e.kind = 'accrual' AND e.partner_code = $1 AND e.reference LIKE $2 GROUP BY 1
            """, [Self.partner, prefix]).rows {
            totals[row[0] ?? ""] = [Int64(row[1] ?? "") ?? -1, Int64(row[2] ?? "") ?? -1]
        }
        let present = Set(try connection.query("""
            SELECT reference FROM ledger_entries WHERE kind = 'accrual' AND partner_code = $1 AND reference LIKE $2
            """, [Self.partner, prefix]).rows.compactMap { $0[0] })
        return (totals, acknowledged.filter { !present.contains($0.txnID) }.count)
    }
}
