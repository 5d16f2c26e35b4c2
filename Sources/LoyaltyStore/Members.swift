import LoyaltyCore
import Postgres

/// What `MEMBER` shows.
public struct MemberSummary: Sendable, Equatable {
    public var number: String
    public var name: String
    public var email: String
    public var status: String
    public var tier: TierDefinition
    public var tierUntil: LocalDate?
    public var balance: Int64
    public var available: Int64
    public var held: Int64
    public var qualifying: Int64
    public var periodEnd: LocalDate
    public var nextTier: TierDefinition?
    public var toNextTier: Int64?
    public var lastActivity: LocalDate?
    /// Points that expire next under the program's policy, and when (nil when nothing is due).
    public var expiringPoints: Int64?
    public var expiringOn: LocalDate?
}

/// One STATEMENT line.
public struct StatementEntry: Sendable, Equatable {
    public var entryID: Int64
    public var postedAt: String
    public var kind: String
    public var points: Int64
    public var qualifying: Int64
    public var source: String
    public var reference: String
}

/// One STATEMENT's entries, newest first, as libpq holds them (binary form): read without a copy
/// or an allocation per value. Valid only inside the closure given it
/// (`LoyaltyStore.statement(number:limit:before:reading:)`).
public struct StatementRows: ~Copyable {
    private let view: ResultView
    public let count: Int

    init(_ view: consuming ResultView) {
        count = view.rowCount
        self.view = view
    }

    // The statement query's columns, in its order.
    public func entryID(_ entry: Int) -> Int64 { integer(entry, 0) }
    public func postedAt(_ entry: Int) -> Instant { Instant(microsecondsSincePostgresEpoch: integer(entry, 1)) }
    /// The text columns' UTF-8 bytes, valid no longer than the rows.
    public func kind(_ entry: Int) -> UnsafeBufferPointer<UInt8> { text(entry, 2) }
    public func points(_ entry: Int) -> Int64 { integer(entry, 3) }
    public func qualifying(_ entry: Int) -> Int64 { integer(entry, 4) }
    public func source(_ entry: Int) -> UnsafeBufferPointer<UInt8> { text(entry, 5) }
    public func reference(_ entry: Int) -> UnsafeBufferPointer<UInt8> { text(entry, 6) }

    /// One entry as a value, for callers that keep it.
    public func entry(_ index: Int) -> StatementEntry {
        func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
        return StatementEntry(entryID: entryID(index), postedAt: postedAt(index).rfc3339, kind: string(kind(index)),
                              points: points(index), qualifying: qualifying(index), source: string(source(index)),
                              reference: string(reference(index)))
    }

    private func integer(_ entry: Int, _ column: Int) -> Int64 {
        precondition(entry < count, "entry \(entry) of \(count)")
        return view.int64(row: entry, column: column)
    }

    private func text(_ entry: Int, _ column: Int) -> UnsafeBufferPointer<UInt8> {
        precondition(entry < count, "entry \(entry) of \(count)")
        return view.bytes(row: entry, column: column)
    }
}

/// A member row as the write paths need it, read under the member's row lock.
struct LockedMember {
    var number: String
    var status: String
    var balance: Int64
    var held: Int64
    var tierCode: String
    var available: Int64 { balance - held }

    /// Spending never takes available points below zero.
    func require(_ points: Int64) throws {
        guard available >= points else { throw LoyaltyError.insufficient("\(points) needed, \(available) available") }
    }

    /// Locks the member's row for the rest of the transaction: every change to a member's points
    /// goes through this lock, which is what makes overdraft impossible under races.
    static func lock(_ conn: Connection, _ number: String, mustBeActive: Bool = true) throws -> LockedMember {
        let results = try conn.pipeline(lockStatements(number))
        let member = try locked(number, results[...])
        if mustBeActive { try member.requireActive() }
        return member
    }

