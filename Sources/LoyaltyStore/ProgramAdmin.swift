import Foundation
import LoyaltyCore
import Postgres

/// One line of `program history`.
public struct ProgramVersionRecord: Sendable, Equatable {
    public var version: Int
    public var effectiveFrom: LocalDate
    public var appliedAt: String
    public var actor: String
    public var reason: String
}

/// What `program apply` did with a document that passed its checks.
public enum ProgramApplied: Sendable, Equatable {
    case applied(version: Int)
    /// The document equals the latest version: no version was made.
    case unchanged(version: Int)
}

/// What `program check`, `diff` and `apply` came to: the document's problems, or what it does.
public enum ProgramVerdict<Success: Sendable>: Sendable {
    case refused(ProblemList)
    case accepted(Success)
}

extension LoyaltyStore {
    /// The document parsed and checked against the partners that exist; nothing is written.
    public func checkProgram(_ document: Data) throws(LoyaltyError) -> ProgramVerdict<Program> {
        try read { conn in Self.verdict(document, context: try ProgramRecords.context(conn)) }
    }

    /// What applying `document` would change against the latest version, in words.
    public func diffProgram(_ document: Data) throws(LoyaltyError) -> ProgramVerdict<[String]> {
        try read { conn in
            switch Self.verdict(document, context: try ProgramRecords.context(conn)) {
            case .refused(let problems): return .refused(problems)
            case .accepted(let program):
                return .accepted(ProgramDiff.lines(from: try ProgramRecords.load(conn).timeline.latest.program, to: program))
            }
        }
    }

    /// Appends `document` as a new version effective from `effective` (default today), audited
    /// with the actor and reason; a document with any problem is refused and nothing is written,
    /// and one equal to the latest version is no change. Running servers follow within their poll interval.
    public func applyProgram(_ document: Data, effective: LocalDate?, reason: String, actor: Principal) throws(LoyaltyError) -> ProgramVerdict<ProgramApplied> {
        guard !reason.isEmpty else { throw .invalid("--reason is required") }
        let today = try today()
        let verdict: ProgramVerdict<ProgramApplied> = try write { conn in
            switch Self.verdict(document, context: try ProgramRecords.context(conn)) {
            case .refused(let problems): return .refused(problems)
            case .accepted(let program):
                let latest = try ProgramRecords.load(conn).timeline.latest
                if program == latest.program { return .accepted(.unchanged(version: latest.version)) }
                return .accepted(.applied(version: try ProgramRecords.append(conn, program, effective: effective ?? today,
                                                                            actor: actor, reason: reason)))
            }
        }
        if case .accepted(.applied) = verdict { try reloadProgram() }
        return verdict
    }

    /// Every applied version, oldest first.
    public func programHistory() throws(LoyaltyError) -> [ProgramVersionRecord] {
        try read { conn in
            try conn.query("""
                SELECT version, effective_from::text AS effective_from, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS applied_at,
                       actor, reason
                FROM program_versions ORDER BY version
                """).rows.map { row in
                ProgramVersionRecord(version: try row.int("version"), effectiveFrom: try ProgramRecords.date(row.string("effective_from")),
                                     appliedAt: try row.string("applied_at"), actor: try row.string("actor"), reason: try row.string("reason"))
            }
        }
    }

    /// One version (default: the one in force today), read fresh from the database.
    public func programVersion(_ number: Int?) throws(LoyaltyError) -> ProgramVersion {
        let timeline = try read { conn in try ProgramRecords.load(conn).timeline }
        guard let number else { return timeline.version(on: Self.today(clock(), timeline)) }
        guard let version = timeline.versions.first(where: { $0.version == number }) else {
            throw .notFound("no program version \(number)")
        }
        return version
    }

    static func verdict(_ document: Data, context: ProgramContext) -> ProgramVerdict<Program> {
        switch ProgramDocument.parse(document, context: context) {
        case .success(let program): return .accepted(program)
        case .failure(let problems): return .refused(problems)
        }
    }
}

/// A partner as `partner show` shows it.
public struct PartnerDetail: Sendable, Equatable {
    public var record: PartnerRecord
    /// Minor units of `priceCurrency` per 1,000 points issued.
    public var pricePerThousandMinor: Int64
    public var priceCurrency: String
    public var suspendedAt: String?
    public var suspendedReason: String?
    /// The rule in force today: the partner's own, else its category's (nil: it earns nothing).
    public var rule: EarnRule?
    public var ownRule: Bool
    /// Ids of promotions in force today that name the partner or its category.
    public var promotions: [String]
}

extension LoyaltyStore {
    public func partner(code: String) throws(LoyaltyError) -> PartnerDetail {
        let program = try program()
        return try read { conn in
            guard let row = try conn.query("""
                SELECT p.code, p.name, p.category, p.active, p.price_per_thousand_points_minor AS price, p.price_currency,
                       to_char(p.suspended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS suspended_at, p.suspended_reason,
                       EXISTS (SELECT 1 FROM partner_keys k WHERE k.partner_code = p.code AND k.revoked_at IS NULL) AS has_key
                FROM partners p WHERE p.code = $1
                """, [code]).first else { throw LoyaltyError.notFound("no partner \(code)") }
            let record = try PartnerRecord(row)
            return PartnerDetail(record: record, pricePerThousandMinor: try row.int64("price"),
                                 priceCurrency: row["price_currency"] ?? program.currency,
                                 suspendedAt: row["suspended_at"], suspendedReason: row["suspended_reason"],
                                 rule: program.earnRule(partner: code, category: record.category), ownRule: program.partnerRules[code] != nil,
                                 promotions: program.promotions.filter {
                                     ($0.partners?.contains(code) ?? true) && ($0.categories?.contains(record.category) ?? true)
                                 }.map(\.id))
        }
    }

