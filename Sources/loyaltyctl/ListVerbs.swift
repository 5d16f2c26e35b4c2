import Foundation
import LoyaltyCore
import LoyaltyStore

/// Lists of members to act on, streamed: one chunk of rows in memory at a time, whatever the size.
let listVerbs: [Verb] = [
    Verb(words: ["members", "list"],
         usage: "members list (--segment S | --tier T | --expiring-within DAYS | --lapsing-within DAYS | --upgrade-within PCT) "
            + "[--as-of YYYY-MM-DD] [--format csv|json] [--fetch-rows N]",
         summary: "active members chosen by RFM segment, tier, points expiring, tier lapsing or closeness to the next tier, "
            + "with the figures behind the choice",
         valued: Set(memberFilterOptions + ["as-of", "format", "fetch-rows"])) { context, args in
        try args.expectPositionals(0)
        let filter = try memberFilter(args)
        let asOf = try args.date("as-of")
        let json = try {
            switch args.options["format"] ?? "csv" {
            case "csv": return false
            case "json": return true
            default: throw UsageError(message: "--format must be csv or json")
            }
        }()
        let fetchRows = try args.integer("fetch-rows", in: LoyaltyStore.memberListRowsPerFetchRange)
            ?? LoyaltyStore.memberListRowsPerFetchDefault
        let currency = try context.store.program().currency
        let asOfText = try (asOf ?? context.store.today()).description
        var columns: [String] = [], kinds: [MemberListColumnKind] = []
        var written: Int64 = 0
        let out = FileHandle.standardOutput
        try context.store.streamMemberList(filter, asOf: asOf, rowsPerFetch: fetchRows, columns: { list in
            columns = list.names
            kinds = list.kinds
            out.write(Data((json
                ? "{\n  \"list\": \"members\",\n  \"filter\": \(ReportTable.jsonString(args.filterText)),\n"
                    + "  \"as_of\": \"\(asOfText)\",\n  \"rows\": ["
                : ReportTable.csvLine(columns) + "\n").utf8))
        }, rows: { chunk in
            var text = ""
            for row in chunk {
                if json {
                    text += (written == 0 ? "\n    " : ",\n    ")
                        + ReportTable.jsonObject(columns, zip(kinds, row).map { cell($0, $1, currency: currency) })
                } else {
                    text += ReportTable.csvLine(zip(kinds, row).map { kind, value in
                        // The database's text is already the CSV field of all but money.
                        kind == .money ? cell(kind, value, currency: currency).plain : value ?? ""
                    }) + "\n"
                }
                written += 1
            }
            out.write(Data(text.utf8))
        })
        if json { out.write(Data((written == 0 ? "]\n}\n" : "\n  ]\n}\n").utf8)) }
    },
]

/// The options that choose the members; a list takes exactly one.
private let memberFilterOptions = ["segment", "tier", "expiring-within", "lapsing-within", "upgrade-within"]

private func cell(_ kind: MemberListColumnKind, _ value: String?, currency: String) -> ReportCell {
    guard let value else { return .missing }
    switch kind {
    case .text, .date: return .text(value)
    case .integer: return Int64(value).map(ReportCell.integer) ?? .text(value)
    case .money: return Int64(value).map { .money(minor: $0, currency: currency) } ?? .text(value)
    }
}

/// Exactly one of the filter options.
private func memberFilter(_ args: Arguments) throws(UsageError) -> MemberFilter {
    let given = memberFilterOptions.filter { args.options[$0] != nil }
    guard given.count == 1, let name = given.first, let text = args.options[name] else {
        throw UsageError(message: "give exactly one of --segment, --tier, --expiring-within, --lapsing-within, --upgrade-within")
    }
    func number<T: FixedWidthInteger>(_ range: ClosedRange<T>) throws(UsageError) -> T {
        guard let value = try args.integer(name, in: range) else { preconditionFailure("--\(name) was given") }
        return value
    }
    switch name {
    case "segment":
        guard let segment = RFMSegment(rawValue: text.replacingOccurrences(of: "-", with: "_")) else {
            throw UsageError(message: "--segment must be one of \(RFMSegment.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return .segment(segment)
    case "tier": return .tier(text)
    case "expiring-within": return .expiringWithin(days: try number(MemberFilter.daysRange))
    case "lapsing-within": return .lapsingWithin(days: try number(MemberFilter.daysRange))
    default: return .upgradeWithin(percent: try number(MemberFilter.percentRange))
    }
}

extension Arguments {
    /// The filter as given, `segment=at_risk`, for the JSON header.
    var filterText: String {
        memberFilterOptions.compactMap { name in options[name].map { "\(name)=\($0)" } }.joined(separator: " ")
    }
}
