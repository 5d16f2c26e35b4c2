import LoyaltyCore
import Postgres

/// The reply to REDEEM, CAPTURE, CANCEL and TRANSFER: `[id, points, available_after]`.
public struct SpendReceipt: Sendable, Equatable {
    public var id: String
    public var points: Int64
    public var availableAfter: Int64
}

/// The reply to HOLD: `[hold-id, points, expires_at]`.
public struct HoldReceipt: Sendable, Equatable {
    public var holdID: String
    public var points: Int64
    public var expiresAt: String
}

public enum RedemptionTarget: Sendable, Equatable {
    case reward(code: String, quantity: Int)
    case points(Int64)
}

/// Client request-ids: a replay with the same content gets the stored reply, other content is a conflict.
enum RequestLog {
    struct Stored { var id: String; var points: Int64; var third: String }

    /// The look-up of an earlier request with this id, and the id a new one would get (a replay
    /// leaves a gap in the sequence): one statement; `replay(from:)` and `newID(from:)` read its row.
    static func replayStatement(principal: Principal, requestID: String) -> (sql: String, parameters: [String?]) {
        ("""
         SELECT nextval('spend_id_seq') AS new_id, r.fingerprint, r.reply->>0 AS id, r.reply->>1 AS points, r.reply->>2 AS third
         FROM (VALUES (1)) AS one (n) LEFT JOIN requests r ON r.principal = $1 AND r.request_id = $2
         """, [principal.description, requestID])
    }

    static func newID(from result: QueryResult) throws -> String { String(try result.first?.int64("new_id") ?? 0) }

    /// The stored reply of an earlier request with the same content, nil for a new request-id.
    static func replay(from result: QueryResult, requestID: String, fingerprint: String) throws -> Stored? {
        guard let row = result.first, row["fingerprint"] != nil else { return nil }
        guard try row.string("fingerprint") == fingerprint else {
            throw LoyaltyError.conflict("request-id \(requestID) was already used with different content")
        }
        return Stored(id: try row.string("id"), points: try row.int64("points"), third: try row.string("third"))
    }

    /// Records the reply; the row goes in with the COMMIT, in the same round trip.
    static func store(_ conn: Connection, principal: Principal, requestID: String, command: String, fingerprint: String,
                      member: String, reply: Stored) {
        conn.executeBeforeCommit("""
            INSERT INTO requests (principal, request_id, command, fingerprint, member_number, result_id, reply)
            VALUES ($1, $2, $3, $4, $5, $6, jsonb_build_array($6::text, $7::bigint, $8::text))
            """, [principal.description, requestID, command, fingerprint, member, reply.id, String(reply.points), reply.third])
    }

    static func validate(_ requestID: String) throws {
        guard Identifiers.isClientID(requestID) else { throw LoyaltyError.invalid("request-id must be 1-64 printable ASCII, no spaces") }
    }
}

