import LoyaltyCharts
import LoyaltyCore
import LoyaltyStore

/// Each report as a table: the columns people read in a terminal and programs read as CSV or JSON.
enum ReportTables {
    static func facts(_ name: String, _ period: ReportPeriod) -> [(String, String)] {
        [("report", name), ("as_of", period.asOf.description), ("window_start", period.windowStart.description)]
    }

    static func rfm(_ report: RFMReport) -> ReportTable {
        let money = { (minor: Int64) in ReportCell.money(minor: minor, currency: report.currency) }
        var rows = report.segments.map { row -> [ReportCell] in
            [.text(row.segment.rawValue), .integer(row.members), .percent(basisPoints: basisPoints(row.members, of: report.members)),
             .integer(row.accruals), money(row.spendMinor), .percent(basisPoints: basisPoints(row.spendMinor, of: report.spendMinor))]
        }
        rows.append([.text("total"), .integer(report.members), .percent(basisPoints: basisPoints(report.members, of: report.members)),
                     .integer(report.segments.reduce(0) { $0 + $1.accruals }), money(report.spendMinor),
                     .percent(basisPoints: basisPoints(report.spendMinor, of: report.spendMinor))])
        return ReportTable(
            title: "RFM segments of active members as of \(report.period.asOf) "
                + "(accruals and spend \(report.period.windowStart)..\(report.period.asOf), \(report.currency))",
            facts: facts("rfm", report.period) + [("currency", report.currency)],
            columns: ["segment", "members", "members_pct", "accruals", "spend", "spend_pct"], rows: rows)
    }

    static func rfmMember(_ score: RFMMemberScore, currency: String) -> ReportTable {
        let period = score.period
        let optional = { (value: Int64?) in value.map(ReportCell.integer) ?? .missing }
        return ReportTable(
            title: "RFM of member \(score.number) as of \(period.asOf) (window from \(period.windowStart), \(currency))",
            facts: facts("rfm", period) + [("currency", currency)],
            columns: ["member", "status", "segment", "first_accrual", "last_accrual", "recency_days", "frequency",
                      "monetary", "r", "f", "m"],
            rows: [[.text(score.number), .text(score.status), score.segment.map { .text($0.rawValue) } ?? .missing,
                    score.firstAccrual.map { .text($0.description) } ?? .missing,
                    score.lastAccrual.map { .text($0.description) } ?? .missing, optional(score.recencyDays),
                    .integer(score.frequency), .money(minor: score.monetaryMinor, currency: currency),
                    optional(score.recencyScore.map(Int64.init)), optional(score.frequencyScore.map(Int64.init)),
                    optional(score.monetaryScore.map(Int64.init))]])
    }

    static func clv(_ report: CLVReport) -> ReportTable {
        let money = { (minor: Int64) in ReportCell.money(minor: minor, currency: report.currency) }
        return ReportTable(
            title: "Customer value as of \(report.period.asOf) (spend and points to date; spend ahead over "
                + "\(report.model.horizonYears) years at the cohort's retention \(report.previousWindowStart)..\(report.period.asOf), "
                + "discounted \(NumberText.percent(basisPoints: report.model.discountBasisPoints)) a year; "
                + "customer equity \(ReportCell.money(minor: report.customerEquityMinor, currency: report.currency).display) \(report.currency))",
            facts: facts("clv", report.period) + clvFacts(report.model, report.previousWindowStart, report.currency)
                + [("customer_equity", ReportCell.money(minor: report.customerEquityMinor, currency: report.currency).plain)],
            columns: ["dimension", "segment", "members", "active_in_window", "retention_pct", "retention_from", "spend_to_date",
                      "points_earned", "spend_in_window", "forward_value", "forward_per_member"],
            rows: report.rows.map { row in
                [.text(row.dimension.rawValue), .text(row.segment), .integer(row.members), .integer(row.activeMembers)]
                    + retentionCells(row.retention)
                    + [money(row.spendMinor), .integer(row.pointsEarned), money(row.windowSpendMinor), money(row.forwardMinor),
                       money(row.members == 0 ? 0 : row.forwardMinor / row.members)]
            })
    }

