@testable import LoyaltyCharts
import XCTest

final class HeatMapTests: XCTestCase {
    private func retention() -> HeatMap {
        HeatMap(title: "Retention by cohort", subtitle: "members with an accrual, share of the cohort",
                rowLabels: ["2026-04", "2026-05", "2026-06 <new>"], columnLabels: ["0", "1", "2"],
                cells: [[10_000, 5_000, 2_500], [8_000, 4_000, nil], [9_999, nil, nil]],
                rowAxisTitle: "enrolment month", columnAxisTitle: "months since enrolment")
    }

    /// Cells are the rects that carry a tooltip.
    private func cells(_ svg: String) -> [Element] {
        let elements = SVGParse.parse(svg)
        return elements.indices.filter { elements[$0].name == "rect" && elements.indices.contains($0 + 1)
            && elements[$0 + 1].name == "title" && elements[$0 + 1].ancestors.last == "rect" }.map { elements[$0] }
    }

    func testIsASelfContainedDocumentWithEveryLabelEscaped() {
        let svg = retention().svg()
        assertSelfContained(svg, title: "Retention by cohort")
        XCTAssertTrue(svg.contains("2026-06 &lt;new&gt;"))
        let texts = SVGParse.parse(svg).texts
        for expected in ["2026-04", "2026-06 <new>", "months since enrolment", "enrolment month", "0 %", "100 %", "50", "99"] {
            XCTAssertTrue(texts.contains(expected), "missing text \(expected)")
        }
    }

    func testACellPerValueBlankWhereThereIsNoneShadedDarkerForMore() throws {
        let svg = retention().svg()
        let found = cells(svg)
        XCTAssertEqual(found.count, 6, "three cells of the future stay blank")
        let fills = try found.map { try XCTUnwrap($0.attributes["fill"]) }
        XCTAssertEqual(fills[0], "#08306b", "100 % is the darkest")
        XCTAssertEqual(HeatMap.shade(0), "#f7fbff")
        XCTAssertEqual(HeatMap.shade(-5), "#f7fbff")
        XCTAssertEqual(HeatMap.shade(20_000), "#08306b")
        // Darker means a smaller red channel: 100 % < 80 % < 50 % < 25 %.
        let red = { (fill: String) in Int(fill.dropFirst().prefix(2), radix: 16) ?? -1 }
        XCTAssertLessThan(red(fills[0]), red(fills[3]))
        XCTAssertLessThan(red(fills[3]), red(fills[1]))
        XCTAssertLessThan(red(fills[1]), red(fills[2]))
        // Every cell the same size, exact value in its tooltip.
        XCTAssertEqual(Set(found.compactMap { $0.attributes["width"] }).count, 1)
        XCTAssertTrue(svg.contains("<title>2026-05, 1: 40.00 %</title>"))
    }

    func testFortyCohortsByFortyPeriodsStillFit() {
        let labels = (0..<40).map { "2023-\($0)" }
        // A triangle, as cohorts have it: the later the cohort, the fewer periods it has lived.
        var grid: [[Int64?]] = []
        for row in 0..<40 {
            var cells: [Int64?] = []
            for column in 0..<40 { cells.append(row + column < 40 ? Int64(10_000 - 250 * column) : nil) }
            grid.append(cells)
        }
        let svg = HeatMap(title: "Retention", rowLabels: labels, columnLabels: (0..<40).map(String.init), cells: grid,
                          rowAxisTitle: "cohort", columnAxisTitle: "period").svg()
        XCTAssertEqual(cells(svg).count, 820)
        assertSelfContained(svg, title: "Retention")
    }
}
