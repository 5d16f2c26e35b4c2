import Dispatch
import LoyaltyCore
import Postgres

/// One invariant and how many rows break it.
public struct InvariantCheck: Sendable, Equatable {
    public var name: String
    public var violations: Int64
    /// A few offending keys, to start the investigation from.
    public var examples: [String]
    /// The schema objects that keep the invariant on every write, when verify only checks that
    /// they are in place rather than reading every row.
    public var enforcedBy: String?
}

/// Invariants of the ledger. They hold after every committed transaction; `loyaltyctl verify`
/// checks them all, in this order.
enum LedgerInvariant: Int, CaseIterable {
    case balance, available, entryOwner, spendingOwner, reversal, promotion, promotionTotals, qualifying
    case redemption, hold, transfer, request, batch, entryShape

    var name: String {
        switch self {
        case .balance: "member balance equals the sum of its ledger entries"
        case .available: "no available balance below zero except through a reversal"
        case .entryOwner: "every ledger entry belongs to a member, and its partner exists"
        case .spendingOwner: "every hold, redemption and transfer belongs to a member"
        case .reversal: "reversals never exceed their accrual"
        case .promotion: "promotion bonuses point at an accrual and their reversals never exceed them"
        case .promotionTotals: "promotion budgets and caps equal the bonuses granted, net of reversals"
        case .qualifying: "qualifying months equal the ledger's qualifying points"
        case .redemption: "every redemption has its debit, and a refund if cancelled"
        case .hold: "every captured hold has exactly one redemption, and only captured holds do"
        case .transfer: "every transfer moves the same points out and in"
        case .request: "every request-id points at what it created"
        case .batch: "every batch's counts match its rejected lines"
        case .entryShape: "ledger entries are unique and point kinds carry the right sign"
        }
    }

    /// Constraints of `ledger_entries` that keep the invariant on every insert (migration 0014's
    /// sign check, the primary key); verify checks that they exist and are validated instead of
    /// reading four million rows that the database refused to store otherwise.
    var enforcingConstraints: [String] {
        self == .entryShape ? ["ledger_entries_pkey", "ledger_entries_sign_per_kind"] : []
    }
}

/// Whether member `member` (an SQL expression) has a reversal entry, by its primary-key prefix.
private func hasReversal(_ member: String) -> String {
    "EXISTS (SELECT 1 FROM ledger_entries e WHERE e.member_number = \(member) AND e.kind IN ('reversal', 'promotion_reversal'))"
}

/// A recursive CTE `name(code)` of the distinct partner codes of the entries matching `filter`,
/// one index probe each (a "loose index scan"), ending in one NULL row.
private func partnerCodes(_ name: String, of filter: String) -> String {
    """
    \(name)(code) AS (
        SELECT min(partner_code) FROM ledger_entries WHERE \(filter)
        UNION ALL
        SELECT (SELECT min(partner_code) FROM ledger_entries WHERE \(filter) AND partner_code > c.code)
        FROM \(name) c WHERE c.code IS NOT NULL)
    """
}

