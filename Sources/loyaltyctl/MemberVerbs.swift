import Foundation
import LoyaltyCore
import LoyaltyStore

/// Members, points and tiers by hand; every change lands in the audit trail.
let memberVerbs: [Verb] = [
    Verb(words: ["member", "enroll"], usage: "member enroll NUMBER [--name N] [--email E]",
         summary: "enroll a member", valued: ["name", "email"]) { context, args in
        try args.expectPositionals(1)
        let number = try args.positional(0, "NUMBER")
        try context.store.enroll(number: number, name: args.options["name"] ?? "", email: args.options["email"] ?? "",
                                 actor: context.actor)
        print("member \(number) enrolled")
    },
    Verb(words: ["member", "show"], usage: "member show NUMBER", summary: "show a member") { context, args in
        try args.expectPositionals(1)
        let m = try context.store.member(number: try args.positional(0, "NUMBER"))
        let fields: [(String, String)] = [
            ("number", m.number), ("name", m.name), ("email", m.email), ("status", m.status), ("tier", m.tier.name),
            ("tier_until", m.tierUntil?.description ?? ""), ("balance", String(m.balance)), ("available", String(m.available)),
            ("held", String(m.held)), ("qualifying", String(m.qualifying)), ("period_end", m.periodEnd.description),
            ("next_tier", m.nextTier?.name ?? ""), ("to_next_tier", m.toNextTier.map(String.init) ?? ""),
            ("last_activity", m.lastActivity?.description ?? ""),
            ("expiring_points", m.expiringPoints.map(String.init) ?? ""), ("expiring_on", m.expiringOn?.description ?? ""),
        ]
        for (key, value) in fields { print("\(key): \(value)") }
    },
    Verb(words: ["member", "set-pin"], usage: "member set-pin NUMBER   (the PIN is read from stdin)",
         summary: "set a member's PIN (4-12 digits)") { context, args in
        try args.expectPositionals(1)
        guard let pin = readLine(strippingNewline: true) else { throw UsageError(message: "no PIN on stdin") }
        try context.store.setPIN(number: try args.positional(0, "NUMBER"), pin: pin, actor: context.actor)
        print("PIN set")
    },
    Verb(words: ["member", "set"], usage: "member set NUMBER [--name N] [--email E] [--pin P|-]",
         summary: "change a member's name, email or PIN (4-12 digits; - reads it from stdin, out of the process list)",
         valued: ["name", "email", "pin"]) { context, args in
        try args.expectPositionals(1)
        var pin = args.options["pin"]
        if pin == "-" {
            guard let line = readLine(strippingNewline: true) else { throw UsageError(message: "no PIN on stdin") }
            pin = line
        }
        guard args.options["name"] != nil || args.options["email"] != nil || pin != nil else {
            throw UsageError(message: "give at least one of --name, --email, --pin")
        }
        let number = try args.positional(0, "NUMBER")
        try context.store.updateMember(number: number, MemberUpdate(name: args.options["name"], email: args.options["email"], pin: pin),
                                       actor: context.actor)
        print("member \(number) updated")
    },
    Verb(words: ["member", "close"], usage: "member close NUMBER --reason R",
         summary: "close a member account: it can no longer earn or redeem", valued: ["reason"]) { context, args in
        try args.expectPositionals(1)
        try context.store.closeMember(number: try args.positional(0, "NUMBER"), reason: try args.required("reason"),
                                      actor: context.actor)
        print("member closed")
    },
    Verb(words: ["member", "merge"], usage: "member merge DUPLICATE KEPT --reason R",
         summary: "fold a duplicate account into the kept one: points, qualifying points and tier status move; the duplicate is closed as merged",
         valued: ["reason"]) { context, args in
        try args.expectPositionals(2)
        let duplicate = try args.positional(0, "DUPLICATE"), kept = try args.positional(1, "KEPT")
        let receipt = try context.store.mergeMember(duplicate, into: kept, reason: try args.required("reason"), actor: context.actor)
        print("merged \(duplicate) into \(kept) (\(receipt.mergeID)): \(receipt.points) points, \(receipt.qualifying) qualifying")
    },
    Verb(words: ["points", "adjust"], usage: "points adjust NUMBER (+N|-N) --reason R",
         summary: "credit or debit points by hand (never below zero available)", valued: ["reason"]) { context, args in
        try args.expectPositionals(2)
        let number = try args.positional(0, "NUMBER")
        let deltaText = try args.positional(1, "+N|-N")
        guard deltaText.first == "+" || deltaText.first == "-", let delta = Int64(deltaText.dropFirst()).map({
            deltaText.first == "-" ? -$0 : $0 }) else {
            throw UsageError(message: "points must be signed, e.g. +500 or -200")
        }
        let balance = try context.store.adjust(member: number, points: delta, reason: try args.required("reason"), actor: context.actor)
        print("adjusted \(deltaText); balance \(balance)")
    },
    Verb(words: ["tier", "set"], usage: "tier set NUMBER TIER --until YYYY-MM-DD --reason R",
         summary: "set a member's tier until a date, up or down (what it earns afterwards still counts)", valued: ["until", "reason"]) { context, args in
        try args.expectPositionals(2)
        let untilText = try args.required("until")
        guard let until = LocalDate(untilText) else { throw UsageError(message: "--until must be YYYY-MM-DD") }
        try context.store.setTier(number: try args.positional(0, "NUMBER"), tierCode: try args.positional(1, "TIER"),
                                  until: until, reason: try args.required("reason"), actor: context.actor)
        print("tier set")
    },
    Verb(words: ["audit"], usage: "audit [--member NUMBER] [--limit N]",
         summary: "the audit trail of admin actions, oldest first", valued: ["member", "limit"]) { context, args in
        try args.expectPositionals(0)
        let limit = try args.optionalInt("limit") ?? 1_000
        printTable(["id", "at", "actor", "action", "member", "details", "reason"],
                   try context.store.audit(member: args.options["member"], limit: limit).map {
            [String($0.id), $0.at, $0.actor, $0.action, $0.memberNumber ?? "", $0.details, $0.reason]
        })
    },
]
