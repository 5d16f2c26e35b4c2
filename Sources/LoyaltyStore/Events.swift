import LoyaltyCore
import Postgres

/// What an outbound event reports (docs/events.md says what each carries).
enum EventKind: String {
    case tierChanged = "tier.changed"
    case redemptionMade = "redemption.made"
    case redemptionCancelled = "redemption.cancelled"
    case memberMerged = "member.merged"
    case memberClosed = "member.closed"
    case pointsExpiring = "points.expiring"
    case tierLapsing = "tier.lapsing"

    /// An INSERT of one event, to run in the transaction of the change it reports (as a CTE or
    /// alone): `member` and `payload` are SQL expressions over the statement's parameters.
    func insert(member: String, payload: String) -> String {
        "INSERT INTO events (kind, member_number, payload) VALUES ('\(rawValue)', \(member), \(payload))"
    }
}

extension Connection {
    /// Wakes EVENTS WAIT once this transaction, which wrote events, commits (docs/events.md).
    func announceEvents() {
        notifyAfterCommit(LoyaltyStore.eventsChannel)
    }
}

/// The daily runs' notices, once per member and what they announce (`once_key`), so a run
/// repeated or resumed for a date, or the next day's run, writes nothing twice.
enum DailyNotices {
    /// `tier.lapsing` for the chunk's active members above the base tier whose tier ends within
    /// `days` of `asOf`: once per member, tier and end date.
    static func announceLapsing(_ conn: Connection, program: Program, asOf: LocalDate, days: Int, chunk: RunChunk) throws {
        let written = try conn.query("""
            INSERT INTO events (kind, member_number, payload, once_key)
            SELECT '\(EventKind.tierLapsing.rawValue)', m.member_number,
                   jsonb_build_object('tier', m.tier_code, 'until', m.tier_until, 'lapses_on', m.tier_until + 1,
                                      'days_left', m.tier_until + 1 - $3::date),
                   '\(EventKind.tierLapsing.rawValue)|' || m.member_number || '|' || m.tier_code || '|' || m.tier_until
            FROM members m JOIN unnest($4::text[], $5::int[]) AS t(code, rank) ON t.code = m.tier_code
            WHERE m.member_number BETWEEN $1 AND $2 AND m.status = 'active' AND t.rank > 0
              AND m.tier_until >= $3::date AND m.tier_until < $3::date + $6::int
            ON CONFLICT (once_key) DO NOTHING
            """, [chunk.first, chunk.last, asOf.description, SQLArray.literal(program.tiers.map(\.code)),
                  SQLArray.literal(program.tiers.map { String($0.rank) }), String(days)]).affectedRows
        if written > 0 { conn.announceEvents() }
    }

    /// `points.expiring` for the chunk's active members with points the expiry run would take
    /// `days` after `asOf` (`Expiry.due` as of then, so the same rules and exemptions): once per
    /// member and lot date, the date the expiry counts from (the last activity under inactivity
    /// expiry, the newest lot that matures under lot expiry). Run after the day's expiry.
    static func announceExpiring(_ conn: Connection, program: Program, asOf: LocalDate, days: Int, chunk: RunChunk) throws {
        let lotDate: String, months: Int
        switch program.expiry {
        case .none: return
        case .inactivity(let m, _):
            (lotDate, months) = ("coalesce(m.last_activity, ((m.enrolled_at AT TIME ZONE 'UTC') + make_interval(secs => $6))::date)", m)
        case .lot(let m):
            (lotDate, months) = ("""
                (SELECT max(e.activity_date) FROM ledger_entries e
                 WHERE e.member_number = d.member_number AND \(Expiry.lotCreditSQL) AND e.activity_date <= $3::date)
                """, m)
        }
        guard let due = Expiry.due(program, asOf: asOf.adding(days: days), first: chunk.first, last: chunk.last) else { return }
        let monthsParameter = due.parameters.count + 1
        let written = try conn.query(due.sql + """
            INSERT INTO events (kind, member_number, payload, once_key)
            SELECT '\(EventKind.pointsExpiring.rawValue)', d.member_number,
                   jsonb_build_object('points', d.points, 'lot_date', x.lot_date,
                                      'expires_on', (x.lot_date + make_interval(months => $\(monthsParameter)))::date),
                   '\(EventKind.pointsExpiring.rawValue)|' || d.member_number || '|' || x.lot_date
            FROM due d JOIN members m USING (member_number) CROSS JOIN LATERAL (SELECT \(lotDate) AS lot_date) x
            WHERE m.status = 'active' AND d.points > 0
            ON CONFLICT (once_key) DO NOTHING
            """, due.parameters + [String(months)]).affectedRows
        if written > 0 { conn.announceEvents() }
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
