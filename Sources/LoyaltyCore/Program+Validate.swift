/// One thing wrong with a program document: where (a JSON path such as `$.tiers[2].bonusPercent`)
/// and why.
public struct ProgramProblem: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// What the program is checked against besides itself: the partners that exist, so that a rule or
/// promotion naming an unknown partner, or a partner whose category stops earning, is refused.
public struct ProgramContext: Sendable, Equatable {
    /// Partner code -> its category.
    public var partners: [String: PartnerCategory]

    public init(partners: [String: PartnerCategory]) {
        self.partners = partners
    }
}

extension Program {
    /// Bounds that keep a program sane; far beyond any real one.
    public static let monthsMax = 1200
    public static let claimWindowDaysMax = 3660
    public static let bonusPercentMax: Int64 = 10_000
    public static let cabinFactorPermilleMax: Int64 = 100_000
    public static let nameLengthMax = 64
    public static let promotionsMax = 1000

    /// Checks what the rest of the system assumes of a program: tiers sorted by rank with a base
    /// tier (rank 0, threshold 0) first and strictly ascending thresholds, unique tier codes and
    /// names, known currencies (a foreign one only with an exchange rate), non-negative rates over
    /// positive denominators, unique rewards with positive prices (per tier too), promotions that name what
    /// exists, and bounded windows. With a context, partners too. `.invalid` names the first problem.
    public func validate(context: ProgramContext? = nil) throws(LoyaltyError) {
        if let first = problems(context: context).first { throw .invalid("program: \(first)") }
    }

