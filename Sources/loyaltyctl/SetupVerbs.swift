import Foundation
import LoyaltyCore
import LoyaltyStore

/// Schema, program, partners and agents.
let setupVerbs: [Verb] = [
    Verb(words: ["migrate"], usage: "migrate [--migrations DIR]",
         summary: "apply pending Migrations/ in order; a no-op when none are pending", valued: ["migrations"]) { context, args in
        try args.expectPositionals(0)
        let migrator = try Migrator(directory: Migrator.locateDirectory(explicit: args.options["migrations"]))
        let applied = try context.withConnection { try migrator.migrate($0, actor: context.actor) }
        print(applied.isEmpty ? "migrate: up to date (\(migrator.migrations.count) migrations)"
                              : "migrate: applied \(applied.joined(separator: ", "))")
    },
    Verb(words: ["migrate", "status"], usage: "migrate status [--migrations DIR]",
         summary: "list migrations: applied, pending, modified (edited after applying) or missing-file", valued: ["migrations"]) { context, args in
        try args.expectPositionals(0)
        let migrator = try Migrator(directory: Migrator.locateDirectory(explicit: args.options["migrations"]))
        let statuses = try context.withConnection { try migrator.status($0) }
        printTable(["version", "name", "state", "applied_at"],
                   statuses.map { [String($0.version), $0.name, $0.state.rawValue, $0.appliedAt ?? ""] })
        if statuses.contains(where: { $0.state == .modified || $0.state == .missingFile }) {
            throw Failure(message: "migrations differ from what was applied")
        }
    },
    Verb(words: ["demo", "load"], usage: "demo load",
         summary: "load the demo program (tiers, partners, rewards, demo members); idempotent; prints credentials it creates") { context, args in
        try args.expectPositionals(0)
        let issued = try context.store.loadDemo(actor: context.actor)
        for credential in issued { print("\(credential.principal) \(credential.secret)") }
        FileHandle.standardError.write(Data("demo load: program loaded, \(issued.count) new credentials\n".utf8))
    },
    Verb(words: ["partner", "add"], usage: "partner add CODE --category C [--name N]",
         summary: "add a partner in a category the program gives an earn rule (any word: hotel, telecom, cruise ...)",
         valued: ["category", "name"]) { context, args in
        try args.expectPositionals(1)
        let code = try args.positional(0, "CODE")
        let categoryText = try args.required("category")
        guard let category = PartnerCategory(rawValue: categoryText) else {
            throw UsageError(message: PartnerCategory.wordRule(categoryText))
        }
        try context.store.addPartner(code: code, category: category, name: args.options["name"], actor: context.actor)
        print("partner \(code) added; issue its key with `loyaltyctl partner key rotate \(code)`")
    },
    Verb(words: ["partner", "list"], usage: "partner list", summary: "list partners") { context, args in
        try args.expectPositionals(0)
        printTable(["code", "name", "category", "active", "key", "suspended"], try context.store.partners().map {
            [$0.code, $0.name, $0.category.rawValue, $0.active ? "yes" : "no", $0.hasKey ? "yes" : "no", $0.suspended ? "yes" : "no"]
        })
    },
    Verb(words: ["partner", "show"], usage: "partner show CODE",
         summary: "a partner's category, earn rule in force, settlement price, suspension and promotions") { context, args in
        try args.expectPositionals(1)
        let detail = try context.store.partner(code: try args.positional(0, "CODE"))
        let record = detail.record
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let rule = detail.rule.map { rule in
            String(decoding: (try? encoder.encode(rule)) ?? Data(), as: UTF8.self) + (detail.ownRule ? " (the partner's own)" : " (its category's)")
        }
        printTable(["field", "value"], [
            ["partner", "\(record.code) (\(record.name))"], ["category", record.category.rawValue],
            ["earn rule", rule ?? "none: the program gives \(record.category.rawValue) no rule"],
            ["price per 1,000 points", "\(Currency.format(Money(minorUnits: detail.pricePerThousandMinor, currency: detail.priceCurrency))) \(detail.priceCurrency)"],
            ["key", record.hasKey ? "issued" : "none"],
            ["suspended", detail.suspendedAt.map { "since \($0) UTC: \(detail.suspendedReason ?? "")" } ?? "no"],
            ["promotions in force", detail.promotions.isEmpty ? "none" : detail.promotions.joined(separator: ", ")],
        ])
    },
    Verb(words: ["partner", "set"], usage: "partner set CODE --price-per-1000 AMOUNT [--currency C]",
         summary: "what the partner pays per 1,000 points issued (settlement report); currency default the program's; audited",
         valued: ["price-per-1000", "currency"]) { context, args in
        try args.expectPositionals(1)
        let code = try args.positional(0, "CODE")
        try context.store.setPartnerPrice(code: code, pricePerThousand: try args.required("price-per-1000"),
                                          currency: args.options["currency"], actor: context.actor)
        print("partner \(code): price set")
    },
    Verb(words: ["partner", "suspend"], usage: "partner suspend CODE --reason R",
         summary: "refuse the partner's ACCRUE and BATCH (-NOPERM partner suspended); REVERSE still works; audited",
         valued: ["reason"]) { context, args in
        try args.expectPositionals(1)
        let code = try args.positional(0, "CODE")
        try context.store.suspendPartner(code: code, reason: try args.required("reason"), actor: context.actor)
        print("partner \(code): suspended")
    },
    Verb(words: ["partner", "resume"], usage: "partner resume CODE --reason R",
         summary: "end a partner's suspension; audited", valued: ["reason"]) { context, args in
        try args.expectPositionals(1)
        let code = try args.positional(0, "CODE")
        try context.store.resumePartner(code: code, reason: try args.required("reason"), actor: context.actor)
        print("partner \(code): resumed")
    },
    Verb(words: ["partner", "key", "rotate"], usage: "partner key rotate CODE",
         summary: "revoke the partner's key and print a new one (only the key, on stdout)") { context, args in
        try args.expectPositionals(1)
        print(try context.store.rotatePartnerKey(code: try args.positional(0, "CODE"), actor: context.actor))
    },
    Verb(words: ["agent", "add"], usage: "agent add NAME",
         summary: "add an agent (front desk, member app back end); prints only its secret") { context, args in
        try args.expectPositionals(1)
        print(try context.store.addAgent(name: try args.positional(0, "NAME"), actor: context.actor))
    },
]