    static func clvMember(_ member: CLVMember, model: CLVModel, currency: String) -> ReportTable {
        let money = { (minor: Int64) in ReportCell.money(minor: minor, currency: currency) }
        return ReportTable(
            title: "Customer value of member \(member.number) as of \(member.period.asOf) (spend ahead over \(model.horizonYears) "
                + "years, discounted \(NumberText.percent(basisPoints: model.discountBasisPoints)) a year, \(currency))",
            facts: facts("clv", member.period) + clvFacts(model, member.previousWindowStart, currency),
            columns: ["member", "status", "tier", "rfm_segment", "since", "spend_to_date", "points_earned", "spend_in_window",
                      "retention_pct", "retention_from", "forward_value"],
            rows: [[.text(member.number), .text(member.status), .text(member.tierCode), .text(member.rfmSegment),
                    member.since.map { .text($0.description) } ?? .missing, money(member.spendMinor), .integer(member.pointsEarned),
                    money(member.windowSpendMinor)] + retentionCells(member.retention) + [money(member.forwardMinor)]])
    }

    private static func clvFacts(_ model: CLVModel, _ previous: LocalDate, _ currency: String) -> [(String, String)] {
        [("retention_from", previous.description), ("horizon_years", String(model.horizonYears)),
         ("discount_rate_pct", ReportCell.percent(basisPoints: model.discountBasisPoints).plain), ("currency", currency)]
    }

    /// The rate and whether it is the cohort's own or all cohorts' (a cohort with nobody to observe).
    private static func retentionCells(_ retention: CLVRetention?) -> [ReportCell] {
        guard let retention else { return [.missing, .missing] }
        return [.percent(basisPoints: retention.rateBasisPoints), .text(retention.pooled ? "pooled" : "cohort")]
    }

    static func cohorts(_ report: CohortReport) -> ReportTable {
        let periods = report.rows.count
        let prefix = report.by == .month ? "m" : "q"
        var rows = report.rows.map { row -> [ReportCell] in
            [.text(report.by.label(row.cohort)), .integer(row.members)]
                + (0..<periods).map { row.activeBasisPoints($0).map(ReportCell.percent) ?? .missing }
        }
        rows.append([.text("churn"), .missing, .missing] + (1..<max(periods, 1)).map { k in
            let churn = report.churn(k)
            return churn.base > 0 ? .percent(basisPoints: basisPoints(churn.lost, of: churn.base)) : .missing
        })
        return ReportTable(
            title: "Share of each enrolment \(report.by.rawValue)'s members with an accrual in each \(report.by.rawValue) since "
                + "(\(prefix)0 is their own), as of \(report.period.asOf), whose \(report.by.rawValue) is partial; churn: active in "
                + "one \(report.by.rawValue), not in the next",
            facts: facts("cohorts", report.period) + [("by", report.by.rawValue), ("periods", String(periods))],
            columns: ["cohort", "members"] + (0..<periods).map { "\(prefix)\($0)_pct" }, rows: rows)
    }

    static func ladder(_ report: LadderReport) -> ReportTable {
        let rules = report.rules
        var rows = LadderRung.allCases.map { rung -> [ReportCell] in
            [.text(rung.rawValue), .integer(report.membersOn(from: rung))]
                + LadderRung.enrolled.map { .integer(report.count(from: rung, to: $0)) }
                + (rung == .notEnrolled ? [.missing, .missing] : [.integer(report.moved(from: rung, up: true)),
                                                                  .integer(report.moved(from: rung, up: false))])
        }
        let all = LadderRung.allCases
        rows.append([.text("total"), .integer(all.reduce(0) { $0 + report.membersOn(from: $1) })]
            + LadderRung.enrolled.map { .integer(report.membersOn(asOf: $0)) }
            + [.integer(all.reduce(0) { $0 + report.moved(from: $1, up: true) }),
               .integer(all.reduce(0) { $0 + report.moved(from: $1, up: false) })])
        return ReportTable(
            title: "Loyalty ladder of active members: rung on \(report.from.asOf) (rows) and on \(report.period.asOf) (columns). "
                + "Over the 12 months to each date: prospect no accrual, customer 1, client \(rules.clientAccrualsMin) or more, "
                + "supporter a client of \(rules.supporterTenureMonths) months' tenure with \(rules.supporterPartnersMin)+ partners, "
                + "advocate a supporter above the base tier with \(rules.advocatePartnersMin)+ partners",
            facts: facts("ladder", report.period) + [("from", report.from.asOf.description),
                                                     ("from_window_start", report.from.windowStart.description)],
            columns: ["rung_before", "members"] + LadderRung.enrolled.map(\.rawValue) + ["moved_up", "moved_down"], rows: rows)
    }

