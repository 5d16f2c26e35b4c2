import LoyaltyCore
import Postgres

/// The reply to ACCRUE: what was credited, and whether this was a replay of an earlier ACCRUE.
public struct AccrualReceipt: Sendable, Equatable {
    public var txnID: String
    public var points: Int64
    public var qualifying: Int64
    public var duplicate: Bool
}

/// The reply to REVERSE.
public struct ReversalReceipt: Sendable, Equatable {
    public var txnID: String
    public var points: Int64
    public var qualifying: Int64
}

/// What a REVERSE asks for beyond its txn-id: `points=n` (else all that remains) and `id=`, the
/// partner's id for this reversal, which makes a partial reversal exactly once.
public struct ReversalRequest: Sendable, Equatable {
    public var points: Int64?
    public var id: String?

    public init(points: Int64? = nil, id: String? = nil) {
        self.points = points
        self.id = id
    }

    /// From the `field=value` words after the txn-id, each field at most once.
    public static func parse(fields: [(name: String, value: String)]) throws(LoyaltyError) -> ReversalRequest {
        var request = ReversalRequest()
        for (name, value) in fields {
            switch name {
            case "points" where request.points == nil:
                guard let points = Int64(value), points > 0 else { throw .invalid("REVERSE takes points=n with n a positive integer") }
                request.points = points
            case "id" where request.id == nil:
                guard Identifiers.isClientID(value) else { throw .invalid("id must be 1-64 printable ASCII, no spaces") }
                request.id = value
            default:
                throw .invalid("REVERSE takes points=n and id=reversal-id, each at most once; got \(name)=")
            }
        }
        return request
    }
}

extension LoyaltyStore {
    /// Credits a partner transaction exactly once per (partner, txn-id).
    public func accrue(partner: Principal, txnID: String, member: String, input: AccrualInput) throws(LoyaltyError) -> AccrualReceipt {
        let timeline = try programTimeline()
        let today = try today()
        return try write { conn in
            try Self.applyAccrual(conn, timeline: timeline, today: today, partner: partner, txnID: txnID,
                                  member: member, input: input, batchID: nil)
        }
    }

    /// Takes back `points` (default: all that remains) of a partner's accrual and its promotion
    /// bonuses, with their share of qualifying points; once per `id` when one is given.
    public func reverse(partner: Principal, txnID: String, points: Int64?, id: String? = nil) throws(LoyaltyError) -> ReversalReceipt {
        let program = try program()
        let today = try today()
        return try write { conn in
            try Self.applyReversal(conn, program: program, today: today, partner: partner, txnID: txnID,
                                   request: ReversalRequest(points: points, id: id))
        }
    }

