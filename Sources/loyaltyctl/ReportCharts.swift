import LoyaltyCharts
import LoyaltyCore
import LoyaltyStore

/// Each report as the chart `--svg` writes.
enum ReportCharts {
    /// Line charts draw at most this many partners; the rest are summed as "others".
    static let settlementPartnersMax = 5

    static func rfm(_ report: RFMReport) -> String {
        BarChart(title: "Active members by RFM segment",
                 subtitle: "as of \(report.period.asOf); accruals and spend from \(report.period.windowStart); "
                    + "\(NumberText.grouped(report.members)) members",
                 categories: report.segments.map(\.segment.rawValue),
                 series: [.init(name: "members", values: report.segments.map(\.members),
                                notes: report.segments.map { NumberText.percent(basisPoints: basisPoints($0.members, of: report.members)) })],
                 valueAxisTitle: "members", categoryAxisTitle: "segment").svg()
    }

    /// Spend in the window and discounted spend ahead per tier, in whole currency units.
    static func clv(_ report: CLVReport) -> String {
        let tiers = report.rows.filter { $0.dimension == .tier }
        let unit = (0..<(Currency.minorDigits(report.currency) ?? 0)).reduce(Int64(1)) { value, _ in value * 10 }
        return BarChart(title: "Customer value by tier",
                        subtitle: "as of \(report.period.asOf); \(report.model.horizonYears) years ahead at "
                            + "\(NumberText.percent(basisPoints: report.model.discountBasisPoints)) a year; customer equity "
                            + "\(NumberText.grouped(report.customerEquityMinor / unit)) \(report.currency)",
                        categories: tiers.map(\.segment),
                        series: [.init(name: "spend in the last year", values: tiers.map { $0.windowSpendMinor / unit }),
                                 .init(name: "discounted spend ahead", values: tiers.map { $0.forwardMinor / unit })],
                        valueAxisTitle: report.currency, categoryAxisTitle: "tier").svg()
    }

    static func cohorts(_ report: CohortReport) -> String {
        let periods = report.rows.count
        let members = report.rows.reduce(0) { $0 + $1.members }
        return HeatMap(title: "Retention by enrolment \(report.by.rawValue)",
                       subtitle: "share of each cohort with an accrual in each \(report.by.rawValue) since; as of "
                        + "\(report.period.asOf); \(NumberText.grouped(members)) members",
                       rowLabels: report.rows.map { "\(report.by.label($0.cohort)) (\(NumberText.grouped($0.members)))" },
                       columnLabels: (0..<periods).map(String.init),
                       cells: report.rows.map { row in (0..<periods).map(row.activeBasisPoints) },
                       rowAxisTitle: "cohort (members)", columnAxisTitle: "\(report.by.rawValue)s since enrolment").svg()
    }

    static func ladder(_ report: LadderReport) -> String {
        let rungs = LadderRung.enrolled
        return BarChart(title: "Loyalty ladder",
                        subtitle: "active members per rung on \(report.from.asOf) and on \(report.period.asOf)",
                        categories: rungs.map(\.rawValue),
                        series: [.init(name: report.from.asOf.description, values: rungs.map { report.membersOn(from: $0) }),
                                 .init(name: report.period.asOf.description, values: rungs.map { report.membersOn(asOf: $0) })],
                        valueAxisTitle: "members", categoryAxisTitle: "rung").svg()
    }