extension LoyaltyStore {
    /// Spends a member's points on a reward or as a plain debit; never below zero available.
    public func redeem(principal: Principal, requestID: String, member: String,
                       target: RedemptionTarget) throws(LoyaltyError) -> SpendReceipt {
        let program = try program()
        let today = try today()
        // The fingerprint names a reward and its quantity, or the points of a plain debit.
        let (rewardCode, quantity, counted): (String?, Int, Int64)
        switch target {
        case .reward(let code, let qty):
            guard (1...limits.redeemQuantityMax).contains(qty) else { throw .invalid("quantity must be 1-\(limits.redeemQuantityMax)") }
            (rewardCode, quantity, counted) = (program.reward(code: code)?.code ?? code, qty, Int64(qty))
        case .points(let n):
            guard n > 0 else { throw .invalid("points must be positive") }
            (rewardCode, quantity, counted) = (nil, 1, n)
        }
        let fingerprint = "REDEEM|\(member)|\(rewardCode ?? "POINTS")|\(counted)"
        // Stock is taken in the same round trip as the locks; a replay takes none.
        let stock = rewardCode.map { StockTaking.takeStatement(code: $0, quantity: quantity, principal: principal, requestID: requestID) }
        // The reward is looked up after the replay check: a resend gets its stored reply even
        // when the reward has left the catalog or been retired since.
        return try spend(principal: principal, requestID: requestID, member: member, command: "REDEEM",
                         fingerprint: fingerprint, idPrefix: "RD", alsoRun: stock) { conn, locked, id, stockResult in
            var points: Int64 = 0, stockTaken = 0
            switch target {
            case .reward(let code, let qty):
                guard let reward = program.reward(code: code) else { throw LoyaltyError.notFound("no reward \(code)") }
                guard let stockResult else { preconditionFailure("a reward's REDEEM runs the stock statement") }
                stockTaken = try StockTaking.taken(from: stockResult, reward: reward, quantity: qty)
                points = reward.points(forTier: locked.tierCode) * Int64(qty)
            case .points(let n): points = n
            }
            try locked.require(points)
            // Nothing in the reply comes from these writes, so they go with the COMMIT: a REDEEM is
            // two round trips, the locks and look-ups, then the writes and the COMMIT.
            conn.executeBeforeCommit("""
                WITH r AS (
                    INSERT INTO redemptions (member_number, redemption_id, reward_code, quantity, points, principal, stock_taken)
                    VALUES ($1, $2, $3, $4, $5, $6, $8)
                ), e AS (
                    INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference)
                    VALUES ($1, 'redemption', -$5::bigint, $7, $6, $2)
                ), v AS (
                    \(EventKind.redemptionMade.insert(member: "$1", payload: Self.redemptionPayload))
                )
                UPDATE members SET balance = balance - $5, last_activity = greatest(last_activity, $7::date) WHERE member_number = $1
                """, [member, id, rewardCode, String(quantity), String(points), principal.description, today.description,
                      String(stockTaken)])
            conn.announceEvents()
            return RequestLog.Stored(id: id, points: points, third: String(locked.available - points))
        }.receipt
    }

    /// Sets points aside for `ttlSeconds`; they lapse back to available on their own at expiry.
    public func hold(principal: Principal, requestID: String, member: String, points: Int64,
                     ttlSeconds: Int?) throws(LoyaltyError) -> HoldReceipt {
        let ttl = ttlSeconds ?? limits.holdTTLSecondsDefault
        guard points > 0 else { throw .invalid("points must be positive") }
        guard (1...limits.holdTTLSecondsMax).contains(ttl) else { throw .invalid("ttl-seconds must be 1-\(limits.holdTTLSecondsMax)") }
        // now() is the transaction's start, so the expiry read with the locks is the one the
        // insert stores; the insert then goes with the COMMIT: two round trips, as REDEEM.
        let expiry = "now() + make_interval(secs => $1)"
        let stored = try spend(principal: principal, requestID: requestID, member: member, command: "HOLD",
                               fingerprint: "HOLD|\(member)|\(points)|\(ttl)", idPrefix: "H",
                               alsoRun: ("SELECT to_char((\(expiry)) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS expires_at",
                                         [String(ttl)])) { conn, locked, id, expiryResult in
            try locked.require(points)
            conn.executeBeforeCommit("""
                INSERT INTO holds (member_number, hold_id, points, expires_at, principal)
                VALUES ($2, $3, $4, \(expiry), $5)
                """, [String(ttl), member, id, String(points), principal.description])
            return RequestLog.Stored(id: id, points: points, third: try expiryResult?.first?.string("expires_at") ?? "")
        }
        return HoldReceipt(holdID: stored.id, points: stored.points, expiresAt: stored.third)
    }

