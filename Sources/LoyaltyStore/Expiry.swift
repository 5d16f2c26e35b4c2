import LoyaltyCore
import Postgres

/// Which points expire, under either policy, as SQL over the ledger and the members' rows.
///
/// Lots are computed set-based, first in first out, without tracking which lot a redemption
/// used: as of a day D, a member's expired points are the credits of every lot whose expiry is on
/// or before D, less everything spent and already expired (never below zero). Spending takes the
/// oldest lots first, so whatever spending did not consume of the matured lots is what expires.
enum Expiry {
    /// Ledger entries that make a lot, on their activity date: accruals (a reversal shrinks its
    /// accrual's lot, and carries its activity date), refunds, transfers in, credits by hand.
    /// Every other entry (redemptions, captures, transfers out, debits by hand, expiries) spends.
    static let lotCreditSQL = "(e.kind IN ('accrual', 'reversal', 'promotion', 'promotion_reversal', 'refund', 'transfer_in') OR (e.kind = 'adjustment' AND e.points > 0))"

    /// The points that expire next for one member under the program's policy, and the day they do.
    static func nextExpiry(_ conn: Connection, program: Program, member: String, tier: TierDefinition, balance: Int64,
                           lastActivity: LocalDate?) throws -> (Int64?, LocalDate?) {
        guard balance > 0 else { return (nil, nil) }
        switch program.expiry {
        case .none:
            return (nil, nil)
        case .inactivity(let months, _):
            guard !program.isExemptFromExpiry(tier: tier), let lastActivity else { return (nil, nil) }
            return (balance, lastActivity.adding(months: months))
        case .lot(let months):
            // The first expiry date by which the matured lots outgrow what was spent: its surplus expires then.
            guard let row = try conn.query("""
                WITH lots AS (
                    SELECT (e.activity_date + make_interval(months => $2))::date AS expires_on, sum(e.points) AS points
                    FROM ledger_entries e WHERE e.member_number = $1 AND \(lotCreditSQL) GROUP BY 1
                ), spent AS (
                    SELECT coalesce(sum(e.points), 0) AS points FROM ledger_entries e
                    WHERE e.member_number = $1 AND NOT \(lotCreditSQL)
                )
                SELECT expires_on::text, (matured + spent.points)::bigint AS due
                FROM (SELECT expires_on, sum(points) OVER (ORDER BY expires_on) AS matured FROM lots) m, spent
                WHERE matured + spent.points > 0 ORDER BY expires_on LIMIT 1
                """, [member, String(months)]).first else { return (nil, nil) }
            return (min(try row.int64("due"), balance), row["expires_on"].flatMap(LocalDate.init))
        }
    }

    /// The `due(member_number, row_version, points)` relation of a run as of `asOf` over the
    /// members `$1...$2`: what expires for each member with something to expire, at most its
    /// balance less active holds (so available never goes below zero), and the parameters after
    /// `$2`. nil when the program's points do not expire.
    static func due(_ program: Program, asOf: LocalDate, first: String, last: String) -> (sql: String, parameters: [String?])? {
        let held = """
            WITH held AS (
                SELECT member_number, sum(points) AS points FROM holds
                WHERE member_number BETWEEN $1 AND $2 AND status = 'active' AND expires_at > now()
                GROUP BY member_number
            )
            """
        switch program.expiry {
        case .none:
            return nil
        case .inactivity(_, let exemptFromRank):
            guard let cutoff = program.inactivityCutoff(asOf: asOf) else { return nil }
            let exempt = program.tiers.filter { tier in exemptFromRank.map { tier.rank >= $0 } ?? false }.map(\.code)
            // Exempt while the exempt tier is still valid on the day of the run. A member who never
            // had any activity counts from enrollment.
            return (held + """
                , due AS (
                    SELECT m.member_number, m.xmin AS row_version, m.balance - coalesce(h.points, 0) AS points
                    FROM members m LEFT JOIN held h USING (member_number)
                    WHERE m.member_number BETWEEN $1 AND $2 AND m.balance > coalesce(h.points, 0)
                      AND coalesce(m.last_activity, ((m.enrolled_at AT TIME ZONE 'UTC') + make_interval(secs => $6))::date) <= $3::date
                      AND NOT (m.tier_code = ANY ($5::text[]) AND (m.tier_until IS NULL OR m.tier_until >= $4::date))
                )
                """, [first, last, cutoff.description, asOf.description, SQLArray.literal(exempt), String(program.utcOffsetSeconds)])
        case .lot:
            guard let cutoff = program.lotExpiryCutoff(asOf: asOf) else { return nil }
            return (held + """
                , lots AS (
                    SELECT e.member_number,
                           coalesce(sum(e.points) FILTER (WHERE \(lotCreditSQL) AND e.activity_date <= $3::date), 0)
                           + coalesce(sum(e.points) FILTER (WHERE NOT \(lotCreditSQL)), 0) AS due
                    FROM ledger_entries e WHERE e.member_number BETWEEN $1 AND $2
                    GROUP BY e.member_number
                ), due AS (
                    SELECT m.member_number, m.xmin AS row_version, least(l.due, m.balance - coalesce(h.points, 0)) AS points
                    FROM members m JOIN lots l USING (member_number) LEFT JOIN held h USING (member_number)
                    WHERE m.member_number BETWEEN $1 AND $2 AND l.due > 0 AND m.balance > coalesce(h.points, 0)
                )
                """, [first, last, cutoff.description])
        }
    }
}
