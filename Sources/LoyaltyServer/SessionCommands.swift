import Foundation
import LineProtocol
import LoyaltyCore
import LoyaltyStore

/// Connection-level commands: served before AUTH except INFO, CLIENT and SELECT.
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
    Command("HELLO", arity: 1...7, access: .anyone, "HELLO [2|3 [AUTH principal secret] [SETNAME name]]") { args, session, services throws(LoyaltyError) in
        var version = session.protocolVersion
        if args.count >= 2 {
            guard let number = Int(try args.text(1)) else { throw .syntax("Protocol version is not an integer or out of range") }
            guard let requested = ProtocolVersion(rawValue: number) else { throw LoyaltyError(.noProto, "unsupported protocol version") }
            version = requested
        }
        // The whole request is checked before signing in, so a malformed HELLO changes nothing.
        var credentials: (principal: String, secret: String)?
        var name: String?
        var index = 2
        while index < args.count {
            switch try args.text(index).uppercased() {
            case "AUTH" where index + 2 < args.count:
                credentials = (try args.text(index + 1), try args.text(index + 2))
                index += 3
            case "SETNAME" where index + 1 < args.count:
                name = try args.clientName(index + 1)
                index += 2
            default:
                throw .syntax("syntax error in HELLO")
            }
        }
        if let credentials {
            try signIn(&session, principal: credentials.principal, secret: credentials.secret, services: services)
        }
        session.protocolVersion = version
        services.clients.update(session.clientID) { entry in
            entry.protocolVersion = version
            if let name { entry.name = name }
        }
        return .map([.init("server", .bulk("loyaltyd")), .init("version", .bulk(Services.version)),
                     .init("proto", .integer(Int64(version.rawValue))), .init("id", .integer(Int64(session.clientID))),
                     .init("mode", .bulk("standalone")), .init("role", .bulk("master")), .init("modules", .array([]))])
    },
    Command("QUIT", arity: 1...1, access: .anyone, "+OK, then close") { _, session, _ throws(LoyaltyError) in
        session.closeAfterReply = true
        return .ok
    },
    Command("COMMAND", arity: 1...Int.max, access: .anyone, "the command table (COMMAND COUNT, COMMAND DOCS)") { args, _, _ throws(LoyaltyError) in
        switch args.count > 1 ? try args.text(1).uppercased() : "" {
        case "COUNT": return .integer(Int64(commandTable.count))
        case "DOCS": return .map([])
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
        return .verbatim(infoText(section: section, services: services))
    },
    Command("CLIENT", arity: 2...4, access: .authenticated,
            "CLIENT ID | GETNAME | SETNAME name | SETINFO LIB-NAME|LIB-VER value | INFO | LIST (agents)") { args, session, services throws(LoyaltyError) in
        let subcommand = try args.text(1).uppercased()
        let arity = ["ID": 2, "GETNAME": 2, "SETNAME": 3, "SETINFO": 4, "INFO": 2, "LIST": 2]
        guard let words = arity[subcommand] else { throw .syntax("unknown subcommand '\(subcommand.prefix(64))'. Try CLIENT HELP.") }
        guard args.count == words else { throw .syntax("wrong number of arguments for 'client|\(subcommand.lowercased())' command") }
        let id = session.clientID
        switch subcommand {
        case "ID":
            return .integer(Int64(id))
        case "GETNAME":
            return optionalBulk(services.clients.entry(id).flatMap { $0.name.isEmpty ? nil : $0.name })
        case "SETNAME":
            let name = try args.clientName(2)
            services.clients.update(id) { $0.name = name }
            return .ok
        case "SETINFO":
            let value = try args.clientName(3)
            switch try args.text(2).uppercased() {
            case "LIB-NAME": services.clients.update(id) { $0.libraryName = value }
            case "LIB-VER": services.clients.update(id) { $0.libraryVersion = value }
            default: throw .syntax("Unrecognized option '\(try args.text(2).prefix(64))'")
            }
            return .ok
        case "INFO":
            return .verbatim((services.clients.entry(id)?.line(now: Date()) ?? "") + "\n")
        default:
            guard let principal = session.principal, Access.agents.admits(principal) else {
                throw .noPermission("only agents may list the connections")
            }
            let now = Date()
            return .verbatim(services.clients.all.map { $0.line(now: now) + "\n" }.joined())
        }
    },
    Command("SELECT", arity: 2...2, access: .authenticated, "SELECT 0: the only database") { args, _, _ throws(LoyaltyError) in
        guard try args.text(1) == "0" else { throw .syntax("DB index is out of range: loyaltyd has only database 0") }
        return .ok
    },
    Command("RESET", arity: 1...1, access: .anyone, "+RESET: signed out, RESP2, no name, an open batch discarded") { _, session, services throws(LoyaltyError) in
        session.principal = nil
        session.protocolVersion = .resp2
        session.batch = nil
        services.clients.update(session.clientID) { entry in
            entry.user = ""
            entry.name = ""
            entry.protocolVersion = .resp2
        }
        return .simple("RESET")
    },
]

/// AUTH and HELLO AUTH. Refused while a batch is open: a batch is committed by the partner that began it.
func signIn(_ session: inout Session, principal: String, secret: String, services: Services) throws(LoyaltyError) {
    guard session.batch == nil else { throw .syntax("a batch is open; COMMIT or ABORT it before signing in again") }
    let signedIn = try services.store.authenticate(principal: principal, secret: secret)
    session.principal = signedIn
    services.clients.update(session.clientID) { $0.user = signedIn.description }
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