    /// Turns an active hold into a redemption: all of it, or a reward's points (the rest is released).
    public func capture(principal: Principal, holdID: String, rewardCode: String?) throws(LoyaltyError) -> SpendReceipt {
        let program = try program()
        let today = try today()
        let reward = try rewardCode.map { code throws(LoyaltyError) in
            guard let reward = program.reward(code: code) else { throw .notFound("no reward \(code)") }
            return reward
        }
        return try write { conn in
            // The member's lock, its holds, the hold and a new id in one round trip (with the BEGIN).
            let results = try conn.pipeline(Self.lockHoldStatements(holdID) + [("SELECT nextval('spend_id_seq') AS id", [])])
            let (member, hold) = try Self.lockedHold(principal: principal, holdID: holdID, results[..<3])
            let status = try hold.string("status")
            if status == "captured", let done = try conn.query("""
                SELECT r.redemption_id, r.points, m.balance - coalesce((SELECT sum(points) FROM holds h
                    WHERE h.member_number = m.member_number AND h.status = 'active' AND h.expires_at > now()), 0) AS available
                FROM redemptions r JOIN members m USING (member_number)
                WHERE r.member_number = $1 AND r.hold_id = $2
                """, [member.number, holdID]).first {
                return SpendReceipt(id: try done.string("redemption_id"), points: try done.int64("points"),
                                    availableAfter: try done.int64("available"))
            }
            guard status == "active" else { throw LoyaltyError.invalid("hold \(holdID) is \(status)") }
            guard try hold.bool("live") else { throw LoyaltyError.invalid("hold \(holdID) has expired") }
            guard member.status == "active" else { throw LoyaltyError.closed("member \(member.number) is \(member.status)") }
            let held = try hold.int64("points")
            let points = reward.map { $0.points(forTier: member.tierCode) } ?? held
            guard points <= held else { throw LoyaltyError.insufficient("reward needs \(points), hold has \(held)") }
            let stockTaken = try reward.map { reward in
                let take = StockTaking.takeStatement(code: reward.code, quantity: 1, principal: nil, requestID: nil)
                return try StockTaking.taken(from: try conn.query(take.sql, take.parameters), reward: reward, quantity: 1)
            } ?? 0
            let id = "RD" + String(try results[3].first?.int64("id") ?? 0)
            // Nothing in the reply comes from these writes: they go with the COMMIT.
            conn.executeBeforeCommit("""
                WITH h AS (
                    UPDATE holds SET status = 'captured', closed_at = now() WHERE member_number = $1 AND hold_id = $2
                ), r AS (
                    INSERT INTO redemptions (member_number, redemption_id, reward_code, points, hold_id, principal, stock_taken)
                    VALUES ($1, $3, $4, $5, $2, $6, $8)
                ), e AS (
                    INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference)
                    VALUES ($1, 'hold_capture', -$5::bigint, $7, $6, $3)
                ), v AS (
                    \(EventKind.redemptionMade.insert(
                        member: "$1", payload: "jsonb_build_object('redemption', $3::text, 'reward', $4::text, 'quantity', 1, 'points', $5::bigint, 'hold', $2::text)"))
                )
                UPDATE members SET balance = balance - $5, last_activity = greatest(last_activity, $7::date) WHERE member_number = $1
                """, [member.number, holdID, id, reward?.code, String(points), principal.description, today.description,
                      String(stockTaken)])
            conn.announceEvents()
            // The hold no longer counts against available; the captured points now come off the balance.
            return SpendReceipt(id: id, points: points, availableAfter: member.available + held - points)
        }
    }

    /// The payload of a REDEEM's `redemption.made` event, over its write's parameters.
    private static let redemptionPayload =
        "jsonb_build_object('redemption', $2::text, 'reward', $3::text, 'quantity', $4::int, 'points', $5::bigint, 'hold', NULL::text)"

    /// Releases an active hold; releasing a released or lapsed hold again is harmless.
    public func release(principal: Principal, holdID: String) throws(LoyaltyError) {
        try write { conn in
            let (member, hold) = try Self.lockHold(conn, principal: principal, holdID: holdID)
            switch try hold.string("status") {
            case "captured": throw LoyaltyError.invalid("hold \(holdID) was captured; CANCEL the redemption instead")
            case "released": return
            default:
                _ = try conn.query("UPDATE holds SET status = 'released', closed_at = now() WHERE member_number = $1 AND hold_id = $2",
                                   [member.number, holdID])
            }
        }
    }

