import Foundation
import LoyaltyCore
import LoyaltyStore

/// What every report verb takes: the date, the output format, and where to write the chart.
struct ReportOptions {
    static let valued: Set<String> = ["as-of", "format", "svg"]
    static let usage = "[--as-of YYYY-MM-DD] [--format table|csv|json] [--svg FILE]"

    var asOf: LocalDate?
    var format: ReportFormat
    var svgPath: String?

    init(_ args: Arguments) throws(UsageError) {
        try args.expectPositionals(0)
        asOf = try args.date("as-of")
        let formatText = args.options["format"] ?? ReportFormat.table.rawValue
        guard let format = ReportFormat(rawValue: formatText) else {
            throw UsageError(message: "--format must be one of \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.format = format
        svgPath = args.options["svg"]
    }

    /// Prints the table; writes the chart (made only when asked for) to the --svg file.
    func emit(_ table: ReportTable, chart: (() -> String)?) throws {
        if svgPath != nil && chart == nil { throw UsageError(message: "this report has no chart; leave out --svg") }
        print(table.rendered(format), terminator: "")
        guard let svgPath, let chart else { return }
        do {
            try Data(chart().utf8).write(to: URL(fileURLWithPath: svgPath), options: .atomic)
        } catch {
            throw Failure(message: "cannot write \(svgPath): \(error.localizedDescription)")
        }
        FileHandle.standardError.write(Data("loyaltyctl: chart written to \(svgPath)\n".utf8))
    }
}

/// Analytics over the ledger; docs/reports.md defines every figure.
let reportVerbs: [Verb] = [
    Verb(words: ["report", "rfm"], usage: "report rfm [--member NUMBER] \(ReportOptions.usage)",
         summary: "recency, frequency and spend quintiles; members per segment (or one member's scores)",
         valued: ReportOptions.valued.union(["member"])) { context, args in
        let options = try ReportOptions(args)
        guard let number = args.options["member"] else {
            let report = try context.store.rfmReport(asOf: options.asOf)
            try options.emit(ReportTables.rfm(report)) { ReportCharts.rfm(report) }
            return
        }
        let score = try context.store.rfmMember(number: number, asOf: options.asOf)
        try options.emit(ReportTables.rfmMember(score, currency: try context.store.program().currency), chart: nil)
    },
    Verb(words: ["report", "clv"],
         usage: "report clv [--member NUMBER] [--horizon-years N] [--discount-rate R] \(ReportOptions.usage)",
         summary: "spend and points so far, discounted spend ahead and customer equity per tier, RFM segment and cohort",
         valued: ReportOptions.valued.union(["member", "horizon-years", "discount-rate"])) { context, args in
        let options = try ReportOptions(args)
        let model = try clvModel(args)
        guard let number = args.options["member"] else {
            let report = try context.store.clvReport(asOf: options.asOf, model: model)
            try options.emit(ReportTables.clv(report)) { ReportCharts.clv(report) }
            return
        }
        let member = try context.store.clvMember(number: number, asOf: options.asOf, model: model)
        try options.emit(ReportTables.clvMember(member, model: model, currency: try context.store.program().currency), chart: nil)
    },
    Verb(words: ["report", "cohorts"], usage: "report cohorts [--by month|quarter] [--periods N] \(ReportOptions.usage)",
         summary: "members by enrolment month or quarter × share active in each later period, churn per period; heat map",
         valued: ReportOptions.valued.union(["by", "periods"])) { context, args in
        let options = try ReportOptions(args)
        let by = try args.options["by"].map { text throws(UsageError) in
            guard let by = CohortPeriod(rawValue: text) else { throw UsageError(message: "--by must be month or quarter") }
            return by
        } ?? .month
        let periods = try args.integer("periods", in: CohortReport.periodsRange) ?? 12
        let report = try context.store.cohortReport(asOf: options.asOf, by: by, periods: periods)
        try options.emit(ReportTables.cohorts(report)) { ReportCharts.cohorts(report) }
    },
    Verb(words: ["report", "ladder"], usage: "report ladder [--from YYYY-MM-DD] \(ReportOptions.usage)",
         summary: "members per loyalty-ladder rung (prospect to advocate) on two dates and how they moved between them",
         valued: ReportOptions.valued.union(["from"])) { context, args in
        let options = try ReportOptions(args)
        let report = try context.store.ladderReport(asOf: options.asOf, from: try args.date("from"))
        try options.emit(ReportTables.ladder(report)) { ReportCharts.ladder(report) }
    },
    reportVerb("pareto",
               summary: "share of points and spend held by the top 1/5/10/20 % of members, the fewest holding 80 %; Lorenz curve",
               make: { try $0.paretoReport(asOf: $1) }, table: ReportTables.pareto, chart: ReportCharts.pareto),
    reportVerb("liability",
               summary: "points outstanding, held and expiring within 30/60/90 days by tier; breakage; outstanding over time",
               make: { try $0.liabilityReport(asOf: $1) }, table: ReportTables.liability, chart: ReportCharts.liability),
    reportVerb("tiers",
               summary: "members per tier, upgrade candidates (within 10 % of the next threshold), tiers lapsing within 90 days",
               make: { try $0.tierReport(asOf: $1) }, table: ReportTables.tiers, chart: ReportCharts.tiers),
    reportVerb("settlement",
               summary: "per partner and posting month: accruals, points issued and reversed, amount owed at the partner's price",
               make: { try $0.settlementReport(asOf: $1) }, table: ReportTables.settlement, chart: ReportCharts.settlement),
]

/// A report verb that takes only the common report options and always has a chart.
private func reportVerb<Report>(_ name: String, summary: String,
                                make: @escaping @Sendable (LoyaltyStore, LocalDate?) throws -> Report,
                                table: @escaping @Sendable (Report) -> ReportTable,
                                chart: @escaping @Sendable (Report) -> String) -> Verb {
    Verb(words: ["report", name], usage: "report \(name) \(ReportOptions.usage)", summary: summary,
         valued: ReportOptions.valued) { context, args in
        let options = try ReportOptions(args)
        let report = try make(context.store, options.asOf)
        try options.emit(table(report)) { chart(report) }
    }
}

/// `--horizon-years N` and `--discount-rate R` (a yearly fraction with up to four decimals: 0.1 is 10 %).
private func clvModel(_ args: Arguments) throws(UsageError) -> CLVModel {
    var model = CLVModel()
    model.horizonYears = try args.integer("horizon-years", in: CLVModel.horizonYearsRange) ?? model.horizonYears
    if let text = args.options["discount-rate"] {
        guard let rate = basisPoints(fraction: text), CLVModel.discountBasisPointsRange.contains(rate) else {
            throw UsageError(message: "--discount-rate must be a fraction from 0 to 1 with at most four decimals (0.1 is 10 % a year)")
        }
        model.discountBasisPoints = rate
    }
    return model
}

/// "0.0825" -> 825; nil unless digits with at most four decimals.
func basisPoints(fraction text: String) -> Int64? {
    let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
    guard let whole = parts.first, !whole.isEmpty, whole.count <= 6, whole.allSatisfy(\.isASCII), whole.allSatisfy(\.isNumber) else { return nil }
    let decimals = parts.count > 1 ? parts[1] : ""
    guard decimals.count <= 4, parts.count == 1 || !decimals.isEmpty, decimals.allSatisfy({ $0.isASCII && $0.isNumber }),
          let wholeValue = Int64(whole), let decimalValue = Int64(String(decimals).padding(toLength: 4, withPad: "0", startingAt: 0))
    else { return nil }
    return wholeValue * 10_000 + decimalValue
}
