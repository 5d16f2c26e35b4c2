/// A point of a Lorenz curve: the lowest `membersBasisPoints` of members (ordered by value,
/// smallest first) hold `valueBasisPoints` of the total. Both run from 0 to 10,000 (100 %).
public struct LorenzPoint: Sendable, Equatable {
    public var membersBasisPoints: Int64
    public var valueBasisPoints: Int64

    public init(membersBasisPoints: Int64, valueBasisPoints: Int64) {
        self.membersBasisPoints = membersBasisPoints
        self.valueBasisPoints = valueBasisPoints
    }
}

/// Lorenz curves of value concentration against the line of perfect equality; the area between
/// them is shaded for the first curve, and labelled markers point out readings such as
/// "the top 20 % earn 74 %".
public struct LorenzChart: Sendable {
    public struct Curve: Sendable {
        public var name: String
        /// From (0, 0) to (10,000, 10,000), members ascending.
        public var points: [LorenzPoint]

        public init(name: String, points: [LorenzPoint]) {
            self.name = name
            self.points = points
        }
    }

    /// A labelled reading on a curve.
    public struct Marker: Sendable {
        public var point: LorenzPoint
        public var label: String
        /// Index of the curve the marker belongs to (for its colour).
        public var curve: Int

        public init(point: LorenzPoint, label: String, curve: Int = 0) {
            self.point = point
            self.label = label
            self.curve = curve
        }
    }

    public static let curvesMax = 4
    public static let pointsMax = 2_000
    public static let markersMax = 8
    static let full: Int64 = 10_000

    public var title: String
    public var subtitle: String?
    public var curves: [Curve]
    public var markers: [Marker]
    public var membersAxisTitle: String
    public var valueAxisTitle: String
    public var width: Int
    public var height: Int

    public init(title: String, subtitle: String? = nil, curves: [Curve], markers: [Marker] = [],
                membersAxisTitle: String, valueAxisTitle: String, width: Int = 760, height: Int = 580) {
        self.title = title
        self.subtitle = subtitle
        self.curves = curves
        self.markers = markers
        self.membersAxisTitle = membersAxisTitle
        self.valueAxisTitle = valueAxisTitle
        self.width = width
        self.height = height
    }

    /// The chart as a standalone SVG document.
    public func svg() -> String {
        precondition((1...Self.curvesMax).contains(curves.count), "Lorenz charts take 1-\(Self.curvesMax) curves")
        precondition(markers.count <= Self.markersMax && markers.allSatisfy { curves.indices.contains($0.curve) },
                     "at most \(Self.markersMax) markers, each on a curve")
        precondition(curves.allSatisfy { (2...Self.pointsMax).contains($0.points.count) }, "a curve needs 2-\(Self.pointsMax) points")
        let inRange = (0...Self.full)
        precondition((curves.flatMap(\.points) + markers.map(\.point)).allSatisfy {
            inRange.contains($0.membersBasisPoints) && inRange.contains($0.valueBasisPoints)
        }, "Lorenz points are basis points from 0 to 10,000")
        let scale = NiceScale(bottom: 0, top: Self.full, step: 2_000)
        let tickLabel = { (bp: Int64) in "\(bp / 100) %" }
        let legend = [LegendItem(name: "equality", color: ChartStyle.mutedTextColor, isLine: true, dashed: true)]
            + curves.enumerated().map { LegendItem(name: $0.element.name, color: ChartStyle.color($0.offset), isLine: true) }
        let frame = PlotFrame(width: width, height: height, hasSubtitle: subtitle != nil, hasLegend: true, scale: scale,
                              tickLabel: tickLabel, xLabelHeight: 28 + ChartStyle.axisTitleSize + 10)
        var svg = SVGWriter(width: width, height: height)
        frame.drawHeader(&svg, title: title, subtitle: subtitle, legend: legend)
        frame.drawValueAxis(&svg, title: valueAxisTitle, tickLabel: tickLabel)
        let x = { (bp: Int64) in frame.plotLeft + Double(bp) / Double(Self.full) * frame.plotWidth }
        for tick in scale.ticks {
            if tick > 0 { svg.line(x1: x(tick), y1: frame.plotTop, x2: x(tick), y2: frame.plotBottom, stroke: ChartStyle.gridColor) }
            svg.line(x1: x(tick), y1: frame.plotBottom, x2: x(tick), y2: frame.plotBottom + PlotFrame.tickLength,
                     stroke: ChartStyle.axisColor)
            svg.text(tickLabel(tick), x: x(tick), y: frame.plotBottom + 18, size: ChartStyle.labelSize, anchor: .middle,
                     fill: ChartStyle.mutedTextColor)
        }
        svg.line(x1: frame.plotLeft, y1: frame.plotBottom, x2: frame.plotRight, y2: frame.plotBottom, stroke: ChartStyle.axisColor)

        let position = { (p: LorenzPoint) in (x: x(p.membersBasisPoints), y: frame.y(p.valueBasisPoints)) }
        // The shaded gap between equality and the first curve is what the Gini coefficient measures.
        let first = curves[0].points.map(position)
        svg.polygon(first + [position(LorenzPoint(membersBasisPoints: Self.full, valueBasisPoints: Self.full))].reversed()
                    + [position(LorenzPoint(membersBasisPoints: 0, valueBasisPoints: 0))],
                    fill: ChartStyle.color(0), opacity: 0.1)
        svg.line(x1: x(0), y1: frame.y(0), x2: x(Self.full), y2: frame.y(Self.full), stroke: ChartStyle.mutedTextColor,
                 width: 1.5, dashed: true)
        for (index, curve) in curves.enumerated() {
            svg.polyline(curve.points.map(position), stroke: ChartStyle.color(index), width: 2.5)
        }
        for marker in markers {
            let at = position(marker.point)
            svg.line(x1: at.x, y1: at.y, x2: at.x, y2: frame.plotBottom, stroke: ChartStyle.color(marker.curve), width: 1, dashed: true)
            svg.circle(x: at.x, y: at.y, radius: 5, fill: ChartStyle.color(marker.curve))
            // Labels sit left of their point, on a white card so that grid and curves do not cross them.
            let labelWidth = ChartStyle.textWidth(marker.label, size: ChartStyle.labelSize)
            svg.rect(x: at.x - 12 - labelWidth - 4, y: at.y - ChartStyle.labelSize + 1, width: labelWidth + 8,
                     height: ChartStyle.labelSize + 6, fill: ChartStyle.background, opacity: 0.9)
            svg.text(marker.label, x: at.x - 12, y: at.y + ChartStyle.labelSize / 3, size: ChartStyle.labelSize,
                     anchor: .end, bold: true)
        }
        svg.text(membersAxisTitle, x: (frame.plotLeft + frame.plotRight) / 2, y: Double(height) - PlotFrame.outerMargin + 4,
                 size: ChartStyle.axisTitleSize, anchor: .middle, fill: ChartStyle.mutedTextColor)
        return svg.document(title: title, description: subtitle)
    }
}