    /// Refunds a redemption; cancelling it again returns the same reply.
    public func cancel(principal: Principal, redemptionID: String) throws(LoyaltyError) -> SpendReceipt {
        let today = try today()
        return try write { conn in
            guard let owner = try conn.query("SELECT member_number FROM redemptions WHERE redemption_id = $1",
                                             [redemptionID]).first else {
                throw LoyaltyError.notFound("no redemption \(redemptionID)")
            }
            let number = try owner.string("member_number")
            guard principal.mayActOn(member: number) else { throw LoyaltyError.noPermission("another member's redemption") }
            let member = try LockedMember.lock(conn, number, mustBeActive: false)
            guard let redemption = try conn.query("""
                SELECT points, status, reward_code, stock_taken FROM redemptions WHERE member_number = $1 AND redemption_id = $2 FOR UPDATE
                """, [number, redemptionID]).first else { throw LoyaltyError.notFound("no redemption \(redemptionID)") }
            let points = try redemption.int64("points")
            if try redemption.string("status") == "cancelled" {
                return SpendReceipt(id: redemptionID, points: points, availableAfter: member.available)
            }
            _ = try conn.query("""
                WITH r AS (
                    UPDATE redemptions SET status = 'cancelled', cancelled_at = now() WHERE member_number = $1 AND redemption_id = $2
                ), e AS (
                    INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference)
                    VALUES ($1, 'refund', $3, $4, $5, $2)
                ), s AS (
                    -- The stock it took goes back, unless the reward has become unlimited since.
                    UPDATE rewards SET stock = stock + $6 WHERE code = $7 AND $6 > 0 AND stock IS NOT NULL
                ), v AS (
                    \(EventKind.redemptionCancelled.insert(
                        member: "$1", payload: "jsonb_build_object('redemption', $2::text, 'reward', $7::text, 'points_refunded', $3::bigint)"))
                )
                UPDATE members SET balance = balance + $3 WHERE member_number = $1
                """, [number, redemptionID, String(points), today.description, principal.description,
                      try redemption.string("stock_taken"), redemption["reward_code"]])
            conn.announceEvents()
            return SpendReceipt(id: redemptionID, points: points, availableAfter: member.available + points)
        }
    }

    /// Moves points between two active members; never below zero available for `from`.
    public func transfer(principal: Principal, requestID: String, from: String, to: String,
                         points: Int64) throws(LoyaltyError) -> SpendReceipt {
        let today = try today()
        guard points > 0 else { throw .invalid("points must be positive") }
        guard from != to else { throw .invalid("cannot transfer to the same member") }
        guard Identifiers.isMemberNumber(to) else { throw .invalid("malformed member number") }
        return try spend(principal: principal, requestID: requestID, member: from, command: "TRANSFER",
                         fingerprint: "TRANSFER|\(from)|\(to)|\(points)", idPrefix: "TR", alsoLock: to) { conn, locked, id, _ in
            try locked.require(points)
            try Self.postTransfer(conn, from: from, to: to, transferID: id, points: points, principal: principal, today: today)
            return RequestLog.Stored(id: id, points: points, third: String(locked.available - points))
        }.receipt
    }

    /// The transfer record, its two ledger entries and both balances; the caller holds both row locks.
    static func postTransfer(_ conn: Connection, from: String, to: String, transferID: String, points: Int64,
                             principal: Principal, today: LocalDate) throws {
        _ = try conn.query("""
            WITH t AS (
                INSERT INTO transfers (from_member, transfer_id, to_member, points, principal) VALUES ($1, $3, $2, $4, $5)
            ), e AS (
                INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference)
                VALUES ($1, 'transfer_out', -$4::bigint, $6, $5, $3), ($2, 'transfer_in', $4::bigint, $6, $5, $3)
            )
            UPDATE members SET balance = balance + CASE WHEN member_number = $1 THEN -$4::bigint ELSE $4::bigint END,
                               last_activity = greatest(last_activity, $6::date)
            WHERE member_number IN ($1, $2)
            """, [from, to, transferID, String(points), principal.description, today.description])
    }

    /// An admin's correction of a member's points, with its reason in the ledger and the audit trail.
    public func adjust(member: String, points: Int64, reason: String, actor: Principal) throws(LoyaltyError) -> Int64 {
        let today = try today()
        guard points != 0 else { throw .invalid("an adjustment must not be zero") }
        guard !reason.isEmpty else { throw .invalid("a reason is required") }
        return try write { conn in
            let locked = try LockedMember.lock(conn, member)
            if points < 0 { try locked.require(-points) }
            let reference = try Self.nextID(conn, prefix: "ADJ")
            _ = try conn.query("""
                WITH e AS (
                    INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference)
                    VALUES ($1, 'adjustment', $2, $3, $4, $5)
                )
                UPDATE members SET balance = balance + $2 WHERE member_number = $1
                """, [member, String(points), today.description, actor.description, reference])
            try Audit.record(conn, actor: actor, action: "points.adjust", member: member,
                             details: ["points": String(points), "reference": reference], reason: reason)
            return locked.balance + points
        }
    }

    // MARK: - Shared steps

