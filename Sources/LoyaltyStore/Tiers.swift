import LoyaltyCore
import Postgres

/// Tier qualification and the tier in force, kept inside the transaction that changed the
/// qualifying points, so an upgrade is never later than the accrual that earned it.
enum TierKeeper {
    /// Re-evaluates the qualified grant of the period containing `activityDate` from the member's
    /// qualifying points in that period: upgrades, or takes back what a reversal undid.
    static func requalify(_ conn: Connection, program: Program, member: String, activityDate: LocalDate) throws {
        let period = program.period(containing: activityDate)
        let periodStart = LocalDate(year: period.lowerBound.year, month: period.lowerBound.month, day: 1) ?? period.lowerBound
        let total = try conn.query("""
            SELECT coalesce(sum(qualifying), 0) AS total FROM qualifying_months
            WHERE member_number = $1 AND month BETWEEN $2::date AND $3::date
            """, [member, periodStart.description, period.upperBound.description]).first?.int64("total") ?? 0
        let earned = program.tier(forQualifying: total)
        let existing = try conn.query("""
            SELECT grant_id, tier_code FROM tier_grants
            WHERE member_number = $1 AND source = 'qualified' AND period_start = $2 AND revoked_at IS NULL
            """, [member, period.lowerBound.description]).first
        switch (existing, earned.rank) {
        case (nil, 0):
            return
        case (let grant?, 0):
            _ = try conn.query("UPDATE tier_grants SET revoked_at = now() WHERE member_number = $1 AND grant_id = $2",
                               [member, try grant.string("grant_id")])
        case (nil, _):
            _ = try conn.query("""
                INSERT INTO tier_grants (member_number, tier_code, source, period_start, valid_until, reason)
                VALUES ($1, $2, 'qualified', $3, $4, $5)
                """, [member, earned.code, period.lowerBound.description,
                      program.tierValidUntil(periodEnd: period.upperBound).description,
                      "\(total) qualifying \(program.pointsName) in \(period.lowerBound)..\(period.upperBound)"])
        case (let grant?, _):
            guard try grant.string("tier_code") != earned.code else { return }
            _ = try conn.query("UPDATE tier_grants SET tier_code = $3, reason = $4 WHERE member_number = $1 AND grant_id = $2",
                               [member, try grant.string("grant_id"), earned.code,
                                "\(total) qualifying \(program.pointsName) in \(period.lowerBound)..\(period.upperBound)"])
        }
    }

    /// Recomputes the tier in force from the member's grants and records the change, if any, with its why.
    static func refresh(_ conn: Connection, program: Program, member: String, today: LocalDate, reason: String) throws {
        guard let current = try conn.query("SELECT tier_code, tier_until::text FROM members WHERE member_number = $1",
                                           [member]).first else { return }
        let grants = try conn.query("""
            SELECT tier_code, valid_until::text, source FROM tier_grants WHERE member_number = $1 AND revoked_at IS NULL
            """, [member]).rows.map { row in
            TierGrant(tierCode: try row.string("tier_code"), validUntil: row["valid_until"].flatMap(LocalDate.init),
                      source: TierGrant.Source(rawValue: try row.string("source")) ?? .qualified)
        }
        let effective = TierStatus.effective(grants: grants, on: today, program: program)
        let untilText = effective.validUntil?.description
        let fromTier = try current.string("tier_code")
        guard fromTier != effective.tier.code || current["tier_until"] != untilText else { return }
        _ = try conn.query("UPDATE members SET tier_code = $2, tier_until = $3::date WHERE member_number = $1",
                           [member, effective.tier.code, untilText])
        _ = try conn.query("""
            INSERT INTO tier_history (member_number, from_tier, to_tier, valid_until, reason) VALUES ($1, $2, $3, $4::date, $5)
            """, [member, fromTier, effective.tier.code, untilText, reason])
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
