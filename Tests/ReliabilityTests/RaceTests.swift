import Foundation
import LoyaltyTesting
import XCTest

/// Many clients at once on the same few members, every kind of write mixed: no overdraft, every
/// acknowledged change in the ledger exactly once, nothing in the ledger that nobody was told of.
final class RaceTests: ReliabilityTestCase {
    static let members = ["M1", "M2", "M3"]
    /// Credited to each member before the race, in ten accruals; M3's are reversed during it.
    static let accrualsPerMember = 10, accrualPoints: Int64 = 1_000
    static let agentClients = 10, operationsPerClient = 200

    func testTwelveClientsRedeemingHoldingCapturingTransferringAndReversingNeverOverdrawOrLoseAnything() throws {
        let card = try connect(as: "CARDCO")
        for member in Self.members {
            for index in 0..<Self.accrualsPerMember {
                let reply = try card.call(["ACCRUE", "\(member)-\(index)", member, Self.today, "amount=\(Self.accrualPoints).00", "currency=USD"])
                XCTAssertEqual(reply.fields?[1], .integer(Self.accrualPoints))
            }
        }
        let journal = RaceJournal()
        let port = server.port, agentSecret = try secret("agent:demo"), cardKey = try secret("CARDCO")
        let memberPIN = try secret("member:M1")
        // Nine agents on all three members, M1 itself, and CARDCO reversing M3's accruals and
        // crediting M1 and M2 more, all released at once.
        _ = try concurrently(Self.agentClients + 2) { client in
            let connection = try RawClient(port: port, timeoutSeconds: 60)
            var random = SplitMix64(seed: UInt64(client) &+ 0x5eed)
            switch client {
            case Self.agentClients:
                XCTAssertEqual(try connection.call(["AUTH", "member:M1", memberPIN]), .simple("OK"))
                try Self.spend(connection, as: "member", members: ["M1"], client: client, &random, journal)
            case Self.agentClients + 1:
                XCTAssertEqual(try connection.call(["AUTH", "CARDCO", cardKey]), .simple("OK"))
                try Self.reverseAndAccrue(connection, &random, journal)
            default:
                XCTAssertEqual(try connection.call(["AUTH", "agent:demo", agentSecret]), .simple("OK"))
                try Self.spend(connection, as: "agent", members: Self.members, client: client, &random, journal)
            }
        }
        try assertNothingLostOrDoubled(journal)
        try assertNoSpendOverdrew(journal)
        try assertLedgerVerifies()
    }

    func testTheSameBatchFromThreeConnectionsAndItsLinesSentSinglyAtOnceApplyOnce() throws {
        let intended = IntendedAccruals(prefix: "tri", count: 3_000, members: Self.members)
        let key = try secret(IntendedAccruals.partner), port = server.port
        let batch = resp(["AUTH", IntendedAccruals.partner, key]) + resp(["BATCH", "BEGIN", "tri"])
            + intended.all.flatMap { resp(intended.words($0)) } + resp(["BATCH", "COMMIT"])
        let lines = intended.all.count
        let replies = try concurrently(4) { client -> [RESPValue] in
            let connection = try RawClient(port: port, timeoutSeconds: 60)
            guard client < 3 else {
                // The fourth sends the same txn-ids one by one while the batches commit.
                XCTAssertEqual(try connection.call(["AUTH", IntendedAccruals.partner, key]), .simple("OK"))
                connection.send(intended.all.reversed().flatMap { resp(intended.words($0)) })
                return try intended.all.reversed().map { accrual in
                    let reply = try connection.readReply()
                    XCTAssertEqual(reply, intended.expectedReply(accrual))
                    return reply
                }
            }
            connection.send(batch)
            for _ in 0..<(2 + lines) { _ = try connection.readReply() }
            return [try connection.readReply()]
        }
        let summaries = replies.prefix(3).map { $0[0] }
        XCTAssertEqual(Set(summaries.map(\.description)).count, 1, "all three commits got the one stored summary: \(summaries)")
        let counts = summaries[0].fields?.compactMap(\.integer) ?? []
        XCTAssertEqual(counts.count, 3)
        XCTAssertEqual(counts.first.map { $0 + counts[1] }, Int64(lines), "every line accepted or found applied already: \(summaries[0])")
        XCTAssertEqual(counts.last, 0)
        XCTAssertEqual(try value("SELECT count(*) FROM batches"), "1")
        XCTAssertEqual(try intended.applied(in: self).totals, IntendedAccruals.totals(intended.all), "applied exactly once")
        try assertLedgerVerifies()
    }

