import LoyaltyCore
import Postgres

/// Tier qualification and the tier in force. Qualification runs inside the transaction that
/// changed the qualifying points, so an upgrade is never later than the accrual that earned it;
/// the tier in force is recomputed by the same set-based statements for one member (after a
/// write) and for a range of members (the `tiers evaluate` run), so the two can never disagree.
enum TierKeeper {
    /// A qualified grant in force, as requalification needs it.
    struct QualifiedGrant {
        var grantID: String
        var tierCode: String
        var periodStart: LocalDate
        var validUntil: LocalDate
    }

    // MARK: - Qualification, one member

    /// Re-evaluates the qualified grants of every period that contains `activityDate` (the one
    /// period of a calendar year; for rolling windows also the windows of grants already made)
    /// from the member's qualifying points and activities in it: upgrades, or takes back what a
    /// reversal undid. Then settles lifetime status. The caller holds the member's row lock.
    static func requalify(_ conn: Connection, program: Program, member: String, activityDate: LocalDate) throws {
        // A grant whose validity ended before the activity cannot contain it: that bounds the rows read.
        let grants = try conn.query("""
            SELECT grant_id, tier_code, period_start::text, valid_until::text FROM tier_grants
            WHERE member_number = $1 AND source = 'qualified' AND revoked_at IS NULL
              AND period_start <= $2::date AND valid_until >= $2::date
            """, [member, activityDate.description]).rows.compactMap { row -> QualifiedGrant? in
            guard let start = row["period_start"].flatMap(LocalDate.init), let until = row["valid_until"].flatMap(LocalDate.init) else {
                return nil
            }
            return QualifiedGrant(grantID: try row.string("grant_id"), tierCode: try row.string("tier_code"),
                                  periodStart: start, validUntil: until)
        }
        var windows = [program.period(containing: activityDate)]
        for grant in grants where !windows.contains(where: { $0.lowerBound == grant.periodStart }) {
            let window = program.period(startingOn: grant.periodStart)
            if window.contains(activityDate) { windows.append(window) }
        }
        for window in windows {
            try requalify(conn, program: program, member: member, window: window, grants: grants)
        }
        if !program.lifetimeTiers.isEmpty {
            _ = try settleLifetime(conn, program: program, first: member, last: member)
        }
    }

    private static func requalify(_ conn: Connection, program: Program, member: String, window: ClosedRange<LocalDate>,
                                  grants: [QualifiedGrant]) throws {
        let totals = try qualifyingTotals(conn, program: program, member: member, window: window)
        let earned = program.tier(forQualifying: totals.points, activities: totals.activities)
        let validUntil = program.tierValidUntil(periodEnd: window.upperBound)
        var reason = "\(totals.points) qualifying \(program.pointsName)"
        if program.countsQualifyingActivities { reason += " and \(totals.activities) qualifying activities" }
        reason += " in \(window.lowerBound)..\(window.upperBound)"
        func grantEarned() throws {
            _ = try conn.query("""
                INSERT INTO tier_grants (member_number, tier_code, source, period_start, valid_until, reason)
                VALUES ($1, $2, 'qualified', $3, $4, $5)
                """, [member, earned.code, window.lowerBound.description, validUntil.description, reason])
        }
        switch (grants.first { $0.periodStart == window.lowerBound }, earned.rank) {
        case (nil, 0):
            return
        case (let grant?, 0):
            _ = try conn.query("""
                UPDATE tier_grants SET revoked_at = now(), reason = $3 WHERE member_number = $1 AND grant_id = $2
                """, [member, grant.grantID, "\(reason): under every threshold"])
        case (nil, _):
            // A grant at least as good lasting at least as long already covers this window (rolling
            // windows ending in the same month): another would change nothing.
            let covered = grants.contains { grant in
                (program.tier(code: grant.tierCode)?.rank ?? 0) >= earned.rank && grant.validUntil >= validUntil
            }
            guard !covered else { return }
            try grantEarned()
        case (let grant?, _):
            guard grant.tierCode != earned.code else { return }
            // A new grant rather than an edit: grants are ordered by when they were made, and one
            // earned after an admin's override counts over it.
            _ = try conn.query("UPDATE tier_grants SET revoked_at = now(), reason = $3 WHERE member_number = $1 AND grant_id = $2",
                               [member, grant.grantID, "\(reason): now \(earned.code)"])
            try grantEarned()
        }
    }

