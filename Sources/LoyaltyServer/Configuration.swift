import Foundation
import LineProtocol
import LoyaltyStore

/// Everything the server can be told, each limit named, with its default.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port: UInt16 = 7480
    /// Open client connections at once; one more is told LIMIT and closed.
    public var connectionsMax = 10_000
    /// A connection with nothing to do for this long is closed.
    public var idleTimeoutSeconds = 300
    /// Threads serving connections; twice the database connections, so PING and other
    /// requests that need no database are answered while every connection is busy.
    public var workerThreads = 16
    /// PostgreSQL connections for writes and reads; bounded, shared by the workers.
    public var databaseConnectionsMax = 8
    /// A request waits at most this long for a database connection before UNAVAILABLE.
    public var databaseAcquireTimeoutMilliseconds = 5_000
    /// Requests a client may have queued unanswered; past it the server stops reading from it.
    public var pipelinedRequestsMax = 1_024
    /// Reply bytes waiting for a slow reader; past it the server stops reading from it.
    public var outputBufferedBytesMax = 4 * 1024 * 1024
    /// Bytes of batch lines queued on the server at once, all open batches together (a line
    /// costs its arguments plus 4 bytes each); past it a line is told LIMIT and not queued.
    public var batchQueueBytesMax = 256 << 20
    /// How long a graceful shutdown waits for requests in flight.
    public var shutdownGraceSeconds = 10
    public var protocolLimits = ProtocolLimits.default
    public var storeLimits = StoreLimits()
    public var databaseURL = ""
    /// Hour (UTC) of the server's own daily tier and expiry runs; nil when an operator runs them
    /// from cron or the systemd timer instead.
    public var dailyRunsHourUTC: Int? = DailyRuns.hourUTCDefault
    /// A streaming replica for reads that tolerate staleness (BALANCE, MEMBER, TIER, STATEMENT);
    /// nil sends every read to `databaseURL`. Its pool has `databaseConnectionsMax` connections too.
    public var databaseReadURL: String?
    /// How often the server looks for a new program version or partner change (`ProgramFollower`).
    public var programPollMilliseconds = ProgramFollower.intervalMillisecondsDefault
    /// EVENTS WAIT's longest timeout, and how often parked waits look at the outbox when no
    /// notification came (one lost to a reconnect only delays an answer by this much).
    public var eventsWaitMillisecondsMax = EventWaiters.waitMillisecondsMaxDefault
    public var eventsPollMilliseconds = EventWaiters.pollMillisecondsDefault

    public init() {}

    /// Reads LOYALTY_LISTEN (host:port), DATABASE_URL, DATABASE_READ_URL and LOYALTY_* limits from the environment;
    /// a malformed value is an error, not a silent default.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> ServerConfiguration {
        var config = ServerConfiguration()
        config.databaseURL = env["DATABASE_URL"] ?? ""
        if let readURL = env["DATABASE_READ_URL"], !readURL.isEmpty { config.databaseReadURL = readURL }
        if let listen = env["LOYALTY_LISTEN"] {
            guard let colon = listen.lastIndex(of: ":"), let port = UInt16(listen[listen.index(after: colon)...]) else {
                throw ConfigurationError(message: "LOYALTY_LISTEN must be host:port, got \(listen)")
            }
            config.host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            config.port = port
        }
        func integer(_ name: String, _ range: ClosedRange<Int>, _ apply: (Int) -> Void) throws {
            guard let text = env[name] else { return }
            guard let value = Int(text), range.contains(value) else {
                throw ConfigurationError(message: "\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), got \(text)")
            }
            apply(value)
        }
        config.dailyRunsHourUTC = try DailyRuns.hourUTC(fromEnvironment: env)
        try integer("LOYALTY_CONNECTIONS_MAX", 1...1_000_000) { config.connectionsMax = $0 }
        try integer("LOYALTY_IDLE_TIMEOUT_SECONDS", 1...86_400) { config.idleTimeoutSeconds = $0 }
        try integer("LOYALTY_WORKER_THREADS", 1...512) { config.workerThreads = $0 }
        try integer("LOYALTY_DB_CONNECTIONS_MAX", 1...512) { config.databaseConnectionsMax = $0 }
        try integer("LOYALTY_PIPELINED_REQUESTS_MAX", 1...1_000_000) { config.pipelinedRequestsMax = $0 }
        try integer("LOYALTY_LINE_BYTES_MAX", 16...(64 << 20)) { config.protocolLimits.maxInlineLineBytes = $0 }
        try integer("LOYALTY_BULK_BYTES_MAX", 16...(512 << 20)) { config.protocolLimits.maxBulkBytes = $0 }
        try integer("LOYALTY_ARGUMENTS_MAX", 1...1_000_000) { config.protocolLimits.maxArguments = $0 }
        try integer("LOYALTY_BATCH_LINES_MAX", 1...10_000_000) { config.storeLimits.batchLinesMax = $0 }
        try integer("LOYALTY_BATCH_QUEUE_BYTES_MAX", 64...(64 << 30)) { config.batchQueueBytesMax = $0 }
        try integer("LOYALTY_HOLD_TTL_SECONDS_MAX", 1...(365 * 86_400)) { config.storeLimits.holdTTLSecondsMax = $0 }
        try integer("LOYALTY_BALANCE_ROUNDS_MAX", 1...512) { config.storeLimits.balanceRoundsInFlightMax = $0 }
        try integer("LOYALTY_EVENTS_COUNT_MAX", 1...100_000) { config.storeLimits.eventsCountMax = $0 }
        try integer("LOYALTY_EVENTS_WAIT_MS_MAX", 0...3_600_000) { config.eventsWaitMillisecondsMax = $0 }
        try integer("LOYALTY_EVENTS_POLL_MS", 10...60_000) { config.eventsPollMilliseconds = $0 }
        try integer("LOYALTY_SHUTDOWN_GRACE_SECONDS", 0...3_600) { config.shutdownGraceSeconds = $0 }
        try integer("LOYALTY_PROGRAM_POLL_MS", 50...5_000) { config.programPollMilliseconds = $0 }
        return config
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
