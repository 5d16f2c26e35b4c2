import Foundation
import LoyaltyCore
import Postgres

/// The program definition in the database: JSON for Swift, mirrored into tables for SQL.
enum ProgramRecords {
    static func load(_ conn: Connection) throws -> Program {
        guard let row = try conn.query("SELECT value::text AS value FROM program_settings WHERE key = 'program'").first else {
            throw LoyaltyError(.notFound, "no program is loaded; run `loyaltyctl demo load`")
        }
        return try JSONDecoder().decode(Program.self, from: Data(try row.string("value").utf8))
    }

    static func save(_ conn: Connection, _ program: Program) throws {
        try program.validate()
        let json = String(decoding: try JSONEncoder().encode(program), as: UTF8.self)
        _ = try conn.query("""
            INSERT INTO program_settings (key, value) VALUES ('program', $1::jsonb)
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
            """, [json])
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
        for (category, rule) in program.earnRules {
            let ruleJSON = String(decoding: try JSONEncoder().encode(rule), as: UTF8.self)
            _ = try conn.query("""
                INSERT INTO earn_rules (category, rule) VALUES ($1, $2::jsonb)
                ON CONFLICT (category) DO UPDATE SET rule = EXCLUDED.rule
                """, [category.rawValue, ruleJSON])
        }
    }
}

/// A partner as `partner list` shows it.
public struct PartnerRecord: Sendable, Equatable {
    public var code: String
    public var name: String
    public var category: PartnerCategory
    public var active: Bool
    public var hasKey: Bool
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
        let issued: [IssuedCredential] = try write { conn in
            try ProgramRecords.save(conn, .demo)
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

    public func addPartner(code: String, category: PartnerCategory, name: String?, actor: Principal) throws(LoyaltyError) {
        guard Identifiers.isPartnerCode(code) else { throw .invalid("partner code must be 2-16 of A-Z 0-9 _") }
        try write { conn in
            guard try conn.query("SELECT 1 FROM earn_rules WHERE category = $1", [category.rawValue]).first != nil else {
                throw LoyaltyError.invalid("the program has no earn rule for category \(category.rawValue)")
            }
            let inserted = try conn.query("INSERT INTO partners (code, name, category) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                                          [code, name ?? code, category.rawValue]).affectedRows
            guard inserted == 1 else { throw LoyaltyError.conflict("partner \(code) exists") }
            try Audit.record(conn, actor: actor, action: "partner.add", details: ["partner": code, "category": category.rawValue])
        }
    }

    public func partners() throws(LoyaltyError) -> [PartnerRecord] {
        try read { conn in
            try conn.query("""
                SELECT p.code, p.name, p.category, p.active,
                       EXISTS (SELECT 1 FROM partner_keys k WHERE k.partner_code = p.code AND k.revoked_at IS NULL) AS has_key
                FROM partners p ORDER BY p.code
                """).rows.map { row in
                PartnerRecord(code: try row.string("code"), name: try row.string("name"),
                              category: PartnerCategory(rawValue: try row.string("category")) ?? .hotel,
                              active: try row.bool("active"), hasKey: try row.bool("has_key"))
            }
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
