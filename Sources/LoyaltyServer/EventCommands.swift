import LineProtocol
import LoyaltyCore
import LoyaltyStore

/// Outbound events for agents: the consumer keeps its own position and asks for what follows it.
let eventCommands: [Command] = [
    Command("EVENTS", arity: 4...5, access: .agents,
            "EVENTS FROM position COUNT n | EVENTS WAIT position timeout-ms: [position, occurred_at, kind, member, payload] oldest first",
            deferred: { args, _, services, answer throws(LoyaltyError) in
        switch (try args.text(1).uppercased(), args.count) {
        case ("FROM", 5) where try args.text(3).uppercased() == "COUNT":
            let position = try args.integer(2, "position", 0...Int64.max)
            let count = try args.integer(4, "COUNT", 1...Int64(services.store.limits.eventsCountMax))
            answer(.success(eventsReply(try services.store.events(after: position, count: Int(count)))))
        case ("WAIT", 4):
            // A parked wait holds no serving thread: the listener thread answers it (EventWaiters).
            let position = try args.integer(2, "position", 0...Int64.max)
            let timeout = try args.integer(3, "timeout-ms", 0...Int64(services.configuration.eventsWaitMillisecondsMax))
            services.eventWaiters.wait(after: position, timeoutMilliseconds: Int(timeout)) { answer($0.map(eventsReply)) }
        default:
            throw .syntax("syntax error: EVENTS FROM position COUNT n | EVENTS WAIT position timeout-ms")
        }
    }),
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
    return writer.reply()
}
