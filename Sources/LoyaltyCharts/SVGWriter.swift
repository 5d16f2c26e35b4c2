import Foundation

/// Builds one self-contained SVG document: no external references (fonts fall back to the
/// viewer's sans-serif), every text escaped, every number written with at most one decimal.
struct SVGWriter {
    private(set) var body: [String] = []
    let width: Int
    let height: Int

    init(width: Int, height: Int) {
        precondition(width > 0 && height > 0, "an SVG needs a positive size")
        self.width = width
        self.height = height
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String,
                       opacity: Double? = nil, title: String? = nil) {
        let opacityAttribute = opacity.map { #" fill-opacity="\#(Self.number($0))""# } ?? ""
        let tooltip = title.map { "<title>\(Self.escape($0))</title>" } ?? ""
        let attributes = #"x="\#(Self.number(x))" y="\#(Self.number(y))" width="\#(Self.number(max(0, width)))" "#
            + #"height="\#(Self.number(max(0, height)))" fill="\#(fill)"\#(opacityAttribute)"#
        body.append(tooltip.isEmpty ? "<rect \(attributes)/>" : "<rect \(attributes)>\(tooltip)</rect>")
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 1,
                       dashed: Bool = false) {
        let dash = dashed ? #" stroke-dasharray="6 4""# : ""
        body.append(#"<line x1="\#(Self.number(x1))" y1="\#(Self.number(y1))" x2="\#(Self.number(x2))" "#
            + #"y2="\#(Self.number(y2))" stroke="\#(stroke)" stroke-width="\#(Self.number(width))"\#(dash)/>"#)
    }

    mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, width: Double, dashed: Bool = false) {
        let dash = dashed ? #" stroke-dasharray="6 4""# : ""
        let list = points.map { "\(Self.number($0.x)),\(Self.number($0.y))" }.joined(separator: " ")
        body.append(#"<polyline points="\#(list)" fill="none" stroke="\#(stroke)" stroke-width="\#(Self.number(width))" "#
            + #"stroke-linejoin="round" stroke-linecap="round"\#(dash)/>"#)
    }

    mutating func polygon(_ points: [(x: Double, y: Double)], fill: String, opacity: Double) {
        let list = points.map { "\(Self.number($0.x)),\(Self.number($0.y))" }.joined(separator: " ")
        body.append(#"<polygon points="\#(list)" fill="\#(fill)" fill-opacity="\#(Self.number(opacity))" stroke="none"/>"#)
    }

    mutating func circle(x: Double, y: Double, radius: Double, fill: String, stroke: String = "#ffffff") {
        body.append(#"<circle cx="\#(Self.number(x))" cy="\#(Self.number(y))" r="\#(Self.number(radius))" "#
            + #"fill="\#(fill)" stroke="\#(stroke)" stroke-width="1.5"/>"#)
    }

    enum Anchor: String { case start, middle, end }

    /// Text at (x, y) on its baseline; `rotate` turns it (degrees) around that point.
    mutating func text(_ content: String, x: Double, y: Double, size: Double, anchor: Anchor = .start,
                       fill: String = ChartStyle.textColor, bold: Bool = false, rotate: Double? = nil) {
        let weight = bold ? #" font-weight="bold""# : ""
        let transform = rotate.map {
            #" transform="rotate(\#(Self.number($0)) \#(Self.number(x)) \#(Self.number(y)))""#
        } ?? ""
        body.append(#"<text x="\#(Self.number(x))" y="\#(Self.number(y))" font-size="\#(Self.number(size))" "#
            + #"text-anchor="\#(anchor.rawValue)" fill="\#(fill)"\#(weight)\#(transform)>\#(Self.escape(content))</text>"#)
    }

    /// The finished document: an XML prolog, the accessible title, a white background, the body.
    func document(title: String, description: String?) -> String {
        var lines = [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(width)" height="\#(height)" "#
                + #"viewBox="0 0 \#(width) \#(height)" role="img" font-family="\#(ChartStyle.fontFamily)">"#,
            "<title>\(Self.escape(title))</title>",
        ]
        if let description { lines.append("<desc>\(Self.escape(description))</desc>") }
        lines.append(#"<rect x="0" y="0" width="\#(width)" height="\#(height)" fill="\#(ChartStyle.background)"/>"#)
        lines += body
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// XML-escapes text and drops control characters, which XML 1.0 cannot carry at all.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case _ where scalar.value < 0x20 && scalar != "\t" && scalar != "\n": continue
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A coordinate with at most one decimal, never "-0" and never an exponent.
    static func number(_ value: Double) -> String {
        precondition(value.isFinite, "chart geometry must be finite")
        let tenths = Int64((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        let magnitude = tenths.magnitude
        return magnitude % 10 == 0 ? "\(sign)\(magnitude / 10)" : "\(sign)\(magnitude / 10).\(magnitude % 10)"
    }
}
