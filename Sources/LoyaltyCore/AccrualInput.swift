/// What an ACCRUE line says, parsed from its `field=value` words
/// (PROTOCOL.md: `amount= currency= nights= days= miles= cabin= code=`).
///
/// Parsing checks only the shape of each value; which fields a partner must send follows from
/// its category's earn rule and is checked by `Program.earn`.
public struct AccrualInput: Sendable, Equatable {
    /// Largest `nights=`, `days=` or `miles=`: far beyond any real stay or flight, and small enough
    /// that no earn rule product can overflow on it by accident.
    public static let countMax: Int64 = 1_000_000_000
    /// Cabin codes are booking-class letters ("F", "J", "Y").
    public static let cabinLengthMax = 8

    public var activityDate: LocalDate
    public var amount: Money?
    public var nights: Int64?
    public var days: Int64?
    public var miles: Int64?
    /// Upper case letters; matched against the rule's cabin factors.
    public var cabin: String?
    /// The partner's own reference (booking or promotion code); carried, not interpreted.
    public var code: String?

    public init(activityDate: LocalDate, amount: Money? = nil, nights: Int64? = nil, days: Int64? = nil,
                miles: Int64? = nil, cabin: String? = nil, code: String? = nil) {
        self.activityDate = activityDate
        self.amount = amount
        self.nights = nights
        self.days = days
        self.miles = miles
        self.cabin = cabin
        self.code = code
    }

    /// The field names `parse` knows.
    static let names = ["amount", "currency", "nights", "days", "miles", "cabin", "code"]

    /// Unknown field, repeated field, malformed number (non-negative integers, at most `countMax`),
    /// amount without currency or currency without amount, unknown currency: `.invalid` naming the field.
    public static func parse(activityDate: LocalDate, fields: [(name: String, value: String)]) throws(LoyaltyError) -> AccrualInput {
        var input = AccrualInput(activityDate: activityDate)
        var amountText: String?
        var currency: String?
        // The names already given, one bit each in `names`' order: a set of strings would hash every word.
        var seen: UInt8 = 0
        for (name, value) in fields {
            if let bit = Self.names.firstIndex(of: name) {
                guard seen & 1 << bit == 0 else { throw .invalid("field \(name)= given more than once") }
                seen |= 1 << bit
            }
            switch name {
            case "amount": amountText = value
            case "currency": currency = value
            case "nights": input.nights = try count(name, value)
            case "days": input.days = try count(name, value)
            case "miles": input.miles = try count(name, value)
            case "cabin": input.cabin = try cabin(value)
            case "code":
                guard Identifiers.isClientID(value) else {
                    throw .invalid("code= must be 1 to \(Identifiers.clientIDLengthMax) printable characters without spaces")
                }
                input.code = value
            default: throw .invalid("unknown field '\(name)'; expected amount= currency= nights= days= miles= cabin= code=")
            }
        }
        switch (amountText, currency) {
        case (nil, nil): break
        case (_?, nil): throw .invalid("amount= needs currency=")
        case (nil, _?): throw .invalid("currency= needs amount=")
        case let (amountText?, currency?): input.amount = try Currency.parse(amount: amountText, currency: currency)
        }
        return input
    }

    /// Canonical text of the content in a fixed field order, so that "same txn-id, different
    /// content" is a string comparison. Equal for equal content however the line was written
    /// ("450" and "450.00" USD are the same amount).
    public var fingerprint: String {
        // One buffer, appended to: a batch works this out for every line.
        var text = "activity_date="
        text.reserveCapacity(96)
        text += activityDate.description
        if let amount {
            text += " amount="
            text += String(amount.minorUnits)
            text += " currency="
            text += amount.currency
        }
        func append(_ name: String, _ value: String?) {
            guard let value else { return }
            text += name
            text += value
        }
        append(" nights=", nights.map { String($0) })
        append(" days=", days.map { String($0) })
        append(" miles=", miles.map { String($0) })
        append(" cabin=", cabin)
        append(" code=", code)
        return text
    }

    static func count(_ name: String, _ value: String) throws(LoyaltyError) -> Int64 {
        let digitsMax = String(countMax).count
        guard (1...digitsMax).contains(value.utf8.count),
              let number = Currency.decimal(ArraySlice(value.utf8)),
              number <= countMax else {
            throw .invalid("\(name)= must be a whole number from 0 to \(countMax), not '\(value)'")
        }
        return number
    }

    static func isCabin(_ value: String) -> Bool {
        Identifiers.matches(value, lengths: 1...cabinLengthMax, Identifiers.isUpper)
    }

    static func cabin(_ value: String) throws(LoyaltyError) -> String {
        guard isCabin(value) else {
            throw .invalid("cabin= must be 1 to \(cabinLengthMax) upper case letters (F, J, Y), not '\(value)'")
        }
        return value
    }
}
