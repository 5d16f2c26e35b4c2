/// One entry of a chart's legend.
struct LegendItem {
    var name: String
    var color: String
    /// Lines show a stroke in the legend, bars a filled box.
    var isLine: Bool
    var dashed: Bool = false
}

/// The layout every chart shares: a title block on top, a legend row, the plot area with a value
/// axis on the left, category or value labels below. Charts draw their marks inside `plot*`.
struct PlotFrame {
    let width: Double
    let height: Double
    let plotLeft: Double
    let plotTop: Double
    let plotRight: Double
    let plotBottom: Double
    let scale: NiceScale

    static let outerMargin = 24.0
    static let tickLength = 5.0
    static let gapAfterTickLabels = 10.0

    /// - Parameters:
    ///   - scale: the vertical axis.
    ///   - tickLabel: how a tick value is written (its width sets the left margin).
    ///   - xLabelHeight: room under the plot for category labels and the horizontal axis title.
    ///   - leftMinimum: the least left edge of the plot, for labels that reach left of their slot.
    init(width: Int, height: Int, hasSubtitle: Bool, hasLegend: Bool, scale: NiceScale,
         tickLabel: (Int64) -> String, xLabelHeight: Double, leftMinimum: Double = 0) {
        self.width = Double(width)
        self.height = Double(height)
        self.scale = scale
        let widestTick = scale.ticks.map { ChartStyle.textWidth(tickLabel($0), size: ChartStyle.labelSize) }.max() ?? 0
        plotLeft = max(leftMinimum,
                       Self.outerMargin + ChartStyle.axisTitleSize + Self.gapAfterTickLabels + widestTick + Self.tickLength)
        plotRight = self.width - Self.outerMargin
        var top = Self.outerMargin + ChartStyle.titleSize
        if hasSubtitle { top += ChartStyle.subtitleSize + 8 }
        if hasLegend { top += ChartStyle.labelSize + 14 }
        plotTop = top + 18
        plotBottom = self.height - Self.outerMargin - xLabelHeight
        precondition(plotRight - plotLeft > 100 && plotBottom - plotTop > 100, "chart too small for its labels")
    }

    var plotWidth: Double { plotRight - plotLeft }
    var plotHeight: Double { plotBottom - plotTop }

    /// The vertical pixel of a value on the scale.
    func y(_ value: Int64) -> Double {
        let span = Double(scale.top - scale.bottom)
        return plotBottom - Double(value - scale.bottom) / span * plotHeight
    }

    /// Title, subtitle and legend, left-aligned above the plot.
    func drawHeader(_ svg: inout SVGWriter, title: String, subtitle: String?, legend: [LegendItem]) {
        var baseline = Self.outerMargin + ChartStyle.titleSize - 4
        svg.text(title, x: Self.outerMargin, y: baseline, size: ChartStyle.titleSize, bold: true)
        if let subtitle {
            baseline += ChartStyle.subtitleSize + 8
            svg.text(subtitle, x: Self.outerMargin, y: baseline, size: ChartStyle.subtitleSize, fill: ChartStyle.mutedTextColor)
        }
        guard !legend.isEmpty else { return }
        baseline += ChartStyle.labelSize + 14
        var x = plotLeft
        for item in legend {
            let middle = baseline - ChartStyle.labelSize / 3
            if item.isLine {
                svg.line(x1: x, y1: middle, x2: x + 22, y2: middle, stroke: item.color, width: 3, dashed: item.dashed)
            } else {
                svg.rect(x: x + 5, y: middle - 6, width: 12, height: 12, fill: item.color)
            }
            svg.text(item.name, x: x + 28, y: baseline, size: ChartStyle.labelSize)
            x += 28 + ChartStyle.textWidth(item.name, size: ChartStyle.labelSize) + 16
        }
    }

    /// Horizontal grid lines with tick labels on the left, the axis title turned along the axis,
    /// and the baseline at zero drawn darker than the grid.
    func drawValueAxis(_ svg: inout SVGWriter, title: String, tickLabel: (Int64) -> String) {
        for tick in scale.ticks {
            let y = y(tick)
            svg.line(x1: plotLeft, y1: y, x2: plotRight, y2: y, stroke: tick == 0 ? ChartStyle.axisColor : ChartStyle.gridColor)
            svg.line(x1: plotLeft - Self.tickLength, y1: y, x2: plotLeft, y2: y, stroke: ChartStyle.axisColor)
            svg.text(tickLabel(tick), x: plotLeft - Self.tickLength - 4, y: y + ChartStyle.labelSize / 3,
                     size: ChartStyle.labelSize, anchor: .end, fill: ChartStyle.mutedTextColor)
        }
        svg.line(x1: plotLeft, y1: plotTop, x2: plotLeft, y2: plotBottom, stroke: ChartStyle.axisColor)
        let middle = (plotTop + plotBottom) / 2
        svg.text(title, x: Self.outerMargin + ChartStyle.axisTitleSize - 2, y: middle, size: ChartStyle.axisTitleSize,
                 anchor: .middle, fill: ChartStyle.mutedTextColor, rotate: -90)
    }

    /// The horizontal axis title, centred under the plot at the bottom of the chart.
    func drawCategoryAxisTitle(_ svg: inout SVGWriter, _ title: String) {
        svg.text(title, x: (plotLeft + plotRight) / 2, y: height - Self.outerMargin + 4, size: ChartStyle.axisTitleSize,
                 anchor: .middle, fill: ChartStyle.mutedTextColor)
    }

    /// Labels under evenly spaced slots (bars or points); turned when they would overlap.
    func drawCategoryLabels(_ svg: inout SVGWriter, _ labels: [String], centers: [Double], turned: Bool) {
        for (label, x) in zip(labels, centers) {
            if turned {
                svg.text(label, x: x, y: plotBottom + 16, size: ChartStyle.labelSize, anchor: .end, rotate: -35)
            } else {
                svg.text(label, x: x, y: plotBottom + 18, size: ChartStyle.labelSize, anchor: .middle)
            }
        }
    }

    /// Whether labels of this many characters overlap in slots this wide, and so must be turned.
    static func labelsNeedTurning(_ labels: [String], slotWidth: Double) -> Bool {
        labels.contains { ChartStyle.textWidth($0, size: ChartStyle.labelSize) > slotWidth - 6 }
    }

    /// sin and cos of the 35° that turned labels are rotated by.
    static let turnedSine = 0.574
    static let turnedCosine = 0.819

    /// Height under the plot for labels (turned ones need the room of their length) and the axis title.
    static func categoryLabelHeight(_ labels: [String], turned: Bool) -> Double {
        let longest = labels.map { ChartStyle.textWidth($0, size: ChartStyle.labelSize) }.max() ?? 0
        let labelRoom = turned ? longest * turnedSine + 22 : 28
        return labelRoom + ChartStyle.axisTitleSize + 10
    }

    /// The least plot left edge that keeps the first turned label, which ends at its slot's
    /// centre and reaches left from there, inside the chart.
    static func leftMinimum(firstLabel: String?, turned: Bool, slotWidth: Double) -> Double {
        guard turned, let firstLabel else { return 0 }
        return outerMargin + ChartStyle.textWidth(firstLabel, size: ChartStyle.labelSize) * turnedCosine - slotWidth / 2
    }
}
