import LineProtocol
import LoyaltyCore
import LoyaltyStore

/// Who may call a command. Checked once, by the dispatcher, from the table.
enum Access: Sendable {
    /// Served before AUTH (PING, ECHO, AUTH, HELLO, QUIT, RESET, COMMAND).
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
    /// Starts the work and answers through the completion, which may run on another thread.
    typealias DeferredHandler = @Sendable (Arguments, Session, Services, @escaping @Sendable (Result<Reply, LoyaltyError>) -> Void)
        throws(LoyaltyError) -> Void
    let name: String
    /// Words including the command name.
    let arity: ClosedRange<Int>
    let access: Access
    /// Queued, not run, between BATCH BEGIN and COMMIT.
    let queuesInBatch: Bool
    let writes: Bool
    let summary: String
    let body: Body

    /// How a command runs.
    enum Body: Sendable {
        /// On the serving thread, which waits for the reply.
        case now(Handler)
        /// Without blocking the serving thread, for reads combined across clients (BALANCE): the
        /// thread goes back to its sockets, and whoever ran the combined query writes the reply.
        case deferred(DeferredHandler)
    }

    init(_ name: String, arity: ClosedRange<Int>, access: Access, writes: Bool = false, queuesInBatch: Bool = false,
         _ summary: String, _ handler: @escaping Handler) {
        self.init(name, arity: arity, access: access, writes: writes, queuesInBatch: queuesInBatch, summary, body: .now(handler))
    }

    /// A read answered through a completion (`Body.deferred`).
    init(_ name: String, arity: ClosedRange<Int>, access: Access, _ summary: String, deferred: @escaping DeferredHandler) {
        self.init(name, arity: arity, access: access, writes: false, queuesInBatch: false, summary, body: .deferred(deferred))
    }

    private init(_ name: String, arity: ClosedRange<Int>, access: Access, writes: Bool, queuesInBatch: Bool,
                 _ summary: String, body: Body) {
        self.name = name
        self.arity = arity
        self.access = access
        self.writes = writes
        self.queuesInBatch = queuesInBatch
        self.summary = summary
        self.body = body
    }
}

/// The whole command table; dispatch, COMMAND, arity and permission checks all read it.
let commandTable: [String: Command] = Dictionary(
    uniqueKeysWithValues: (sessionCommands + memberCommands + partnerCommands + redemptionCommands + eventCommands).map { ($0.name, $0) })

/// What `dispatch` made of a request.
enum Dispatched {
    case reply(Reply)
    /// Work to start once the session is no longer borrowed; it calls its argument exactly once
    /// with the reply, on this thread or another.
    case deferred((@escaping @Sendable (Reply) -> Void) -> Void)
}

/// Runs one request against the table: lookup, arity, access, batch queueing, then the handler.
/// Handlers never re-check what the table already checked. A deferred command comes back as
/// `.deferred` instead of blocking.
func dispatch(_ request: Request, session: inout Session, services: Services) -> Dispatched {
    if let malformation = request.malformation {
        services.metrics.error("ERR")
        return .reply(malformation.reply)
    }
    let name = request.commandName
    guard let command = commandTable[name] else {
        services.metrics.error("ERR")
        let words = request.arguments.dropFirst().prefix(3).map { "'\(String(decoding: $0.prefix(64), as: UTF8.self))'" }
        return .reply(.error(code: "ERR", message: "unknown command '\(String(name.prefix(64)))', with args beginning with: \(words.joined(separator: " "))"))
    }
    services.metrics.command(name)
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
            return .reply(try queueInBatch(Arguments(request: request), session: session, services: services))
        }
        switch command.body {
        case .now(let handler):
            return .reply(try handler(Arguments(request: request), &session, services))
        case .deferred(let deferred):
            let session = session
            return .deferred { answer in
                do throws(LoyaltyError) {
                    try deferred(Arguments(request: request), session, services) { result in
                        switch result {
                        case .success(let reply): answer(reply)
                        case .failure(let error): answer(errorReply(error, services))
                        }
                    }
                } catch {
                    answer(errorReply(error, services))
                }
            }
        }
    } catch {
        return .reply(errorReply(error, services))
    }
}

/// A command's failure as the client sees it, counted for INFO.
private func errorReply(_ error: LoyaltyError, _ services: Services) -> Reply {
    services.metrics.error(error.code.rawValue)
    return .error(code: error.code.rawValue, message: error.message)
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