    /// The lock and the sum of holds, to run in this order, in one round trip (`Connection.pipeline`).
    /// The holds are summed in a statement of their own, after the lock: a statement sees what was
    /// committed when it started, so one that waited for the lock would miss holds made by whoever held it.
    static func lockStatements(_ number: String) -> [(sql: String, parameters: [String?])] {
        [("SELECT status, balance, tier_code FROM members WHERE member_number = $1 FOR UPDATE", [number]),
         ("""
          SELECT coalesce(sum(points), 0) AS held FROM holds
          WHERE member_number = $1 AND status = 'active' AND expires_at > now()
          """, [number])]
    }

    /// The member from the results of its `lockStatements`.
    static func locked(_ number: String, _ results: ArraySlice<QueryResult>) throws -> LockedMember {
        guard let row = results[results.startIndex].first else { throw LoyaltyError.notFound("no member \(number)") }
        let held = try results[results.startIndex + 1].first?.int64("held") ?? 0
        return LockedMember(number: number, status: try row.string("status"), balance: try row.int64("balance"),
                            held: held, tierCode: try row.string("tier_code"))
    }

    /// Closed and merged accounts neither earn nor spend.
    func requireActive() throws(LoyaltyError) {
        guard status == "active" else { throw .closed("member \(number) is \(status)") }
    }
}

extension LoyaltyStore {
    public func enroll(number: String, name: String = "", email: String = "", actor: Principal) throws(LoyaltyError) {
        guard Identifiers.isMemberNumber(number) else { throw .invalid("member number must be 1-32 of A-Z a-z 0-9 _ -") }
        try MemberProfile.validate(name: name, email: email, limits: limits)
        let base = try program().baseTier.code
        try write { conn in
            let inserted = try conn.query("""
                INSERT INTO members (member_number, name, email, tier_code) VALUES ($1, $2, $3, $4)
                ON CONFLICT (member_number) DO NOTHING
                """, [number, name, email, base]).affectedRows
            guard inserted == 1 else { throw LoyaltyError.conflict("member \(number) exists") }
            try Audit.record(conn, actor: actor, action: "member.enroll", member: number)
        }
    }

    /// Points available to redeem: the balance less active holds, as the read pool sees it (so
    /// for display; REDEEM and HOLD decide on the primary under the row lock). Concurrent calls share one query.
    public func available(number: String) throws(LoyaltyError) -> Int64 {
        try availableOutcome(number, Result { try availableReader.read(number) }).get()
    }

    /// `available(number:)` without waiting: `completion` gets the answer, on this thread or on
    /// the thread that ran the combined query (see `ReadCombiner.submit`).
    public func available(number: String, completion: @escaping @Sendable (Result<Int64, LoyaltyError>) -> Void) {
        availableReader.submit(number) { [self] result in completion(availableOutcome(number, result)) }
    }

    private func availableOutcome(_ number: String, _ result: Result<Int64?, any Error>) -> Result<Int64, LoyaltyError> {
        switch result {
        case .success(let value?): return .success(value)
        case .success(nil): return .failure(.notFound("no member \(number)"))
        case .failure(let error): return .failure(domainError(error))
        }
    }

    public func member(number: String) throws(LoyaltyError) -> MemberSummary {
        let program = try program()
        let today = try today()
        let period = program.period(containing: today)
        return try staleRead { conn in
            guard let row = try conn.query("""
                SELECT m.name, m.email, m.status, m.tier_code, m.tier_until::text, m.balance, m.last_activity::text,
                       coalesce((SELECT sum(points) FROM holds h WHERE h.member_number = m.member_number
                                 AND h.status = 'active' AND h.expires_at > now()), 0) AS held,
                       coalesce((SELECT sum(qualifying) FROM qualifying_months q WHERE q.member_number = m.member_number
                                 AND q.month BETWEEN date_trunc('month', $2::date) AND $3::date), 0) AS qualifying
                FROM members m WHERE m.member_number = $1
                """, [number, period.lowerBound.description, period.upperBound.description]).first else {
                throw LoyaltyError.notFound("no member \(number)")
            }
            let tier = program.tier(code: try row.string("tier_code")) ?? program.baseTier
            let qualifying = try row.int64("qualifying")
            let next = program.nextTier(after: tier)
            let balance = try row.int64("balance"), held = try row.int64("held")
            let lastActivity = row["last_activity"].flatMap(LocalDate.init)
            var summary = MemberSummary(
                number: number, name: try row.string("name"), email: try row.string("email"), status: try row.string("status"),
                tier: tier, tierUntil: row["tier_until"].flatMap(LocalDate.init), balance: balance, available: balance - held,
                held: held, qualifying: qualifying, periodEnd: period.upperBound, nextTier: next,
                toNextTier: next.map { max(0, $0.qualifyingThreshold - qualifying) }, lastActivity: lastActivity)
            (summary.expiringPoints, summary.expiringOn) = try Expiry.nextExpiry(conn, program: program, member: number,
                                                                                   tier: tier, balance: balance, lastActivity: lastActivity)
            return summary
        }
    }

