import Foundation
import LoyaltyCore
import Postgres

/// The program in the database: every applied version of the document, and mirrors of the parts
/// that SQL needs (tier thresholds for reports, reward codes for redemptions).
enum ProgramRecords {
    /// Every version, and the generation they were read at.
    static func load(_ conn: Connection) throws -> (timeline: ProgramTimeline, generation: Int64) {
        let generation = try self.generation(conn)
        let versions = try conn.query("""
            SELECT version, effective_from::text AS effective_from, document::text AS document FROM program_versions ORDER BY version
            """).rows.map { row in
            ProgramVersion(version: try row.int("version"), effectiveFrom: try date(row.string("effective_from")),
                           program: try JSONDecoder().decode(Program.self, from: Data(try row.string("document").utf8)))
        }
        guard let timeline = ProgramTimeline(versions) else {
            throw LoyaltyError(.notFound, "no program is loaded; run `loyaltyctl demo load` or `loyaltyctl program apply`")
        }
        return (timeline, generation)
    }

    /// Appends `program` as the next version, effective from `effective`; audited. The caller has
    /// validated it. A version cannot take effect before the latest one does (history is never rewritten).
    static func append(_ conn: Connection, _ program: Program, effective: LocalDate, actor: Principal, reason: String,
                       action: String = "program.apply", details: [String: String] = [:]) throws -> Int {
        // The generation row's lock orders concurrent applies, so version numbers and dates agree.
        try announceChange(conn)
        let latest = try conn.query("SELECT version, effective_from::text AS effective_from FROM program_versions ORDER BY version DESC LIMIT 1").first
        if let latest, try date(latest.string("effective_from")) > effective {
            throw LoyaltyError.invalid("--effective \(effective) is before version \(try latest.int("version"))'s \(try latest.string("effective_from")); versions take effect in order")
        }
        let version = (try latest?.int("version") ?? 0) + 1
        let json = String(decoding: ProgramDocument.encode(program), as: UTF8.self)
        _ = try conn.query("""
            INSERT INTO program_versions (version, document, effective_from, actor, reason) VALUES ($1, $2::jsonb, $3, $4, $5)
            """, [String(version), json, effective.description, actor.description, reason])
        for tier in program.tiers {
            _ = try conn.query("""
                INSERT INTO tiers (code, name, rank, qualifying_threshold, bonus_percent) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, rank = EXCLUDED.rank,
                    qualifying_threshold = EXCLUDED.qualifying_threshold, bonus_percent = EXCLUDED.bonus_percent
                """, [tier.code, tier.name, String(tier.rank), String(tier.qualifyingThreshold), String(tier.bonusPercent)])
        }
        for reward in program.rewards {
            _ = try conn.query("""
                INSERT INTO rewards (code, points, description, active) VALUES ($1, $2, $3, $4)
                ON CONFLICT (code) DO UPDATE SET points = EXCLUDED.points, description = EXCLUDED.description, active = EXCLUDED.active
                """, [reward.code, String(reward.points), reward.description, reward.retired ? "false" : "true"])
        }
        try Audit.record(conn, actor: actor, action: action,
                         details: details.merging(["version": String(version), "effective": effective.description]) { $1 }, reason: reason)
        return version
    }

    /// The change counter `announceChange` moves.
    static func generation(_ conn: Connection) throws -> Int64 {
        try conn.query("SELECT generation FROM program_generation").first?.int64("generation") ?? 0
    }

    /// Moves the generation every running loyaltyd polls (`followProgramChanges`), in the caller's
    /// transaction: they reload once the change commits.
    static func announceChange(_ conn: Connection) throws {
        _ = try conn.query("UPDATE program_generation SET generation = generation + 1")
    }

    /// For tests: `program` replaces the rules for every date from the first version's effective date on.
    static func save(_ conn: Connection, _ program: Program) throws {
        try program.validate()
        let first = try conn.query("SELECT min(effective_from)::text AS d FROM program_versions").first?["d"]
        _ = try append(conn, program, effective: try first.map(date) ?? LocalDate(year: 2000, month: 1, day: 1)!,
                       actor: .admin(user: "test"), reason: "test program")
    }

    /// The partners that exist, for checking a document against them.
    static func context(_ conn: Connection) throws -> ProgramContext {
        var partners: [String: PartnerCategory] = [:]
        for row in try conn.query("SELECT code, category FROM partners").rows {
            partners[try row.string("code")] = PartnerCategory(rawValue: try row.string("category"))
        }
        return ProgramContext(partners: partners)
    }

    static func date(_ text: String) throws -> LocalDate {
        guard let date = LocalDate(text) else { throw LoyaltyError(.syntax, "internal error: stored date \(text)") }
        return date
    }
}

/// A partner as `partner list` shows it.
public struct PartnerRecord: Sendable, Equatable {
    public var code: String
    public var name: String
    public var category: PartnerCategory
    public var active: Bool
    public var hasKey: Bool
    public var suspended: Bool
}

extension PartnerRecord {
    /// From a row with the partner's columns, `has_key` and `suspended_at`.
    init(_ row: Row) throws {
        let category = try row.string("category")
        guard let parsed = PartnerCategory(rawValue: category) else { throw LoyaltyError(.syntax, "internal error: stored category \(category)") }
        code = try row.string("code")
        name = try row.string("name")
        self.category = parsed
        active = try row.bool("active")
        hasKey = try row.bool("has_key")
        suspended = row["suspended_at"] != nil
    }
}

/// Credentials handed out once: only their digests are kept.
public struct IssuedCredential: Sendable, Equatable {
    public var principal: String
    public var secret: String
}

let demoMembers = ["M1", "M2", "M3"]
let demoMemberPIN = "1234"
let demoAgent = "demo"

