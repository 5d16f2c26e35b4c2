@testable import LoyaltyCharts
import XCTest

final class BarChartTests: XCTestCase {
    private func segments(notes: [String]? = nil) -> BarChart {
        BarChart(title: "Members by segment", subtitle: "as of 2026-06-30",
                 categories: ["champions", "loyal", "at_risk"],
                 series: [.init(name: "members", values: [200, 100, 50], notes: notes)],
                 valueAxisTitle: "members", categoryAxisTitle: "segment")
    }

    /// Bars are the rects that carry a tooltip; the background and legend boxes have none.
    private func bars(_ svg: String) -> [Element] {
        let elements = SVGParse.parse(svg)
        return elements.indices.filter { elements[$0].name == "rect" && elements.indices.contains($0 + 1)
            && elements[$0 + 1].name == "title" && elements[$0 + 1].ancestors.last == "rect" }.map { elements[$0] }
    }

    func testIsASelfContainedDocumentWithTitleAndAxes() {
        let svg = segments().svg()
        assertSelfContained(svg, title: "Members by segment")
        let texts = SVGParse.parse(svg).texts
        for expected in ["Members by segment", "as of 2026-06-30", "members", "segment", "champions", "loyal", "at_risk"] {
            XCTAssertTrue(texts.contains(expected), "missing text \(expected)")
        }
    }

    func testBarHeightsAreProportionalToValuesAndCarryExactLabels() throws {
        let svg = segments(notes: ["57.14 %", "28.57 %", "14.29 %"]).svg()
        let heights = try bars(svg).map { try XCTUnwrap($0.number("height")) }
        XCTAssertEqual(heights.count, 3)
        XCTAssertEqual(heights[0] / heights[1], 2, accuracy: 0.02)
        XCTAssertEqual(heights[1] / heights[2], 2, accuracy: 0.04)
        let texts = SVGParse.parse(svg).texts
        XCTAssertTrue(texts.contains("200") && texts.contains("57.14 %") && texts.contains("14.29 %"))
        // One colour per bar when there is one series, and then no legend box.
        XCTAssertEqual(Set(try bars(svg).map { try XCTUnwrap($0.attributes["fill"]) }).count, 3)
    }

    func testSeveralSeriesGetAColourEachAndALegend() throws {
        let chart = BarChart(title: "Tiers", categories: ["Member", "Premier"],
                             series: [.init(name: "members", values: [900, 80]), .init(name: "lapsing", values: [0, 12])],
                             valueAxisTitle: "members", categoryAxisTitle: "tier")
        let svg = chart.svg()
        let fills = try bars(svg).map { try XCTUnwrap($0.attributes["fill"]) }
        XCTAssertEqual(fills.count, 4)
        XCTAssertEqual(fills[0], fills[1])
        XCTAssertNotEqual(fills[0], fills[2])
        let texts = SVGParse.parse(svg).texts
        XCTAssertTrue(texts.contains("members") && texts.contains("lapsing"))
    }

    func testHostileLabelsAreEscapedAndLongOnesClipped() {
        let chart = BarChart(title: "A <b>&</b> chart", categories: ["</text><script>", String(repeating: "x", count: 60)],
                             series: [.init(name: "n", values: [1, 2])], valueAxisTitle: "n", categoryAxisTitle: "c")
        let svg = chart.svg()
        assertSelfContained(svg, title: "A <b>&</b> chart")
        let texts = SVGParse.parse(svg).texts
        XCTAssertTrue(texts.contains("</text><script>"))
        XCTAssertTrue(texts.contains(String(repeating: "x", count: 27) + "…"))
    }

    func testAllZeroValuesStillDrawAnAxis() {
        let chart = BarChart(title: "Empty", categories: ["a"], series: [.init(name: "n", values: [0])],
                             valueAxisTitle: "n", categoryAxisTitle: "c")
        let texts = SVGParse.parse(chart.svg()).texts
        XCTAssertTrue(texts.contains("0") && texts.contains("1"))
    }
}

final class BarChartLayoutTests: XCTestCase {
    func testTurnedLabelsStayInsideTheChart() throws {
        let categories = ["Premier Executive Platinum"] + (1...11).map { "Tier number \($0)" }
        let chart = BarChart(title: "t", categories: categories, series: [.init(name: "n", values: categories.map { _ in 1 })],
                             valueAxisTitle: "n", categoryAxisTitle: "c")
        let first = try XCTUnwrap(SVGParse.parse(chart.svg()).named("text").first { $0.text == categories[0] })
        XCTAssertNotNil(first.attributes["transform"], "long labels in narrow slots are turned")
        // A turned label ends at its anchor and reaches left by its width × cos 35°.
        let reach = Double(categories[0].count) * 12 * 0.6 * 0.819
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(first.number("x")) - reach, 0)
    }

    func testNegativeBarsHangBelowZeroWithTheirLabelUnderneath() throws {
        let chart = BarChart(title: "t", categories: ["credit", "debit"], series: [.init(name: "n", values: [-500, 1_200])],
                             valueAxisTitle: "owed", categoryAxisTitle: "partner")
        let elements = SVGParse.parse(chart.svg())
        let bar = try XCTUnwrap(elements.named("rect").first { $0.attributes["fill"] == "#4e79a7" })
        let label = try XCTUnwrap(elements.named("text").first { $0.text == "-500" })
        let zero = try XCTUnwrap(elements.named("text").first { $0.text == "0" })
        // The bar starts at the zero line (the tick label sits on it) and the label is below the bar.
        XCTAssertEqual(try XCTUnwrap(bar.number("y")), try XCTUnwrap(zero.number("y")) - 4, accuracy: 1)
        XCTAssertGreaterThan(try XCTUnwrap(label.number("y")),
                             try XCTUnwrap(bar.number("y")) + (try XCTUnwrap(bar.number("height"))))
    }
}