    /// The partner's settlement price: `amount` (a decimal in `currency`, default the program's)
    /// per 1,000 points issued.
    public func setPartnerPrice(code: String, pricePerThousand amount: String, currency: String?, actor: Principal) throws(LoyaltyError) {
        let programCurrency = try program().currency
        let currency = currency ?? programCurrency
        let price = try Currency.parse(amount: amount, currency: currency)
        guard price.minorUnits >= 0 else { throw .invalid("--price-per-1000 must not be negative") }
        try changePartner(code, actor: actor, action: "partner.price", details: ["price_per_1000": amount, "currency": currency], reason: "") { conn in
            _ = try conn.query("UPDATE partners SET price_per_thousand_points_minor = $2, price_currency = $3 WHERE code = $1",
                               [code, String(price.minorUnits), currency])
        }
    }

    /// A suspended partner's ACCRUE and BATCH are refused (`-NOPERM partner suspended`); its
    /// REVERSE, BATCH STATUS and sign-in still work, so it can correct what it sent.
    public func suspendPartner(code: String, reason: String, actor: Principal) throws(LoyaltyError) {
        guard !reason.isEmpty else { throw .invalid("--reason is required") }
        try changePartner(code, actor: actor, action: "partner.suspend", details: [:], reason: reason) { conn in
            guard try conn.query("""
                UPDATE partners SET suspended_at = now(), suspended_reason = $2 WHERE code = $1 AND suspended_at IS NULL
                """, [code, reason]).affectedRows == 1 else { throw LoyaltyError.conflict("partner \(code) is already suspended") }
        }
    }

    public func resumePartner(code: String, reason: String, actor: Principal) throws(LoyaltyError) {
        guard !reason.isEmpty else { throw .invalid("--reason is required") }
        try changePartner(code, actor: actor, action: "partner.resume", details: [:], reason: reason) { conn in
            guard try conn.query("""
                UPDATE partners SET suspended_at = NULL, suspended_reason = NULL WHERE code = $1 AND suspended_at IS NOT NULL
                """, [code]).affectedRows == 1 else { throw LoyaltyError.conflict("partner \(code) is not suspended") }
        }
    }

    /// One audited change of a partner's row, which must exist; running servers follow it.
    private func changePartner(_ code: String, actor: Principal, action: String, details: [String: String], reason: String,
                               _ change: (Connection) throws -> Void) throws(LoyaltyError) {
        try write { conn in
            guard try conn.query("SELECT 1 FROM partners WHERE code = $1 FOR UPDATE", [code]).first != nil else {
                throw LoyaltyError.notFound("no partner \(code)")
            }
            try change(conn)
            try ProgramRecords.announceChange(conn)
            try Audit.record(conn, actor: actor, action: action, details: details.merging(["partner": code]) { $1 }, reason: reason)
        }
    }
}

/// What a promotion has done so far, from the ledger.
public struct PromotionReport: Sendable, Equatable {
    public var promotion: Promotion
    /// Versions of the program that carry it.
    public var versions: [Int]
    public var pointsGranted: Int64
    public var pointsReversed: Int64
    public var membersReached: Int64
    public var accruals: Int64
    public var netPoints: Int64 { pointsGranted - pointsReversed }
    /// Budget less net points granted; nil without a budget.
    public var budgetLeft: Int64? { promotion.budget.map { $0 - netPoints } }
}

extension LoyaltyStore {
    /// The promotion as the newest version that carries it defines it, and its totals.
    public func promotionReport(id: String) throws(LoyaltyError) -> PromotionReport {
        let timeline = try read { conn in try ProgramRecords.load(conn).timeline }
        let carrying = timeline.versions.filter { version in version.program.promotions.contains { $0.id == id } }
        guard let newest = carrying.last?.program.promotions.first(where: { $0.id == id }) else {
            throw .notFound("no promotion \(id) in any program version")
        }
        return try read { conn in
            guard let row = try conn.query("""
                SELECT coalesce(sum(points) FILTER (WHERE kind = 'promotion'), 0) AS granted,
                       coalesce(-sum(points) FILTER (WHERE kind = 'promotion_reversal'), 0) AS reversed,
                       count(DISTINCT member_number) FILTER (WHERE kind = 'promotion') AS members,
                       count(*) FILTER (WHERE kind = 'promotion') AS accruals
                FROM ledger_entries WHERE kind IN ('promotion', 'promotion_reversal') AND promotion_id = $1
                """, [id]).first else { throw LoyaltyError.notFound("no promotion \(id)") }
            return PromotionReport(promotion: newest, versions: carrying.map(\.version), pointsGranted: try row.int64("granted"),
                                   pointsReversed: try row.int64("reversed"), membersReached: try row.int64("members"),
                                   accruals: try row.int64("accruals"))
        }
    }
}
