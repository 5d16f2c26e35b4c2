/// Money in integer minor units of an ISO 4217 currency; never floating point.
public struct Money: Hashable, Sendable {
    public var minorUnits: Int64
    /// ISO 4217 code, upper case ("USD").
    public var currency: String

    public init(minorUnits: Int64, currency: String) {
        self.minorUnits = minorUnits
        self.currency = currency
    }
}

/// ISO 4217 currencies: how many minor digits each has, and decimal text in and out.
public enum Currency {
    /// 15 integer digits plus at most 3 minor digits stay below `Int64.max` (9.2 * 10^18).
    public static let integerDigitsMax = 15

    /// Minor digits of the ISO 4217 currencies a partner is likely to send; codes are upper case.
    static let minorDigitsByCode: [String: Int] = [
        "USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "CAD": 2, "AUD": 2, "NZD": 2, "CNY": 2, "HKD": 2,
        "SGD": 2, "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2, "CZK": 2, "HUF": 2, "RON": 2, "BGN": 2,
        "TRY": 2, "INR": 2, "PKR": 2, "THB": 2, "MYR": 2, "IDR": 2, "PHP": 2, "TWD": 2, "MXN": 2,
        "BRL": 2, "ARS": 2, "COP": 2, "PEN": 2, "ZAR": 2, "EGP": 2, "NGN": 2, "KES": 2, "MAD": 2,
        "AED": 2, "SAR": 2, "QAR": 2, "ILS": 2,
        "JPY": 0, "KRW": 0, "VND": 0, "ISK": 0, "CLP": 0, "PYG": 0, "UGX": 0, "XOF": 0, "XAF": 0,
        "KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "TND": 3, "LYD": 3, "IQD": 3,
    ]

    /// Minor digits of `code` (USD 2, JPY 0, KWD 3); nil for an unknown code.
    public static func minorDigits(_ code: String) -> Int? {
        minorDigitsByCode[code]
    }

    /// Decimal text to money: "450.00", "12", "0.5" with at most the currency's minor digits;
    /// no sign, no exponent, no spaces, no bare point (".5", "5."), at most 15 integer digits.
    public static func parse(amount: String, currency: String) throws(LoyaltyError) -> Money {
        guard let digits = minorDigits(currency) else {
            throw .invalid("unknown currency '\(currency)'")
        }
        let bytes = Array(amount.utf8)
        let point = bytes.firstIndex(of: UInt8(ascii: "."))
        let integerPart = bytes[..<(point ?? bytes.count)]
        let fractionPart = point.map { bytes[($0 + 1)...] } ?? []
        let fractionFits = point == nil || (digits > 0 && (1...digits).contains(fractionPart.count))
        guard (1...integerDigitsMax).contains(integerPart.count), fractionFits,
              let integer = decimal(integerPart), let fraction = decimal(fractionPart) else {
            throw .invalid("amount '\(amount)' is not a decimal with at most \(digits) decimal places for \(currency)")
        }
        let scale = power10(digits - fractionPart.count)
        return Money(minorUnits: integer * power10(digits) + fraction * scale, currency: currency)
    }

    /// Money to decimal text with exactly the currency's minor digits: "450.00", "100" (JPY).
    public static func format(_ m: Money) -> String {
        let digits = minorDigits(m.currency) ?? 2  // unknown codes never come from `parse`
        let magnitude = m.minorUnits.magnitude
        let unit = UInt64(power10(digits))
        let sign = m.minorUnits < 0 ? "-" : ""
        guard digits > 0 else { return sign + String(magnitude) }
        let fraction = String(magnitude % unit)
        return sign + String(magnitude / unit) + "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }

    /// The value of ASCII digits; nil if any byte is not a digit. The callers bound the length.
    static func decimal(_ bytes: ArraySlice<UInt8>) -> Int64? {
        var value: Int64 = 0
        for byte in bytes {
            guard Identifiers.isDigit(byte) else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return value
    }

    static func power10(_ exponent: Int) -> Int64 {
        assert((0...18).contains(exponent))
        return (0..<exponent).reduce(1) { value, _ in value * 10 }
    }
}