    static func applyAccrual(_ conn: Connection, timeline: ProgramTimeline, today: LocalDate, partner: Principal, txnID: String,
                             member: String, input: AccrualInput, batchID: String?) throws -> AccrualReceipt {
        guard case .partner(let partnerCode, let category) = partner else {
            throw LoyaltyError.noPermission("only partners accrue")
        }
        guard Identifiers.isClientID(txnID) else { throw LoyaltyError.invalid("txn-id must be 1-64 printable ASCII, no spaces") }
        guard Identifiers.isMemberNumber(member) else { throw LoyaltyError.invalid("malformed member number") }
        let content = AccrualContent(member: member, fingerprint: input.fingerprint)
        // The partner's state and an earlier accrual of the txn-id (with its bonuses) in one round trip.
        guard let known = try conn.query("""
            SELECT p.suspended_at IS NOT NULL AS suspended, e.member_number, e.fingerprint, e.points, e.qualifying,
                   (SELECT coalesce(sum(b.points), 0) FROM ledger_entries b
                    WHERE e.entry_id IS NOT NULL AND b.kind = 'promotion' AND b.partner_code = $1 AND b.reference = $2) AS bonus
            FROM partners p
            LEFT JOIN ledger_entries e ON e.kind = 'accrual' AND e.partner_code = p.code AND e.reference = $2
            WHERE p.code = $1
            """, [partnerCode, txnID]).first else { throw LoyaltyError.noPermission("no partner \(partnerCode)") }
        if known["member_number"] != nil {
            guard try AccrualContent(known) == content else {
                throw LoyaltyError.conflict("txn-id \(txnID) was already used with different content")
            }
            return AccrualReceipt(txnID: txnID, points: try known.int64("points") + known.int64("bonus"),
                                  qualifying: try known.int64("qualifying"), duplicate: true)
        }
        guard try !known.bool("suspended") else { throw LoyaltyError.noPermission("partner suspended") }
        let locked = try LockedMember.lock(conn, member)
        let inForce = timeline.version(on: today).program
        try inForce.checkClaimWindow(input.activityDate, today: today)
        // The rules of the activity date: a back-dated claim earns at the rules of its day.
        let rules = timeline.version(on: input.activityDate).program
        let tier = rules.tier(code: locked.tierCode) ?? rules.baseTier
        let earned = try rules.earnWithinWindow(partner: partnerCode, category: category, input: input, tier: tier)
        let activity = input.activityDate.description
        let offers = rules.promotionOffers(partner: partnerCode, category: category, tierCode: tier.code, input: input, earned: earned)
        var grants: [PromotionGrant] = []
        if !offers.isEmpty {
            var allowances = try PromotionAllowances.lock(conn, promotions: offers.map(\.promotion), members: [member])
            grants = allowances.grant(offers, member: member)
            try allowances.save(conn)
        }
        let bonus = grants.reduce(0) { $0 + $1.points }
        _ = try conn.query("""
            WITH entry AS (
                INSERT INTO ledger_entries (member_number, kind, points, qualifying, activity_date, source, reference,
                                            partner_code, amount_minor, currency, fingerprint, batch_id)
                VALUES ($1, 'accrual', $2, $3, $4, $5, $6, $5, $7, $8, $9, $10)
            ), months AS (
                INSERT INTO qualifying_months (member_number, month, qualifying)
                SELECT $1, date_trunc('month', $4::date)::date, $3 WHERE $3::bigint <> 0
                ON CONFLICT (member_number, month) DO UPDATE SET qualifying = qualifying_months.qualifying + EXCLUDED.qualifying
            )
            UPDATE members SET balance = balance + $2 + $11, last_activity = greatest(last_activity, $4::date)
            WHERE member_number = $1
            """, [member, String(earned.points), String(earned.qualifying), activity, partnerCode, txnID,
                  input.amount.map { String($0.minorUnits) }, input.amount?.currency, content.fingerprint, batchID, String(bonus)])
        if !grants.isEmpty {
            _ = try conn.query("""
                INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference, partner_code, promotion_id, batch_id)
                SELECT $1, 'promotion', s.points, $2, $3, $4, $3, s.promotion_id, $7
                FROM unnest(string_to_array($5, chr(10)), string_to_array($6, chr(10))::bigint[]) AS s(promotion_id, points)
                """, [member, activity, partnerCode, txnID, grants.map(\.promotionID).joined(separator: "\n"),
                      grants.map { String($0.points) }.joined(separator: "\n"), batchID])
        }
        if earned.qualifying != 0 {
            try TierKeeper.requalify(conn, program: inForce, member: member, activityDate: input.activityDate)
            try TierKeeper.refresh(conn, program: inForce, member: member, today: today,
                                   reason: "accrual \(partnerCode)/\(txnID)")
        }
        return AccrualReceipt(txnID: txnID, points: earned.points + bonus, qualifying: earned.qualifying, duplicate: false)
    }