    // MARK: - The clients

    /// A mix of spending on `members`; holds and redemptions are shared with the other clients,
    /// so CAPTURE races RELEASE and CANCEL races CANCEL; now and then a request is resent.
    private static func spend(_ connection: RawClient, as kind: String, members: [String], client: Int,
                              _ random: inout SplitMix64, _ journal: RaceJournal) throws {
        var sent: [[String]] = []
        for operation in 0..<operationsPerClient {
            let id = "\(kind)\(client)-\(operation)"
            let member = members[random.below(members.count)]
            let words: [String]
            switch random.below(100) {
            case 0..<25: words = ["REDEEM", id, member, "POINTS", String(100 + random.below(800))]
            case 25..<45: words = ["HOLD", id, member, String(100 + random.below(800)), "600"]
            case 45..<60: words = journal.someHold(&random, of: members).map { ["CAPTURE", $0] } ?? ["REDEEM", id, member, "GIFT-50"]
            case 60..<70: words = journal.someHold(&random, of: members).map { ["RELEASE", $0] } ?? ["HOLD", id, member, "50"]
            case 70..<85:
                let others = RaceTests.members.filter { $0 != member }
                words = ["TRANSFER", id, member, others[random.below(others.count)], String(100 + random.below(800))]
            case 85..<93: words = journal.someRedemption(&random, of: members).map { ["CANCEL", $0] } ?? ["REDEEM", id, member, "POINTS", "1"]
            default: words = sent.isEmpty ? ["REDEEM", id, member, "POINTS", "1"] : sent[random.below(sent.count)]
            }
            if ["REDEEM", "HOLD", "TRANSFER"].contains(words[0]) { sent.append(words) }
            journal.record(words, try connection.call(words))
        }
    }

    /// Partial reversals of M3's accruals until each is used up, and new accruals for M1 and M2.
    private static func reverseAndAccrue(_ connection: RawClient, _ random: inout SplitMix64, _ journal: RaceJournal) throws {
        for operation in 0..<operationsPerClient {
            let words = operation % 3 == 2
                ? ["ACCRUE", "late-\(operation)", members[random.below(2)], ReliabilityTestCase.today, "amount=250.00", "currency=USD"]
                : ["REVERSE", "M3-\(random.below(accrualsPerMember))", "points=\(200 + random.below(300))"]
            journal.record(words, try connection.call(words))
        }
    }

    // MARK: - Checks

    /// Every acknowledged id is in the ledger and every id in the ledger was acknowledged: the
    /// redemptions, holds, transfers, cancellations, reversals and accruals match the replies.
    private func assertNothingLostOrDoubled(_ journal: RaceJournal) throws {
        let entries = journal.entries
        XCTAssertGreaterThan(entries.count, Self.agentClients * Self.operationsPerClient)
        var redemptions = Set<String>(), holds = Set<String>(), transfers = Set<String>(), cancelled = Set<String>()
        var captured = Set<String>(), released = Set<String>(), reversed: Int64 = 0, accrued: Int64 = 0
        var firstReplies: [String: RESPValue] = [:]
        for (words, reply) in entries {
            guard let fields = reply.fields, let id = fields.first?.text else {
                let allowed: Set<String> = words[0] == "REVERSE" || words[0] == "CAPTURE" || words[0] == "RELEASE"
                    ? ["INSUFFICIENT", "INVALID"] : ["INSUFFICIENT"]
                XCTAssertTrue(reply == .simple("OK") || allowed.contains(reply.errorCode ?? ""), "\(words) -> \(reply)")
                if reply == .simple("OK") { released.insert(words[1]) }
                continue
            }
            if ["REDEEM", "HOLD", "TRANSFER"].contains(words[0]) {
                let key = words.joined(separator: " ")
                if let first = firstReplies[key] { XCTAssertEqual(reply, first, "a resent \(words) got another reply") }
                firstReplies[key] = reply
            }
            switch words[0] {
            case "REDEEM": redemptions.insert(id)
            case "CAPTURE": redemptions.insert(id); captured.insert(words[1])
            case "HOLD": holds.insert(id)
            case "TRANSFER": transfers.insert(id)
            case "CANCEL": cancelled.insert(id)
            case "REVERSE": reversed += fields[1].integer ?? 0
            default: accrued += fields[1].integer ?? 0
            }
        }
        XCTAssertTrue(captured.isDisjoint(with: released), "a hold was both captured and released: \(captured.intersection(released))")
        XCTAssertEqual(Set(try rows("SELECT redemption_id FROM redemptions").compactMap { $0[0] }), redemptions)
        XCTAssertEqual(Set(try rows("SELECT redemption_id FROM redemptions WHERE status = 'cancelled'").compactMap { $0[0] }), cancelled)
        XCTAssertEqual(Set(try rows("SELECT hold_id FROM holds").compactMap { $0[0] }), holds)
        XCTAssertEqual(Set(try rows("SELECT hold_id FROM holds WHERE status = 'captured'").compactMap { $0[0] }), captured)
        XCTAssertEqual(Set(try rows("SELECT transfer_id FROM transfers").compactMap { $0[0] }), transfers)
        XCTAssertEqual(try value("SELECT coalesce(-sum(points), 0) FROM ledger_entries WHERE kind = 'reversal'"), String(reversed))
        XCTAssertEqual(try value("SELECT coalesce(sum(points), 0) FROM ledger_entries WHERE reference LIKE 'late-%'"), String(accrued))
        print("races: \(entries.count) concurrent requests; \(redemptions.count) redemptions, \(holds.count) holds, "
              + "\(captured.count) captured, \(transfers.count) transfers, \(cancelled.count) cancelled, \(reversed) points reversed")
    }

