/// A grid of shares, rows by columns, each cell shaded from light (0 %) to dark (100 %) and labelled
/// with its share; cells without a value (the future of a young cohort) stay blank. For retention
/// matrices: cohorts down, periods since enrolment across.
public struct HeatMap: Sendable {
    /// More rows or columns than this would make cells smaller than their labels.
    public static let rowsMax = 60
    public static let columnsMax = 60

    public var title: String
    public var subtitle: String?
    public var rowLabels: [String]
    public var columnLabels: [String]
    /// `cells[row][column]`: basis points 0...10,000, nil where there is no value.
    public var cells: [[Int64?]]
    public var rowAxisTitle: String
    public var columnAxisTitle: String
    public var width: Int
    public var height: Int

    public init(title: String, subtitle: String? = nil, rowLabels: [String], columnLabels: [String], cells: [[Int64?]],
                rowAxisTitle: String, columnAxisTitle: String,
                width: Int = ChartStyle.widthDefault, height: Int = ChartStyle.heightDefault) {
        self.title = title
        self.subtitle = subtitle
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.cells = cells
        self.rowAxisTitle = rowAxisTitle
        self.columnAxisTitle = columnAxisTitle
        self.width = width
        self.height = height
    }

    /// The lightest and darkest shade, as RGB.
    static let lightest = (r: 0xf7, g: 0xfb, b: 0xff)
    static let darkest = (r: 0x08, g: 0x30, b: 0x6b)
    /// Shares at which the legend shows a swatch.
    static let legendSteps: [Int64] = [0, 2_500, 5_000, 7_500, 10_000]
    static let legendSwatch = 14.0

    /// The shade of a share: straight between the lightest and the darkest, in integers.
    static func shade(_ basisPoints: Int64) -> String {
        let share = Int(min(max(basisPoints, 0), 10_000))
        func channel(_ light: Int, _ dark: Int) -> String {
            let value = light + (dark - light) * share / 10_000
            let hex = String(value, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }
        return "#" + channel(lightest.r, darkest.r) + channel(lightest.g, darkest.g) + channel(lightest.b, darkest.b)
    }

    /// The chart as a standalone SVG document.
    public func svg() -> String {
        precondition((1...Self.rowsMax).contains(rowLabels.count), "heat maps take 1-\(Self.rowsMax) rows")
        precondition((1...Self.columnsMax).contains(columnLabels.count), "heat maps take 1-\(Self.columnsMax) columns")
        precondition(cells.count == rowLabels.count && cells.allSatisfy { $0.count == columnLabels.count },
                     "one cell per row and column")
        let margin = PlotFrame.outerMargin
        let rows = rowLabels.map(ChartStyle.clipped)
        let rowLabelWidth = rows.map { ChartStyle.textWidth($0, size: ChartStyle.labelSize) }.max() ?? 0
        let left = margin + ChartStyle.axisTitleSize + 10 + rowLabelWidth + 8
        let top = margin + ChartStyle.titleSize + (subtitle == nil ? 0 : ChartStyle.subtitleSize + 8) + 18
            + ChartStyle.labelSize + 8
        let right = Double(width) - margin
        let bottom = Double(height) - margin - Self.legendSwatch - 12 - ChartStyle.axisTitleSize - 10
        precondition(right - left > 100 && bottom - top > 60, "heat map too small for its labels")
        let cellWidth = (right - left) / Double(columnLabels.count)
        let cellHeight = (bottom - top) / Double(rowLabels.count)

        var svg = SVGWriter(width: width, height: height)
        svg.text(title, x: margin, y: margin + ChartStyle.titleSize - 4, size: ChartStyle.titleSize, bold: true)
        if let subtitle {
            svg.text(subtitle, x: margin, y: margin + ChartStyle.titleSize + ChartStyle.subtitleSize + 4,
                     size: ChartStyle.subtitleSize, fill: ChartStyle.mutedTextColor)
        }
        // Column labels above the grid, row labels to its left, each axis titled.
        let columnLabelSize = min(ChartStyle.labelSize, max(7, cellWidth / 3))
        for (index, label) in columnLabels.enumerated() {
            svg.text(label, x: left + cellWidth * (Double(index) + 0.5), y: top - 6, size: columnLabelSize, anchor: .middle)
        }
        svg.text(columnAxisTitle, x: (left + right) / 2, y: top - ChartStyle.labelSize - 12, size: ChartStyle.axisTitleSize,
                 anchor: .middle, fill: ChartStyle.mutedTextColor)
        let rowLabelSize = min(ChartStyle.labelSize, max(7, cellHeight * 0.7))
        for (index, label) in rows.enumerated() {
            svg.text(label, x: left - 8, y: top + cellHeight * (Double(index) + 0.5) + rowLabelSize / 3, size: rowLabelSize,
                     anchor: .end)
        }
        svg.text(rowAxisTitle, x: margin + ChartStyle.axisTitleSize - 2, y: (top + bottom) / 2, size: ChartStyle.axisTitleSize,
                 anchor: .middle, fill: ChartStyle.mutedTextColor, rotate: -90)

        let valueSize = min(ChartStyle.labelSize - 1, cellHeight * 0.6)
        for (rowIndex, row) in cells.enumerated() {
            for (columnIndex, cell) in row.enumerated() {
                guard let cell else { continue }
                let x = left + cellWidth * Double(columnIndex), y = top + cellHeight * Double(rowIndex)
                let text = NumberText.percent(basisPoints: cell)
                svg.rect(x: x + 0.5, y: y + 0.5, width: cellWidth - 1, height: cellHeight - 1, fill: Self.shade(cell),
                         title: "\(rowLabels[rowIndex]), \(columnLabels[columnIndex]): \(text)")
                // Whole percents fit narrow cells; dark cells take white text.
                let label = "\(cell / 100)"
                guard ChartStyle.textWidth(label, size: valueSize) <= cellWidth - 2, valueSize >= 6 else { continue }
                svg.text(label, x: x + cellWidth / 2, y: y + cellHeight / 2 + valueSize / 3, size: valueSize, anchor: .middle,
                         fill: cell >= 5_000 ? ChartStyle.background : ChartStyle.textColor)
            }
        }

        // The legend: a swatch per step, under the grid.
        var x = left
        let legendY = Double(height) - margin - Self.legendSwatch
        for step in Self.legendSteps {
            svg.rect(x: x, y: legendY, width: Self.legendSwatch, height: Self.legendSwatch, fill: Self.shade(step))
            let label = "\(step / 100) %"
            svg.text(label, x: x + Self.legendSwatch + 4, y: legendY + Self.legendSwatch - 3, size: ChartStyle.labelSize)
            x += Self.legendSwatch + 12 + ChartStyle.textWidth(label, size: ChartStyle.labelSize)
        }
        return svg.document(title: title, description: subtitle)
    }
}
