/// Parses a RESP length exactly as Redis's `string2ll` accepts it: an optional `-`, then `0` or
/// digits without a leading zero; no `+`, no spaces, no `-0`. Nil if malformed or out of range.
func parseDecimal(_ digits: ArraySlice<UInt8>) -> Int? {
    var rest = digits[...]
    let negative = rest.first == ASCII.minus
    if negative { rest = rest.dropFirst() }
    guard let first = rest.first, (ASCII.zero...ASCII.nine).contains(first) else { return nil }
    if first == ASCII.zero { return rest.count == 1 && !negative ? 0 : nil }
    var value = 0
    for byte in rest {
        guard (ASCII.zero...ASCII.nine).contains(byte) else { return nil }
        // Accumulate negatively so Int.min itself parses without overflow.
        let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
        let (next, overflowB) = shifted.subtractingReportingOverflow(Int(byte - ASCII.zero))
        guard !overflowA, !overflowB else { return nil }
        value = next
    }
    if negative { return value }
    return value == Int.min ? nil : -value
}
