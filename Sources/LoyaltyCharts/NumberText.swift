/// Integer numbers as people read them on a chart; no floating point, so labels are exact.
public enum NumberText {
    /// "1,234,567" and "-1,200".
    public static func grouped(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }

    /// Axis labels: "950", "1.5k", "250k", "2M", "1.2B"; one decimal at most, truncated.
    public static func compact(_ value: Int64) -> String {
        let units: [(divisor: UInt64, suffix: String)] = [(1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")]
        let magnitude = value.magnitude
        let sign = value < 0 ? "-" : ""
        guard let unit = units.first(where: { magnitude >= $0.divisor }) else { return sign + String(magnitude) }
        let tenths = magnitude / (unit.divisor / 10)
        let fraction = tenths % 10 == 0 ? "" : ".\(tenths % 10)"
        return "\(sign)\(tenths / 10)\(fraction)\(unit.suffix)"
    }

    /// Basis points as a percentage with two decimals: 1234 -> "12.34 %".
    public static func percent(basisPoints: Int64) -> String {
        let magnitude = basisPoints.magnitude
        let fraction = magnitude % 100
        return "\(basisPoints < 0 ? "-" : "")\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction) %"
    }
}

/// Round tick steps (1, 2 or 5 times a power of ten) for an axis that starts at zero.
struct NiceScale: Equatable {
    /// Top of the axis: a multiple of `step` at or above the largest value.
    let top: Int64
    /// Bottom of the axis: zero, or a multiple of `step` at or below a negative smallest value.
    let bottom: Int64
    let step: Int64

    /// Ticks wanted between zero and the extreme; the result has at most about twice as many.
    static let tickTarget: Int64 = 5

    /// A fixed scale, for axes whose range is known (shares from 0 to 100 %).
    init(bottom: Int64, top: Int64, step: Int64) {
        precondition(step > 0 && bottom <= 0 && top > 0 && top % step == 0 && bottom % step == 0, "a scale of whole steps around zero")
        self.bottom = bottom
        self.top = top
        self.step = step
    }

    /// The smallest round scale that holds every value from `minimum` to `maximum`.
    init(minimum: Int64, maximum: Int64) {
        let low = min(0, minimum), high = max(0, maximum)
        let span = high.subtractingReportingOverflow(low)
        precondition(!span.overflow, "chart values span more than Int64")
        let raw = max(1, (span.partialValue + Self.tickTarget - 1) / Self.tickTarget)
        var power: Int64 = 1
        while power <= raw / 10 { power *= 10 }
        let multiplier: Int64 = [1, 2, 5, 10].first { $0 * power >= raw } ?? 10
        step = multiplier * power
        top = high == 0 && low == 0 ? step : Self.ceiling(high, step)
        bottom = -Self.ceiling(-low, step)
    }

    /// Tick values from bottom to top.
    var ticks: [Int64] { Array(stride(from: bottom, through: top, by: Int(step))) }

    private static func ceiling(_ value: Int64, _ step: Int64) -> Int64 {
        (value + step - 1) / step * step
    }
}
