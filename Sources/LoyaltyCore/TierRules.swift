/// A tier held for life once a member's qualifying points over all time reach `lifetimeQualifying`.
public struct LifetimeTier: Sendable, Codable, Equatable {
    public var tierCode: String
    public var lifetimeQualifying: Int64

    public init(tierCode: String, lifetimeQualifying: Int64) {
        self.tierCode = tierCode
        self.lifetimeQualifying = lifetimeQualifying
    }
}

/// The tier rules the engine applies: which tier a period's totals earn, which windows a grant
/// covers, lifetime status and soft landing. Pure, so the store and the tests share them.
extension Program {
    /// Whether any tier can be reached by qualifying activities; when none can, they are not counted.
    public var countsQualifyingActivities: Bool {
        tiers.contains { $0.qualifyingActivities != nil }
    }

    /// The highest tier reached by `points` qualifying points or by `activities` qualifying
    /// activities, for tiers with an activities threshold.
    public func tier(forQualifying points: Int64, activities: Int64) -> TierDefinition {
        tiers.last { tier in
            tier.qualifyingThreshold <= points || tier.qualifyingActivities.map { $0 <= activities } ?? false
        } ?? baseTier
    }

    /// The qualification period that starts on `start`: the calendar year from January 1, or the
    /// 12 months from `start`. `period(startingOn: period(containing: d).lowerBound)` ends on `d`
    /// except for February 28 of a leap year, whose window starts on the leap day's start.
    public func period(startingOn start: LocalDate) -> ClosedRange<LocalDate> {
        switch qualificationPeriod {
        case .calendarYear: return start...start.endOfYear
        case .rolling12Months: return start...start.adding(months: 12).adding(days: -1)
        }
    }

    /// Soft landing for a member whose `lapsed` tier ran out while `best` is the best tier still
    /// valid: the tier just below `lapsed` when the fall would be deeper than one tier and that
    /// tier is above the base; nil when no landing grant is needed or soft landing is off.
    public func softLandingTier(lapsed: TierDefinition, best: TierDefinition) -> TierDefinition? {
        guard softLandingMonths != nil, let index = tiers.firstIndex(of: lapsed), index >= 2 else { return nil }
        let landing = tiers[index - 1]
        return best.rank < landing.rank ? landing : nil
    }
}