    /// Qualifying points and activities of one member in a window, by activity date. Whole-month
    /// windows (calendar years) read the monthly totals; others the ledger itself. Activities are
    /// accruals that earned qualifying points and were not reversed in full; counted only when a
    /// tier has a threshold on them.
    static func qualifyingTotals(_ conn: Connection, program: Program, member: String,
                                 window: ClosedRange<LocalDate>) throws -> (points: Int64, activities: Int64) {
        let wholeMonths = window.lowerBound.day == 1 && window.upperBound == window.upperBound.endOfMonth
        let row = try conn.query("""
            SELECT CASE WHEN $4::boolean
                        THEN (SELECT coalesce(sum(qualifying), 0) FROM qualifying_months
                              WHERE member_number = $1 AND month BETWEEN $2::date AND $3::date)
                        ELSE (SELECT coalesce(sum(qualifying), 0) FROM ledger_entries
                              WHERE member_number = $1 AND activity_date BETWEEN $2::date AND $3::date AND qualifying <> 0)
                   END AS points,
                   CASE WHEN $5::boolean
                        THEN (SELECT count(*) FROM ledger_entries a WHERE a.member_number = $1 AND a.kind = 'accrual'
                              AND a.activity_date BETWEEN $2::date AND $3::date AND a.qualifying > 0
                              AND a.qualifying > (SELECT coalesce(-sum(r.qualifying), 0) FROM ledger_entries r
                                                  WHERE r.member_number = $1 AND r.kind = 'reversal'
                                                    AND r.partner_code = a.partner_code AND r.reference = a.reference))
                        ELSE 0
                   END AS activities
            """, [member, window.lowerBound.description, window.upperBound.description, String(wholeMonths),
                  String(program.countsQualifyingActivities)]).first
        return (try row?.int64("points") ?? 0, try row?.int64("activities") ?? 0)
    }

    /// Recomputes one member's tier in force on `today` after a write, with a soft landing if the
    /// program has them, and records the change, if any, with its why. The caller holds the row lock.
    static func refresh(_ conn: Connection, program: Program, member: String, today: LocalDate, reason: String) throws {
        if program.softLandingMonths != nil {
            _ = try softLand(conn, program: program, first: member, last: member, asOf: today)
        }
        let refreshed = try refresh(conn, program: program, first: member, last: member, asOf: today, reason: reason)
        assert(refreshed.changed == refreshed.stale, "the caller holds the member's row lock")
    }

    // MARK: - Set-based steps over a range of members [first, last]

    /// Program tiers, each member's best grant in force on $5 (highest rank, then the longest
    /// lasting, no end first, among the newest override in force and the grants made after it:
    /// `TierStatus.effective` in SQL), and the members whose cached tier differs from it.
    /// Parameters: $1 first, $2 last, $3 tier codes, $4 ranks, $5 as-of, $6 base code.
    private static let staleMembersCTEs = """
        WITH program_tiers AS (
            SELECT * FROM unnest($3::text[], $4::int[]) AS t(code, rank)
        ), newest_override AS (
            SELECT member_number, max(grant_id) AS grant_id FROM tier_grants
            WHERE member_number BETWEEN $1 AND $2 AND source = 'override' AND revoked_at IS NULL AND valid_until >= $5::date
            GROUP BY member_number
        ), best AS (
            SELECT DISTINCT ON (g.member_number) g.member_number, g.tier_code, g.valid_until, g.reason, g.source
            FROM tier_grants g JOIN program_tiers t ON t.code = g.tier_code
                 LEFT JOIN newest_override o ON o.member_number = g.member_number
            WHERE g.member_number BETWEEN $1 AND $2 AND g.revoked_at IS NULL
              AND (g.valid_until IS NULL OR g.valid_until >= $5::date) AND g.grant_id >= coalesce(o.grant_id, 0)
            ORDER BY g.member_number, t.rank DESC, g.valid_until DESC NULLS FIRST
        ), stale AS (
            SELECT m.member_number, m.xmin AS row_version, m.tier_code AS from_tier, m.tier_until AS from_until,
                   coalesce(b.tier_code, $6) AS to_tier, b.valid_until AS to_until, b.reason AS grant_reason,
                   b.source AS grant_source
            FROM members m LEFT JOIN best b USING (member_number)
            WHERE m.member_number BETWEEN $1 AND $2
              AND (m.tier_code <> coalesce(b.tier_code, $6) OR m.tier_until IS DISTINCT FROM b.valid_until)
        )
        """

    private static func staleParameters(_ program: Program, first: String, last: String, asOf: LocalDate) -> [String?] {
        [first, last, SQLArray.literal(program.tiers.map(\.code)), SQLArray.literal(program.tiers.map { String($0.rank) }),
         asOf.description, program.baseTier.code]
    }

