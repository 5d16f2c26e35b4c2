import LineProtocol
import LoyaltyCore
import LoyaltyStore

/// Who may call a command. Checked once, by the dispatcher, from the table.
enum Access: Sendable {
    /// Served before AUTH (PING, ECHO, AUTH, HELLO, QUIT, COMMAND).
    case anyone
    /// Any signed-in principal.
    case authenticated
    case partners
    /// Agents for any member; members for themselves (handlers check the member argument).
    case agentsAndMembers
    case agents

    func admits(_ principal: Principal) -> Bool {
        switch (self, principal) {
        case (.anyone, _), (.authenticated, _): return true
        case (.partners, .partner): return true
        case (.agentsAndMembers, .agent), (.agentsAndMembers, .member), (.agents, .agent): return true
        default: return false
        }
    }
}

/// One row of the command table: the single place that says what a command is.
struct Command: Sendable {
    typealias Handler = @Sendable (Arguments, inout Session, Services) throws(LoyaltyError) -> Reply
    let name: String
    /// Words including the command name.
    let arity: ClosedRange<Int>
    let access: Access
    /// Queued, not run, between BATCH BEGIN and COMMIT.
    let queuesInBatch: Bool
    let writes: Bool
    let summary: String
    let handler: Handler

    init(_ name: String, arity: ClosedRange<Int>, access: Access, writes: Bool = false, queuesInBatch: Bool = false,
         _ summary: String, _ handler: @escaping Handler) {
        self.name = name
        self.arity = arity
        self.access = access
        self.writes = writes
        self.queuesInBatch = queuesInBatch
        self.summary = summary
        self.handler = handler
    }
}

/// The whole command table; dispatch, COMMAND, arity and permission checks all read it.
let commandTable: [String: Command] = Dictionary(
    uniqueKeysWithValues: (sessionCommands + memberCommands + partnerCommands + redemptionCommands).map { ($0.name, $0) })

/// Runs one request against the table: lookup, arity, access, batch queueing, then the handler.
/// Handlers never re-check what the table already checked.
func dispatch(_ request: Request, session: inout Session, services: Services) -> Reply {
    if let malformation = request.malformation {
        services.metrics.error("ERR")
        return malformation.reply
    }
    let name = request.commandName
    guard let command = commandTable[name] else {
        services.metrics.error("ERR")
        let words = request.arguments.dropFirst().prefix(3).map { "'\(String(decoding: $0.prefix(64), as: UTF8.self))'" }
        return .error(code: "ERR", message: "unknown command '\(String(name.prefix(64)))', with args beginning with: \(words.joined(separator: " "))")
    }
    services.metrics.command(name)
    let reply: Reply
    do throws(LoyaltyError) {
        guard command.arity.contains(request.arguments.count) else {
            throw LoyaltyError.syntax("wrong number of arguments for '\(name.lowercased())' command")
        }
        if command.access != .anyone {
            guard let principal = session.principal else { throw LoyaltyError.noAuth("authentication required") }
            guard command.access.admits(principal) else {
                throw LoyaltyError.noPermission("\(principal.kindName) may not run \(name)")
            }
        }
        if command.queuesInBatch, session.batch != nil {
            reply = try queueInBatch(Arguments(request: request), session: session, services: services)
        } else {
            reply = try command.handler(Arguments(request: request), &session, services)
        }
    } catch {
        services.metrics.error(error.code.rawValue)
        return .error(code: error.code.rawValue, message: error.message)
    }
    return reply
}

extension Access: Equatable {}

extension Principal {
    var kindName: String {
        switch self {
        case .partner: return "a partner"
        case .agent: return "an agent"
        case .member: return "a member"
        case .admin: return "an admin"
        }
    }
}
