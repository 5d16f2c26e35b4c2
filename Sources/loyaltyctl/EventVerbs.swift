import Foundation
import LoyaltyStore

/// How long `events tail --follow` sleeps when it has caught up.
let eventsFollowPollMilliseconds = 500

/// Outbound events for consumers that read through the CLI.
let eventVerbs: [Verb] = [
    Verb(words: ["events", "tail"], usage: "events tail [--from POSITION] [--follow]",
         summary: "events after POSITION (default 0) as JSON lines, oldest first; --follow keeps waiting for new ones",
         valued: ["from"], flags: ["follow"]) { context, args in
        try args.expectPositionals(0)
        guard var position = Int64(args.options["from"] ?? "0"), position >= 0 else {
            throw UsageError(message: "--from must be a position, 0 or more")
        }
        let count = context.store.limits.eventsCountMax
        while true {
            let events = try context.store.events(after: position, count: count)
            // Unbuffered, so a consumer reading a pipe sees each read's events as they come.
            FileHandle.standardOutput.write(Data(events.map { $0.jsonLine + "\n" }.joined().utf8))
            position = events.last?.position ?? position
            if events.count < count {
                guard args.flags.contains("follow") else { return }
                usleep(UInt32(eventsFollowPollMilliseconds * 1_000))
            }
        }
    },
]
