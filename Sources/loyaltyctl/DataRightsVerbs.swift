import Foundation
import LoyaltyStore

/// A member's rights over its data: a copy of everything held, and erasure of what identifies it.
let dataRightsVerbs: [Verb] = [
    Verb(words: ["member", "export"], usage: "member export NUMBER",
         summary: "everything held on a member as one JSON document (the PIN only as whether one is set)") { context, args in
        try args.expectPositionals(1)
        print(try context.store.exportMember(number: try args.positional(0, "NUMBER")))
    },
    Verb(words: ["member", "erase"], usage: "member erase NUMBER --reason R",
         summary: "erase a member's name, email and PIN and close it; the ledger stays for accounting; audited",
         valued: ["reason"]) { context, args in
        try args.expectPositionals(1)
        try context.store.eraseMember(number: try args.positional(0, "NUMBER"), reason: try args.required("reason"),
                                      actor: context.actor)
        print("member erased")
    },
]
