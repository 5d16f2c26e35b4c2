/// A calendar date in the program's time zone, as days since 1970-01-01 (proleptic Gregorian).
///
/// Dates, not instants, are what the rules speak of (claim windows, qualification years, expiry),
/// so the domain never touches a clock: callers turn "now" into a `LocalDate` with
/// `init(epochSeconds:utcOffsetSeconds:)` and pass it in.
public struct LocalDate: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// Years a client may write; keeps every date four digits wide on the wire.
    public static let yearRange: ClosedRange<Int> = 1900...9999
    static let secondsPerDay: Int64 = 86_400
    /// Real time zones lie within UTC-12 and UTC+14; anything past 18 hours is a programmer error.
    static let utcOffsetSecondsMax = 18 * 3600

    public let daysSinceEpoch: Int

    public init(daysSinceEpoch: Int) {
        self.daysSinceEpoch = daysSinceEpoch
    }

    /// A real calendar date with a year in `yearRange`, else nil (2026-02-30, 2026-13-01).
    public init?(year: Int, month: Int, day: Int) {
        guard Self.yearRange.contains(year), (1...12).contains(month),
              day >= 1, day <= Self.daysIn(year: year, month: month) else { return nil }
        self.init(daysSinceEpoch: Self.days(year: year, month: month, day: day))
    }

    /// Strict `YYYY-MM-DD`: exactly ten characters, ASCII digits, a real date ("2026-1-05" is nil).
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              let year = Self.digits(bytes[0..<4]), let month = Self.digits(bytes[5..<7]),
              let day = Self.digits(bytes[8..<10]) else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The date of an instant (seconds since the Unix epoch) in a time zone given as UTC offset seconds.
    public init(epochSeconds: Int64, utcOffsetSeconds: Int = 0) {
        precondition(abs(utcOffsetSeconds) <= Self.utcOffsetSecondsMax, "UTC offset out of range")
        // Split first so adding the offset can never overflow, then floor (instants before 1970 too).
        let (days, secondsOfDay) = Self.floorDivide(epochSeconds, Self.secondsPerDay)
        let (carry, _) = Self.floorDivide(secondsOfDay + Int64(utcOffsetSeconds), Self.secondsPerDay)
        self.init(daysSinceEpoch: Int(days + carry))
    }

    public var year: Int { components.year }
    public var month: Int { components.month }
    public var day: Int { components.day }

    public func adding(days: Int) -> LocalDate {
        LocalDate(daysSinceEpoch: daysSinceEpoch + days)
    }

    /// Calendar months later (or earlier), clamped to the target month's last day:
    /// Jan 31 + 1 month is Feb 28 (Feb 29 in a leap year).
    public func adding(months: Int) -> LocalDate {
        let (year, month, day) = components
        let (targetYear, monthIndex) = Self.floorDivide(Int64(year * 12 + month - 1 + months), 12)
        let targetMonth = Int(monthIndex) + 1
        let targetDay = min(day, Self.daysIn(year: Int(targetYear), month: targetMonth))
        return LocalDate(daysSinceEpoch: Self.days(year: Int(targetYear), month: targetMonth, day: targetDay))
    }

    /// The latest date `d` with `d.adding(months: months) <= self`: the cutoff for "`months` have
    /// passed since". Clamping makes it the month's last day when `self` is one (2027-08-31 less
    /// 18 months is 2026-02-28, and 2026-02-28 + 18 months is 2027-08-28).
    public func latestDate(monthsBefore months: Int) -> LocalDate {
        let candidate = adding(months: -months)
        return self == endOfMonth ? candidate.endOfMonth : candidate
    }

    public var endOfMonth: LocalDate {
        let (year, month, _) = components
        return LocalDate(daysSinceEpoch: Self.days(year: year, month: month, day: Self.daysIn(year: year, month: month)))
    }

    public var startOfYear: LocalDate { LocalDate(daysSinceEpoch: Self.days(year: year, month: 1, day: 1)) }
    public var endOfYear: LocalDate { LocalDate(daysSinceEpoch: Self.days(year: year, month: 12, day: 31)) }

    /// `YYYY-MM-DD`.
    public var description: String {
        let (year, month, day) = components
        guard (0...9999).contains(year) else { return Self.padded(year, 4) + "-" + Self.padded(month, 2) + "-" + Self.padded(day, 2) }
        // Written digit by digit: batches format a date per line, and the concatenations cost ten allocations.
        return String(unsafeUninitializedCapacity: 10) { text in
            func put(_ value: Int, from start: Int, width: Int) {
                var rest = value
                for position in (start..<start + width).reversed() {
                    text[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
            }
            put(year, from: 0, width: 4)
            put(month, from: 5, width: 2)
            put(day, from: 8, width: 2)
            text[4] = UInt8(ascii: "-")
            text[7] = UInt8(ascii: "-")
            return 10
        }
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }

    /// Encoded as its `YYYY-MM-DD` text so stored JSON stays readable.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = LocalDate(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a YYYY-MM-DD date: \(text)")
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

// Calendar arithmetic after Howard Hinnant's `days_from_civil` / `civil_from_days`:
// exact for every proleptic Gregorian date, no tables, no Foundation.
extension LocalDate {
    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    var components: (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Quotient rounded toward negative infinity and the matching non-negative remainder.
    static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        assert(divisor > 0)
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    static func digits(_ bytes: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    static func padded(_ value: Int, _ width: Int) -> String {
        let text = String(abs(value))
        let padding = String(repeating: "0", count: max(0, width - text.count))
        return (value < 0 ? "-" : "") + padding + text
    }
}
