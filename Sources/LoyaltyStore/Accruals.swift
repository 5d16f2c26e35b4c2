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
        let program = try program()
        let today = try today()
        return try write { conn in
            try Self.applyAccrual(conn, program: program, today: today, partner: partner, txnID: txnID,
                                  member: member, input: input, batchID: nil)
        }
    }

    /// Takes back `points` (default: all that remains) of a partner's accrual, with its share of
    /// qualifying points; once per `id` when one is given.
    public func reverse(partner: Principal, txnID: String, points: Int64?, id: String? = nil) throws(LoyaltyError) -> ReversalReceipt {
        let program = try program()
        let today = try today()
        return try write { conn in
            try Self.applyReversal(conn, program: program, today: today, partner: partner, txnID: txnID,
                                   request: ReversalRequest(points: points, id: id))
        }
    }

    static func applyAccrual(_ conn: Connection, program: Program, today: LocalDate, partner: Principal, txnID: String,
                             member: String, input: AccrualInput, batchID: String?) throws -> AccrualReceipt {
        guard case .partner(let partnerCode, let category) = partner else {
            throw LoyaltyError.noPermission("only partners accrue")
        }
        guard Identifiers.isClientID(txnID) else { throw LoyaltyError.invalid("txn-id must be 1-64 printable ASCII, no spaces") }
        guard Identifiers.isMemberNumber(member) else { throw LoyaltyError.invalid("malformed member number") }
        let content = AccrualContent(member: member, fingerprint: input.fingerprint)
        if let earlier = try conn.query("""
            SELECT member_number, fingerprint, points, qualifying FROM ledger_entries
            WHERE kind = 'accrual' AND partner_code = $1 AND reference = $2
            """, [partnerCode, txnID]).first {
            guard try AccrualContent(earlier) == content else {
                throw LoyaltyError.conflict("txn-id \(txnID) was already used with different content")
            }
            return AccrualReceipt(txnID: txnID, points: try earlier.int64("points"),
                                  qualifying: try earlier.int64("qualifying"), duplicate: true)
        }
        let locked = try LockedMember.lock(conn, member)
        let tier = program.tier(code: locked.tierCode) ?? program.baseTier
        let earned = try program.earn(category: category, input: input, tier: tier, today: today)
        let activity = input.activityDate.description
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
            UPDATE members SET balance = balance + $2, last_activity = greatest(last_activity, $4::date)
            WHERE member_number = $1
            """, [member, String(earned.points), String(earned.qualifying), activity, partnerCode, txnID,
                  input.amount.map { String($0.minorUnits) }, input.amount?.currency, content.fingerprint, batchID])
        if earned.qualifying != 0 {
            try TierKeeper.requalify(conn, program: program, member: member, activityDate: input.activityDate)
            try TierKeeper.refresh(conn, program: program, member: member, today: today,
                                   reason: "accrual \(partnerCode)/\(txnID)")
        }
        return AccrualReceipt(txnID: txnID, points: earned.points, qualifying: earned.qualifying, duplicate: false)
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
        if let replayed = try accrual.optionalInt64("replayed_points") {
            // The same reversal id again: its first reply, whatever was reversed since.
            guard request.points == nil || request.points == replayed else {
                throw LoyaltyError.conflict("reversal id \(request.id ?? "") of \(txnID) was already used for \(replayed) points")
            }
            return ReversalReceipt(txnID: txnID, points: replayed, qualifying: try accrual.int64("replayed_qualifying"))
        }
        let total = try accrual.int64("points"), totalQualifying = try accrual.int64("qualifying")
        let remaining = total - (try accrual.int64("reversed_points"))
        let remainingQualifying = totalQualifying - (try accrual.int64("reversed_qualifying"))
        let points = request.points ?? remaining
        guard points >= 0 else { throw LoyaltyError.invalid("points= must not be negative") }
        guard points <= remaining else {
            throw LoyaltyError.invalid("points=\(points) is more than the \(remaining) that remain on \(txnID)")
        }
        // Qualifying points go back in proportion; the last reversal takes whatever remains.
        let qualifying = points == remaining || total == 0 ? remainingQualifying
            : min(remainingQualifying, total.dividingFullWidth(totalQualifying.multipliedFullWidth(by: points)).quotient)
        guard points > 0 || qualifying > 0 else { return ReversalReceipt(txnID: txnID, points: 0, qualifying: 0) }
        let activityText = try accrual.string("activity_date")
        _ = try conn.query("""
            WITH entry AS (
                INSERT INTO ledger_entries (member_number, kind, points, qualifying, activity_date, source, reference, partner_code,
                                            reversal_id)
                VALUES ($1, 'reversal', -$2::bigint, -$3::bigint, $4, $5, $6, $5, $7)
            ), months AS (
                UPDATE qualifying_months SET qualifying = qualifying - $3
                WHERE member_number = $1 AND month = date_trunc('month', $4::date)::date AND $3::bigint <> 0
            )
            UPDATE members SET balance = balance - $2 WHERE member_number = $1
            """, [member, String(points), String(qualifying), activityText, partnerCode, txnID, request.id])
        if qualifying != 0, let activity = LocalDate(activityText) {
            try TierKeeper.requalify(conn, program: program, member: member, activityDate: activity)
            try TierKeeper.refresh(conn, program: program, member: member, today: today,
                                   reason: "reversal \(partnerCode)/\(txnID)")
        }
        return ReversalReceipt(txnID: txnID, points: points, qualifying: qualifying)
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