    /// The frame of every request-id'd spend: check the id, lock the member (and a second one in a
    /// fixed order, so two transfers never deadlock), replay or apply with a new id `prefix`NNN,
    /// record the reply. Locks, holds, the replay look-up, the new id and `alsoRun` (whose result
    /// `apply` gets) take one round trip, the reply's record goes with the COMMIT.
    private func spend(principal: Principal, requestID: String, member: String, command: String, fingerprint: String,
                       idPrefix: String, alsoLock other: String? = nil, alsoRun extra: (sql: String, parameters: [String?])? = nil,
                       apply: @escaping (Connection, LockedMember, String, QueryResult?) throws -> RequestLog.Stored)
        throws(LoyaltyError) -> RequestLog.Stored {
        guard Identifiers.isClientID(requestID) else { throw .invalid("request-id must be 1-64 printable ASCII, no spaces") }
        guard Identifiers.isMemberNumber(member) else { throw .invalid("malformed member number") }
        guard principal.mayActOn(member: member) else { throw .noPermission("a member may act only on itself") }
        let numbers = [member, other].compactMap { $0 }.sorted()
        return try write { conn in
            let results = try conn.pipeline(numbers.flatMap(LockedMember.lockStatements)
                                            + [RequestLog.replayStatement(principal: principal, requestID: requestID)]
                                            + [extra].compactMap { $0 })
            let members = try numbers.enumerated().map { index, number in
                try LockedMember.locked(number, results[(2 * index)...])
            }
            // A replay gets its original reply even if an account was closed since; new work does not.
            if let stored = try RequestLog.replay(from: results[2 * numbers.count], requestID: requestID, fingerprint: fingerprint) {
                return stored
            }
            for locked in members { try locked.requireActive() }
            guard let locked = members.first(where: { $0.number == member }) else {
                throw LoyaltyError.notFound("no member \(member)")
            }
            let stored = try apply(conn, locked, idPrefix + (try RequestLog.newID(from: results[2 * numbers.count])),
                                   extra == nil ? nil : results[2 * numbers.count + 1])
            RequestLog.store(conn, principal: principal, requestID: requestID, command: command,
                             fingerprint: fingerprint, member: member, reply: stored)
            return stored
        }
    }

    /// Locks the hold's member and the hold; members may touch only their own holds.
    private static func lockHold(_ conn: Connection, principal: Principal, holdID: String) throws -> (LockedMember, Row) {
        try lockedHold(principal: principal, holdID: holdID, try conn.pipeline(lockHoldStatements(holdID))[...])
    }

    /// The hold owner's lock, its holds and the hold's row (locked), found by the hold-id alone,
    /// to run in one round trip. Another member's row may be locked for the moment it takes to
    /// refuse: the transaction then rolls back.
    private static func lockHoldStatements(_ holdID: String) -> [(sql: String, parameters: [String?])] {
        let owner = "(SELECT member_number FROM holds WHERE hold_id = $1)"
        return [("SELECT member_number, status, balance, tier_code FROM members WHERE member_number = \(owner) FOR UPDATE", [holdID]),
                ("""
                 SELECT coalesce(sum(points), 0) AS held FROM holds
                 WHERE member_number = \(owner) AND status = 'active' AND expires_at > now()
                 """, [holdID]),
                ("""
                 SELECT points, status, expires_at > now() AS live FROM holds WHERE member_number = \(owner) AND hold_id = $1 FOR UPDATE
                 """, [holdID])]
    }

    /// The member and hold from the results of `lockHoldStatements`, once the principal may act on them.
    private static func lockedHold(principal: Principal, holdID: String, _ results: ArraySlice<QueryResult>) throws -> (LockedMember, Row) {
        let first = results.startIndex
        guard let number = results[first].first?["member_number"], let hold = results[first + 2].first else {
            throw LoyaltyError.notFound("no hold \(holdID)")
        }
        guard principal.mayActOn(member: number) else { throw LoyaltyError.noPermission("another member's hold") }
        return (try LockedMember.locked(number, results[first...(first + 1)]), hold)
    }

    /// Server-chosen ids for redemptions, holds, transfers and adjustments.
    static func nextID(_ conn: Connection, prefix: String) throws -> String {
        let row = try conn.query("SELECT nextval('spend_id_seq') AS id").first
        return prefix + String(try row?.int64("id") ?? 0)
    }
}

extension RequestLog.Stored {
    var receipt: SpendReceipt { SpendReceipt(id: id, points: points, availableAfter: Int64(third) ?? 0) }
}
