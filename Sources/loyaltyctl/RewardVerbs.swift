import Foundation
import LoyaltyCore
import LoyaltyStore

/// The rewards catalog: prices are program (a change writes the program, audited), stock is live state.
let rewardVerbs: [Verb] = [
    Verb(words: ["reward", "list"], usage: "reward list",
         summary: "the catalog: base points, per-tier points, stock (or unlimited), on sale or retired") { context, args in
        try args.expectPositionals(0)
        printTable(["code", "points", "tier_points", "stock", "status", "description"], try context.store.catalog().map { entry in
            let reward = entry.reward
            return [reward.code, String(reward.points),
                    reward.tierPoints.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "),
                    entry.stock.description, reward.retired ? "retired" : "on sale", reward.description]
        })
    },
    Verb(words: ["reward", "add"], usage: "reward add CODE --points N [--tier-price TIER=N ...] [--stock N] [--description D] [--reason R]",
         summary: "put a reward on sale, or a retired one back (keeping what --points etc. do not change); a new one's stock is unlimited unless --stock",
         valued: rewardOptions, repeated: ["tier-price"]) { context, args in
        try args.expectPositionals(1)
        let code = try args.positional(0, "CODE")
        _ = try args.required("points")
        try context.store.addReward(code: code, try rewardChange(args), stock: try stock(args), reason: args.options["reason"],
                                    actor: context.actor)
        print("reward \(code.uppercased()) on sale")
    },
    Verb(words: ["reward", "set"],
         usage: "reward set CODE [--points N] [--tier-price TIER=N|TIER=none ...] [--stock N|unlimited] [--description D] [--reason R]",
         summary: "change a reward's prices, description or stock; TIER=none drops a tier's own price",
         valued: rewardOptions, repeated: ["tier-price"]) { context, args in
        try args.expectPositionals(1)
        let code = try args.positional(0, "CODE")
        try context.store.changeReward(code: code, try rewardChange(args), stock: try stock(args), reason: args.options["reason"],
                                       actor: context.actor)
        print("reward \(code.uppercased()) changed")
    },
    Verb(words: ["reward", "retire"], usage: "reward retire CODE [--reason R]",
         summary: "take a reward off sale; its past redemptions keep it (and can still be cancelled)", valued: ["reason"]) { context, args in
        try args.expectPositionals(1)
        let code = try args.positional(0, "CODE")
        try context.store.retireReward(code: code, reason: args.options["reason"], actor: context.actor)
        print("reward \(code.uppercased()) retired")
    },
]

private let rewardOptions: Set<String> = ["points", "stock", "description", "reason"]

/// `--points`, `--description` and every `--tier-price TIER=N` (`TIER=none` to drop one).
private func rewardChange(_ args: Arguments) throws(UsageError) -> RewardChange {
    var change = RewardChange(points: try args.options["points"].map { text throws(UsageError) in try points(text, "--points") },
                              description: args.options["description"])
    for word in args.lists["tier-price", default: []] {
        guard let eq = word.firstIndex(of: "="), eq != word.startIndex else {
            throw UsageError(message: "--tier-price takes TIER=N, got \(word)")
        }
        let tier = String(word[..<eq]), value = String(word[word.index(after: eq)...])
        guard change.tierPoints[tier] == nil else { throw UsageError(message: "--tier-price \(tier) given twice") }
        change.tierPoints[tier] = value == "none" ? .some(nil) : try points(value, "--tier-price \(tier)")
    }
    return change
}

private func points(_ text: String, _ what: String) throws(UsageError) -> Int64 {
    guard let n = Int64(text), n > 0 else { throw UsageError(message: "\(what) must be a positive whole number of points") }
    return n
}

private func stock(_ args: Arguments) throws(UsageError) -> RewardStock? {
    try args.options["stock"].map { text throws(UsageError) in
        if text == "unlimited" { return .unlimited }
        guard let n = Int64(text), n >= 0 else { throw UsageError(message: "--stock must be a whole number (0 or more) or unlimited") }
        return .count(n)
    }
}
