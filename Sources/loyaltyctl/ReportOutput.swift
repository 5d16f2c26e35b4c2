import Foundation
import LoyaltyCharts
import LoyaltyCore

/// One value of a report table; the kind decides how each format writes it, so numbers stay exact.
enum ReportCell: Equatable {
    case text(String)
    case integer(Int64)
    /// A share in basis points, written as a percentage with two decimals ("12.34").
    case percent(basisPoints: Int64)
    /// Integer minor units, written with the currency's decimals ("1234.56").
    case money(minor: Int64, currency: String)
    case missing

    var isNumber: Bool {
        switch self {
        case .integer, .percent, .money: return true
        case .text, .missing: return false
        }
    }

    /// Plain text for CSV and JSON numbers: no grouping, no unit.
    var plain: String {
        switch self {
        case .text(let text): return text
        case .integer(let value): return String(value)
        case .percent(let bp): return NumberText.percent(basisPoints: bp).replacingOccurrences(of: " %", with: "")
        case .money(let minor, let currency): return Currency.format(Money(minorUnits: minor, currency: currency))
        case .missing: return ""
        }
    }

    /// As a JSON value: text quoted, missing as null, numbers exact.
    var json: String {
        switch self {
        case .text(let text): return ReportTable.jsonString(text)
        case .missing: return "null"
        default: return plain
        }
    }

    /// For people: thousands grouped.
    var display: String {
        switch self {
        case .integer(let value): return NumberText.grouped(value)
        case .money: return Self.groupedDecimal(plain)
        default: return plain
        }
    }

    /// "-1234567.89" -> "-1,234,567.89".
    static func groupedDecimal(_ text: String) -> String {
        let negative = text.hasPrefix("-")
        let unsigned = negative ? text.dropFirst() : Substring(text)
        let point = unsigned.firstIndex(of: ".") ?? unsigned.endIndex
        return (negative ? "-" : "") + NumberText.grouped(Int64(unsigned[..<point]) ?? 0) + unsigned[point...]
    }
}

/// A report as rows and columns, with a title line for people and metadata for JSON.
struct ReportTable {
    var title: String
    /// Key-value facts about the whole report (as-of, window), first in JSON.
    var facts: [(String, String)]
    var columns: [String]
    var rows: [[ReportCell]]
}

enum ReportFormat: String, CaseIterable {
    case table, csv, json
}

extension ReportTable {
    func rendered(_ format: ReportFormat) -> String {
        precondition(rows.allSatisfy { $0.count == columns.count }, "every row has a cell per column")
        switch format {
        case .table: return aligned()
        case .csv: return csv()
        case .json: return json()
        }
    }

    /// Numbers right-aligned, text left-aligned, two spaces between columns, a rule under the header.
    private func aligned() -> String {
        let cells = rows.map { $0.map(\.display) }
        let widths = columns.indices.map { column in ([columns[column]] + cells.map { $0[column] }).map(\.count).max() ?? 0 }
        let numeric = columns.indices.map { column in rows.contains { $0[column].isNumber } }
        func line(_ values: [String]) -> String {
            values.indices.map { column in
                let pad = String(repeating: " ", count: widths[column] - values[column].count)
                return numeric[column] ? pad + values[column] : values[column] + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var out = [title, line(columns), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        out += cells.map(line)
        return out.joined(separator: "\n") + "\n"
    }

    /// RFC 4180: a header line, fields quoted only when they must be.
    private func csv() -> String {
        ([Self.csvLine(columns)] + rows.map { Self.csvLine($0.map(\.plain)) }).joined(separator: "\n") + "\n"
    }

    /// One CSV line, fields quoted only when they must be.
    static func csvLine(_ fields: [String]) -> String {
        fields.map { text in
            guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }.joined(separator: ",")
    }

    /// A JSON string literal.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `{column: value, ...}` on one line; numbers from their exact decimal text.
    static func jsonObject(_ columns: [String], _ row: [ReportCell]) -> String {
        "{" + zip(columns, row).map { "\(jsonString($0)): \($1.json)" }.joined(separator: ", ") + "}"
    }

    /// `{"facts"..., "rows": [{column: value}]}`; numbers are written from their exact decimal text.
    private func json() -> String {
        let string = Self.jsonString
        let facts = self.facts.map { "  \(string($0.0)): \(string($0.1))" }
        let objects = rows.map { "    " + Self.jsonObject(columns, $0) }
        return "{\n" + (facts + ["  \"rows\": [\n" + objects.joined(separator: ",\n") + (objects.isEmpty ? "]" : "\n  ]")])
            .joined(separator: ",\n") + "\n}\n"
    }
}
