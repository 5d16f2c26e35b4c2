import LineProtocol
import LoyaltyCore
import LoyaltyStore

/// Spending: agents for any member, members for themselves only (the store checks ownership of holds and redemptions).
let redemptionCommands: [Command] = [
    Command("REWARDS", arity: 1...2, access: .authenticated,
            "REWARDS [number]: the catalog at the caller's (or the member's) prices: [code, points, description]") { args, session, services throws(LoyaltyError) in
        let principal = try signedIn(session)
        // A member sees its own tier's prices; an agent those of the member it names; a partner the base prices.
        let member: String?
        switch principal {
        case .member(let number): member = args.count == 2 ? try ownMember(args, 1, session) : number
        case .partner where args.count == 2: throw .noPermission("a partner may not look up a member's prices")
        default: member = args.count == 2 ? try args.memberNumber(1) : nil
        }
        return .array(try services.store.rewards(member: member).map { .array([.bulk($0.code), .integer($0.points), .bulk($0.description)]) })
    },
    Command("REDEEM", arity: 4...5, access: .agentsAndMembers, writes: true,
            "REDEEM request-id number reward-code [qty] | REDEEM request-id number POINTS n") { args, session, services throws(LoyaltyError) in
        let requestID = try args.clientID(1, "request-id")
        let member = try ownMember(args, 2, session)
        let code = try args.text(3)
        let target: RedemptionTarget
        if code.uppercased() == "POINTS" {
            guard args.count == 5 else { throw .syntax("REDEEM request-id number POINTS n") }
            target = .points(try args.integer(4, "points", 1...Int64.max))
        } else {
            let quantity = args.count == 5 ? try args.integer(4, "qty", 1...Int64(services.store.limits.redeemQuantityMax)) : 1
            target = .reward(code: code, quantity: Int(quantity))
        }
        return spendReply(try services.store.redeem(principal: try signedIn(session), requestID: requestID, member: member, target: target))
    },
    Command("HOLD", arity: 4...5, access: .agentsAndMembers, writes: true,
            "HOLD request-id number points [ttl-seconds]") { args, session, services throws(LoyaltyError) in
        let requestID = try args.clientID(1, "request-id")
        let member = try ownMember(args, 2, session)
        let points = try args.integer(3, "points", 1...Int64.max)
        let ttl = args.count == 5 ? Int(try args.integer(4, "ttl-seconds", 1...Int64(services.store.limits.holdTTLSecondsMax))) : nil
        let hold = try services.store.hold(principal: try signedIn(session), requestID: requestID, member: member,
                                           points: points, ttlSeconds: ttl)
        return .array([.bulk(hold.holdID), .integer(hold.points), .bulk(hold.expiresAt)])
    },
    Command("CAPTURE", arity: 2...3, access: .agentsAndMembers, writes: true, "CAPTURE hold-id [reward-code]") { args, session, services throws(LoyaltyError) in
        let holdID = try args.clientID(1, "hold-id")
        let reward = args.count == 3 ? try args.text(2) : nil
        return spendReply(try services.store.capture(principal: try signedIn(session), holdID: holdID, rewardCode: reward))
    },
    Command("RELEASE", arity: 2...2, access: .agentsAndMembers, writes: true, "RELEASE hold-id") { args, session, services throws(LoyaltyError) in
        try services.store.release(principal: try signedIn(session), holdID: try args.clientID(1, "hold-id"))
        return .ok
    },
    Command("CANCEL", arity: 2...2, access: .agentsAndMembers, writes: true, "CANCEL redemption-id") { args, session, services throws(LoyaltyError) in
        spendReply(try services.store.cancel(principal: try signedIn(session), redemptionID: try args.clientID(1, "redemption-id")))
    },
    Command("TRANSFER", arity: 5...5, access: .agentsAndMembers, writes: true,
            "TRANSFER request-id from to points") { args, session, services throws(LoyaltyError) in
        let requestID = try args.clientID(1, "request-id")
        let from = try ownMember(args, 2, session)
        let to = try args.memberNumber(3)
        let points = try args.integer(4, "points", 1...Int64.max)
        return spendReply(try services.store.transfer(principal: try signedIn(session), requestID: requestID,
                                                      from: from, to: to, points: points))
    },
]

func spendReply(_ receipt: SpendReceipt) -> Reply {
    .array([.bulk(receipt.id), .integer(receipt.points), .integer(receipt.availableAfter)])
}