    /// Ledger entries, newest first.
    public func statement(number: String, limit: Int?, before: Int64?) throws(LoyaltyError) -> [StatementEntry] {
        try statement(number: number, limit: limit, before: before) { rows in
            var entries: [StatementEntry] = []
            for index in 0..<rows.count { entries.append(rows.entry(index)) }
            return entries
        }
    }

    /// Ledger entries, newest first, handed to `body` as the database sent them (no copy per
    /// value): STATEMENT writes its reply of up to a thousand entries straight from them.
    public func statement<T>(number: String, limit: Int?, before: Int64?,
                             reading body: (borrowing StatementRows) throws -> T) throws(LoyaltyError) -> T {
        let limit = limit ?? limits.statementLimitDefault
        guard (1...limits.statementLimitMax).contains(limit) else {
            throw .invalid("LIMIT must be 1-\(limits.statementLimitMax)")
        }
        return try staleRead { conn in
            // The member's entries alone, so that the index's order is the reply's (no sort): only an
            // empty page takes a second round trip, to tell a member without entries from no member.
            // Binary: the server sends integers and the timestamp without formatting them (a third of
            // its work for a 1,000-entry page); `Instant` writes the timestamp as to_char would.
            try conn.query("""
                SELECT entry_id, posted_at, kind, points, qualifying, source, reference
                FROM ledger_entries WHERE member_number = $1 AND entry_id < $2 ORDER BY entry_id DESC LIMIT $3
                """, [number, String(before ?? Int64.max), String(limit)], binary: true) { view in
                if view.rowCount == 0, try conn.query("SELECT 1 FROM members WHERE member_number = $1", [number]).count == 0 {
                    throw LoyaltyError.notFound("no member \(number)")
                }
                return try body(StatementRows(view))
            }
        }
    }

    public func closeMember(number: String, reason: String, actor: Principal) throws(LoyaltyError) {
        guard !reason.isEmpty else { throw .invalid("a reason is required") }
        try write { conn in
            _ = try LockedMember.lock(conn, number)
            _ = try conn.query("""
                WITH closed AS (UPDATE members SET status = 'closed' WHERE member_number = $1)
                \(EventKind.memberClosed.insert(member: "$1", payload: "jsonb_build_object('erased', false)"))
                """, [number])
            conn.announceEvents()
            try Audit.record(conn, actor: actor, action: "member.close", member: number, reason: reason)
        }
    }

    /// Sets the member's PIN (4-12 digits), kept only as a bcrypt hash; clears a sign-in lock and the wrong-PIN count.
    public func setPIN(number: String, pin: String, actor: Principal) throws(LoyaltyError) {
        try updateMember(number: number, MemberUpdate(pin: pin), actor: actor)
    }

