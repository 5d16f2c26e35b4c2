/// Vertical bars by category: one series (each bar its own colour, no legend), or several series
/// grouped per category (a colour per series, with a legend). Values are integers (counts, points).
public struct BarChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        /// One value per category, in category order.
        public var values: [Int64]
        /// Optional text under each value label, such as a share ("12.34 %").
        public var notes: [String]?

        public init(name: String, values: [Int64], notes: [String]? = nil) {
            self.name = name
            self.values = values
            self.notes = notes
        }
    }

    /// More categories than this would make bars thinner than their labels.
    public static let categoriesMax = 40
    public static let seriesMax = 6

    public var title: String
    public var subtitle: String?
    public var categories: [String]
    public var series: [Series]
    public var valueAxisTitle: String
    public var categoryAxisTitle: String
    public var width: Int
    public var height: Int

    public init(title: String, subtitle: String? = nil, categories: [String], series: [Series],
                valueAxisTitle: String, categoryAxisTitle: String,
                width: Int = ChartStyle.widthDefault, height: Int = ChartStyle.heightDefault) {
        self.title = title
        self.subtitle = subtitle
        self.categories = categories
        self.series = series
        self.valueAxisTitle = valueAxisTitle
        self.categoryAxisTitle = categoryAxisTitle
        self.width = width
        self.height = height
    }

    /// The chart as a standalone SVG document.
    public func svg() -> String {
        precondition((1...Self.categoriesMax).contains(categories.count), "bar charts take 1-\(Self.categoriesMax) categories")
        precondition((1...Self.seriesMax).contains(series.count), "bar charts take 1-\(Self.seriesMax) series")
        precondition(series.allSatisfy { $0.values.count == categories.count && ($0.notes?.count ?? categories.count) == categories.count },
                     "every series has one value (and note) per category")
        let values = series.flatMap(\.values)
        // An eighth of headroom keeps the value labels of the tallest bar inside the plot.
        let highest = values.max() ?? 0, lowest = values.min() ?? 0
        let scale = NiceScale(minimum: lowest - max(0, -lowest / 8), maximum: highest + max(0, highest / 8))
        let labels = categories.map(ChartStyle.clipped)
        let slotEstimate = Double(width) * 0.85 / Double(categories.count)
        let turned = PlotFrame.labelsNeedTurning(labels, slotWidth: slotEstimate)
        let legend = series.count > 1
            ? series.enumerated().map { LegendItem(name: $0.element.name, color: ChartStyle.color($0.offset), isLine: false) } : []
        let frame = PlotFrame(width: width, height: height, hasSubtitle: subtitle != nil, hasLegend: !legend.isEmpty,
                              scale: scale, tickLabel: NumberText.compact,
                              xLabelHeight: PlotFrame.categoryLabelHeight(labels, turned: turned),
                              leftMinimum: PlotFrame.leftMinimum(firstLabel: labels.first, turned: turned, slotWidth: slotEstimate))
        var svg = SVGWriter(width: width, height: height)
        frame.drawHeader(&svg, title: title, subtitle: subtitle, legend: legend)
        frame.drawValueAxis(&svg, title: valueAxisTitle, tickLabel: NumberText.compact)

        let slot = frame.plotWidth / Double(categories.count)
        let groupWidth = slot * 0.72
        let barWidth = groupWidth / Double(series.count)
        let centers = categories.indices.map { frame.plotLeft + slot * (Double($0) + 0.5) }
        for (seriesIndex, one) in series.enumerated() {
            for (categoryIndex, value) in one.values.enumerated() {
                let color = ChartStyle.color(series.count == 1 ? categoryIndex : seriesIndex)
                let x = centers[categoryIndex] - groupWidth / 2 + barWidth * Double(seriesIndex)
                let top = frame.y(max(value, 0)), bottom = frame.y(min(value, 0))
                svg.rect(x: x + 1, y: top, width: barWidth - 2, height: bottom - top, fill: color,
                         title: "\(categories[categoryIndex]) \(one.name): \(NumberText.grouped(value))")
                drawValueLabel(&svg, value: value, note: one.notes?[categoryIndex], x: x + barWidth / 2,
                               top: top, bottom: bottom, barWidth: barWidth)
            }
        }
        frame.drawCategoryLabels(&svg, labels, centers: centers, turned: turned)
        frame.drawCategoryAxisTitle(&svg, categoryAxisTitle)
        return svg.document(title: title, description: subtitle)
    }

    /// The exact value beyond the end of its bar (and its note beyond that), when it fits the bar's width:
    /// above a positive bar, below a negative one.
    private func drawValueLabel(_ svg: inout SVGWriter, value: Int64, note: String?, x: Double, top: Double, bottom: Double,
                                barWidth: Double) {
        let text = NumberText.grouped(value)
        let size = ChartStyle.labelSize - 1
        guard ChartStyle.textWidth(text, size: size) <= barWidth + 8 else { return }
        let noteFits = note.map { ChartStyle.textWidth($0, size: size) <= barWidth + 8 } ?? false
        if value < 0 {
            svg.text(text, x: x, y: bottom + size + 4, size: size, anchor: .middle, bold: true)
            if let note, noteFits {
                svg.text(note, x: x, y: bottom + 2 * size + 6, size: size, anchor: .middle, fill: ChartStyle.mutedTextColor)
            }
        } else {
            svg.text(text, x: x, y: top - 6, size: size, anchor: .middle, bold: true)
            if let note, noteFits {
                svg.text(note, x: x, y: top - 8 - size, size: size, anchor: .middle, fill: ChartStyle.mutedTextColor)
            }
        }
    }
}
