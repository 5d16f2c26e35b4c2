import LoyaltyCore
import Postgres

extension LoyaltyStore {
    /// Everything held on one member, as one JSON document: its row (the PIN only as whether one is
    /// set: a hash is a secret, not the member's data), ledger, qualifying months, tiers, holds,
    /// redemptions, transfers either way, members merged into it, wrong-PIN times, exactly-once
    /// records of its requests and its audit trail. Whole rows, so columns added later come along.
    public func exportMember(number: String) throws(LoyaltyError) -> String {
        let document: String? = try read { conn in
            try conn.transaction(.repeatableRead) { conn in
                try conn.execute("SET TRANSACTION READ ONLY")
                return try conn.query(Self.exportSQL, [number]).first?["document"]
            }
        }
        guard let document else { throw .notFound("no member \(number)") }
        return document
    }

    /// Erases a member's personal fields (name, email, PIN, sign-in lock and wrong-PIN times) and
    /// closes it, in one transaction with its audit record; the number, the ledger and every
    /// record accounting needs stay. Sign-in is refused afterwards (it needs an active member with a
    /// PIN, and a closed member cannot be given one). Erasing twice is refused.
    public func eraseMember(number: String, reason: String, actor: Principal) throws(LoyaltyError) {
        guard !reason.isEmpty else { throw .invalid("a reason is required") }
        try write { conn in
            let member = try LockedMember.lock(conn, number, mustBeActive: false)
            let erased = try conn.query("""
                UPDATE members SET name = '', email = '', pin_hash = NULL, locked_until = NULL, erased_at = now(),
                                   status = CASE WHEN status = 'active' THEN 'closed' ELSE status END
                WHERE member_number = $1 AND erased_at IS NULL
                """, [number]).affectedRows
            guard erased == 1 else { throw LoyaltyError.conflict("member \(number) was erased already") }
            _ = try conn.query("DELETE FROM member_signin_failures WHERE member_number = $1", [number])
            if member.status == "active" {
                conn.executeBeforeCommit(EventKind.memberClosed.insert(member: "$1", payload: "jsonb_build_object('erased', true)"),
                                         [number])
                conn.announceEvents()
            }
            try Audit.record(conn, actor: actor, action: "member.erase", member: number,
                             details: ["status_before": member.status], reason: reason)
        }
    }

    /// $1 member number. NULL when there is no such member.
    static let exportSQL = """
        SELECT jsonb_pretty(jsonb_build_object(
            'member', (to_jsonb(m) - 'pin_hash') || jsonb_build_object('pin_set', m.pin_hash IS NOT NULL),
            'ledger_entries', coalesce((SELECT jsonb_agg(to_jsonb(e) ORDER BY e.entry_id)
                                        FROM ledger_entries e WHERE e.member_number = $1), '[]'),
            'qualifying_months', coalesce((SELECT jsonb_agg(to_jsonb(q) ORDER BY q.month)
                                           FROM qualifying_months q WHERE q.member_number = $1), '[]'),
            'tier_grants', coalesce((SELECT jsonb_agg(to_jsonb(g) ORDER BY g.grant_id)
                                     FROM tier_grants g WHERE g.member_number = $1), '[]'),
            'tier_history', coalesce((SELECT jsonb_agg(to_jsonb(h) ORDER BY h.change_id)
                                      FROM tier_history h WHERE h.member_number = $1), '[]'),
            'holds', coalesce((SELECT jsonb_agg(to_jsonb(h) ORDER BY h.created_at, h.hold_id)
                               FROM holds h WHERE h.member_number = $1), '[]'),
            'redemptions', coalesce((SELECT jsonb_agg(to_jsonb(r) ORDER BY r.created_at, r.redemption_id)
                                     FROM redemptions r WHERE r.member_number = $1), '[]'),
            'transfers', coalesce((SELECT jsonb_agg(to_jsonb(t) ORDER BY t.created_at, t.transfer_id)
                                   FROM transfers t WHERE t.from_member = $1 OR t.to_member = $1), '[]'),
            'merged_members', coalesce((SELECT jsonb_agg(d.member_number ORDER BY d.member_number)
                                        FROM members d WHERE d.merged_into = $1), '[]'),
            'signin_failures', coalesce((SELECT jsonb_agg(f.failed_at ORDER BY f.failed_at)
                                         FROM member_signin_failures f WHERE f.member_number = $1), '[]'),
            'requests', coalesce((SELECT jsonb_agg(to_jsonb(q) ORDER BY q.created_at, q.request_id)
                                  FROM requests q WHERE q.member_number = $1), '[]'),
            'audit', coalesce((SELECT jsonb_agg(to_jsonb(a) ORDER BY a.audit_id)
                               FROM audit_log a WHERE a.member_number = $1), '[]')
        )) AS document
        FROM members m WHERE m.member_number = $1
        """
}