    /// Changes a member's name, email and PIN in one step (`MEMBER number name=..`, `member set`),
    /// audited as `member.update` with the fields changed (never the PIN's value) and, for a PIN,
    /// as `member.set-pin`.
    public func updateMember(number: String, _ update: MemberUpdate, actor: Principal) throws(LoyaltyError) {
        guard update.name != nil || update.email != nil || update.pin != nil else { throw .invalid("nothing to change") }
        try MemberProfile.validate(name: update.name, email: update.email, limits: limits)
        if let pin = update.pin { try MemberProfile.validatePIN(pin) }
        try write { conn in
            _ = try LockedMember.lock(conn, number)
            if update.name != nil || update.email != nil {
                _ = try conn.query("UPDATE members SET name = coalesce($2, name), email = coalesce($3, email) WHERE member_number = $1",
                                   [number, update.name, update.email])
                let fields = [update.name.map { ("name", $0) }, update.email.map { ("email", $0) }].compactMap { $0 }
                try Audit.record(conn, actor: actor, action: "member.update", member: number,
                                 details: Dictionary(uniqueKeysWithValues: fields))
            }
            if let pin = update.pin {
                try MemberProfile.setPIN(conn, number: number, pin: pin)
                try Audit.record(conn, actor: actor, action: "member.set-pin", member: number)
            }
        }
    }
}

/// What `updateMember` changes; nil leaves a field as it is.
public struct MemberUpdate: Sendable, Equatable {
    public var name: String?
    public var email: String?
    public var pin: String?

    public init(name: String? = nil, email: String? = nil, pin: String? = nil) {
        self.name = name
        self.email = email
        self.pin = pin
    }
}

/// A member's name, email and PIN: the rules they follow and how a PIN is kept.
enum MemberProfile {
    /// PINs are 4-12 ASCII digits.
    static let pinLengths = 4...12

    static func validatePIN(_ pin: String) throws(LoyaltyError) {
        guard pinLengths.contains(pin.utf8.count), pin.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw .invalid("a PIN is \(pinLengths.lowerBound)-\(pinLengths.upperBound) digits")
        }
    }

    /// Names and emails are shown to agents and in reports: bounded, without control characters;
    /// an email, unless empty (none), has one `@` with text on both sides.
    static func validate(name: String?, email: String?, limits: StoreLimits) throws(LoyaltyError) {
        for (field, value, bytesMax) in [("name", name, limits.memberNameBytesMax), ("email", email, limits.memberEmailBytesMax)] {
            guard let value else { continue }
            guard value.utf8.count <= bytesMax else { throw .invalid("\(field) is longer than \(bytesMax) bytes") }
            guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw .invalid("\(field) contains a control character")
            }
        }
        if let email, !email.isEmpty {
            let parts = email.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw .invalid("email must look like name@example.com") }
        }
    }

    /// Kept only as a bcrypt hash; a new PIN clears a sign-in lock and gets the full allowance of
    /// wrong tries (earlier failures were against the old one).
    static func setPIN(_ conn: Connection, number: String, pin: String) throws {
        _ = try conn.query("""
            UPDATE members SET pin_hash = crypt($2, gen_salt('bf', 8)), locked_until = NULL WHERE member_number = $1
            """, [number, pin])
        _ = try conn.query("DELETE FROM member_signin_failures WHERE member_number = $1", [number])
    }
}

/// BALANCE's combined rounds on one connection: one query for many members' available points.
final class AvailableRounds: CombinedRounds {
    private let conn: Connection
    private var sent: SentQuery?

    init(_ conn: Connection) {
        self.conn = conn
    }

    func send(_ numbers: [String]) throws {
        precondition(sent == nil, "a round is already in flight")
        // Member numbers are validated to [A-Za-z0-9_-], so they need no quoting inside an array literal.
        let list = "{" + numbers.filter(Identifiers.isMemberNumber).joined(separator: ",") + "}"
        sent = try conn.send("""
            SELECT m.member_number, m.balance - coalesce(h.held, 0) AS available
            FROM members m
            LEFT JOIN (SELECT member_number, sum(points) AS held FROM holds
                       WHERE member_number = ANY($1::text[]) AND status = 'active' AND expires_at > now()
                       GROUP BY member_number) h USING (member_number)
            WHERE m.member_number = ANY($1::text[])
            """, [list])
    }

    func receive() throws -> [String: Int64] {
        guard let sent = sent.take() else { preconditionFailure("no round in flight") }
        let result = try conn.receive(sent)
        var values: [String: Int64] = [:]
        let number = result.column("member_number"), available = result.column("available")
        for row in result.rows {
            values[try row.string(number)] = try row.int64(available)
        }
        return values
    }
}
