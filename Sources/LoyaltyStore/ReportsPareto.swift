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
        let steps = Int64(settings.lorenzSteps)
        let rows: [ParetoRow] = try reportSnapshot(settings) { conn in
            try conn.query(Self.paretoSQL, [
                period.asOf.description, period.windowStart.description, Self.ratesJSON(program),
                "{\(tops.map(String.init).joined(separator: ","))}", String(steps), String(settings.paretoValuePercent),
            ]).rows.map { row in
                let measure = try row.string("measure")
                let members = try row.int64("members"), total = try row.int64("total")
                let cumulative = Dictionary(uniqueKeysWithValues: try JSONDecoder()
                    .decode([[Int64]].self, from: Data(try row.string("cumulative").utf8)).map { ($0[0], $0[1]) })
                /// What the `rank` largest members hold: ranks past the earners hold everything.
                let held = { (rank: Int64) -> Int64 in rank <= 0 ? 0 : cumulative[rank] ?? total }
                return ParetoRow(
                    measure: ParetoMeasure(rawValue: measure) ?? .points, members: members, total: total,
                    top: tops.map { percent in
                        let size = min(members, (members * percent + 99) / 100)
                        return ParetoTop(percent: percent, members: size, sum: held(size))
                    },
                    membersForValueShare: try row.int64("members_for_share"), giniBasisPoints: try row.int64("gini_bp"),
                    lorenz: (0...steps).map { step in
                        let bottom = members * step / steps
                        let value = total == 0 ? bottom : total - held(members - bottom)
                        return LorenzStep(membersBasisPoints: basisPoints(bottom, of: members),
                                          valueBasisPoints: basisPoints(value, of: total == 0 ? members : total))
                    })
            }
        }
        return ParetoReport(period: period, currency: program.currency, valuePercent: settings.paretoValuePercent,
                            rows: rows.sorted { $0.measure.rawValue < $1.measure.rawValue })
    }

    /// $1 as-of, $2 window start, $3 rates, $4 top percents (int[]), $5 Lorenz steps, $6 value percent.
    ///
    /// Only members who earned in the window are sorted (largest first, `rn`, with running sum
    /// `cum`); everyone else holds zero and sits at the bottom, so n − earners members need no work.
    /// Ties need no tie-break: whichever of two equal values comes first, every running sum at a
    /// rank is the same. The query returns `cum` at just the ranks the top shares and the Lorenz
    /// curve ask for; the bottom b members hold total − cum(n − b).
    static let paretoSQL = """
        WITH rates AS (\(ReportSQL.rates(3))),
        earned AS (
            SELECT greatest(sum(e.points), 0)::bigint AS points,
                   coalesce(sum(\(ReportSQL.spend)) FILTER (WHERE e.kind = 'accrual'), 0)::bigint AS spend
            FROM ledger_entries e LEFT JOIN rates r ON r.currency = e.currency
            WHERE e.kind IN ('accrual', 'reversal', 'promotion', 'promotion_reversal') AND e.activity_date BETWEEN $2::date AND $1::date
            GROUP BY e.member_number
        ),
        population AS (SELECT count(*) AS n FROM members),
        wanted AS (
            SELECT DISTINCT rank FROM population p,
                LATERAL (SELECT least(p.n, (p.n * pct + 99) / 100) AS rank FROM unnest($4::bigint[]) pct
                         UNION ALL
                         SELECT p.n - p.n * step / $5::int FROM generate_series(0, $5::int) step) w
            WHERE rank > 0
        ),
        value AS (
            SELECT 0 AS m, points AS v FROM earned WHERE points > 0
            UNION ALL
            SELECT 1, spend FROM earned WHERE spend > 0
        ),
        totals AS (
            SELECT m, total FROM (SELECT sum(points) AS points, sum(spend) AS spend FROM earned) e,
                LATERAL (VALUES (0, e.points), (1, e.spend)) t(m, total)
            WHERE total > 0
        ),
        ranked AS (
            SELECT m, v, row_number() OVER w AS rn, sum(v) OVER w AS cum
            FROM value WINDOW w AS (PARTITION BY m ORDER BY v DESC ROWS UNBOUNDED PRECEDING)
        ),
        summary AS (
            -- The fewest members reaching the share are one more than those still short of it.
            SELECT r.m, 1 + count(*) FILTER (WHERE r.cum * 100 < t.total * $6::bigint) AS members_for_share,
                   sum((p.n + 1 - r.rn) * r.v) AS weighted,
                   json_agg(json_build_array(r.rn, r.cum)) FILTER (WHERE w.rank IS NOT NULL)::text AS cumulative
            FROM ranked r JOIN totals t USING (m) CROSS JOIN population p LEFT JOIN wanted w ON w.rank = r.rn
            GROUP BY r.m
        )
        SELECT CASE measure.m WHEN 0 THEN 'points' ELSE 'spend' END AS measure, p.n AS members,
               coalesce(t.total, 0)::bigint AS total, coalesce(s.members_for_share, 0) AS members_for_share,
               -- Gini = (2 Σ i·x_i − (n+1) Σ x) / (n Σ x), i ascending = n + 1 − rn; the division is exact
               -- in numeric, and a product past bigint would stop the report rather than bend it.
               CASE WHEN t.total IS NULL THEN 0
                    ELSE div(10000 * (2 * s.weighted - (p.n + 1) * t.total), p.n * t.total) END AS gini_bp,
               coalesce(s.cumulative, '[]') AS cumulative
        FROM (VALUES (0), (1)) measure(m) CROSS JOIN population p
        LEFT JOIN totals t ON t.m = measure.m
        LEFT JOIN summary s ON s.m = measure.m
        WHERE p.n > 0
        """
}