/// The queries verify runs. Each returns rows of (`LedgerInvariant` raw value, offending key); one
/// query may report several invariants, so that the ledger (4 rows a member, the largest table by
/// far) is read in full only twice: once per qualifying month (the first query, the costlier one,
/// which gets a connection of its own), once summed per member.
let invariantQueries: [(sql: String, parameters: [String?])] = ([
    // Qualifying months against the ledger: entries and months (negated) summed per member and
    // month. The month is truncated as a timestamp without zone: the same month, without the
    // time-zone round trip that doubled the cost of the pass.
    """
    SELECT \(LedgerInvariant.qualifying.rawValue), member_number || '/' || month FROM (
        SELECT member_number, date_trunc('month', activity_date::timestamp)::date AS month, qualifying
        FROM ledger_entries WHERE qualifying <> 0
        UNION ALL
        SELECT member_number, month, -qualifying FROM qualifying_months) u
    GROUP BY member_number, month
    HAVING sum(qualifying) <> 0
    """,
    // Balances, owners of entries and negative balances, in one aggregate over the ledger and the
    // members together (a UNION, not a join: no hash table of a million sums to probe). A member's
    // group sums its entries and its balance negated; entries whose member does not exist make a
    // group without a balance. Reversals are looked up only for the few negative balances.
    """
    SELECT c.invariant, g.member_number FROM (
        SELECT member_number, sum(points) AS difference, count(balance) AS members, min(balance) AS balance
        FROM (SELECT member_number, points, NULL::bigint AS balance FROM ledger_entries
              UNION ALL
              SELECT member_number, -balance, balance FROM members) u
        GROUP BY 1
        HAVING sum(points) <> 0 OR count(balance) <> 1 OR min(balance) < 0) g
    CROSS JOIN LATERAL (VALUES
        (\(LedgerInvariant.balance.rawValue), g.members = 1 AND g.difference <> 0),
        (\(LedgerInvariant.available.rawValue), g.balance < 0 AND NOT \(hasReversal("g.member_number"))),
        (\(LedgerInvariant.entryOwner.rawValue), g.members = 0)) c(invariant, broken)
    WHERE c.broken
    """,
    // Available balances below zero that active holds make so (a balance below zero is the pass
    // above's), from the holds: few, where the members are a million.
    """
    SELECT \(LedgerInvariant.available.rawValue), m.member_number
    FROM (SELECT member_number, sum(points) AS held FROM holds WHERE status = 'active' AND expires_at > now() GROUP BY 1) h
    JOIN members m USING (member_number)
    WHERE m.balance >= 0 AND m.balance - h.held < 0 AND NOT \(hasReversal("m.member_number"))
    """,
    // Partner codes of the ledger, read from the indexes that hold them (accruals, promotion
    // entries, and migration 0018's index of the rest), one index probe per distinct code.
    """
    WITH RECURSIVE \(partnerCodes("accrued", of: "kind = 'accrual'")),
    \(partnerCodes("promoted", of: "kind IN ('promotion', 'promotion_reversal')")),
    \(partnerCodes("others", of: "partner_code IS NOT NULL AND kind NOT IN ('accrual', 'promotion', 'promotion_reversal')"))
    SELECT \(LedgerInvariant.entryOwner.rawValue), 'partner ' || c.code
    FROM (SELECT code FROM accrued UNION SELECT code FROM promoted UNION SELECT code FROM others) c
    WHERE c.code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM partners p WHERE p.code = c.code)
    """,
    """
    SELECT \(LedgerInvariant.spendingOwner.rawValue), h.hold_id FROM holds h
    WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.member_number = h.member_number)
    UNION ALL
    SELECT \(LedgerInvariant.spendingOwner.rawValue), r.redemption_id FROM redemptions r
    WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.member_number = r.member_number)
    UNION ALL
    SELECT \(LedgerInvariant.spendingOwner.rawValue), t.transfer_id FROM transfers t
    WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.member_number = t.from_member)
       OR NOT EXISTS (SELECT 1 FROM members m WHERE m.member_number = t.to_member)
    """,
    // Reversals are found through migration 0018's index, their accruals through the exactly-once one.
    """
    SELECT \(LedgerInvariant.reversal.rawValue), r.partner_code || '/' || r.reference
    FROM (SELECT member_number, partner_code, reference, -sum(points) AS points, -sum(qualifying) AS qualifying
          FROM ledger_entries WHERE kind = 'reversal' GROUP BY 1, 2, 3) r
    LEFT JOIN ledger_entries a ON a.member_number = r.member_number AND a.kind = 'accrual'
                              AND a.partner_code = r.partner_code AND a.reference = r.reference
    WHERE a.entry_id IS NULL OR r.points > a.points OR r.qualifying > a.qualifying OR r.qualifying < 0
    """,
    """
    SELECT \(LedgerInvariant.promotion.rawValue), b.partner_code || '/' || b.reference || '/' || b.promotion_id
    FROM (SELECT member_number, partner_code, reference, promotion_id,
                 sum(points) FILTER (WHERE kind = 'promotion') AS granted,
                 coalesce(-sum(points) FILTER (WHERE kind = 'promotion_reversal'), 0) AS reversed
          FROM ledger_entries WHERE kind IN ('promotion', 'promotion_reversal') GROUP BY 1, 2, 3, 4) b
    LEFT JOIN ledger_entries a ON a.member_number = b.member_number AND a.kind = 'accrual'
                              AND a.partner_code = b.partner_code AND a.reference = b.reference
    WHERE a.entry_id IS NULL OR b.granted IS NULL OR b.reversed > b.granted OR b.reversed < 0
    """,
    """
    SELECT \(LedgerInvariant.promotionTotals.rawValue), 'budget ' || t.promotion_id FROM promotion_totals t
    WHERE t.granted <> (SELECT coalesce(sum(points), 0) FROM ledger_entries e
                        WHERE e.kind IN ('promotion', 'promotion_reversal') AND e.promotion_id = t.promotion_id)
    UNION ALL
    SELECT \(LedgerInvariant.promotionTotals.rawValue), 'cap ' || c.promotion_id || '/' || c.member_number
    FROM promotion_member_totals c
    WHERE c.granted <> (SELECT coalesce(sum(points), 0) FROM ledger_entries e
                        WHERE e.member_number = c.member_number AND e.kind IN ('promotion', 'promotion_reversal')
                          AND e.promotion_id = c.promotion_id)
    """,
    """
    SELECT \(LedgerInvariant.redemption.rawValue), r.redemption_id FROM redemptions r
    WHERE (SELECT coalesce(sum(points), 0) FROM ledger_entries e WHERE e.member_number = r.member_number
           AND e.reference = r.redemption_id AND e.kind IN ('redemption', 'hold_capture')) <> -r.points
       OR (SELECT coalesce(sum(points), 0) FROM ledger_entries e WHERE e.member_number = r.member_number
           AND e.reference = r.redemption_id AND e.kind = 'refund') <> CASE r.status WHEN 'cancelled' THEN r.points ELSE 0 END
    """,
    """
    SELECT \(LedgerInvariant.hold.rawValue), h.hold_id FROM holds h
    WHERE (h.status = 'captured') <> EXISTS (SELECT 1 FROM redemptions r WHERE r.member_number = h.member_number
                                             AND r.hold_id = h.hold_id)
       OR (SELECT count(*) FROM redemptions r WHERE r.member_number = h.member_number AND r.hold_id = h.hold_id) > 1
    """,
    """
    SELECT \(LedgerInvariant.transfer.rawValue), t.transfer_id FROM transfers t
    WHERE (SELECT coalesce(sum(points), 0) FROM ledger_entries e WHERE e.member_number = t.from_member
           AND e.reference = t.transfer_id AND e.kind = 'transfer_out') <> -t.points
       OR (SELECT coalesce(sum(points), 0) FROM ledger_entries e WHERE e.member_number = t.to_member
           AND e.reference = t.transfer_id AND e.kind = 'transfer_in') <> t.points
    """,
    """
    SELECT \(LedgerInvariant.request.rawValue), q.principal || '/' || q.request_id FROM requests q
    WHERE NOT CASE q.command
        WHEN 'REDEEM' THEN EXISTS (SELECT 1 FROM redemptions r WHERE r.member_number = q.member_number
                                   AND r.redemption_id = q.result_id)
        WHEN 'HOLD' THEN EXISTS (SELECT 1 FROM holds h WHERE h.member_number = q.member_number AND h.hold_id = q.result_id)
        WHEN 'TRANSFER' THEN EXISTS (SELECT 1 FROM transfers t WHERE t.from_member = q.member_number
                                     AND t.transfer_id = q.result_id)
        ELSE false END
    """,
    """
    SELECT \(LedgerInvariant.batch.rawValue), b.partner_code || '/' || b.batch_id FROM batches b
    WHERE b.rejected <> (SELECT count(*) FROM batch_errors x WHERE x.partner_code = b.partner_code AND x.batch_id = b.batch_id)
    """,
] as [String]).map { ($0, []) } + [
    // Invariants the schema keeps: their constraints must be there, and validated.
    ("""
     SELECT i.invariant, 'constraint ' || i.name || ' missing or not validated'
     FROM unnest($1::int[], $2::text[]) AS i(invariant, name)
     WHERE NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = 'ledger_entries'::regclass
                       AND c.conname = i.name AND c.convalidated)
     """, {
        let enforced = LedgerInvariant.allCases.flatMap { invariant in invariant.enforcingConstraints.map { (invariant.rawValue, $0) } }
        return ["{\(enforced.map { String($0.0) }.joined(separator: ","))}", "{\(enforced.map(\.1).joined(separator: ","))}"]
    }()),
]

