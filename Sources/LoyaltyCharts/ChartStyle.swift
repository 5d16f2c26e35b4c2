/// Sizes, fonts and colours shared by every chart, so that all charts of a report look alike.
public enum ChartStyle {
    /// Viewers without DejaVu or Helvetica fall back to their own sans-serif; nothing is downloaded.
    static let fontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif"
    static let background = "#ffffff"
    static let textColor = "#222222"
    static let mutedTextColor = "#555555"
    static let axisColor = "#444444"
    static let gridColor = "#e3e3e3"
    /// Tableau 10: distinct for most colour-blind readers, readable on white.
    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"]

    static let titleSize = 20.0
    static let subtitleSize = 13.0
    static let labelSize = 12.0
    static let axisTitleSize = 13.0
    /// Average advance of a sans-serif glyph as a share of the font size, for layout estimates.
    static let glyphWidthRatio = 0.6

    public static let widthDefault = 860
    public static let heightDefault = 500
    /// Longer labels are cut with an ellipsis; a chart is not the place for whole sentences.
    static let labelCharactersMax = 28

    static func color(_ index: Int) -> String { palette[index % palette.count] }

    static func textWidth(_ text: String, size: Double) -> Double {
        Double(text.count) * size * glyphWidthRatio
    }

    static func clipped(_ label: String) -> String {
        label.count <= labelCharactersMax ? label : String(label.prefix(labelCharactersMax - 1)) + "…"
    }
}
