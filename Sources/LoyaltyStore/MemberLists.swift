import LoyaltyCore
import Postgres

/// Which active members a list holds; each comes with the figures that chose it.
public enum MemberFilter: Sendable, Equatable {
    /// In this RFM segment on the as-of date (the `rfm` report's rules).
    case segment(RFMSegment)
    /// Holding this tier now.
    case tier(String)
    /// Points the expiry run would take on the as-of date + days (the `liability` report's rules).
    case expiringWithin(days: Int)
    /// Holding a tier above the base whose validity ends within days (the `tiers` report's rule).
    case lapsingWithin(days: Int)
    /// Qualifying points this period below the next tier's threshold by at most this percent.
    case upgradeWithin(percent: Int64)

    public static let daysRange = 1...3_660
    public static let percentRange: ClosedRange<Int64> = 1...99
}

/// How a column of a member list is written.
public enum MemberListColumnKind: Sendable { case text, integer, money, date }

/// A member list's columns, then its rows in chunks of `rowsPerFetch`.
public struct MemberListColumns: Sendable, Equatable {
    public var names: [String]
    public var kinds: [MemberListColumnKind]
}

extension LoyaltyStore {
    /// Rows fetched from the server-side cursor at a time: what a member list holds in memory.
    public static let memberListRowsPerFetchDefault = 1_000
    public static let memberListRowsPerFetchRange = 1...100_000

    /// Streams the active members `filter` chooses, ordered by member number, through a server-side
    /// cursor in one read-only snapshot: `body` gets the columns once, then each chunk of rows, so the
    /// caller holds one chunk at a time whatever the number of members. Returns the number of rows.
    @discardableResult
    public func streamMemberList(_ filter: MemberFilter, asOf: LocalDate? = nil,
                                 rowsPerFetch: Int = memberListRowsPerFetchDefault,
                                 settings: ReportSettings = ReportSettings(),
                                 columns: (MemberListColumns) throws -> Void,
                                 rows: ([[String?]]) throws -> Void) throws(LoyaltyError) -> Int64 {
        guard Self.memberListRowsPerFetchRange.contains(rowsPerFetch) else { throw .invalid("rows per fetch out of range") }
        let program = try program()
        let period = try reportPeriod(asOf: asOf, settings: settings)
        let (sql, parameters, listColumns) = try Self.memberListQuery(filter, program: program, period: period, settings: settings)
        return try reportSnapshot(settings) { conn in
            _ = try conn.query("DECLARE member_list NO SCROLL CURSOR FOR \(sql)", parameters)
            try columns(listColumns)
            var count: Int64 = 0
            while true {
                let chunk = try conn.query("FETCH \(rowsPerFetch) FROM member_list").rows
                guard !chunk.isEmpty else { return count }
                try rows(chunk.map { row in listColumns.names.indices.map { row[$0] } })
                count += Int64(chunk.count)
            }
        }
    }

    /// The query of a filter: members in order of their number, with the figures behind the choice.
    static func memberListQuery(_ filter: MemberFilter, program: Program, period: ReportPeriod,
                                settings: ReportSettings) throws(LoyaltyError) -> (String, [String?], MemberListColumns) {
        switch filter {
        case .segment(let segment):
            return ("""
                \(rfmScoredSQL)
                SELECT m.member_number, coalesce(s.segment, 'no_activity'), s.recency_days, coalesce(s.frequency, 0),
                       coalesce(s.monetary, 0), s.r, s.f, s.m
                FROM members m LEFT JOIN scored s USING (member_number)
                WHERE m.status = 'active' AND coalesce(s.segment, 'no_activity') = $6
                ORDER BY m.member_number
                """, rfmParameters(program: program, period: period, settings: settings) + [segment.rawValue],
                MemberListColumns(names: ["member", "segment", "recency_days", "frequency", "monetary", "r", "f", "m"],
                                  kinds: [.text, .text, .integer, .integer, .money, .integer, .integer, .integer]))
        case .tier(let code):
            guard program.tiers.contains(where: { $0.code == code }) else { throw .notFound("no tier \(code)") }
            return ("""
                SELECT member_number, tier_code, tier_until::text, balance FROM members
                WHERE status = 'active' AND tier_code = $1 ORDER BY member_number
                """, [code],
                MemberListColumns(names: ["member", "tier", "tier_until", "balance"], kinds: [.text, .text, .date, .integer]))
        case .expiringWithin(let days):
            guard MemberFilter.daysRange.contains(days) else { throw .invalid("days out of range") }
            let runDay = period.asOf.adding(days: days)
            let expiring = expiringSQL(program, runDays: [runDay])
            let aggregates = expiring.aggregates.map { ",\n" + $0 }.joined()
            return ("""
                WITH pm AS (
                    SELECT e.member_number, sum(e.points) AS balance,
                           max(e.activity_date) FILTER (WHERE e.kind IN \(ReportSQL.activityKinds)) AS last_activity\(aggregates)
                    FROM ledger_entries e WHERE e.activity_date <= $1::date
                    GROUP BY e.member_number
                )
                SELECT * FROM (
                    SELECT m.member_number, m.tier_code, pm.balance, (\(expiring.perHorizon[0]))::bigint AS expiring,
                           $2::date::text AS run_day
                    FROM members m JOIN tiers t ON t.code = m.tier_code JOIN pm USING (member_number)
                    WHERE m.status = 'active'
                ) x WHERE expiring > 0 ORDER BY member_number
                """, [period.asOf.description, runDay.description] + expiring.parameters,
                MemberListColumns(names: ["member", "tier", "balance", "expiring", "expiry_run"],
                                  kinds: [.text, .text, .integer, .integer, .date]))
        case .lapsingWithin(let days):
            guard MemberFilter.daysRange.contains(days) else { throw .invalid("days out of range") }
            return ("""
                SELECT m.member_number, m.tier_code, m.tier_until::text, (m.tier_until + 1)::text AS lapses_on,
                       m.tier_until + 1 - $1::date AS days_left
                FROM members m JOIN tiers t ON t.code = m.tier_code
                WHERE m.status = 'active' AND \(lapsingSQL(rank: "t.rank", days: 2))
                ORDER BY m.member_number
                """, [period.asOf.description, String(days)],
                MemberListColumns(names: ["member", "tier", "tier_until", "lapses_on", "days_left"],
                                  kinds: [.text, .text, .date, .date, .integer]))
        case .upgradeWithin(let percent):
            guard MemberFilter.percentRange.contains(percent) else { throw .invalid("percent out of range") }
            let start = program.period(containing: period.asOf).lowerBound
            return ("""
                \(tierProgressSQL)
                SELECT m.member_number, m.tier_code, coalesce(q.q, 0) AS qualifying, l.next_code, l.next_threshold,
                       l.next_threshold - coalesce(q.q, 0) AS short
                FROM members m JOIN ladder l ON l.code = m.tier_code LEFT JOIN qualifying q USING (member_number)
                WHERE m.status = 'active' AND \(upgradeCandidateSQL)
                ORDER BY m.member_number
                """, [period.asOf.description, start.description, String(percent)],
                MemberListColumns(names: ["member", "tier", "qualifying", "next_tier", "next_threshold", "short"],
                                  kinds: [.text, .text, .integer, .text, .integer, .integer]))
        }
    }
}
