/// The kind of partner, which decides the earn rule its accruals follow unless the partner has a
/// rule of its own. Categories are open: any lower-case word (`telecom`, `cruise`, `online`), and
/// the program document says which ones earn. `CodingKeyRepresentable` makes
/// `[PartnerCategory: EarnRule]` a JSON object keyed by the word.
public struct PartnerCategory: RawRepresentable, Hashable, Sendable, Codable, CodingKeyRepresentable, CustomStringConvertible {
    public static let lengthMax = 32
    public static let airline = PartnerCategory(word: "airline"), hotel = PartnerCategory(word: "hotel")
    public static let carRental = PartnerCategory(word: "car_rental"), card = PartnerCategory(word: "card")
    public static let dining = PartnerCategory(word: "dining")

    public let rawValue: String

    /// nil unless `a-z` first, then `a-z 0-9 _`, at most `lengthMax` in all.
    public init?(rawValue: String) {
        guard Self.isWord(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    private init(word: String) {
        precondition(Self.isWord(word), "category constants are words")
        rawValue = word
    }

    public static func isWord(_ s: String) -> Bool {
        guard let first = s.utf8.first, Identifiers.isLower(first) else { return false }
        return Identifiers.matches(s, lengths: 1...lengthMax) {
            Identifiers.isLower($0) || Identifiers.isDigit($0) || $0 == UInt8(ascii: "_")
        }
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let category = PartnerCategory(rawValue: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: Self.wordRule(text))
        }
        self = category
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var codingKey: any CodingKey { Key(stringValue: rawValue) }
    public init?<T: CodingKey>(codingKey: T) { self.init(rawValue: codingKey.stringValue) }

    /// Why `text` is not a category.
    public static func wordRule(_ text: String) -> String {
        "category '\(text)' must be a-z first, then a-z 0-9 _, at most \(lengthMax) characters"
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// An earn rule as data, so a program is configuration, not code. Stored as JSON.
///
/// redeemable base = floor(measure × cabin factor × pointsNumerator / pointsDenominator),
/// capped at `capPoints`, plus the tier's bonus when `tierBonusApplies`;
/// qualifying = floor(measure × cabin factor × qualifyingNumerator / qualifyingDenominator).
public struct EarnRule: Sendable, Codable, Equatable {
    /// What a line is measured in; `amount` is counted in minor units of the rule's currency.
    public enum Measure: String, Sendable, Codable { case miles, amount, nights, days }

    /// The neutral cabin factor: 1.0 in thousandths.
    public static let cabinFactorNeutralPermille: Int64 = 1000

    public var measure: Measure
    public var pointsNumerator: Int64
    public var pointsDenominator: Int64
    /// 0/1 = the rule earns no qualifying points.
    public var qualifyingNumerator: Int64
    public var qualifyingDenominator: Int64
    /// Factor per cabin code in thousandths (`["F": 1500, "J": 1500]`); other cabins 1000.
    public var cabinFactorsPermille: [String: Int64]
    /// Per-line cap on the redeemable base, before any tier bonus (car rental: 1,250).
    public var capPoints: Int64?
    /// Airline: the member's tier bonus percent is added on top of the base.
    public var tierBonusApplies: Bool
    /// For `amount` rules, the currency amounts are counted in; nil = the program's currency.
    public var currency: String?

    public init(measure: Measure, pointsNumerator: Int64, pointsDenominator: Int64 = 1,
                qualifyingNumerator: Int64 = 0, qualifyingDenominator: Int64 = 1,
                cabinFactorsPermille: [String: Int64] = [:], capPoints: Int64? = nil,
                tierBonusApplies: Bool = false, currency: String? = nil) {
        self.measure = measure
        self.pointsNumerator = pointsNumerator
        self.pointsDenominator = pointsDenominator
        self.qualifyingNumerator = qualifyingNumerator
        self.qualifyingDenominator = qualifyingDenominator
        self.cabinFactorsPermille = cabinFactorsPermille
        self.capPoints = capPoints
        self.tierBonusApplies = tierBonusApplies
        self.currency = currency
    }

    enum CodingKeys: String, CodingKey {
        case measure, pointsNumerator, pointsDenominator, qualifyingNumerator, qualifyingDenominator
        case cabinFactorsPermille, capPoints, tierBonusApplies, currency
    }

    /// Fields with a neutral value may be left out of a document: denominators 1, no qualifying
    /// points, no cabin factors, no tier bonus. Exports write every field.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(measure: try c.decode(Measure.self, forKey: .measure), pointsNumerator: try c.decode(Int64.self, forKey: .pointsNumerator),
                  pointsDenominator: try c.decodeIfPresent(Int64.self, forKey: .pointsDenominator) ?? 1,
                  qualifyingNumerator: try c.decodeIfPresent(Int64.self, forKey: .qualifyingNumerator) ?? 0,
                  qualifyingDenominator: try c.decodeIfPresent(Int64.self, forKey: .qualifyingDenominator) ?? 1,
                  cabinFactorsPermille: try c.decodeIfPresent([String: Int64].self, forKey: .cabinFactorsPermille) ?? [:],
                  capPoints: try c.decodeIfPresent(Int64.self, forKey: .capPoints),
                  tierBonusApplies: try c.decodeIfPresent(Bool.self, forKey: .tierBonusApplies) ?? false,
                  currency: try c.decodeIfPresent(String.self, forKey: .currency))
    }

    /// The cabin factor in thousandths for a line's cabin; 1000 without a cabin or for an unlisted one.
    public func cabinFactorPermille(cabin: String?) -> Int64 {
        cabin.flatMap { cabinFactorsPermille[$0] } ?? Self.cabinFactorNeutralPermille
    }
}

/// Points one accrual line earns.
public struct EarnResult: Sendable, Equatable {
    /// Redeemable points credited, the tier bonus included.
    public var points: Int64
    /// Points counted toward tier qualification.
    public var qualifying: Int64
    /// The part of `points` that is tier bonus.
    public var bonus: Int64

    public init(points: Int64, qualifying: Int64, bonus: Int64) {
        self.points = points
        self.qualifying = qualifying
        self.bonus = bonus
    }
}

/// How amounts in a foreign currency count toward amount rules in the program's currency:
/// program-currency minor units = floor(foreign minor units × numerator / denominator).
/// 1.00 EUR = 1.08 USD is `numerator: 108, denominator: 100`.
public struct ExchangeRate: Sendable, Codable, Equatable {
    /// The foreign ISO 4217 code.
    public var currency: String
    public var numerator: Int64
    public var denominator: Int64

    public init(currency: String, numerator: Int64, denominator: Int64) {
        self.currency = currency
        self.numerator = numerator
        self.denominator = denominator
    }
}