    static func pareto(_ report: ParetoReport) -> String {
        let curves = report.rows.map { row in
            LorenzChart.Curve(name: row.measure == .points ? "points earned" : "spend", points: row.lorenz.map {
                LorenzPoint(membersBasisPoints: $0.membersBasisPoints, valueBasisPoints: $0.valueBasisPoints)
            })
        }
        // Readings of the first curve (points): what the largest and the top 20 % hold.
        var markers: [LorenzChart.Marker] = []
        if let points = report.rows.first, points.total > 0 {
            for top in points.top where top.percent == 1 || top.percent == 20 {
                let share = basisPoints(top.sum, of: points.total)
                markers.append(.init(point: LorenzPoint(membersBasisPoints: 10_000 - basisPoints(top.members, of: points.members),
                                                        valueBasisPoints: 10_000 - share),
                                     label: "top \(top.percent) % earn \(NumberText.percent(basisPoints: share))"))
            }
        }
        let gini = report.rows.map { "\($0.measure.rawValue) \(giniText($0.giniBasisPoints))" }.joined(separator: ", ")
        return LorenzChart(title: "Concentration of points and spend",
                           subtitle: "\(report.period.windowStart) to \(report.period.asOf), "
                            + "\(NumberText.grouped(report.rows.first?.members ?? 0)) members; Gini \(gini)",
                           curves: curves, markers: markers,
                           membersAxisTitle: "share of members, smallest earners first",
                           valueAxisTitle: "cumulative share").svg()
    }

    static func liability(_ report: LiabilityReport) -> String {
        LineChart(title: "Points outstanding",
                  subtitle: "month ends to \(report.period.asOf); breakage over the window "
                    + NumberText.percent(basisPoints: report.total.breakageBasisPoints),
                  xLabels: report.history.map { String($0.date.description.prefix(7)) },
                  series: [.init(name: "outstanding", values: report.history.map(\.outstanding)),
                           .init(name: "expired since \(report.history.first.map { String($0.date.description.prefix(7)) } ?? "")",
                                 values: report.history.map(\.expiredSinceStart), dashed: true)],
                  valueAxisTitle: "points", xAxisTitle: "month end").svg()
    }

    static func tiers(_ report: TierReport) -> String {
        BarChart(title: "Active members by tier",
                 subtitle: "as of \(report.period.asOf); candidates within \(report.upgradeProximityPercent) % of the next "
                    + "threshold; lapsing within \(report.lapseHorizonDays) days",
                 categories: report.tiers.map(\.tierName),
                 series: [.init(name: "members", values: report.tiers.map(\.members)),
                          .init(name: "upgrade candidates", values: report.tiers.map(\.upgradeCandidates)),
                          .init(name: "lapsing", values: report.tiers.map(\.lapsing))],
                 valueAxisTitle: "members", categoryAxisTitle: "tier").svg()
    }

    /// Net points issued per partner and month; months without activity are zero.
    static func settlement(_ report: SettlementReport) -> String {
        var months: [String] = []
        var month = report.firstMonth
        while month <= report.period.asOf {
            months.append(String(month.description.prefix(7)))
            month = month.adding(months: 1)
        }
        var byPartner: [String: [String: Int64]] = [:]
        for row in report.rows { byPartner[row.partnerCode, default: [:]][row.month, default: 0] += row.netPoints }
        let ranked = byPartner.sorted { ($0.value.values.reduce(0, +), $1.key) > ($1.value.values.reduce(0, +), $0.key) }
        var series = ranked.prefix(settlementPartnersMax).map { partner in
            LineChart.Series(name: partner.key, values: months.map { partner.value[$0] ?? 0 })
        }
        let others = ranked.dropFirst(settlementPartnersMax)
        if !others.isEmpty {
            series.append(.init(name: "others", values: months.map { m in others.reduce(0) { $0 + ($1.value[m] ?? 0) } }, dashed: true))
        }
        if series.isEmpty { series = [.init(name: "no partner activity", values: months.map { _ in 0 })] }
        return LineChart(title: "Net points issued by partner",
                         subtitle: "posting months \(months.first ?? "") to \(months.last ?? ""), up to \(report.period.asOf)",
                         xLabels: months, series: series, valueAxisTitle: "points", xAxisTitle: "month posted").svg()
    }

    /// Gini basis points as a coefficient: 7442 -> "0.744".
    static func giniText(_ basisPoints: Int64) -> String {
        let thousandths = basisPoints / 10
        let fraction = String(thousandths % 1_000)
        return "\(thousandths / 1_000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
