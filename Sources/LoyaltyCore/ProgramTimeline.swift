/// One applied version of the program document. Versions are never edited: a change is a new
/// version with its own effective date.
public struct ProgramVersion: Sendable, Equatable {
    public var version: Int
    /// First activity date (accruals) or day (everything else) it governs.
    public var effectiveFrom: LocalDate
    public var program: Program

    public init(version: Int, effectiveFrom: LocalDate, program: Program) {
        self.version = version
        self.effectiveFrom = effectiveFrom
        self.program = program
    }
}

/// Every version of the program, ordered by effective date. Accruals earn with the version
/// effective on their activity date, so a rule change never rewrites past earnings and a
/// back-dated claim earns at the rules of its day; everything else (tiers, expiry, catalog,
/// claim window) follows the version in force today.
public struct ProgramTimeline: Sendable, Equatable {
    /// Ascending by effective date; never empty. A later version never takes effect before an earlier one.
    public let versions: [ProgramVersion]

    /// nil without versions, or when effective dates do not ascend with version numbers.
    public init?(_ versions: [ProgramVersion]) {
        let sorted = versions.sorted { $0.version < $1.version }
        guard !sorted.isEmpty, zip(sorted, sorted.dropFirst()).allSatisfy({ $0.effectiveFrom <= $1.effectiveFrom }) else {
            return nil
        }
        self.versions = sorted
    }

    /// The version governing `date`: the newest whose effective date is on or before it. Dates
    /// before the first effective date follow the first date's newest version (a program has
    /// rules from its first day on, and a version re-applied on that date replaces them).
    public func version(on date: LocalDate) -> ProgramVersion {
        let clamped = max(date, versions[0].effectiveFrom)
        return versions.last { $0.effectiveFrom <= clamped } ?? versions[0]
    }

    public var latest: ProgramVersion { versions[versions.count - 1] }
}
