import LineProtocol
import LoyaltyCore
import LoyaltyStore

/// Outbound events for agents: the consumer keeps its own position and asks for what follows it.
let eventCommands: [Command] = [
    Command("EVENTS", arity: 5...5, access: .agents,
            "EVENTS FROM position COUNT n: [position, occurred_at, kind, member, payload] oldest first") { args, session, services throws(LoyaltyError) in
        guard try args.text(1).uppercased() == "FROM", try args.text(3).uppercased() == "COUNT" else {
            throw .syntax("syntax error: EVENTS FROM position COUNT n")
        }
        let position = try args.integer(2, "position", 0...Int64.max)
        let count = try args.integer(4, "COUNT", 1...Int64(services.store.limits.eventsCountMax))
        return eventsReply(try services.store.events(after: position, count: Int(count)))
    },
]

/// Entries like STATEMENT's, written straight to wire form: up to a thousand of them.
func eventsReply(_ events: [OutboundEvent]) -> Reply {
    var writer = RESPWriter(reservingCapacity: 160 * events.count + 16)
    writer.arrayHeader(events.count)
    for e in events {
        writer.arrayHeader(5)
        writer.integer(e.position)
        writer.bulk(e.occurredAt)
        writer.bulk(e.kind)
        writer.bulk(e.member)
        writer.bulk(e.payload)
    }
    return writer.reply
}
