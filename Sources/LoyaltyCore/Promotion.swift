/// A promotion: bonus points on top of what an accrual earns, for the accruals it matches.
/// Part of the program document, so a promotion is versioned with the rules and follows the
/// version in force on the activity date. Per-member caps and the budget count points actually
/// granted (net of reversals) across every version that carries the same `id`.
public struct Promotion: Sendable, Codable, Equatable {
    public static let idLengthMax = 32
    public static let bonusPercentMax: Int64 = 10_000

    /// Stable identifier: `A-Z a-z 0-9 _ -`, the key of its caps, budget and report.
    public var id: String
    public var name: String
    /// Extra points in percent of what the line earns (100 = double points). One of this and `bonusPoints`.
    public var bonusPercent: Int64?
    /// Extra points per matching accrual, whatever it earns (as long as it earns some).
    public var bonusPoints: Int64?
    /// Partner codes it is limited to; nil = every partner.
    public var partners: [String]?
    public var categories: [PartnerCategory]?
    /// Tier codes of the member at the time of the accrual; nil = every tier.
    public var tiers: [String]?
    /// Activity dates, both ends included.
    public var from: LocalDate
    public var to: LocalDate
    /// Only accruals that carry this `code=` match; nil = no code needed.
    public var code: String?
    /// Most bonus points one member can get from it; nil = no cap.
    public var perMemberCap: Int64?
    /// Most bonus points it grants in all; nil = no budget.
    public var budget: Int64?

    public init(id: String, name: String, bonusPercent: Int64? = nil, bonusPoints: Int64? = nil, partners: [String]? = nil,
                categories: [PartnerCategory]? = nil, tiers: [String]? = nil, from: LocalDate, to: LocalDate,
                code: String? = nil, perMemberCap: Int64? = nil, budget: Int64? = nil) {
        self.id = id
        self.name = name
        self.bonusPercent = bonusPercent
        self.bonusPoints = bonusPoints
        self.partners = partners
        self.categories = categories
        self.tiers = tiers
        self.from = from
        self.to = to
        self.code = code
        self.perMemberCap = perMemberCap
        self.budget = budget
    }

    public static func isID(_ s: String) -> Bool {
        Identifiers.matches(s, lengths: 1...idLengthMax, Identifiers.isNameByte)
    }

    /// Whether an accrual with these facts is one this promotion rewards.
    public func matches(partner: String, category: PartnerCategory, tierCode: String, input: AccrualInput) -> Bool {
        (from...to).contains(input.activityDate)
            && (partners?.contains(partner) ?? true)
            && (categories?.contains(category) ?? true)
            && (tiers?.contains(tierCode) ?? true)
            && (code == nil || code == input.code)
    }

    /// The bonus before caps and budget for a line that earned `points`; 0 for a line that earned none.
    public func uncappedBonus(on points: Int64) -> Int64 {
        guard points > 0 else { return 0 }
        if let bonusPoints { return bonusPoints }
        return Arithmetic.floorScale(points, by: bonusPercent ?? 0, over: 100) ?? 0
    }
}

/// A promotion's bonus for one accrual, before its per-member cap and budget are applied.
public struct PromotionOffer: Sendable, Equatable {
    public var promotion: Promotion
    public var points: Int64
}

extension Program {
    /// The promotions of this program that reward an accrual which earned `earned`, with their
    /// bonus before caps and budgets; in the document's order.
    public func promotionOffers(partner: String, category: PartnerCategory, tierCode: String, input: AccrualInput,
                                earned: EarnResult) -> [PromotionOffer] {
        promotions.compactMap { promotion in
            guard promotion.matches(partner: partner, category: category, tierCode: tierCode, input: input) else { return nil }
            let points = promotion.uncappedBonus(on: earned.points)
            return points > 0 ? PromotionOffer(promotion: promotion, points: points) : nil
        }
    }
}
