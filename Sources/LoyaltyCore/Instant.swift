/// An instant as PostgreSQL's `timestamptz` holds it (its binary form): microseconds since
/// 2000-01-01 00:00:00 UTC.
public struct Instant: Sendable, Equatable {
    /// Seconds from the Unix epoch to PostgreSQL's.
    static let postgresEpochUnixSeconds: Int64 = 946_684_800
    /// `-` (before year 0), up to 6 year digits (PostgreSQL's last year is 294276), then
    /// `-MM-DDTHH:MM:SSZ`.
    static let rfc3339BytesMax = 23

    public let microsecondsSincePostgresEpoch: Int64

    public init(microsecondsSincePostgresEpoch: Int64) {
        self.microsecondsSincePostgresEpoch = microsecondsSincePostgresEpoch
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` in UTC, truncated to the second: the wire form of a timestamp, the
    /// bytes `to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')` writes for every year
    /// from 1 on (a posting time's). Handed to `body` from the stack, so a reply of a thousand
    /// timestamps allocates none; not generic, so a call from another module looks up no metadata.
    public func withRFC3339(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        // Seconds first, so moving to the Unix epoch cannot overflow even at ±infinity (Int64's ends).
        let (seconds, _) = LocalDate.floorDivide(microsecondsSincePostgresEpoch, 1_000_000)
        let (days, secondOfDay) = LocalDate.floorDivide(seconds + Self.postgresEpochUnixSeconds, LocalDate.secondsPerDay)
        let (year, month, day) = LocalDate(daysSinceEpoch: Int(days)).components
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.rfc3339BytesMax) { buffer in
            var end = 0
            func put(_ byte: UInt8) {
                buffer[end] = byte
                end += 1
            }
            // Zero-padded to `width` digits; a wider value keeps all of its digits, as to_char does.
            func put(_ value: Int, width: Int) {
                var digits = 1
                var probe = value / 10
                while probe > 0 {
                    digits += 1
                    probe /= 10
                }
                let count = max(width, digits)
                var rest = value
                for index in stride(from: end + count - 1, through: end, by: -1) {
                    buffer[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
                end += count
            }
            if year < 0 { put(UInt8(ascii: "-")) }
            put(abs(year), width: 4)
            put(UInt8(ascii: "-"))
            put(month, width: 2)
            put(UInt8(ascii: "-"))
            put(day, width: 2)
            put(UInt8(ascii: "T"))
            put(Int(secondOfDay / 3600), width: 2)
            put(UInt8(ascii: ":"))
            put(Int(secondOfDay / 60 % 60), width: 2)
            put(UInt8(ascii: ":"))
            put(Int(secondOfDay % 60), width: 2)
            put(UInt8(ascii: "Z"))
            body(UnsafeBufferPointer(rebasing: buffer[..<end]))
        }
    }

    /// `withRFC3339`'s bytes as a string.
    public var rfc3339: String {
        var text = ""
        withRFC3339 { text = String(decoding: $0, as: UTF8.self) }
        return text
    }
}
