@testable import LoyaltyCharts
import XCTest

final class LineChartTests: XCTestCase {
    func testOnePolylinePerRunAndALegendEntryPerSeries() {
        let chart = LineChart(title: "Outstanding", xLabels: ["2026-01", "2026-02", "2026-03", "2026-04"],
                              series: [.init(name: "outstanding", values: [100, 200, nil, 400]),
                                       .init(name: "expired", values: [0, 0, 10, 10], dashed: true)],
                              valueAxisTitle: "points", xAxisTitle: "month end")
        let svg = chart.svg()
        assertSelfContained(svg, title: "Outstanding")
        let elements = SVGParse.parse(svg)
        // The gap splits "outstanding" into a run of two points and a lone point (no line).
        let polylines = elements.named("polyline")
        XCTAssertEqual(polylines.count, 2)
        XCTAssertEqual(polylines.filter { $0.attributes["stroke-dasharray"] != nil }.count, 1)
        XCTAssertEqual(elements.named("circle").count, 3 + 4)
        XCTAssertTrue(elements.texts.contains("outstanding") && elements.texts.contains("expired"))
        XCTAssertTrue(elements.texts.contains("2026-01") && elements.texts.contains("2026-04"))
    }

    func testHigherValuesAreDrawnHigher() throws {
        let chart = LineChart(title: "t", xLabels: ["a", "b"], series: [.init(name: "s", values: [10, 1_000])],
                              valueAxisTitle: "v", xAxisTitle: "x")
        let dots = SVGParse.parse(chart.svg()).named("circle")
        XCTAssertGreaterThan(try XCTUnwrap(dots[0].number("cy")), try XCTUnwrap(dots[1].number("cy")))
    }

    func testManyLabelsAreThinnedSoTheyDoNotOverlap() {
        let labels = (0..<120).map { "2026-01-\($0)" }
        let chart = LineChart(title: "t", xLabels: labels, series: [.init(name: "s", values: labels.indices.map { Int64($0) })],
                              valueAxisTitle: "v", xAxisTitle: "x")
        let shown = SVGParse.parse(chart.svg()).texts.filter { $0.hasPrefix("2026-01-") }
        XCTAssertLessThan(shown.count, 20)
        XCTAssertEqual(shown.first, "2026-01-0")
    }
}

final class LorenzChartTests: XCTestCase {
    private let curve = [LorenzPoint(membersBasisPoints: 0, valueBasisPoints: 0),
                         LorenzPoint(membersBasisPoints: 8_000, valueBasisPoints: 2_000),
                         LorenzPoint(membersBasisPoints: 10_000, valueBasisPoints: 10_000)]

    func testCurveEqualityLineAndMarkers() throws {
        let chart = LorenzChart(title: "Concentration", subtitle: "Gini 0.60",
                                curves: [.init(name: "points", points: curve)],
                                markers: [.init(point: curve[1], label: "top 20 %: 80.00 %")],
                                membersAxisTitle: "members, smallest first", valueAxisTitle: "share of points")
        let svg = chart.svg()
        assertSelfContained(svg, title: "Concentration")
        let elements = SVGParse.parse(svg)
        let line = try XCTUnwrap(elements.named("polyline").first)
        XCTAssertEqual(line.attributes["points"]?.split(separator: " ").count, 3)
        XCTAssertTrue(elements.texts.contains("top 20 %: 80.00 %"))
        for tick in ["0 %", "20 %", "100 %"] { XCTAssertTrue(elements.texts.contains(tick), "missing tick \(tick)") }
        // The equality diagonal runs from the bottom left corner to the top right one.
        let diagonal = try XCTUnwrap(elements.named("line").first { $0.attributes["stroke-dasharray"] != nil
            && $0.number("x1") != $0.number("x2") && $0.number("y1") != $0.number("y2") })
        XCTAssertGreaterThan(try XCTUnwrap(diagonal.number("y1")), try XCTUnwrap(diagonal.number("y2")))
    }
}