    static func applyReversal(_ conn: Connection, program: Program, today: LocalDate, partner: Principal,
                              txnID: String, request: ReversalRequest) throws -> ReversalReceipt {
        guard case .partner(let partnerCode, _) = partner else { throw LoyaltyError.noPermission("only partners reverse") }
        guard Identifiers.isClientID(txnID) else { throw LoyaltyError.invalid("txn-id must be 1-64 printable ASCII, no spaces") }
        guard let owner = try conn.query("""
            SELECT member_number FROM ledger_entries WHERE kind = 'accrual' AND partner_code = $1 AND reference = $2
            """, [partnerCode, txnID]).first else {
            // One probe of the exactly-once index per partner, not a scan of the ledger for the txn-id.
            if try conn.query("""
                SELECT 1 FROM partners p WHERE EXISTS (SELECT 1 FROM ledger_entries e
                                                       WHERE e.kind = 'accrual' AND e.partner_code = p.code AND e.reference = $1)
                LIMIT 1
                """, [txnID]).first != nil {
                throw LoyaltyError.noPermission("txn-id \(txnID) is another partner's transaction")
            }
            throw LoyaltyError.notFound("no transaction \(txnID)")
        }
        let member = try owner.string("member_number")
        // Every reversal of the txn-id takes this lock first, so the sums below (and whether the
        // reversal id was used) cannot move until commit.
        _ = try LockedMember.lock(conn, member, mustBeActive: false)
        guard let accrual = try conn.query("""
            SELECT a.points, a.qualifying, a.activity_date::text,
                   coalesce(-sum(r.points), 0) AS reversed_points, coalesce(-sum(r.qualifying), 0) AS reversed_qualifying,
                   -min(r.points) FILTER (WHERE r.reversal_id = $4) AS replayed_points,
                   -min(r.qualifying) FILTER (WHERE r.reversal_id = $4) AS replayed_qualifying
            FROM ledger_entries a
            LEFT JOIN ledger_entries r ON r.member_number = a.member_number AND r.kind = 'reversal'
                                      AND r.partner_code = a.partner_code AND r.reference = a.reference
            WHERE a.member_number = $3 AND a.kind = 'accrual' AND a.partner_code = $1 AND a.reference = $2
            GROUP BY a.points, a.qualifying, a.activity_date
            """, [partnerCode, txnID, member, request.id]).first else { throw LoyaltyError.notFound("no transaction \(txnID)") }
        let bonuses = try conn.query("""
            SELECT promotion_id, sum(points) FILTER (WHERE kind = 'promotion') AS granted,
                   coalesce(-sum(points) FILTER (WHERE kind = 'promotion_reversal'), 0) AS reversed,
                   coalesce(-sum(points) FILTER (WHERE kind = 'promotion_reversal' AND reversal_id = $3), 0) AS replayed
            FROM ledger_entries WHERE kind IN ('promotion', 'promotion_reversal') AND partner_code = $1 AND reference = $2
            GROUP BY promotion_id ORDER BY promotion_id
            """, [partnerCode, txnID, request.id]).rows
        if let replayedBase = try accrual.optionalInt64("replayed_points") {
            // The same reversal id again: its first reply, whatever was reversed since.
            let replayed = try bonuses.reduce(replayedBase) { $0 + (try $1.int64("replayed")) }
            guard request.points == nil || request.points == replayed else {
                throw LoyaltyError.conflict("reversal id \(request.id ?? "") of \(txnID) was already used for \(replayed) points")
            }
            return ReversalReceipt(txnID: txnID, points: replayed, qualifying: try accrual.int64("replayed_qualifying"))
        }
        let shares = try bonuses.map { row in
            ReversalShare(key: try row.string("promotion_id"), total: try row.int64("granted"), reversed: try row.int64("reversed"))
        }
        let base = ReversalShare(key: "", total: try accrual.int64("points"), reversed: try accrual.int64("reversed_points"))
        let remaining = shares.reduce(base.remaining) { $0 + $1.remaining }
        let points = request.points ?? remaining
        guard points >= 0 else { throw LoyaltyError.invalid("points= must not be negative") }
        guard points <= remaining else {
            throw LoyaltyError.invalid("points=\(points) is more than the \(remaining) that remain on \(txnID)")
        }
        let taken = ReversalShare.split(points, base: base, bonuses: shares)
        let totalQualifying = try accrual.int64("qualifying")
        let remainingQualifying = totalQualifying - (try accrual.int64("reversed_qualifying"))
        // Qualifying points go back with the accrual's own points; the last reversal takes whatever remains.
        let qualifying = taken.base == base.remaining || base.total == 0 ? remainingQualifying
            : min(remainingQualifying, base.total.dividingFullWidth(totalQualifying.multipliedFullWidth(by: taken.base)).quotient)
        guard points > 0 || qualifying > 0 else { return ReversalReceipt(txnID: txnID, points: 0, qualifying: 0) }
        let activityText = try accrual.string("activity_date")
        let returned = taken.bonuses.filter { $0.points > 0 }
        _ = try conn.query("""
            WITH entry AS (
                INSERT INTO ledger_entries (member_number, kind, points, qualifying, activity_date, source, reference, partner_code,
                                            reversal_id)
                VALUES ($1, 'reversal', -$2::bigint, -$3::bigint, $4, $5, $6, $5, $10)
            ), bonus AS (
                INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference, partner_code, promotion_id,
                                            reversal_id)
                SELECT $1, 'promotion_reversal', -s.points, $4, $5, $6, $5, s.promotion_id, $10
                FROM unnest(string_to_array($7, chr(10)), string_to_array($8, chr(10))::bigint[]) AS s(promotion_id, points)
            ), months AS (
                UPDATE qualifying_months SET qualifying = qualifying - $3
                WHERE member_number = $1 AND month = date_trunc('month', $4::date)::date AND $3::bigint <> 0
            )
            UPDATE members SET balance = balance - $9 WHERE member_number = $1
            """, [member, String(taken.base), String(qualifying), activityText, partnerCode, txnID,
                  returned.map(\.promotionID).joined(separator: "\n"), returned.map { String($0.points) }.joined(separator: "\n"),
                  String(points), request.id])
        try PromotionAllowances.giveBack(conn, member: member, returned)
        if qualifying != 0, let activity = LocalDate(activityText) {
            try TierKeeper.requalify(conn, program: program, member: member, activityDate: activity)
            try TierKeeper.refresh(conn, program: program, member: member, today: today,
                                   reason: "reversal \(partnerCode)/\(txnID)")
        }
        return ReversalReceipt(txnID: txnID, points: points, qualifying: qualifying)
    }
}

