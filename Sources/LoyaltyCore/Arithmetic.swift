/// Overflow-checked integer arithmetic for earn computations: a hostile or huge line must be
/// refused with `.invalid`, never trap the server.
enum Arithmetic {
    /// floor(value × product of factors / product of divisors) for non-negative operands, computed in
    /// 128 bits so intermediate products of 64-bit values fit; nil when the result leaves `Int64`.
    static func floorScale(_ value: Int64, by factors: Int64..., over divisors: Int64...) -> Int64? {
        guard let numerator = product(value, factors), let denominator = product(1, divisors) else { return nil }
        assert(numerator >= 0 && denominator > 0, "earn operands must be validated non-negative")
        return Int64(exactly: numerator / denominator)
    }

    static func product(_ first: Int64, _ rest: [Int64]) -> Int128? {
        var result = Int128(first)
        for factor in rest {
            let (next, overflow) = result.multipliedReportingOverflow(by: Int128(factor))
            guard !overflow else { return nil }
            result = next
        }
        return result
    }
}