extension LoyaltyStore {
    /// Loads the demo program; idempotent. Returns the credentials it created this time (none on a rerun).
    public func loadDemo(actor: Principal) throws(LoyaltyError) -> [IssuedCredential] {
        // Effective from the oldest claimable day: every accrual a partner can still send earns at
        // it, and a later version may be back-dated into that window.
        let demo = Program.demo
        let firstDay = LocalDate(epochSeconds: clock(), utcOffsetSeconds: demo.utcOffsetSeconds).adding(days: -demo.claimWindowDaysBack)
        let issued: [IssuedCredential] = try write { conn in
            if try conn.query("SELECT 1 FROM program_versions LIMIT 1").first == nil {
                _ = try ProgramRecords.append(conn, demo, effective: firstDay, actor: actor, reason: "demo program")
            }
            var issued: [IssuedCredential] = []
            for partner in Program.demoPartners {
                let inserted = try conn.query("""
                    INSERT INTO partners (code, name, category) VALUES ($1, $2, $3) ON CONFLICT (code) DO NOTHING
                    """, [partner.code, partner.code, partner.category.rawValue]).affectedRows
                if inserted == 1 {
                    issued.append(IssuedCredential(principal: partner.code, secret: try Self.newPartnerKey(conn, partner.code)))
                }
            }
            if try conn.query("SELECT 1 FROM agents WHERE name = $1", [demoAgent]).first == nil {
                issued.append(IssuedCredential(principal: "agent:\(demoAgent)", secret: try Self.newAgent(conn, demoAgent)))
            }
            let base = Program.demo.baseTier.code
            for number in demoMembers {
                let inserted = try conn.query("""
                    INSERT INTO members (member_number, name, tier_code, pin_hash)
                    VALUES ($1, $2, $3, crypt($4, gen_salt('bf', 8))) ON CONFLICT (member_number) DO NOTHING
                    """, [number, "Demo member \(number)", base, demoMemberPIN]).affectedRows
                if inserted == 1 { issued.append(IssuedCredential(principal: "member:\(number)", secret: demoMemberPIN)) }
            }
            try Audit.record(conn, actor: actor, action: "demo.load", details: ["created": String(issued.count)])
            return issued
        }
        try reloadProgram()
        return issued
    }

    /// A partner in a category the program in force gives an earn rule (a rule of its own can
    /// follow in a program version once the partner exists).
    public func addPartner(code: String, category: PartnerCategory, name: String?, actor: Principal) throws(LoyaltyError) {
        guard Identifiers.isPartnerCode(code) else { throw .invalid("partner code must be 2-16 of A-Z 0-9 _") }
        let program = try program()
        guard program.earnRules[category] != nil else {
            throw .invalid("the program has no earn rule for category \(category.rawValue); categories with rules: "
                           + program.earnRules.keys.map(\.rawValue).sorted().joined(separator: " "))
        }
        try write { conn in
            let inserted = try conn.query("INSERT INTO partners (code, name, category) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                                          [code, name ?? code, category.rawValue]).affectedRows
            guard inserted == 1 else { throw LoyaltyError.conflict("partner \(code) exists") }
            try ProgramRecords.announceChange(conn)
            try Audit.record(conn, actor: actor, action: "partner.add", details: ["partner": code, "category": category.rawValue])
        }
    }

    public func partners() throws(LoyaltyError) -> [PartnerRecord] {
        try read { conn in
            try conn.query("""
                SELECT p.code, p.name, p.category, p.active, p.suspended_at,
                       EXISTS (SELECT 1 FROM partner_keys k WHERE k.partner_code = p.code AND k.revoked_at IS NULL) AS has_key
                FROM partners p ORDER BY p.code
                """).rows.map(PartnerRecord.init)
        }
    }

    /// Revokes the partner's key (if any) and issues a new one, returned once.
    public func rotatePartnerKey(code: String, actor: Principal) throws(LoyaltyError) -> String {
        try write { conn in
            guard try conn.query("SELECT 1 FROM partners WHERE code = $1 FOR UPDATE", [code]).first != nil else {
                throw LoyaltyError.notFound("no partner \(code)")
            }
            let key = try Self.newPartnerKey(conn, code)
            try Audit.record(conn, actor: actor, action: "partner.key.rotate", details: ["partner": code])
            return key
        }
    }

    /// Creates an agent and returns its secret, once.
    public func addAgent(name: String, actor: Principal) throws(LoyaltyError) -> String {
        guard Identifiers.isAgentName(name) else { throw .invalid("agent name must be 1-32 of A-Z a-z 0-9 _ - .") }
        return try write { conn in
            guard try conn.query("SELECT 1 FROM agents WHERE name = $1", [name]).first == nil else {
                throw LoyaltyError.conflict("agent \(name) exists")
            }
            let secret = try Self.newAgent(conn, name)
            try Audit.record(conn, actor: actor, action: "agent.add", details: ["agent": name])
            return secret
        }
    }

    static func newPartnerKey(_ conn: Connection, _ code: String) throws -> String {
        let key = Secrets.newSecret(prefix: "pk_")
        _ = try conn.query("UPDATE partner_keys SET revoked_at = now() WHERE partner_code = $1 AND revoked_at IS NULL", [code])
        _ = try conn.query("INSERT INTO partner_keys (partner_code, key_sha256) VALUES ($1, encode(digest($2::text, 'sha256'), 'hex'))",
                           [code, key])
        return key
    }

    static func newAgent(_ conn: Connection, _ name: String) throws -> String {
        let secret = Secrets.newSecret(prefix: "ak_")
        _ = try conn.query("INSERT INTO agents (name, secret_sha256) VALUES ($1, encode(digest($2::text, 'sha256'), 'hex'))",
                           [name, secret])
        return secret
    }

}
