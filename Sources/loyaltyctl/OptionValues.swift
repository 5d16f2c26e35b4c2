import LoyaltyCore

/// Typed option values, each with the one usage error it can raise.
extension Arguments {
    /// `--name YYYY-MM-DD`; nil when not given.
    func date(_ name: String) throws(UsageError) -> LocalDate? {
        guard let text = options[name] else { return nil }
        guard let date = LocalDate(text) else { throw UsageError(message: "--\(name) must be YYYY-MM-DD") }
        return date
    }

    /// `--name N` within `range`; nil when not given.
    func integer<T: FixedWidthInteger>(_ name: String, in range: ClosedRange<T>) throws(UsageError) -> T? {
        guard let text = options[name] else { return nil }
        guard let value = T(text), range.contains(value) else {
            throw UsageError(message: "--\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}
