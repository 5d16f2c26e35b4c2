import LoyaltyCore
import Postgres

/// One invariant and how many rows break it.
public struct InvariantCheck: Sendable, Equatable {
    public var name: String
    public var violations: Int64
    /// A few offending keys, to start the investigation from.
    public var examples: [String]
}

/// Invariants of the ledger, each a query that returns the offending rows' keys.
/// They hold after every committed transaction; `loyaltyctl verify` runs them all.
let invariants: [(name: String, sql: String)] = [
    ("member balance equals the sum of its ledger entries", """
        SELECT m.member_number FROM members m
        LEFT JOIN (SELECT member_number, sum(points) AS total FROM ledger_entries GROUP BY member_number) l USING (member_number)
        WHERE m.balance <> coalesce(l.total, 0)
        """),
    ("no available balance below zero except through a reversal", """
        SELECT m.member_number FROM members m
        WHERE m.balance - coalesce((SELECT sum(points) FROM holds h WHERE h.member_number = m.member_number
                                    AND h.status = 'active' AND h.expires_at > now()), 0) < 0
          AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.member_number = m.member_number
                          AND e.kind IN ('reversal', 'promotion_reversal'))
        """),
    ("every ledger entry belongs to a member, and its partner exists", """
        SELECT e.member_number || '/' || e.entry_id FROM ledger_entries e
        WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.member_number = e.member_number)
           OR (e.partner_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM partners p WHERE p.code = e.partner_code))
        """),
    ("every hold, redemption and transfer belongs to a member", """
        SELECT h.hold_id FROM holds h WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.member_number = h.member_number)
        UNION ALL
        SELECT r.redemption_id FROM redemptions r WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.member_number = r.member_number)
        UNION ALL
        SELECT t.transfer_id FROM transfers t
        WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.member_number = t.from_member)
           OR NOT EXISTS (SELECT 1 FROM members m WHERE m.member_number = t.to_member)
        """),
    ("reversals never exceed their accrual", """
        SELECT r.partner_code || '/' || r.reference
        FROM (SELECT member_number, partner_code, reference, -sum(points) AS points, -sum(qualifying) AS qualifying
              FROM ledger_entries WHERE kind = 'reversal' GROUP BY 1, 2, 3) r
        LEFT JOIN ledger_entries a ON a.member_number = r.member_number AND a.kind = 'accrual'
                                  AND a.partner_code = r.partner_code AND a.reference = r.reference
        WHERE a.entry_id IS NULL OR r.points > a.points OR r.qualifying > a.qualifying OR r.qualifying < 0
        """),
    ("promotion bonuses point at an accrual and their reversals never exceed them", """
        SELECT b.partner_code || '/' || b.reference || '/' || b.promotion_id
        FROM (SELECT member_number, partner_code, reference, promotion_id,
                     sum(points) FILTER (WHERE kind = 'promotion') AS granted,
                     coalesce(-sum(points) FILTER (WHERE kind = 'promotion_reversal'), 0) AS reversed
              FROM ledger_entries WHERE kind IN ('promotion', 'promotion_reversal') GROUP BY 1, 2, 3, 4) b
        LEFT JOIN ledger_entries a ON a.member_number = b.member_number AND a.kind = 'accrual'
                                  AND a.partner_code = b.partner_code AND a.reference = b.reference
        WHERE a.entry_id IS NULL OR b.granted IS NULL OR b.reversed > b.granted OR b.reversed < 0
        """),
    ("promotion budgets and caps equal the bonuses granted, net of reversals", """
        SELECT 'budget ' || t.promotion_id FROM promotion_totals t
        WHERE t.granted <> (SELECT coalesce(sum(points), 0) FROM ledger_entries e
                            WHERE e.kind IN ('promotion', 'promotion_reversal') AND e.promotion_id = t.promotion_id)
        UNION ALL
        SELECT 'cap ' || c.promotion_id || '/' || c.member_number FROM promotion_member_totals c
        WHERE c.granted <> (SELECT coalesce(sum(points), 0) FROM ledger_entries e
                            WHERE e.member_number = c.member_number AND e.kind IN ('promotion', 'promotion_reversal')
                              AND e.promotion_id = c.promotion_id)
        """),
    ("qualifying months equal the ledger's qualifying points", """
        SELECT coalesce(q.member_number, l.member_number) || '/' || coalesce(q.month, l.month) FROM qualifying_months q
        FULL JOIN (SELECT member_number, date_trunc('month', activity_date)::date AS month, sum(qualifying) AS total
                   FROM ledger_entries WHERE qualifying <> 0 GROUP BY 1, 2) l USING (member_number, month)
        WHERE coalesce(q.qualifying, 0) <> coalesce(l.total, 0)
        """),
    ("every redemption has its debit, and a refund if cancelled", """
        SELECT r.redemption_id FROM redemptions r
        WHERE (SELECT coalesce(sum(points), 0) FROM ledger_entries e WHERE e.member_number = r.member_number
               AND e.reference = r.redemption_id AND e.kind IN ('redemption', 'hold_capture')) <> -r.points
           OR (SELECT coalesce(sum(points), 0) FROM ledger_entries e WHERE e.member_number = r.member_number
               AND e.reference = r.redemption_id AND e.kind = 'refund') <> CASE r.status WHEN 'cancelled' THEN r.points ELSE 0 END
        """),
    ("every captured hold has exactly one redemption, and only captured holds do", """
        SELECT h.hold_id FROM holds h
        WHERE (h.status = 'captured') <> EXISTS (SELECT 1 FROM redemptions r WHERE r.member_number = h.member_number
                                                 AND r.hold_id = h.hold_id)
           OR (SELECT count(*) FROM redemptions r WHERE r.member_number = h.member_number AND r.hold_id = h.hold_id) > 1
        """),
    ("every transfer moves the same points out and in", """
        SELECT t.transfer_id FROM transfers t
        WHERE (SELECT coalesce(sum(points), 0) FROM ledger_entries e WHERE e.member_number = t.from_member
               AND e.reference = t.transfer_id AND e.kind = 'transfer_out') <> -t.points
           OR (SELECT coalesce(sum(points), 0) FROM ledger_entries e WHERE e.member_number = t.to_member
               AND e.reference = t.transfer_id AND e.kind = 'transfer_in') <> t.points
        """),
    ("every request-id points at what it created", """
        SELECT q.principal || '/' || q.request_id FROM requests q
        WHERE NOT CASE q.command
            WHEN 'REDEEM' THEN EXISTS (SELECT 1 FROM redemptions r WHERE r.member_number = q.member_number
                                       AND r.redemption_id = q.result_id)
            WHEN 'HOLD' THEN EXISTS (SELECT 1 FROM holds h WHERE h.member_number = q.member_number AND h.hold_id = q.result_id)
            WHEN 'TRANSFER' THEN EXISTS (SELECT 1 FROM transfers t WHERE t.from_member = q.member_number
                                         AND t.transfer_id = q.result_id)
            ELSE false END
        """),
    ("every batch's counts match its rejected lines", """
        SELECT b.partner_code || '/' || b.batch_id FROM batches b
        WHERE b.rejected <> (SELECT count(*) FROM batch_errors x WHERE x.partner_code = b.partner_code AND x.batch_id = b.batch_id)
        """),
    ("ledger entries are unique and point kinds carry the right sign", """
        SELECT member_number || '/' || entry_id FROM ledger_entries
        WHERE (kind IN ('accrual', 'refund', 'transfer_in') AND points < 0)
           OR (kind = 'promotion' AND points <= 0)
           OR (kind IN ('reversal', 'redemption', 'hold_capture', 'expiry', 'transfer_out', 'promotion_reversal') AND points > 0)
        """),
]

extension LoyaltyStore {
    /// Recomputes every balance from the ledger and checks every invariant, in one snapshot.
    public func verify() throws(LoyaltyError) -> [InvariantCheck] {
        try read { conn in
            try conn.transaction(.repeatableRead) { conn in
                try invariants.map { invariant in
                    let rows = try conn.query("SELECT * FROM (\(invariant.sql)) bad(key)").rows
                    return InvariantCheck(name: invariant.name, violations: Int64(rows.count),
                                          examples: rows.prefix(5).compactMap { $0[0] })
                }
            }
        }
    }
}
