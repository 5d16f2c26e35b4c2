import Foundation
import Glibc
import LoyaltyTesting
import XCTest

/// Many clients at once: no overdraft under any race, every client-chosen id applied once,
/// a thousand open connections served.
final class ConcurrencyTests: EndToEndTestCase {
    override func setUpWithError() throws {
        // A thousand client sockets here and as many in loyaltyd, which inherits this limit.
        raiseOpenFilesLimit(to: 4_096)
        try super.setUpWithError()
    }

    func testEightClientsSpendingTheSameMembersPointsNeverOverdraw() throws {
        let start: Int64 = 10_000, cost: Int64 = 300, attemptsPerClient = 10
        try credit("M1", Int(start))
        let port = server.port, agentSecret = try secret("agent:demo")
        let replies = try concurrently(8) { client in
            let connection = try RawClient(port: port)
            _ = try connection.call(["AUTH", "agent:demo", agentSecret])
            // Each client pipelines all its requests in one write, to race as hard as it can.
            let requests = (0..<attemptsPerClient).map { attempt -> [String] in
                let id = "c\(client)-\(attempt)"
                switch client % 3 {
                case 0: return ["REDEEM", id, "M1", "POINTS", String(cost)]
                case 1: return ["HOLD", id, "M1", String(cost), "600"]
                default: return ["TRANSFER", id, "M1", "M2", String(cost)]
                }
            }
            connection.send(Array(requests.map(encodeRESP).joined().utf8))
            return try requests.map { _ in try connection.readReply() }
        }.flatMap { $0 }
        var successes: Int64 = 0
        for reply in replies {
            switch reply {
            case .array(let fields):
                successes += 1
                if case .integer(let availableAfter) = fields[2] {
                    XCTAssertGreaterThanOrEqual(availableAfter, 0, "\(reply)")
                }
            default:
                XCTAssertEqual(reply.errorCode, "INSUFFICIENT", "\(reply)")
            }
        }
        XCTAssertEqual(successes, start / cost, "every request that fit succeeded, and no more")
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(start - successes * cost))
        XCTAssertEqual(try sql("SELECT balance FROM members WHERE member_number = 'M1'"),
                       try sql("SELECT sum(points) FROM ledger_entries WHERE member_number = 'M1'"), "the balance is the ledger's sum")
    }

    func testTheSameTxnIDFromFourClientsAtOnceIsAppliedOnce() throws {
        let port = server.port, hotelKey = try secret("HOTELCO"), today = Self.today, txnCount = 20
        let replies = try concurrently(4) { client in
            let connection = try RawClient(port: port)
            _ = try connection.call(["AUTH", "HOTELCO", hotelKey])
            // Half the clients in the opposite order, so every pair of them collides somewhere.
            let order = client % 2 == 0 ? Array(0..<txnCount) : Array((0..<txnCount).reversed())
            let requests = order.map { ["ACCRUE", "same-\($0)", "M1", today, "amount=450.00", "currency=USD"] }
            connection.send(Array(requests.map(encodeRESP).joined().utf8))
            return try order.map { index in (index, try connection.readReply()) }
        }.flatMap { $0 }
        for (index, reply) in replies {
            XCTAssertEqual(reply, triple("same-\(index)", 1_350, 0))
        }
        XCTAssertEqual(try connect(as: "agent:demo").call(["BALANCE", "M1"]), .integer(Int64(txnCount) * 1_350))
        XCTAssertEqual(try sql("SELECT count(*) FROM ledger_entries"), String(txnCount))
    }

    func testTheSameRequestIDFromFourClientsAtOnceRedeemsOnce() throws {
        try credit("M1", 100_000)
        let port = server.port, agentSecret = try secret("agent:demo")
        let replies = try concurrently(4) { _ in
            let connection = try RawClient(port: port)
            _ = try connection.call(["AUTH", "agent:demo", agentSecret])
            let requests = (0..<10).map { ["REDEEM", "desk-\($0)", "M1", "GIFT-50"] }
            connection.send(Array(requests.map(encodeRESP).joined().utf8))
            return try requests.map { words in (words[1], try connection.readReply()) }
        }.flatMap { $0 }
        let byRequest = Dictionary(grouping: replies, by: \.0).mapValues { Set($0.map(\.1.description)) }
        XCTAssertEqual(byRequest.count, 10)
        for (request, distinct) in byRequest {
            XCTAssertEqual(distinct.count, 1, "\(request) got different replies: \(distinct)")
        }
        XCTAssertEqual(try connect(as: "agent:demo").call(["BALANCE", "M1"]), .integer(100_000 - 10 * 6_000))
    }

    func testAHoldCapturedAndARedemptionCancelledByFourClientsAtOnceCountOnce() throws {
        try credit("M1", 10_000)
        let agent = try connect(as: "agent:demo")
        guard case .array(let hold) = try agent.call(["HOLD", "h1", "M1", "4000"]), case .bulk(let holdID) = hold[0] else {
            return XCTFail("HOLD")
        }
        let port = server.port, agentSecret = try secret("agent:demo")
        let captures = try concurrently(4) { _ in
            let connection = try RawClient(port: port)
            _ = try connection.call(["AUTH", "agent:demo", agentSecret])
            return try connection.call(["CAPTURE", holdID])
        }
        XCTAssertEqual(Set(captures.map(\.description)).count, 1, "\(captures)")
        guard case .array(let capture) = captures[0], case .bulk(let redemptionID) = capture[0] else { return XCTFail("\(captures)") }
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(6_000))
        let cancels = try concurrently(4) { _ in
            let connection = try RawClient(port: port)
            _ = try connection.call(["AUTH", "agent:demo", agentSecret])
            return try connection.call(["CANCEL", redemptionID])
        }
        XCTAssertEqual(Set(cancels.map(\.description)).count, 1, "\(cancels)")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(10_000), "refunded once")
    }

    func testTheSameBatchCommittedOnTwoConnectionsAtOnceIsAppliedOnce() throws {
        let port = server.port, key = try secret("DINECO"), today = Self.today
        let summaries = try concurrently(2) { _ in
            let connection = try RawClient(port: port)
            var text = encodeRESP(["AUTH", "DINECO", key]) + encodeRESP(["BATCH", "BEGIN", "twice"])
            for index in 0..<200 { text += encodeRESP(["ACCRUE", "b\(index)", "M2", today, "amount=1.00", "currency=USD"]) }
            connection.send(text + encodeRESP(["BATCH", "COMMIT"]))
            for _ in 0..<202 { _ = try connection.readReply() }
            return try connection.readReply()
        }
        XCTAssertEqual(summaries[0], summaries[1], "the second commit returns the stored summary")
        XCTAssertEqual(summaries[0], .array([.bulk("twice"), .integer(200), .integer(0), .integer(0)]))
        XCTAssertEqual(try connect(as: "agent:demo").call(["BALANCE", "M2"]), .integer(600))
    }

    func testABatchRacingDirectAccrualsOfTheSameTxnIDsAppliesEachOnce() throws {
        let port = server.port, key = try secret("HOTELCO"), today = Self.today, count = 300
        let lines = (0..<count).map { ["ACCRUE", "r\($0)", "M\($0 % 3 + 1)", today, "amount=1.00", "currency=USD"] }
        let replies = try concurrently(4) { client in
            let connection = try RawClient(port: port)
            _ = try connection.call(["AUTH", "HOTELCO", key])
            if client == 0 {
                connection.send(encodeRESP(["BATCH", "BEGIN", "racing"]) + lines.map(encodeRESP).joined() + encodeRESP(["BATCH", "COMMIT"]))
                for _ in 0...count { _ = try connection.readReply() }
                return [try connection.readReply()]
            }
            let order = client % 2 == 0 ? lines : lines.reversed()
            connection.send(order.map(encodeRESP).joined())
            return try order.map { _ in try connection.readReply() }
        }
        guard case .array(let summary) = replies[0][0], summary.count == 4, case .integer(let accepted) = summary[1],
              case .integer(let duplicates) = summary[2] else { return XCTFail("BATCH COMMIT \(replies[0])") }
        XCTAssertEqual(accepted + duplicates, Int64(count))
        XCTAssertEqual(summary[3], .integer(0))
        for reply in replies.dropFirst().joined() {
            guard case .array(let fields) = reply, fields.count == 3 else { return XCTFail("ACCRUE \(reply)") }
            XCTAssertEqual(Array(fields[1...]), [.integer(3), .integer(0)])
        }
        XCTAssertEqual(try sql("SELECT count(*) FROM ledger_entries"), String(count))
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try ["M1", "M2", "M3"].map { try agent.call(["BALANCE", $0]) }, [.integer(300), .integer(300), .integer(300)])
    }

    func testConcurrentBalancesAreCombinedAndEachClientGetsItsOwnAnswerInOrder() throws {
        try credit("M1", 100)
        try credit("M2", 200)
        try credit("M3", 300)
        let expected: [String: RESPValue] = ["M1": .integer(100), "M2": .integer(200), "M3": .integer(300)]
        let port = server.port, agentSecret = try secret("agent:demo")
        let replies = try concurrently(8) { client in
            let connection = try RawClient(port: port)
            _ = try connection.call(["AUTH", "agent:demo", agentSecret])
            // One at a time: answered by whichever thread ran the combined query.
            var replies = try (0..<50).map { round in
                let member = ["M1", "M2", "M3"][(client + round) % 3]
                return (member, try connection.call(["BALANCE", member]))
            }
            // Pipelined between other requests: run in place, answered in order.
            let pipelined = [["BALANCE", "M2"], ["PING"], ["BALANCE", "M404"], ["BALANCE", "M3"], ["BALANCE", "M1"]]
            connection.send(Array(pipelined.map(encodeRESP).joined().utf8))
            for words in pipelined { replies.append((words.dropFirst().first ?? "", try connection.readReply())) }
            return replies
        }.flatMap { $0 }
        for (member, reply) in replies {
            switch member {
            case "": XCTAssertEqual(reply, .simple("PONG"))
            case "M404": XCTAssertEqual(reply.errorCode, "NOTFOUND")
            default: XCTAssertEqual(reply, expected[member], member)
            }
        }
        XCTAssertEqual(replies.count, 8 * 55)
    }

    func testAThousandOpenConnectionsAllAnswer() throws {
        let clients = try (0..<1_000).map { _ in try RawClient(port: server.port) }
        for (index, client) in clients.enumerated() { client.sendCommand(["ECHO", "c\(index)"]) }
        for (index, client) in clients.enumerated() {
            XCTAssertEqual(try client.readReply(), .bulk("c\(index)"))
        }
        let agent = try connect(as: "agent:demo")
        guard case .bulk(let info) = try agent.call(["INFO", "clients"]) else { return XCTFail("INFO clients") }
        XCTAssertTrue(info.contains("connected_clients:1001\r\n"), info)
        for client in clients { assertAnswersPing(client) }
    }

    // MARK: - Helpers

    private func raiseOpenFilesLimit(to wanted: rlim_t) {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        guard limit.rlim_cur < wanted else { return }
        limit.rlim_cur = min(wanted, limit.rlim_max)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