    /// Writes the tier in force on `asOf` into the members' cached tier where it changed, with a
    /// tier_history row saying why: `reason`, else what lapsed and which grant now holds. A member
    /// row a request changed after the statement began is left alone (its row version moved on):
    /// returns the members changed and the members found stale, so a caller can pass again.
    static func refresh(_ conn: Connection, program: Program, first: String, last: String, asOf: LocalDate,
                        reason: String?) throws -> (changed: Int, stale: Int) {
        let row = try conn.query(staleMembersCTEs + """
            , updated AS (
                UPDATE members m SET tier_code = s.to_tier, tier_until = s.to_until FROM stale s
                WHERE m.member_number BETWEEN $1 AND $2 AND m.member_number = s.member_number AND m.xmin = s.row_version
                RETURNING s.*
            ), history AS (
                INSERT INTO tier_history (member_number, from_tier, to_tier, valid_until, reason)
                SELECT member_number, from_tier, to_tier, to_until, coalesce($7,
                    'tiers evaluate as of ' || $5::date || ': '
                    || CASE WHEN from_until < $5::date THEN from_tier || ' valid through ' || from_until || ' lapsed'
                            ELSE 'recomputed' END
                    || CASE WHEN grant_reason IS NULL THEN '' ELSE '; ' || to_tier || ' from ' || grant_reason END)
                FROM updated
                RETURNING 1
            ), announced AS (
                -- Up or down by rank; at the same rank, a lifetime grant taking over or a renewal.
                INSERT INTO events (kind, member_number, payload)
                SELECT '\(EventKind.tierChanged.rawValue)', u.member_number, jsonb_build_object(
                    'from', u.from_tier, 'to', u.to_tier, 'until', u.to_until, 'lifetime', coalesce(u.grant_source = 'lifetime', false),
                    'change', CASE WHEN t.rank > f.rank THEN 'up' WHEN t.rank < f.rank THEN 'down'
                                   WHEN u.grant_source = 'lifetime' THEN 'lifetime' ELSE 'renewed' END)
                FROM updated u LEFT JOIN program_tiers f ON f.code = u.from_tier LEFT JOIN program_tiers t ON t.code = u.to_tier
            )
            SELECT (SELECT count(*) FROM history) AS changed, (SELECT count(*) FROM stale) AS stale
            """, staleParameters(program, first: first, last: last, asOf: asOf) + [reason]).first
        let changed = try row?.int("changed") ?? 0
        if changed > 0 { conn.announceEvents() }
        return (changed, try row?.int("stale") ?? 0)
    }

    /// Soft landing: members in the range whose cached tier came from a qualification (or an
    /// earlier landing) that lapsed before `asOf`, and whose best grant still valid is more than
    /// one tier lower, get a grant one tier below the lapsed one, valid through the end of the
    /// month `softLandingMonths` after the lapse. Returns the grants made. Run before `refresh`.
    static func softLand(_ conn: Connection, program: Program, first: String, last: String, asOf: LocalDate) throws -> Int {
        guard let months = program.softLandingMonths else { return 0 }
        let landings = program.tiers.compactMap { lapsed in
            program.softLandingTier(lapsed: lapsed, best: program.baseTier).map { (lapsed: lapsed, landing: $0) }
        }
        guard !landings.isEmpty else { return 0 }
        return try conn.query("""
            WITH program_tiers AS (
                SELECT * FROM unnest($3::text[], $4::int[]) AS t(code, rank)
            ), landings AS (
                SELECT * FROM unnest($5::text[], $6::text[], $7::int[]) AS l(lapsed, landing, rank)
            ), best AS (
                SELECT g.member_number, max(t.rank) AS rank
                FROM tier_grants g JOIN program_tiers t ON t.code = g.tier_code
                WHERE g.member_number BETWEEN $1 AND $2 AND g.revoked_at IS NULL
                  AND (g.valid_until IS NULL OR g.valid_until >= $8::date)
                GROUP BY g.member_number
            )
            INSERT INTO tier_grants (member_number, tier_code, source, valid_until, reason)
            SELECT m.member_number, l.landing, 'soft_landing',
                   (date_trunc('month', m.tier_until + make_interval(months => $9)) + interval '1 month' - interval '1 day')::date,
                   'soft landing from ' || m.tier_code || ' valid through ' || m.tier_until
            FROM members m JOIN landings l ON l.lapsed = m.tier_code LEFT JOIN best b USING (member_number)
            WHERE m.member_number BETWEEN $1 AND $2 AND m.tier_until < $8::date AND coalesce(b.rank, 0) < l.rank
              AND EXISTS (SELECT 1 FROM tier_grants g WHERE g.member_number = m.member_number AND g.tier_code = m.tier_code
                          AND g.valid_until = m.tier_until AND g.source IN ('qualified', 'soft_landing') AND g.revoked_at IS NULL)
            """, [first, last, SQLArray.literal(program.tiers.map(\.code)), SQLArray.literal(program.tiers.map { String($0.rank) }),
                  SQLArray.literal(landings.map(\.lapsed.code)), SQLArray.literal(landings.map(\.landing.code)),
                  SQLArray.literal(landings.map { String($0.landing.rank) }), asOf.description, String(months)]).affectedRows
    }

