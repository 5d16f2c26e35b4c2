import Foundation
import LoyaltyCore
import Postgres

/// One row of the audit trail.
public struct AuditRecord: Sendable, Equatable {
    public var id: Int64
    public var at: String
    public var actor: String
    public var action: String
    public var memberNumber: String?
    public var details: String
    public var reason: String
}

enum Audit {
    /// Appends to the audit trail inside the caller's transaction, so the action and its record commit together.
    static func record(_ conn: Connection, actor: Principal, action: String, member: String? = nil,
                       details: [String: String] = [:], reason: String = "") throws {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: details, options: [.sortedKeys]), as: UTF8.self)
        _ = try conn.query(
            "INSERT INTO audit_log (actor, action, member_number, details, reason) VALUES ($1, $2, $3, $4::jsonb, $5)",
            [actor.description, action, member, json, reason])
    }
}

extension LoyaltyStore {
    /// The audit trail, oldest first, for one member or all.
    public func audit(member: String? = nil, limit: Int = 1_000) throws(LoyaltyError) -> [AuditRecord] {
        try read { conn in
            let result = try conn.query("""
                SELECT audit_id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at, actor, action,
                       member_number, details::text AS details, reason
                FROM audit_log WHERE ($1::text IS NULL OR member_number = $1)
                ORDER BY audit_id DESC LIMIT $2
                """, [member, String(limit)])
            return try result.rows.reversed().map { row in
                AuditRecord(id: try row.int64("audit_id"), at: try row.string("at"), actor: try row.string("actor"),
                            action: try row.string("action"), memberNumber: row["member_number"],
                            details: try row.string("details"), reason: try row.string("reason"))
            }
        }
    }
}
