import Foundation
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
            print("\(check.violations == 0 ? "ok  " : "FAIL") \(check.name)\(check.violations == 0 ? "" : ": \(check.violations) violations\(examples)")")
        }
        let failed = checks.filter { $0.violations > 0 }.count
        print("verify: \(checks.count) invariants checked, \(failed) violated")
        if failed > 0 { throw Failure(message: "the ledger breaks \(failed) invariants") }
    },
]
