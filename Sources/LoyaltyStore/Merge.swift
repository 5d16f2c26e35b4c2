import LoyaltyCore
import Postgres

/// What folding one account into another moved.
public struct MergeReceipt: Sendable, Equatable {
    /// The reference of the merge's ledger entries (and of its transfer, when points moved).
    public var mergeID: String
    public var points: Int64
    public var qualifying: Int64
}

extension LoyaltyStore {
    /// Folds a duplicate account into the one the member keeps: the balance moves as a transfer,
    /// the qualifying points activity day by activity day (so tier status and rolling windows
    /// follow), and the duplicate is marked merged into the other; it neither earns nor spends
    /// again. Refused while the duplicate has active holds: they would outlive their points.
    @discardableResult
    public func mergeMember(_ from: String, into: String, reason: String, actor: Principal) throws(LoyaltyError) -> MergeReceipt {
        guard !reason.isEmpty else { throw .invalid("a reason is required") }
        guard from != into else { throw .invalid("a member cannot be merged into itself") }
        guard Identifiers.isMemberNumber(from), Identifiers.isMemberNumber(into) else { throw .invalid("malformed member number") }
        let program = try program()
        let today = try today()
        return try write { conn in
            // In key order, as transfers take them, so a merge and a transfer never deadlock.
            let locked = try [from, into].sorted().map { try LockedMember.lock(conn, $0) }
            guard let duplicate = locked.first(where: { $0.number == from }) else { throw LoyaltyError.notFound("no member \(from)") }
            guard duplicate.held == 0 else {
                throw LoyaltyError.conflict("member \(from) has \(duplicate.held) points on hold; capture or release them first")
            }
            let mergeID = try Self.nextID(conn, prefix: "MG")
            if duplicate.balance > 0 {
                try Self.postTransfer(conn, from: from, to: into, transferID: mergeID, points: duplicate.balance,
                                      principal: actor, today: today)
            }
            let days = try conn.query("""
                SELECT activity_date::text AS day, sum(qualifying) AS qualifying FROM ledger_entries
                WHERE member_number = $1 AND qualifying <> 0 GROUP BY activity_date HAVING sum(qualifying) <> 0
                """, [from]).rows
            let dates = try days.map { try $0.string("day") }, amounts = try days.map { try $0.int64("qualifying") }
            let moved = amounts.reduce(0, +)
            if !days.isEmpty {
                _ = try conn.query("""
                    WITH days AS (
                        SELECT * FROM unnest($5::date[], $6::bigint[]) AS d(activity_date, qualifying)
                    ), entries AS (
                        INSERT INTO ledger_entries (member_number, kind, points, qualifying, activity_date, source, reference)
                        SELECT $1, 'transfer_out', 0, -qualifying, activity_date, $3, $4 FROM days
                        UNION ALL
                        SELECT $2, 'transfer_in', 0, qualifying, activity_date, $3, $4 FROM days
                    ), emptied AS (
                        UPDATE qualifying_months SET qualifying = 0 WHERE member_number = $1
                    )
                    INSERT INTO qualifying_months (member_number, month, qualifying)
                    SELECT $2, date_trunc('month', activity_date)::date, sum(qualifying) FROM days GROUP BY 2
                    ON CONFLICT (member_number, month) DO UPDATE SET qualifying = qualifying_months.qualifying + EXCLUDED.qualifying
                    """, [from, into, actor.description, mergeID, SQLArray.literal(dates), SQLArray.literal(amounts.map(String.init))])
                for day in dates.compactMap(LocalDate.init) {
                    try TierKeeper.requalify(conn, program: program, member: from, activityDate: day)
                    try TierKeeper.requalify(conn, program: program, member: into, activityDate: day)
                }
            }
            _ = try conn.query("""
                WITH merged AS (UPDATE members SET status = 'merged', merged_into = $2 WHERE member_number = $1)
                \(EventKind.memberMerged.insert(member: "$1", payload: """
                    jsonb_build_object('into', $2::text, 'merge_id', $3::text, 'points', $4::bigint, 'qualifying', $5::bigint)
                    """))
                """, [from, into, mergeID, String(duplicate.balance), String(moved)])
            conn.announceEvents()
            for member in [from, into] {
                try TierKeeper.refresh(conn, program: program, member: member, today: today, reason: "merge \(from) into \(into)")
            }
            try Audit.record(conn, actor: actor, action: "member.merge", member: from,
                             details: ["into": into, "merge_id": mergeID, "points": String(duplicate.balance),
                                       "qualifying": String(moved)], reason: reason)
            return MergeReceipt(mergeID: mergeID, points: duplicate.balance, qualifying: moved)
        }
    }
}
