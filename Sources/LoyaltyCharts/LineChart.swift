/// Lines over evenly spaced points in time (months, days): one line per series, with a legend.
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        /// One value per x label; nil leaves a gap.
        public var values: [Int64?]
        public var dashed: Bool

        public init(name: String, values: [Int64?], dashed: Bool = false) {
            self.name = name
            self.values = values
            self.dashed = dashed
        }
    }

    public static let pointsMax = 1_000
    public static let seriesMax = 6
    /// Dots mark each point only while they stay apart.
    static let dotsPointsMax = 40

    public var title: String
    public var subtitle: String?
    public var xLabels: [String]
    public var series: [Series]
    public var valueAxisTitle: String
    public var xAxisTitle: String
    public var width: Int
    public var height: Int

    public init(title: String, subtitle: String? = nil, xLabels: [String], series: [Series],
                valueAxisTitle: String, xAxisTitle: String,
                width: Int = ChartStyle.widthDefault, height: Int = ChartStyle.heightDefault) {
        self.title = title
        self.subtitle = subtitle
        self.xLabels = xLabels
        self.series = series
        self.valueAxisTitle = valueAxisTitle
        self.xAxisTitle = xAxisTitle
        self.width = width
        self.height = height
    }

    /// The chart as a standalone SVG document.
    public func svg() -> String {
        precondition((2...Self.pointsMax).contains(xLabels.count), "line charts take 2-\(Self.pointsMax) points")
        precondition((1...Self.seriesMax).contains(series.count), "line charts take 1-\(Self.seriesMax) series")
        precondition(series.allSatisfy { $0.values.count == xLabels.count }, "every series has one value per x label")
        let values = series.flatMap { $0.values.compactMap { $0 } }
        let scale = NiceScale(minimum: values.min() ?? 0, maximum: values.max() ?? 0)
        let labels = xLabels.map(ChartStyle.clipped)
        let legend = series.enumerated().map {
            LegendItem(name: $0.element.name, color: ChartStyle.color($0.offset), isLine: true, dashed: $0.element.dashed)
        }
        // Every k-th label, so that the shown ones never overlap.
        let widest = labels.map { ChartStyle.textWidth($0, size: ChartStyle.labelSize) }.max() ?? 0
        let spacingEstimate = Double(width) * 0.85 / Double(labels.count - 1)
        let every = max(1, Int((widest + 12) / spacingEstimate) + 1)
        let frame = PlotFrame(width: width, height: height, hasSubtitle: subtitle != nil, hasLegend: true, scale: scale,
                              tickLabel: NumberText.compact, xLabelHeight: PlotFrame.categoryLabelHeight(labels, turned: false))
        var svg = SVGWriter(width: width, height: height)
        frame.drawHeader(&svg, title: title, subtitle: subtitle, legend: legend)
        frame.drawValueAxis(&svg, title: valueAxisTitle, tickLabel: NumberText.compact)

        // Room for half of the first and last labels, which are centred on the ends.
        let inset = min(widest / 2 + 4, frame.plotWidth / 8)
        let spacing = (frame.plotWidth - 2 * inset) / Double(labels.count - 1)
        let xs = labels.indices.map { frame.plotLeft + inset + spacing * Double($0) }
        for (index, x) in xs.enumerated() where index % every == 0 {
            svg.line(x1: x, y1: frame.plotBottom, x2: x, y2: frame.plotBottom + PlotFrame.tickLength, stroke: ChartStyle.axisColor)
        }
        let shown = labels.enumerated().map { $0.offset % every == 0 ? $0.element : "" }
        frame.drawCategoryLabels(&svg, shown, centers: xs, turned: false)
        for (seriesIndex, one) in series.enumerated() {
            let color = ChartStyle.color(seriesIndex)
            // Gaps (nil) split a series into runs drawn separately.
            var run: [(x: Double, y: Double)] = []
            for (index, value) in one.values.enumerated() {
                if let value { run.append((xs[index], frame.y(value))) }
                if value == nil || index == one.values.count - 1 {
                    if run.count > 1 { svg.polyline(run, stroke: color, width: 2.5, dashed: one.dashed) }
                    run.removeAll()
                }
            }
            guard xLabels.count <= Self.dotsPointsMax else { continue }
            for (index, value) in one.values.enumerated() {
                guard let value else { continue }
                svg.circle(x: xs[index], y: frame.y(value), radius: 3.5, fill: color)
            }
        }
        frame.drawCategoryAxisTitle(&svg, xAxisTitle)
        return svg.document(title: title, description: subtitle)
    }
}
