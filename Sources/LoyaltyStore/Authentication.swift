import LoyaltyCore
import Postgres

extension LoyaltyStore {
    /// Signs a principal in from `AUTH principal secret`: a partner code, `agent:NAME` or
    /// `member:NUMBER`. Every failure is the same WRONGPASS, whichever part was wrong.
    public func authenticate(principal: String, secret: String) throws(LoyaltyError) -> Principal {
        let signedIn: Principal?
        if principal.hasPrefix("agent:") {
            signedIn = try authenticateAgent(name: String(principal.dropFirst(6)), secret: secret)
        } else if principal.hasPrefix("member:") {
            signedIn = try authenticateMember(number: String(principal.dropFirst(7)), pin: secret)
        } else {
            signedIn = try authenticatePartner(code: principal, secret: secret)
        }
        guard let signedIn else { throw LoyaltyError(.wrongPass, "invalid principal or secret") }
        return signedIn
    }

    private func authenticatePartner(code: String, secret: String) throws(LoyaltyError) -> Principal? {
        try read { conn in
            let row = try conn.query("""
                SELECT p.category, k.key_sha256, encode(digest($2::text, 'sha256'), 'hex') AS presented
                FROM partners p JOIN partner_keys k ON k.partner_code = p.code AND k.revoked_at IS NULL
                WHERE p.code = $1 AND p.active
                """, [code, secret]).first
            guard let row, Secrets.constantTimeEqual(try row.string("key_sha256"), try row.string("presented")),
                  let category = PartnerCategory(rawValue: try row.string("category")) else { return nil }
            return .partner(code: code, category: category)
        }
    }

    private func authenticateAgent(name: String, secret: String) throws(LoyaltyError) -> Principal? {
        try read { conn in
            let row = try conn.query("""
                SELECT secret_sha256, encode(digest($2::text, 'sha256'), 'hex') AS presented
                FROM agents WHERE name = $1 AND active
                """, [name, secret]).first
            guard let row, Secrets.constantTimeEqual(try row.string("secret_sha256"), try row.string("presented")) else { return nil }
            return .agent(name: name)
        }
    }

    /// PINs: bcrypt, and after `pinFailuresMax` wrong ones within `pinLockSeconds` the sign-in
    /// is locked for `pinLockSeconds`. An unknown member costs the same bcrypt as a known one.
    private func authenticateMember(number: String, pin: String) throws(LoyaltyError) -> Principal? {
        try write { conn in try Self.checkPIN(conn, number: number, pin: pin, limits: limits) } ? .member(number: number) : nil
    }

    /// Changes a member's PIN given its current one (`PIN`). A wrong current PIN counts toward the
    /// sign-in lockout like a wrong sign-in, and a locked member cannot change it.
    public func changePIN(number: String, current: String, new: String, actor: Principal) throws(LoyaltyError) {
        try MemberProfile.validatePIN(new)
        // The wrong try is committed before the refusal, so it counts.
        let changed = try write { conn in
            guard try Self.checkPIN(conn, number: number, pin: current, limits: limits) else { return false }
            try MemberProfile.setPIN(conn, number: number, pin: new)
            try Audit.record(conn, actor: actor, action: "member.change-pin", member: number)
            return true
        }
        guard changed else { throw LoyaltyError(.wrongPass, "wrong PIN") }
    }

    /// Whether `pin` is the active member's PIN, inside the caller's transaction: a right one clears
    /// the wrong-PIN count, a wrong one adds to it and may lock sign-in; `.locked` while locked.
    static func checkPIN(_ conn: Connection, number: String, pin: String, limits: StoreLimits) throws -> Bool {
        let row = try conn.query("""
            SELECT pin_hash, crypt($2, pin_hash) AS presented, locked_until > now() AS locked
            FROM members WHERE member_number = $1 AND status = 'active' AND pin_hash IS NOT NULL FOR UPDATE
            """, [number, pin]).first
        guard let row, let stored = row["pin_hash"] else {
            _ = try conn.query("SELECT crypt($1, gen_salt('bf', 8))", [pin])
            return false
        }
        if row["locked"] == "t" { throw LoyaltyError(.locked, "sign-in locked after repeated wrong PINs; try again later") }
        if Secrets.constantTimeEqual(stored, try row.string("presented")) {
            _ = try conn.query("DELETE FROM member_signin_failures WHERE member_number = $1", [number])
            return true
        }
        let failures = try conn.query("""
            WITH f AS (INSERT INTO member_signin_failures (member_number) VALUES ($1))
            SELECT count(*) + 1 AS failures FROM member_signin_failures
            WHERE member_number = $1 AND failed_at > now() - make_interval(secs => $2)
            """, [number, String(limits.pinLockSeconds)]).first?.int64("failures") ?? 0
        if failures >= limits.pinFailuresMax {
            _ = try conn.query("""
                UPDATE members SET locked_until = now() + make_interval(secs => $2) WHERE member_number = $1
                """, [number, String(limits.pinLockSeconds)])
            _ = try conn.query("DELETE FROM member_signin_failures WHERE member_number = $1", [number])
        }
        return false
    }
}
