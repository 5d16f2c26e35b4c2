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
         summary: "add a partner; categories: \(PartnerCategory.allCases.map(\.rawValue).joined(separator: " "))",
         valued: ["category", "name"]) { context, args in
        try args.expectPositionals(1)
        let code = try args.positional(0, "CODE")
        let categoryText = try args.required("category")
        guard let category = PartnerCategory(rawValue: categoryText) else {
            throw UsageError(message: "unknown category \(categoryText)")
        }
        try context.store.addPartner(code: code, category: category, name: args.options["name"], actor: context.actor)
        print("partner \(code) added; issue its key with `loyaltyctl partner key rotate \(code)`")
    },
    Verb(words: ["partner", "list"], usage: "partner list", summary: "list partners") { context, args in
        try args.expectPositionals(0)
        printTable(["code", "name", "category", "active", "key"], try context.store.partners().map {
            [$0.code, $0.name, $0.category.rawValue, $0.active ? "yes" : "no", $0.hasKey ? "yes" : "no"]
        })
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
