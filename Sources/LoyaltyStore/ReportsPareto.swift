import Foundation
import LoyaltyCore
import Postgres

/// What a concentration figure measures.
public enum ParetoMeasure: String, Sendable, CaseIterable {
    /// Points earned: accruals less their reversals.
    case points
    /// Partner spend, program-currency minor units.
    case spend
}

/// How concentrated one measure is across all members over the window.
public struct ParetoRow: Sendable, Equatable {
    public var measure: ParetoMeasure
    /// Every member (of any status) is one of these, including those who earned nothing.
    public var members: Int64
    public var total: Int64
    /// For each of the settings' top percents: (percent, members in that top group, their sum).
    public var top: [ParetoTop]
    /// The fewest members, largest first, whose sum reaches `paretoValuePercent` of the total
    /// (0 when the total is 0).
    public var membersForValueShare: Int64
    /// Gini coefficient in basis points (0 = equal, 10,000 = one member has everything), rounded down.
    public var giniBasisPoints: Int64
    /// Lorenz curve: members ascending by value, from (0, 0) to (10,000, 10,000) in basis points.
    public var lorenz: [LorenzStep]
}

/// One point of a Lorenz curve: the smallest `membersBasisPoints` of members hold `valueBasisPoints`.
public struct LorenzStep: Sendable, Equatable {
    public var membersBasisPoints: Int64
    public var valueBasisPoints: Int64
}

/// The top `percent` of members: `members` = ceil(all × percent / 100), and what they hold.
public struct ParetoTop: Sendable, Equatable {
    public var percent: Int64
    public var members: Int64
    public var sum: Int64
}

/// The `pareto` report.
public struct ParetoReport: Sendable, Equatable {
    public var period: ReportPeriod
    public var currency: String
    /// The share of value `membersForValueShare` reaches (80).
    public var valuePercent: Int64
    public var rows: [ParetoRow]
}

extension LoyaltyStore {
    /// Value concentration over the trailing window: top-percent shares, the smallest group that
    /// holds 80 %, the Gini coefficient and a Lorenz curve, for points and for spend.
    public func paretoReport(asOf: LocalDate? = nil, settings: ReportSettings = ReportSettings()) throws(LoyaltyError) -> ParetoReport {
        let program = try program()
        let period = try reportPeriod(asOf: asOf, settings: settings)
        let tops = settings.paretoTopPercents
        let rows: [ParetoRow] = try reportSnapshot(settings) { conn in
            try conn.query(Self.paretoSQL(topCount: tops.count), [
                period.asOf.description, period.windowStart.description, Self.ratesJSON(program), String(settings.lorenzSteps),
                String(settings.paretoValuePercent),
            ] + tops.map(String.init)).rows.map { row in
                let measure = try row.string("measure")
                let lorenz = try JSONDecoder().decode([[Int64]].self, from: Data(try row.string("lorenz").utf8))
                return ParetoRow(
                    measure: ParetoMeasure(rawValue: measure) ?? .points, members: try row.int64("members"),
                    total: try row.int64("total"),
                    top: try tops.indices.map { index in
                        ParetoTop(percent: tops[index], members: try row.int64("top\(index)_members"),
                                  sum: try row.int64("top\(index)_sum"))
                    },
                    membersForValueShare: try row.int64("members_for_share"), giniBasisPoints: try row.int64("gini_bp"),
                    lorenz: lorenz.map { LorenzStep(membersBasisPoints: $0[0], valueBasisPoints: $0[1]) })
            }
        }
        return ParetoReport(period: period, currency: program.currency, valuePercent: settings.paretoValuePercent,
                            rows: rows.sorted { $0.measure.rawValue < $1.measure.rawValue })
    }

    /// $1 as-of, $2 window start, $3 rates, $4 Lorenz steps, $5 value percent, $6... top percents.
    /// Members are ranked largest first (`rn`) with a running sum (`cum`); the bottom b members
    /// hold total − cum at rank n − b, which gives the Lorenz curve from the same single sort.
    static func paretoSQL(topCount: Int) -> String {
        let topSize = { (index: Int) in "((p.n * $\(6 + index)::bigint + 99) / 100)" }
        let topSums = (0..<topCount).map {
            "coalesce(sum(r.v) FILTER (WHERE r.rn <= \(topSize($0))), 0)::bigint AS top\($0)_sum"
        }.joined(separator: ",\n")
        let topMembers = (0..<topCount).map { "least(\(topSize($0)), p.n) AS top\($0)_members" }.joined(separator: ", ")
        return """
            WITH rates AS (\(ReportSQL.rates(3))),
            earned AS (
                SELECT e.member_number,
                       sum(e.points) AS points,
                       coalesce(sum(\(ReportSQL.spend)) FILTER (WHERE e.kind = 'accrual'), 0)::bigint AS spend
                FROM ledger_entries e LEFT JOIN rates r ON r.currency = e.currency
                WHERE e.kind IN ('accrual', 'reversal') AND e.activity_date BETWEEN $2::date AND $1::date
                GROUP BY e.member_number
            ),
            per_member AS (
                -- A member whose reversals outweigh its accruals in the window counts as zero.
                SELECT m.member_number, greatest(coalesce(e.points, 0), 0)::bigint AS points, coalesce(e.spend, 0) AS spend
                FROM members m LEFT JOIN earned e USING (member_number)
            ),
            value AS (
                SELECT 'points' AS measure, member_number, points AS v FROM per_member
                UNION ALL
                SELECT 'spend', member_number, spend FROM per_member
            ),
            population AS (SELECT count(*) AS n FROM members),
            ranked AS (
                SELECT measure, v, row_number() OVER w AS rn, sum(v) OVER (w ROWS UNBOUNDED PRECEDING) AS cum,
                       sum(v) OVER (PARTITION BY measure) AS total
                FROM value WINDOW w AS (PARTITION BY measure ORDER BY v DESC, member_number)
            ),
            summary AS (
                SELECT r.measure, p.n, coalesce(sum(r.v), 0)::bigint AS total,
                       \(topSums),
                       coalesce(min(r.rn) FILTER (WHERE r.total > 0 AND r.cum * 100 >= r.total * $5::bigint), 0) AS members_for_share,
                       -- Gini = (2 Σ i·x_i − (n+1) Σ x) / (n Σ x), i ascending = n + 1 − rn; exact in numeric.
                       coalesce(sum((p.n + 1 - r.rn) * r.v::numeric), 0) AS weighted,
                       \(topMembers)
                FROM ranked r CROSS JOIN population p
                GROUP BY r.measure, p.n
            ),
            lorenz AS (
                SELECT s.measure,
                       json_agg(json_build_array(div(10000 * b.bottom, s.n),
                                                 CASE WHEN s.total = 0 THEN div(10000 * b.bottom, s.n)
                                                      ELSE div(10000 * (s.total - coalesce(v.cum, 0)), s.total) END)
                                ORDER BY b.step)::text AS points
                FROM summary s
                CROSS JOIN LATERAL (SELECT step, s.n * step / $4::int AS bottom FROM generate_series(0, $4::int) step) b
                LEFT JOIN ranked v ON v.measure = s.measure AND v.rn = s.n - b.bottom
                GROUP BY s.measure
            )
            SELECT s.*, s.n AS members,
                   CASE WHEN s.total = 0 THEN 0
                        ELSE div(10000 * (2 * s.weighted - (s.n + 1) * s.total), s.n * s.total) END AS gini_bp,
                   l.points AS lorenz
            FROM summary s JOIN lorenz l USING (measure)
            """
    }
}