    static func pareto(_ report: ParetoReport) -> ReportTable {
        let percents = report.rows.first?.top.map(\.percent) ?? []
        let rows = report.rows.map { row -> [ReportCell] in
            let amount = { (value: Int64) in
                row.measure == .spend ? ReportCell.money(minor: value, currency: report.currency) : .integer(value)
            }
            return [.text(row.measure.rawValue), .integer(row.members), amount(row.total)]
                + row.top.map { .percent(basisPoints: basisPoints($0.sum, of: row.total)) }
                + [.integer(row.membersForValueShare), .percent(basisPoints: basisPoints(row.membersForValueShare, of: row.members)),
                   .percent(basisPoints: row.giniBasisPoints)]
        }
        return ReportTable(
            title: "Concentration of points earned and spend, \(report.period.windowStart)..\(report.period.asOf), "
                + "all members (shares held by the top members; the fewest members holding \(report.valuePercent) %)",
            facts: facts("pareto", report.period) + [("currency", report.currency)],
            columns: ["measure", "members", "total"] + percents.map { "top\($0)_pct" }
                + ["members_to_\(report.valuePercent)", "members_to_\(report.valuePercent)_pct", "gini_pct"],
            rows: rows)
    }

    static func liability(_ report: LiabilityReport) -> ReportTable {
        let horizons = report.horizonsDays.map(String.init).joined(separator: "/")
        let rows = (report.tiers + [report.total]).map { row -> [ReportCell] in
            [.text(row.tierCode), .integer(row.members), .integer(row.outstanding), .integer(row.held)]
                + row.expiring.map(ReportCell.integer)
                + [.integer(row.earned), .integer(row.expired), .percent(basisPoints: row.breakageBasisPoints)]
        }
        return ReportTable(
            title: "Points liability by tier as of \(report.period.asOf) (expiring within \(horizons) days, overdue included; "
                + "earned, expired and breakage \(report.period.windowStart)..\(report.period.asOf))",
            facts: facts("liability", report.period),
            columns: ["tier", "members", "outstanding", "held"] + report.horizonsDays.map { "expiring_\($0)d" }
                + ["earned", "expired", "breakage_pct"],
            rows: rows)
    }

    static func tiers(_ report: TierReport) -> ReportTable {
        ReportTable(
            title: "Active members by tier as of \(report.period.asOf) (qualifying since \(report.qualificationStart); "
                + "candidates within \(report.upgradeProximityPercent) % below the next threshold; lapsing within \(report.lapseHorizonDays) days)",
            facts: facts("tiers", report.period) + [("qualification_start", report.qualificationStart.description)],
            columns: ["tier", "rank", "threshold", "members", "members_pct", "upgrade_candidates", "lapsing_\(report.lapseHorizonDays)d"],
            rows: report.tiers.map { row in
                [.text(row.tierCode), .integer(Int64(row.rank)), .integer(row.threshold), .integer(row.members),
                 .percent(basisPoints: basisPoints(row.members, of: report.members)), .integer(row.upgradeCandidates),
                 .integer(row.lapsing)]
            })
    }

    static func settlement(_ report: SettlementReport) -> ReportTable {
        var rows = report.rows.map { row -> [ReportCell] in
            let currency = row.priceCurrency ?? report.currency
            return [.text(row.partnerCode), .text(row.month), .integer(row.accruals), .integer(row.pointsIssued), .integer(row.reversals),
                    .integer(row.pointsReversed), .integer(row.netPoints), .integer(row.promotionPoints), .text(currency),
                    .money(minor: row.pricePerThousandMinor, currency: currency), .money(minor: row.owedMinor, currency: currency)]
        }
        for (currency, owed) in report.owedByCurrency.sorted(by: { $0.key < $1.key }) {
            let inCurrency = report.rows.filter { ($0.priceCurrency ?? report.currency) == currency }
            let sum = { (value: (SettlementRow) -> Int64) in inCurrency.reduce(0) { $0 + value($1) } }
            rows.append([.text("total"), .missing, .integer(sum(\.accruals)), .integer(sum(\.pointsIssued)), .integer(sum(\.reversals)),
                         .integer(sum(\.pointsReversed)), .integer(sum(\.netPoints)), .integer(sum(\.promotionPoints)), .text(currency),
                         .missing, .money(minor: owed, currency: currency)])
        }
        if report.rows.isEmpty {
            rows.append([.text("total"), .missing, .integer(0), .integer(0), .integer(0), .integer(0), .integer(0), .integer(0),
                         .text(report.currency), .missing, .money(minor: 0, currency: report.currency)])
        }
        return ReportTable(
            title: "Partner settlement by posting month, \(report.firstMonth.description.prefix(7))..\(report.period.asOf) "
                + "(owed = net points × price per 1,000, rounded down per row, \(report.currency))",
            facts: facts("settlement", report.period) + [("first_month", report.firstMonth.description), ("currency", report.currency)],
            columns: ["partner", "month", "accruals", "points_issued", "reversals", "points_reversed", "net_points",
                      "promotion_points", "currency", "price_per_1000", "owed"],
            rows: rows)
    }
}
