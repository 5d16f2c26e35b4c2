import LoyaltyCore
import Postgres

/// What an outbound event reports (docs/events.md says what each carries).
enum EventKind: String {
    case tierChanged = "tier.changed"
    case redemptionMade = "redemption.made"
    case redemptionCancelled = "redemption.cancelled"
    case memberMerged = "member.merged"
    case memberClosed = "member.closed"

    /// An INSERT of one event, to run in the transaction of the change it reports (as a CTE or
    /// alone): `member` and `payload` are SQL expressions over the statement's parameters.
    func insert(member: String, payload: String) -> String {
        "INSERT INTO events (kind, member_number, payload) VALUES ('\(rawValue)', \(member), \(payload))"
    }
}

/// One outbound event as a consumer sees it, at its position in the outbox.
public struct OutboundEvent: Sendable, Equatable {
    public var position: Int64
    public var kind: String
    public var member: String
    /// RFC 3339, UTC: when the change committed its transaction's work.
    public var occurredAt: String
    /// A JSON object.
    public var payload: String

    /// One line of `loyaltyctl events tail`. Kinds, member numbers and times need no escaping
    /// (their alphabets exclude quotes and backslashes); the payload is JSON already.
    public var jsonLine: String {
        #"{"position":\#(position),"kind":"\#(kind)","member":"\#(member)","time":"\#(occurredAt)","payload":\#(payload)}"#
    }
}

extension LoyaltyStore {
    /// The PostgreSQL channel the outbox notifies when a transaction that wrote events commits.
    public static let eventsChannel = "loyalty_events"

    /// Gives positions to the events committed since the last call (migration 0016).
    static let stampEvents: (sql: String, parameters: [String?]) = ("SELECT events_stamp()", [])

    /// The highest position given so far, after giving positions to what committed since.
    public func newestEventPosition() throws(LoyaltyError) -> Int64 {
        try write { conn in
            try conn.pipeline([Self.stampEvents, ("SELECT coalesce(max(position), 0) AS newest FROM events", [])])[1]
                .first?.int64("newest") ?? 0
        }
    }

    /// Up to `count` events after `position`, oldest first. Events committed since the last read
    /// get their positions first (`events_stamp`), in the same transaction, so what is returned has
    /// committed and nothing can later appear below it.
    public func events(after position: Int64, count: Int) throws(LoyaltyError) -> [OutboundEvent] {
        guard position >= 0 else { throw .invalid("position must not be negative") }
        guard (1...limits.eventsCountMax).contains(count) else { throw .invalid("COUNT must be 1-\(limits.eventsCountMax)") }
        return try write { conn in
            let result = try conn.pipeline([
                Self.stampEvents,
                ("""
                 SELECT position, kind, member_number, payload::text AS payload,
                        to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at
                 FROM events WHERE position > $1 ORDER BY position LIMIT $2
                 """, [String(position), String(count)]),
            ])[1]
            return try result.rows.map { row in
                OutboundEvent(position: try row.int64("position"), kind: try row.string("kind"),
                              member: try row.string("member_number"), occurredAt: try row.string("occurred_at"),
                              payload: try row.string("payload"))
            }
        }
    }
}
