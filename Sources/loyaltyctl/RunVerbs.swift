import Foundation
import Glibc
import LoyaltyCore
import LoyaltyStore

/// Checks and runs over the whole program.
let runVerbs: [Verb] = [
    Verb(words: ["verify"], usage: "verify",
         summary: "recompute every balance from the ledger and check every invariant; exit 1 on any violation") { context, args in
        try args.expectPositionals(0)
        let checks = try context.store.verify()
        for check in checks {
            let examples = check.examples.isEmpty ? "" : " (e.g. \(check.examples.joined(separator: ", ")))"
            let enforced = check.enforcedBy.map { " (kept by the schema: \($0))" } ?? ""
            print("\(check.violations == 0 ? "ok  " : "FAIL") \(check.name)\(enforced)\(check.violations == 0 ? "" : ": \(check.violations) violations\(examples)")")
        }
        let failed = checks.filter { $0.violations > 0 }.count
        print("verify: \(checks.count) invariants checked, \(failed) violated")
        if failed > 0 { throw Failure(message: "the ledger breaks \(failed) invariants") }
    },
    Verb(words: ["tiers", "evaluate"], usage: "tiers evaluate [--as-of YYYY-MM-DD]",
         summary: "lapse tiers whose validity ended before the date (default today), with soft landings and lifetime status; "
            + "once per date, resumable, one run at a time", valued: ["as-of"]) { context, args in
        try args.expectPositionals(0)
        let asOf = try asOfDate(args)
        let bar = ProgressBar(label: "tiers evaluate")
        let summary = try context.store.evaluateTiers(asOf: asOf, actor: context.actor, progress: bar.map { bar in { bar.show($0) } })
        bar?.finish()
        print(summary.summaryLine)
    },
    Verb(words: ["expire"], usage: "expire [--as-of YYYY-MM-DD] [--dry-run]",
         summary: "expire points due by the date (default today) under the program's expiry policy; "
            + "--dry-run only counts; once per date, resumable, one run at a time", valued: ["as-of"], flags: ["dry-run"]) { context, args in
        try args.expectPositionals(0)
        let asOf = try asOfDate(args)
        let bar = ProgressBar(label: "expire")
        let summary = try context.store.expirePoints(asOf: asOf, dryRun: args.flags.contains("dry-run"), actor: context.actor,
                                                     progress: bar.map { bar in { bar.show($0) } })
        bar?.finish()
        print(summary.summaryLine)
    },
]

private func asOfDate(_ args: Arguments) throws(UsageError) -> LocalDate? {
    guard let text = args.options["as-of"] else { return nil }
    guard let date = LocalDate(text) else { throw UsageError(message: "--as-of must be YYYY-MM-DD") }
    return date
}

/// A one-line progress bar on stderr, redrawn in place; only on a terminal, so logs and pipes stay clean.
final class ProgressBar {
    static let width = 40
    private let label: String
    private var shownPermille = -1

    /// nil when stderr is not a terminal.
    init?(label: String) {
        guard isatty(STDERR_FILENO) == 1 else { return nil }
        self.label = label
    }

    func show(_ progress: RunProgress) {
        let permille = progress.membersTotal == 0 ? 1_000 : progress.membersDone * 1_000 / progress.membersTotal
        guard permille != shownPermille else { return }
        shownPermille = permille
        let filled = permille * Self.width / 1_000
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: Self.width - filled)
        let line = "\r\(label) [\(bar)] \(permille / 10).\(permille % 10)% \(progress.membersDone)/\(progress.membersTotal) members"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Clears the bar so the summary line starts on a clean line.
    func finish() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