    /// Lifetime tier earned by each member in the range from all its qualifying points.
    /// Parameters: $1 first, $2 last, $3 tier codes, $4 lifetime thresholds, $5 ranks.
    private static let lifetimeEarnedCTEs = """
        WITH lifetime AS (
            SELECT * FROM unnest($3::text[], $4::bigint[], $5::int[]) AS l(code, threshold, rank)
        ), totals AS (
            SELECT member_number, sum(qualifying) AS total FROM qualifying_months
            WHERE member_number BETWEEN $1 AND $2 GROUP BY member_number
        ), earned AS (
            SELECT DISTINCT ON (t.member_number) t.member_number, l.code, t.total
            FROM totals t JOIN lifetime l ON t.total >= l.threshold
            ORDER BY t.member_number, l.rank DESC
        )
        """

    /// Brings lifetime grants in the range in line with lifetime qualifying points: revokes the
    /// ones no longer earned (a reversal) or outgrown, adds the ones newly earned. Returns the
    /// grants added. At most one lifetime grant is in force per member (a unique index).
    static func settleLifetime(_ conn: Connection, program: Program, first: String, last: String) throws -> Int {
        let lifetime = program.lifetimeTiers.compactMap { entry in
            program.tier(code: entry.tierCode).map { (tier: $0, threshold: entry.lifetimeQualifying) }
        }
        guard !lifetime.isEmpty else { return 0 }
        let parameters: [String?] = [first, last, SQLArray.literal(lifetime.map(\.tier.code)),
                                     SQLArray.literal(lifetime.map { String($0.threshold) }),
                                     SQLArray.literal(lifetime.map { String($0.tier.rank) })]
        _ = try conn.query(lifetimeEarnedCTEs + """
            UPDATE tier_grants g SET revoked_at = now()
            WHERE g.member_number BETWEEN $1 AND $2 AND g.source = 'lifetime' AND g.revoked_at IS NULL
              AND g.tier_code IS DISTINCT FROM (SELECT e.code FROM earned e WHERE e.member_number = g.member_number)
            """, parameters)
        return try conn.query(lifetimeEarnedCTEs + """
            INSERT INTO tier_grants (member_number, tier_code, source, reason)
            SELECT e.member_number, e.code, 'lifetime', e.total || ' lifetime qualifying ' || $6
            FROM earned e
            WHERE NOT EXISTS (SELECT 1 FROM tier_grants g WHERE g.member_number = e.member_number
                              AND g.source = 'lifetime' AND g.revoked_at IS NULL)
            ON CONFLICT DO NOTHING
            """, parameters + [program.pointsName]).affectedRows
    }
}

/// What `TIER` shows.
public struct TierSummary: Sendable, Equatable {
    public var tier: TierDefinition
    public var tierUntil: LocalDate?
    public var qualifying: Int64
    public var periodEnd: LocalDate
    public var nextTier: TierDefinition?
    public var toNextTier: Int64?
}

extension LoyaltyStore {
    public func tierStatus(number: String) throws(LoyaltyError) -> TierSummary {
        let m = try member(number: number)
        return TierSummary(tier: m.tier, tierUntil: m.tierUntil, qualifying: m.qualifying, periodEnd: m.periodEnd,
                           nextTier: m.nextTier, toNextTier: m.toNextTier)
    }

    /// An admin's tier override, valid through `until`; kept in the audit trail and the tier history.
    public func setTier(number: String, tierCode: String, until: LocalDate, reason: String, actor: Principal) throws(LoyaltyError) {
        let program = try program()
        let today = try today()
        guard let tier = program.tier(code: tierCode) else { throw .invalid("no tier \(tierCode)") }
        guard !reason.isEmpty else { throw .invalid("a reason is required") }
        guard until >= today else { throw .invalid("--until must not be in the past") }
        try write { conn in
            _ = try LockedMember.lock(conn, number)
            _ = try conn.query("""
                UPDATE tier_grants SET revoked_at = now() WHERE member_number = $1 AND source = 'override' AND revoked_at IS NULL
                """, [number])
            _ = try conn.query("""
                INSERT INTO tier_grants (member_number, tier_code, source, valid_until, reason) VALUES ($1, $2, 'override', $3, $4)
                """, [number, tier.code, until.description, reason])
            try TierKeeper.refresh(conn, program: program, member: number, today: today, reason: "override: \(reason)")
            try Audit.record(conn, actor: actor, action: "tier.set", member: number,
                             details: ["tier": tier.code, "until": until.description], reason: reason)
        }
    }
}