/// What verify's second connection found, handed back to the first once its thread is done.
private final class Handoff: @unchecked Sendable {
    // @unchecked: written by the helper thread before it signals, read only after the wait.
    var rows: Result<[(Int, String)], LoyaltyError> = .success([])
}

extension LoyaltyStore {
    /// Recomputes every balance from the ledger and checks every invariant, in one snapshot.
    /// `workMemMegabytes` is the sort and hash memory of its queries, which aggregate the whole
    /// ledger (a million members' sums in one hash table take about 300 MB; less spills to disk).
    ///
    /// The qualifying-month pass runs on one connection while a second one, importing the first's
    /// snapshot, runs every other query: two PostgreSQL processes over the same data (a pool of
    /// one connection runs everything on it).
    public func verify(workMemMegabytes: Int = 512) throws(LoyaltyError) -> [InvariantCheck] {
        guard (4...4_096).contains(workMemMegabytes) else { throw .invalid("verify work memory must be 4 to 4096 MB") }
        let split = pool.statistics.max >= 2 ? 1 : invariantQueries.count
        let (mine, theirs) = (invariantQueries.prefix(split), invariantQueries.dropFirst(split))
        let handoff = Handoff()
        var rows = try verifySnapshot(workMemMegabytes: workMemMegabytes, importing: nil) { conn in
            guard !theirs.isEmpty else { return try Self.run(mine, on: conn) }
            let snapshot = try conn.query("SELECT pg_export_snapshot()").rows[0][0] ?? ""
            let done = DispatchSemaphore(value: 0)
            DispatchQueue.global().async { [self] in
                handoff.rows = Result { () throws(LoyaltyError) in
                    try verifySnapshot(workMemMegabytes: workMemMegabytes, importing: snapshot) { conn in try Self.run(theirs, on: conn) }
                }
                done.signal()
            }
            // The exported snapshot lasts as long as this transaction: its importer finishes first.
            defer { done.wait() }
            return try Self.run(mine, on: conn)
        }
        rows += try handoff.rows.get()
        var checks = LedgerInvariant.allCases.map { invariant in
            InvariantCheck(name: invariant.name, violations: 0, examples: [],
                           enforcedBy: invariant.enforcingConstraints.isEmpty ? nil : invariant.enforcingConstraints.joined(separator: ", "))
        }
        for (invariant, key) in rows {
            checks[invariant].violations += 1
            if checks[invariant].examples.count < 5 { checks[invariant].examples.append(key) }
        }
        return checks
    }