    /// Every problem found, in document order.
    public func problems(context: ProgramContext? = nil) -> [ProgramProblem] {
        var found = Problems()
        found.check(!name.isEmpty && name.count <= Self.nameLengthMax, "$.name", "name must be 1 to \(Self.nameLengthMax) characters")
        found.check(!pointsName.isEmpty && pointsName.count <= Self.nameLengthMax, "$.pointsName",
                    "pointsName must be 1 to \(Self.nameLengthMax) characters")
        found.check(Currency.minorDigits(currency) != nil, "$.currency", "unknown program currency '\(currency)'")
        found.check(abs(utcOffsetSeconds) <= LocalDate.utcOffsetSecondsMax, "$.utcOffsetSeconds", "utcOffsetSeconds must be within 18 hours")
        validateTiers(&found)
        found.check((0...Self.monthsMax).contains(tierValidityMonthsAfterPeriodEnd), "$.tierValidityMonthsAfterPeriodEnd",
                    "tierValidityMonthsAfterPeriodEnd must be 0 to \(Self.monthsMax)")
        found.check(softLandingMonths.map { (1...Self.monthsMax).contains($0) } ?? true, "$.softLandingMonths",
                    "softLandingMonths must be 1 to \(Self.monthsMax)")
        validateLifetimeTiers(&found)
        for (category, rule) in earnRules.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            validate(rule, at: "$.earnRules.\(category.rawValue)", &found)
        }
        for (partner, rule) in partnerRules.sorted(by: { $0.key < $1.key }) {
            let path = "$.partnerRules.\(partner)"
            found.check(Identifiers.isPartnerCode(partner), path, "'\(partner)' is not a partner code (2-16 of A-Z 0-9 _)")
            if let context { found.check(context.partners[partner] != nil, path, "unknown partner \(partner)") }
            validate(rule, at: path, &found)
        }
        validateRewards(&found)
        validateExpiry(&found)
        found.check((0...Self.claimWindowDaysMax).contains(claimWindowDaysBack), "$.claimWindowDaysBack",
                    "claimWindowDaysBack must be 0 to \(Self.claimWindowDaysMax)")
        found.check((0...Self.claimWindowDaysMax).contains(claimWindowDaysAhead), "$.claimWindowDaysAhead",
                    "claimWindowDaysAhead must be 0 to \(Self.claimWindowDaysMax)")
        validateExchangeRates(&found)
        validatePromotions(context, &found)
        if let context {
            for (partner, category) in context.partners.sorted(by: { $0.key < $1.key }) where earnRule(partner: partner, category: category) == nil {
                found.add("$.earnRules", "partner \(partner) is in category \(category.rawValue), which has no earn rule (nor has the partner one)")
            }
        }
        return found.list
    }

    func validateTiers(_ found: inout Problems) {
        guard let base = tiers.first else { return found.add("$.tiers", "at least one tier is needed") }
        found.check(base.rank == 0 && base.qualifyingThreshold == 0, "$.tiers[0]", "the first tier must be the base tier: rank 0, threshold 0")
        var keys: Set<String> = []
        for (index, tier) in tiers.enumerated() {
            let path = "$.tiers[\(index)]"
            found.check(!tier.code.isEmpty && tier.code.count <= Self.nameLengthMax && !tier.name.isEmpty && tier.name.count <= Self.nameLengthMax,
                        path, "tier codes and names must be 1 to \(Self.nameLengthMax) characters")
            found.check((0...Self.bonusPercentMax).contains(tier.bonusPercent), "\(path).bonusPercent",
                        "tier \(tier.code): bonusPercent must be 0 to \(Self.bonusPercentMax)")
            found.check(tier.qualifyingThreshold >= 0, "\(path).qualifyingThreshold", "tier \(tier.code): qualifyingThreshold must not be negative")
            // `tier(code:)` matches code or name ignoring case, so all of them must be distinct.
            let names = Set([tier.code.uppercased(), tier.name.uppercased()])
            found.check(keys.isDisjoint(with: names), path, "tier \(tier.code): code or name used twice")
            keys.formUnion(names)
            found.check(tier.qualifyingActivities.map { $0 > 0 && index > 0 } ?? true, "\(path).qualifyingActivities",
                        "tier \(tier.code): qualifyingActivities must be positive, and the base tier has none")
            if index > 0 {
                let previous = tiers[index - 1]
                found.check(tier.rank > previous.rank, "\(path).rank", "tier \(tier.code): tiers must be sorted by strictly ascending rank")
                found.check(tier.qualifyingThreshold > previous.qualifyingThreshold, "\(path).qualifyingThreshold",
                            "tier \(tier.code): thresholds must strictly ascend with rank (overlaps \(previous.code))")
            }
        }
    }

    func validateLifetimeTiers(_ found: inout Problems) {
        var codes: Set<String> = []
        for (index, lifetime) in lifetimeTiers.enumerated() {
            let what = "lifetime tier \(lifetime.tierCode)", path = "$.lifetimeTiers[\(index)]"
            found.check(tiers.dropFirst().contains { $0.code == lifetime.tierCode }, "\(path).tierCode", "\(what): not a tier above the base")
            found.check(codes.insert(lifetime.tierCode).inserted, "\(path).tierCode", "\(what): given twice")
            found.check(lifetime.lifetimeQualifying > 0, "\(path).lifetimeQualifying", "\(what): lifetimeQualifying must be positive")
        }
    }

    func validate(_ rule: EarnRule, at path: String, _ found: inout Problems) {
        found.check(rule.pointsNumerator >= 0 && rule.qualifyingNumerator >= 0, path, "numerators must not be negative")
        found.check(rule.pointsDenominator > 0 && rule.qualifyingDenominator > 0, path, "denominators must be positive")
        found.check(rule.capPoints.map { $0 >= 0 } ?? true, "\(path).capPoints", "capPoints must not be negative")
        for (cabin, factor) in rule.cabinFactorsPermille.sorted(by: { $0.key < $1.key }) {
            let cabinPath = "\(path).cabinFactorsPermille.\(cabin)"
            found.check(AccrualInput.isCabin(cabin), cabinPath, "cabin '\(cabin)' is not upper case letters")
            found.check((0...Self.cabinFactorPermilleMax).contains(factor), cabinPath, "cabin factor must be 0 to \(Self.cabinFactorPermilleMax)")
        }
        if rule.measure == .amount {
            let ruleCurrency = rule.currency ?? currency
            if Currency.minorDigits(ruleCurrency) == nil {
                found.add("\(path).currency", "unknown currency '\(ruleCurrency)'")
            } else {
                found.check(ruleCurrency == currency || exchangeRates.contains { $0.currency == ruleCurrency }, "\(path).currency",
                            "currency \(ruleCurrency) is not the program's and has no exchange rate")
            }
        } else {
            found.check(rule.currency == nil, "\(path).currency", "only amount rules have a currency")
        }
    }

    func validateRewards(_ found: inout Problems) {
        var codes: Set<String> = []
        for (index, reward) in rewards.enumerated() {
            let path = "$.rewards[\(index)]"
            found.check(Identifiers.isRewardCode(reward.code), "\(path).code",
                        "reward '\(reward.code)': codes are 1 to \(Identifiers.rewardCodeLengthMax) of A-Z a-z 0-9 _ -")
            found.check(codes.insert(reward.code.uppercased()).inserted, "\(path).code", "reward \(reward.code): code used twice")
            found.check(reward.description.count <= Reward.descriptionLengthMax, "\(path).description",
                        "reward \(reward.code): description must be at most \(Reward.descriptionLengthMax) characters")
            found.check((1...Reward.pointsMax).contains(reward.points), "\(path).points",
                        "reward \(reward.code): points must be 1 to \(Reward.pointsMax)")
            for (tierCode, points) in reward.tierPoints.sorted(by: { $0.key < $1.key }) {
                let tierPath = "\(path).tierPoints.\(tierCode)"
                found.check(tiers.contains { $0.code == tierCode }, tierPath, "reward \(reward.code): tierPoints names no tier '\(tierCode)'")
                found.check((1...Reward.pointsMax).contains(points), tierPath, "reward \(reward.code): tierPoints \(tierCode) must be 1 to \(Reward.pointsMax)")
            }
        }
    }

    func validateExpiry(_ found: inout Problems) {
        switch expiry {
        case .none: break
        case let .inactivity(months, exemptFromRank):
            found.check((1...Self.monthsMax).contains(months), "$.expiry.months", "expiry: months must be 1 to \(Self.monthsMax)")
            found.check(exemptFromRank.map { rank in tiers.contains { $0.rank == rank } } ?? true, "$.expiry.exemptFromRank",
                        "expiry: exemptFromRank is not a tier's rank")
        case let .lot(months):
            found.check((1...Self.monthsMax).contains(months), "$.expiry.months", "expiry: months must be 1 to \(Self.monthsMax)")
        }
    }

    func validateExchangeRates(_ found: inout Problems) {
        var seen: Set<String> = []
        for (index, rate) in exchangeRates.enumerated() {
            let what = "exchange rate \(rate.currency)", path = "$.exchangeRates[\(index)]"
            found.check(Currency.minorDigits(rate.currency) != nil, "\(path).currency", "\(what): unknown currency")
            found.check(rate.currency != currency, "\(path).currency", "\(what): is the program currency")
            found.check(seen.insert(rate.currency).inserted, "\(path).currency", "\(what): given twice")
            found.check(rate.numerator > 0 && rate.denominator > 0, path, "\(what): numerator and denominator must be positive")
        }
    }

    func validatePromotions(_ context: ProgramContext?, _ found: inout Problems) {
        found.check(promotions.count <= Self.promotionsMax, "$.promotions", "at most \(Self.promotionsMax) promotions")
        var ids: Set<String> = []
        for (index, promotion) in promotions.enumerated() {
            let path = "$.promotions[\(index)]", what = "promotion \(promotion.id)"
            found.check(Promotion.isID(promotion.id), "\(path).id", "ids are 1 to \(Promotion.idLengthMax) of A-Z a-z 0-9 _ -")
            found.check(ids.insert(promotion.id).inserted, "\(path).id", "\(what): id used twice")
            found.check(!promotion.name.isEmpty && promotion.name.count <= Self.nameLengthMax, "\(path).name",
                        "\(what): name must be 1 to \(Self.nameLengthMax) characters")
            switch (promotion.bonusPercent, promotion.bonusPoints) {
            case let (percent?, nil):
                found.check((1...Promotion.bonusPercentMax).contains(percent), "\(path).bonusPercent",
                            "\(what): bonusPercent must be 1 to \(Promotion.bonusPercentMax)")
            case let (nil, points?):
                found.check(points > 0, "\(path).bonusPoints", "\(what): bonusPoints must be positive")
            default:
                found.add(path, "\(what): give exactly one of bonusPercent and bonusPoints")
            }
            found.check(promotion.from <= promotion.to, "\(path).to", "\(what): ends before it starts")
            found.check(promotion.code.map(Identifiers.isClientID) ?? true, "\(path).code",
                        "\(what): code must be 1 to \(Identifiers.clientIDLengthMax) printable characters without spaces")
            found.check(promotion.perMemberCap.map { $0 > 0 } ?? true, "\(path).perMemberCap", "\(what): perMemberCap must be positive")
            found.check(promotion.budget.map { $0 > 0 } ?? true, "\(path).budget", "\(what): budget must be positive")
            for (position, partner) in (promotion.partners ?? []).enumerated() {
                found.check(context.map { $0.partners[partner] != nil } ?? Identifiers.isPartnerCode(partner),
                            "\(path).partners[\(position)]", "\(what): unknown partner \(partner)")
            }
            for (position, category) in (promotion.categories ?? []).enumerated() {
                let known = earnRules[category] != nil || (context?.partners.values.contains(category) ?? false)
                found.check(known, "\(path).categories[\(position)]", "\(what): no partner earns in category \(category.rawValue)")
            }
            for (position, tier) in (promotion.tiers ?? []).enumerated() {
                found.check(tiers.contains { $0.code == tier }, "\(path).tiers[\(position)]", "\(what): unknown tier \(tier)")
            }
        }
    }
}

/// Problems as they are found, each with its path.
struct Problems {
    var list: [ProgramProblem] = []

    mutating func add(_ path: String, _ reason: String) {
        list.append(ProgramProblem(path: path, reason: reason))
    }

    mutating func check(_ condition: Bool, _ path: String, _ reason: @autoclosure () -> String) {
        if !condition { add(path, reason()) }
    }
}