/// One part of what an accrual credited (its own points, or one promotion's bonus) and how much
/// of it reversals have taken back.
struct ReversalShare {
    var key: String
    var total: Int64
    var reversed: Int64
    var remaining: Int64 { total - reversed }

    /// Splits `points` (at most what remains in all) over the accrual's own points and its
    /// bonuses in proportion to what each credited, rounding bonuses down; the accrual's own
    /// points take the rest, and when they have less left than that, the bonuses give more.
    static func split(_ points: Int64, base: ReversalShare, bonuses: [ReversalShare]) -> (base: Int64, bonuses: [PromotionGrant]) {
        let credited = bonuses.reduce(base.total) { $0 + $1.total }
        var takes = bonuses.map { share in
            credited == 0 ? 0 : min(share.remaining, credited.dividingFullWidth(share.total.multipliedFullWidth(by: points)).quotient)
        }
        var baseTake = points - takes.reduce(0, +)
        var excess = max(0, baseTake - base.remaining)
        baseTake -= excess
        for index in takes.indices where excess > 0 {
            let more = min(excess, bonuses[index].remaining - takes[index])
            takes[index] += more
            excess -= more
        }
        return (baseTake, zip(bonuses, takes).map { PromotionGrant(promotionID: $0.key, points: $1) })
    }
}

/// What "the same content" means for a txn-id: the member and the canonical accrual fields
/// (`AccrualInput.fingerprint`), as an accrual's ledger entry keeps them.
struct AccrualContent: Equatable {
    var member: String
    var fingerprint: String

    init(member: String, fingerprint: String) {
        self.member = member
        self.fingerprint = fingerprint
    }

    /// From a row with the entry's `member_number` and `fingerprint`.
    init(_ row: Row) throws {
        self.init(member: try row.string("member_number"), fingerprint: try row.string("fingerprint"))
    }
}
