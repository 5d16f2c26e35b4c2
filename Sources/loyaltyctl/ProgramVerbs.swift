import Foundation
import LoyaltyCore
import LoyaltyStore

/// A program document with problems: each printed with its JSON path, exit code 2, nothing applied.
struct DocumentRefused: Error { var problems: ProblemList }

/// The program as a versioned document (docs/program.md), partners' terms, promotions.
let programVerbs: [Verb] = [
    Verb(words: ["program", "show"], usage: "program show [--version N] [--format table|json]",
         summary: "the program in force today (or version N): a summary table, or the JSON document", valued: ["version", "format"]) { context, args in
        try args.expectPositionals(0)
        let version = try context.store.programVersion(try args.optionalInt("version"))
        switch args.options["format"] ?? "table" {
        case "json": printDocument(version.program)
        case "table": printSummary(version)
        case let other: throw UsageError(message: "--format must be table or json, not \(other)")
        }
    },
    Verb(words: ["program", "export"], usage: "program export [--version N] > program.json",
         summary: "the JSON document of the program in force today (or version N), to edit and apply", valued: ["version"]) { context, args in
        try args.expectPositionals(0)
        printDocument(try context.store.programVersion(try args.optionalInt("version")).program)
    },
    Verb(words: ["program", "check"], usage: "program check FILE",
         summary: "check a document (- reads stdin): every problem with its JSON path; exit 2 when any; nothing is applied") { context, args in
        try args.expectPositionals(1)
        switch try context.store.checkProgram(try readDocument(args.positional(0, "FILE"))) {
        case .refused(let problems): throw DocumentRefused(problems: problems)
        case .accepted: print("program check: ok")
        }
    },
    Verb(words: ["program", "diff"], usage: "program diff FILE",
         summary: "what applying the document would change against the latest version, in words") { context, args in
        try args.expectPositionals(1)
        switch try context.store.diffProgram(try readDocument(args.positional(0, "FILE"))) {
        case .refused(let problems): throw DocumentRefused(problems: problems)
        case .accepted(let lines): print(lines.isEmpty ? "no change" : lines.joined(separator: "\n"))
        }
    },
    Verb(words: ["program", "apply"], usage: "program apply FILE --reason R [--effective YYYY-MM-DD]",
         summary: "apply the document as a new version (from --effective, default today; never before the latest version's date); audited",
         valued: ["reason", "effective"]) { context, args in
        try args.expectPositionals(1)
        let document = try readDocument(args.positional(0, "FILE"))
        let effective = try args.options["effective"].map { text throws(UsageError) in
            guard let date = LocalDate(text) else { throw UsageError(message: "--effective must be YYYY-MM-DD") }
            return date
        }
        switch try context.store.applyProgram(document, effective: effective, reason: try args.required("reason"), actor: context.actor) {
        case .refused(let problems): throw DocumentRefused(problems: problems)
        case .accepted(.applied(let version)):
            print("program apply: version \(version) effective \(effective?.description ?? "today"); running servers follow within seconds")
        case .accepted(.unchanged(let version)):
            print("program apply: no change against version \(version); nothing applied")
        }
    },
    Verb(words: ["program", "history"], usage: "program history", summary: "every version: effective date, when, who and why") { context, args in
        try args.expectPositionals(0)
        printTable(["version", "effective", "applied_at", "actor", "reason"], try context.store.programHistory().map {
            [String($0.version), $0.effectiveFrom.description, $0.appliedAt, $0.actor, $0.reason]
        })
    },
    Verb(words: ["promotion", "list"], usage: "promotion list", summary: "the promotions of the program in force today") { context, args in
        try args.expectPositionals(0)
        printTable(["id", "name", "bonus", "from", "to", "code", "cap", "budget"], try context.store.program().promotions.map {
            [$0.id, $0.name, bonusText($0), $0.from.description, $0.to.description, $0.code ?? "", $0.perMemberCap.map(String.init) ?? "",
             $0.budget.map(String.init) ?? ""]
        })
    },
    Verb(words: ["promotion", "report"], usage: "promotion report ID",
         summary: "points a promotion granted (net of reversals), members reached, budget left") { context, args in
        try args.expectPositionals(1)
        let report = try context.store.promotionReport(id: try args.positional(0, "ID"))
        let promotion = report.promotion
        printTable(["field", "value"], [
            ["promotion", "\(promotion.id) (\(promotion.name))"], ["bonus", bonusText(promotion)],
            ["activity dates", "\(promotion.from) to \(promotion.to)"],
            ["program versions", report.versions.map(String.init).joined(separator: ", ")],
            ["accruals rewarded", String(report.accruals)], ["members reached", String(report.membersReached)],
            ["points granted", String(report.pointsGranted)], ["points reversed", String(report.pointsReversed)],
            ["net points", String(report.netPoints)], ["per-member cap", promotion.perMemberCap.map(String.init) ?? "none"],
            ["budget", promotion.budget.map(String.init) ?? "none"], ["budget left", report.budgetLeft.map(String.init) ?? "unlimited"],
        ])
    },
]

func bonusText(_ promotion: Promotion) -> String {
    if let points = promotion.bonusPoints { return "+\(points) points" }
    return "+\(promotion.bonusPercent ?? 0) %"
}

func readDocument(_ path: String) throws -> Data {
    let handle = path == "-" ? FileHandle.standardInput : FileHandle(forReadingAtPath: path)
    guard let handle else { throw Failure(message: "cannot read \(path)") }
    guard let data = try handle.read(upToCount: ProgramDocument.bytesMax + 1) else { return Data() }
    return data
}

func printDocument(_ program: Program) {
    print(String(decoding: ProgramDocument.encode(program), as: UTF8.self))
}

/// The parts an operator looks at first, as tables.
func printSummary(_ version: ProgramVersion) {
    let program = version.program
    print("\(program.name): version \(version.version), effective \(version.effectiveFrom); \(program.pointsName) in \(program.currency)")
    print("")
    printTable(["tier", "code", "rank", "qualifying", "bonus %"], program.tiers.map {
        [$0.name, $0.code, String($0.rank), String($0.qualifyingThreshold), String($0.bonusPercent)]
    })
    print("")
    let rules = program.earnRules.map { ("category \($0.key.rawValue)", $0.value) }.sorted { $0.0 < $1.0 }
        + program.partnerRules.map { ("partner \($0.key)", $0.value) }.sorted { $0.0 < $1.0 }
    printTable(["earn rule", "measure", "points", "qualifying", "cap", "tier bonus"], rules.map { name, rule in
        [name, rule.measure.rawValue + (rule.currency.map { " (\($0))" } ?? ""), "\(rule.pointsNumerator)/\(rule.pointsDenominator)",
         "\(rule.qualifyingNumerator)/\(rule.qualifyingDenominator)", rule.capPoints.map(String.init) ?? "", rule.tierBonusApplies ? "yes" : "no"]
    })
    print("")
    printTable(["reward", "points", "description"], program.rewards.map { [$0.code, String($0.points), $0.description] })
    if !program.promotions.isEmpty {
        print("")
        printTable(["promotion", "bonus", "from", "to"], program.promotions.map { [$0.id, bonusText($0), $0.from.description, $0.to.description] })
    }
}