    /// A read-only repeatable-read transaction set up for verify's aggregates, on the snapshot
    /// `importing` names if given (one `pg_export_snapshot` returned).
    private func verifySnapshot(workMemMegabytes: Int, importing snapshot: String?,
                                _ body: (Connection) throws -> [(Int, String)]) throws(LoyaltyError) -> [(Int, String)] {
        try read { conn in
            try conn.transaction(.repeatableRead) { conn in
                if let snapshot {
                    // SET TRANSACTION SNAPSHOT takes no parameter; the id is PostgreSQL's own, checked to be one.
                    guard !snapshot.isEmpty, snapshot.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
                        throw PostgresError(code: .unexpectedResult, message: "not a snapshot id: \(snapshot)")
                    }
                    try conn.execute("SET TRANSACTION SNAPSHOT '\(snapshot)'")
                }
                // The aggregates are planned for one process: a partial aggregate per worker repeats
                // most of the million groups, and a UNION's groups are estimated at 200.
                try conn.execute("SET TRANSACTION READ ONLY; SET LOCAL work_mem = '\(workMemMegabytes)MB'; "
                                 + "SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off")
                return try body(conn)
            }
        }
    }

    /// Runs verify's queries, each row an invariant's position and an offending key.
    private static func run(_ queries: ArraySlice<(sql: String, parameters: [String?])>, on conn: Connection) throws -> [(Int, String)] {
        try queries.flatMap { query in
            try conn.query(query.sql, query.parameters).rows.map { row in (Int(try row.int64(0)), try row.string(1)) }
        }
    }
}
