import Foundation
import LineProtocol
import LoyaltyCore
import LoyaltyStore

/// Connection-level commands: served before AUTH except INFO.
let sessionCommands: [Command] = [
    Command("PING", arity: 1...2, access: .anyone, "liveness; +PONG or the message") { args, _, _ throws(LoyaltyError) in
        args.count == 2 ? .bulk(args.request.arguments[1]) : .simple("PONG")
    },
    Command("ECHO", arity: 2...2, access: .anyone, "the message as bulk") { args, _, _ throws(LoyaltyError) in
        .bulk(args.request.arguments[1])
    },
    Command("AUTH", arity: 3...3, access: .anyone, "AUTH principal secret") { args, session, services throws(LoyaltyError) in
        try signIn(&session, principal: try args.text(1), secret: try args.text(2), services: services)
        return .ok
    },
    Command("HELLO", arity: 1...7, access: .anyone, "HELLO [2 [AUTH principal secret] [SETNAME name]]") { args, session, services throws(LoyaltyError) in
        if args.count >= 2 {
            let version = try args.text(1)
            guard version == "2" else {
                throw LoyaltyError(.syntax, "only protocol version 2 (RESP2) is served")
            }
        }
        // The whole request is checked before signing in, so a malformed HELLO changes nothing.
        var credentials: (principal: String, secret: String)?
        var index = 2
        while index < args.count {
            switch try args.text(index).uppercased() {
            case "AUTH" where index + 2 < args.count:
                credentials = (try args.text(index + 1), try args.text(index + 2))
                index += 3
            case "SETNAME" where index + 1 < args.count:
                index += 2
            default:
                throw .syntax("syntax error in HELLO")
            }
        }
        if let credentials {
            try signIn(&session, principal: credentials.principal, secret: credentials.secret, services: services)
        }
        return .array([.bulk("server"), .bulk("loyaltyd"), .bulk("version"), .bulk(Services.version), .bulk("proto"),
                       .integer(2), .bulk("id"), .integer(Int64(session.clientID)), .bulk("mode"), .bulk("standalone"),
                       .bulk("role"), .bulk("master"), .bulk("modules"), .array([])])
    },
    Command("QUIT", arity: 1...1, access: .anyone, "+OK, then close") { _, session, _ throws(LoyaltyError) in
        session.closeAfterReply = true
        return .ok
    },
    Command("COMMAND", arity: 1...Int.max, access: .anyone, "the command table (COMMAND COUNT, COMMAND DOCS)") { args, _, _ throws(LoyaltyError) in
        switch args.count > 1 ? try args.text(1).uppercased() : "" {
        case "COUNT": return .integer(Int64(commandTable.count))
        case "DOCS": return .array([])
        default:
            return .array(commandTable.values.sorted { $0.name < $1.name }.map { command in
                .array([.bulk(command.name.lowercased()),
                        // Redis's convention: positive is exactly that many words, negative at least that many.
                        .integer(Int64(command.arity.lowerBound == command.arity.upperBound ? command.arity.lowerBound : -command.arity.lowerBound)),
                        .array([.simple(command.writes ? "write" : "readonly")]), .integer(0), .integer(0), .integer(0)])
            })
        }
    },
    Command("INFO", arity: 1...2, access: .authenticated, "server, clients, program, stats, commandstats, errorstats, database, replication") { args, _, services throws(LoyaltyError) in
        let section = args.count == 2 ? try args.text(1).lowercased() : "all"
        return .bulk(infoText(section: section, services: services))
    },
]

/// AUTH and HELLO AUTH. Refused while a batch is open: a batch is committed by the partner that began it.
func signIn(_ session: inout Session, principal: String, secret: String, services: Services) throws(LoyaltyError) {
    guard session.batch == nil else { throw .syntax("a batch is open; COMMIT or ABORT it before signing in again") }
    session.principal = try services.store.authenticate(principal: principal, secret: secret)
    Log.event("auth", ["client": String(session.clientID), "principal": principal])
}

/// Redis-style INFO: `# Section` heads and `key:value` lines.
func infoText(section: String, services: Services) -> String {
    let stats = services.metrics.snapshot
    let pool = services.store.pool.statistics
    var sections: [(String, [(String, String)])] = [
        ("Server", [("loyaltyd_version", Services.version), ("process_id", String(getpid())),
                    ("tcp_port", String(services.configuration.port)), ("uptime_in_seconds", String(stats.uptimeSeconds))]),
        ("Clients", [("connected_clients", String(stats.connectedClients)), ("maxclients", String(services.configuration.connectionsMax))]),
        ("Program", programLines(services.store)),
        ("Stats", [("total_connections_received", String(stats.totalConnections)),
                   ("rejected_connections", String(stats.rejectedConnections)),
                   ("total_commands_processed", String(stats.commands.values.reduce(0, +))),
                   ("batches_committed", String(stats.batchesCommitted)), ("accruals_applied", String(stats.accrualsApplied)),
                   ("batch_queued_bytes", String(services.batchBudget.usedBytes)),
                   ("batch_queue_bytes_max", String(services.batchBudget.bytesMax))]),
        ("Commandstats", stats.commands.sorted { $0.key < $1.key }.map { ("cmdstat_\($0.key.lowercased())", "calls=\($0.value)") }),
        ("Errorstats", stats.errors.sorted { $0.key < $1.key }.map { ("errorstat_\($0.key)", "count=\($0.value)") }),
        ("Database", [("db_pool_in_use", String(pool.inUse)), ("db_pool_idle", String(pool.idle)),
                      ("db_pool_max", String(pool.max))]),
    ]
    if section != "all" && section != "everything" && section != "default" {
        sections = sections.filter { $0.0.lowercased() == section }
    }
    // Asked only when shown: it costs a query on the replica.
    if ["all", "everything", "default", "replication"].contains(section) {
        sections.append(("Replication", replicationLines(services.store)))
    }
    return sections.map { name, lines in
        "# \(name)\r\n" + lines.map { "\($0.0):\($0.1)\r\n" }.joined()
    }.joined(separator: "\r\n")
}

/// The program version in force and what the server last loaded.
func programLines(_ store: LoyaltyStore) -> [(String, String)] {
    guard let timeline = try? store.programTimeline(), let inForce = try? store.programVersionInForce() else {
        return [("program_version", "none")]
    }
    return [("program_name", inForce.program.name), ("program_version", String(inForce.version)),
            ("program_effective_from", inForce.effectiveFrom.description), ("program_versions", String(timeline.versions.count)),
            ("program_latest_version", String(timeline.latest.version)), ("program_generation", String(store.programGeneration)),
            ("program_promotions", String(inForce.program.promotions.count))]
}

/// The read replica's state and lag; `replica:none` when reads share the primary.
func replicationLines(_ store: LoyaltyStore) -> [(String, String)] {
    let readPool = store.readPool.statistics
    let poolLines = [("db_read_pool_in_use", String(readPool.inUse)), ("db_read_pool_max", String(readPool.max))]
    switch store.readReplicaStatus() {
    case .none: return [("replica", "none")]
    case .streaming(let lag): return [("replica", "streaming"), ("replica_lag_seconds", lag)] + poolLines
    case .notStandby: return [("replica", "not_standby"), ("replica_lag_seconds", "0")] + poolLines
    case .unreachable: return [("replica", "unreachable")] + poolLines
    }
}
