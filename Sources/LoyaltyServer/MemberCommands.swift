import LineProtocol
import LoyaltyCore
import LoyaltyStore

/// Member reads and enrolment: agents for any member, members for themselves only.
let memberCommands: [Command] = [
    Command("ENROLL", arity: 2...4, access: .agents, writes: true, "ENROLL number [name=..] [email=..]") { args, session, services throws(LoyaltyError) in
        let number = try args.memberNumber(1)
        var name = "", email = ""
        for field in try args.fields(from: 2) {
            switch field.name {
            case "name": name = field.value
            case "email": email = field.value
            default: throw .invalid("unknown field \(field.name) (name=, email=)")
            }
        }
        try services.store.enroll(number: number, name: name, email: email, actor: try signedIn(session))
        return .ok
    },
    Command("BALANCE", arity: 2...2, access: .agentsAndMembers, "points available to redeem") { args, session, services, answer throws(LoyaltyError) in
        services.store.available(number: try ownMember(args, 1, session)) { answer($0.map(Reply.integer)) }
    },
    Command("MEMBER", arity: 2...4, access: .agentsAndMembers, writes: true,
            "MEMBER number: field/value pairs | MEMBER number [name=..] [email=..]: change them") { args, session, services throws(LoyaltyError) in
        let number = try ownMember(args, 1, session)
        if args.count > 2 {
            var update = MemberUpdate()
            for field in try args.fields(from: 2) {
                switch field.name {
                case "name" where update.name == nil: update.name = field.value
                case "email" where update.email == nil: update.email = field.value
                default: throw .invalid("unknown or repeated field \(field.name) (name=, email=)")
                }
            }
            try services.store.updateMember(number: number, update, actor: try signedIn(session))
            return .ok
        }
        let m = try services.store.member(number: number)
        // Point counts are bulk strings in RESP2, as in an HGETALL reply; RESP3 can say they are integers.
        let points: (Int64) -> Reply = session.protocolVersion == .resp3 ? { .integer($0) } : { .bulk(String($0)) }
        return .map([
            .init("number", .bulk(m.number)), .init("name", .bulk(m.name)), .init("email", .bulk(m.email)),
            .init("status", .bulk(m.status)), .init("tier", .bulk(m.tier.name)),
            .init("tier_until", optionalBulk(m.tierUntil?.description)), .init("balance", points(m.balance)),
            .init("available", points(m.available)), .init("held", points(m.held)), .init("qualifying", points(m.qualifying)),
            .init("period_end", .bulk(m.periodEnd.description)), .init("next_tier", optionalBulk(m.nextTier?.name)),
            .init("to_next_tier", m.toNextTier.map(points) ?? .null),
            .init("last_activity", optionalBulk(m.lastActivity?.description)),
            .init("expiring_points", m.expiringPoints.map(points) ?? .null),
            .init("expiring_on", optionalBulk(m.expiringOn?.description)),
        ])
    },
    Command("PIN", arity: 4...4, access: .agentsAndMembers, writes: true,
            "PIN number current-pin new-pin: change the member's PIN") { args, session, services throws(LoyaltyError) in
        try services.store.changePIN(number: try ownMember(args, 1, session), current: try args.text(2), new: try args.text(3),
                                     actor: try signedIn(session))
        return .ok
    },
    Command("TIER", arity: 2...2, access: .agentsAndMembers,
            "[tier, tier_until, qualifying_this_period, period_end, next_tier, to_next_tier]") { args, session, services throws(LoyaltyError) in
        let t = try services.store.tierStatus(number: try ownMember(args, 1, session))
        let fields: [Reply.Field] = [
            .init("tier", .bulk(t.tier.name)), .init("tier_until", optionalBulk(t.tierUntil?.description)),
            .init("qualifying", .integer(t.qualifying)), .init("period_end", .bulk(t.periodEnd.description)),
            .init("next_tier", optionalBulk(t.nextTier?.name)), .init("to_next_tier", t.toNextTier.map(Reply.integer) ?? .null),
        ]
        // RESP2 keeps the positional array it has always sent.
        return session.protocolVersion == .resp3 ? .map(fields) : .array(fields.map(\.value))
    },
    Command("STATEMENT", arity: 2...6, access: .agentsAndMembers, "STATEMENT number [LIMIT n] [BEFORE entry-id]") { args, session, services throws(LoyaltyError) in
        let number = try ownMember(args, 1, session)
        var limit: Int?, before: Int64?
        var index = 2
        while index < args.count {
            guard index + 1 < args.count else { throw .syntax("syntax error: \(try args.text(index)) needs a value") }
            switch try args.text(index).uppercased() {
            case "LIMIT" where limit == nil:
                limit = Int(try args.integer(index + 1, "LIMIT", 1...Int64(services.store.limits.statementLimitMax)))
            case "BEFORE" where before == nil:
                before = try args.integer(index + 1, "BEFORE", 1...Int64.max)
            default:
                throw .syntax("syntax error: expected LIMIT n or BEFORE entry-id")
            }
            index += 2
        }
        // Up to a thousand entries: written straight from libpq's values to wire form, nothing allocated per value.
        return try services.store.statement(number: number, limit: limit, before: before) { rows in
            var writer = RESPWriter(reservingCapacity: 128 * rows.count + 16)
            writer.arrayHeader(rows.count)
            for entry in 0..<rows.count {
                writer.arrayHeader(7)
                writer.integer(rows.entryID(entry))
                rows.postedAt(entry).withRFC3339 { writer.bulk($0) }
                writer.bulk(rows.kind(entry))
                writer.integer(rows.points(entry))
                writer.integer(rows.qualifying(entry))
                writer.bulk(rows.source(entry))
                writer.bulk(rows.reference(entry))
            }
            return writer.reply()
        }
    },
]

func optionalBulk(_ text: String?) -> Reply { text.map(Reply.bulk) ?? .null }

func signedIn(_ session: Session) throws(LoyaltyError) -> Principal {
    guard let principal = session.principal else { throw .noAuth("authentication required") }
    return principal
}

/// The member argument, which a member principal may name only if it is itself.
func ownMember(_ args: Arguments, _ index: Int, _ session: Session) throws(LoyaltyError) -> String {
    let number = try args.memberNumber(index)
    guard try signedIn(session).mayActOn(member: number) else { throw .noPermission("a member may act only on itself") }
    return number
}