    /// No reply and no point of the ledger shows a spend taking available points below zero:
    /// replaying each member's entries in order, the balance after every redemption and
    /// transfer out is at least the points still held (so available was never negative), and
    /// M1 and M2, which nothing reverses, never dip below zero at all.
    private func assertNoSpendOverdrew(_ journal: RaceJournal) throws {
        for (words, reply) in journal.entries where ["REDEEM", "TRANSFER"].contains(words[0]) {
            if let after = reply.fields?[2].integer { XCTAssertGreaterThanOrEqual(after, 0, "\(words) -> \(reply)") }
        }
        for row in try rows("""
            SELECT member_number, entry_id, kind, sum(points) OVER (PARTITION BY member_number ORDER BY entry_id) AS running
            FROM ledger_entries ORDER BY member_number, entry_id
            """) {
            let member = row[0] ?? "", kind = row[2] ?? "", running = Int64(row[3] ?? "") ?? .min
            if member != "M3" || ["redemption", "transfer_out"].contains(kind) {
                XCTAssertGreaterThanOrEqual(running, 0, "\(member) entry \(row[1] ?? "") (\(kind)) left the balance at \(running)")
            }
        }
        let agent = try connect(as: "agent:demo")
        for member in ["M1", "M2"] { XCTAssertGreaterThanOrEqual(try agent.call(["BALANCE", member]).integer ?? -1, 0) }
    }
}

/// Every request the racing clients sent and what came back, and the holds and redemptions
/// they made, for others to capture, release and cancel.
final class RaceJournal: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [([String], RESPValue)] = []
    private var holds: [(id: String, member: String)] = []
    private var redemptions: [(id: String, member: String)] = []

    func record(_ words: [String], _ reply: RESPValue) {
        lock.withLock {
            recorded.append((words, reply))
            guard let id = reply.fields?.first?.text else { return }
            if words[0] == "HOLD" { holds.append((id, words[2])) }
            if words[0] == "REDEEM" { redemptions.append((id, words[2])) }
        }
    }

    var entries: [([String], RESPValue)] { lock.withLock { recorded } }

    func someHold(_ random: inout SplitMix64, of members: [String]) -> String? {
        lock.withLock { Self.pick(holds.filter { members.contains($0.member) }.map(\.id), &random) }
    }

    func someRedemption(_ random: inout SplitMix64, of members: [String]) -> String? {
        lock.withLock { Self.pick(redemptions.filter { members.contains($0.member) }.map(\.id), &random) }
    }

    private static func pick(_ ids: [String], _ random: inout SplitMix64) -> String? {
        ids.isEmpty ? nil : ids[random.below(ids.count)]
    }
}

