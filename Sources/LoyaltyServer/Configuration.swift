import Foundation
import LineProtocol
import LoyaltyStore

/// Everything the server can be told, each limit named, with its default. `Setting.all` is the
/// one list of the environment variables that set them.
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
    /// Argument bytes of the requests a signed-in client has queued unanswered; past it the
    /// server stops reading from it (the count alone let 1,024 requests of 4 MiB pile up).
    public var inputBufferedBytesMax = 1 << 20
    /// Reply bytes waiting for a slow reader; past it the server stops running its requests
    /// and reading from it.
    public var outputBufferedBytesMax = 1 << 20
    /// A client that takes none of its unsent replies for this long is closed.
    public var outputStallSeconds = 60
    /// Before AUTH, what a connection may make the server hold, Redis-like: bytes received and
    /// not yet run plus unsent replies (past it reading stops), and per request (`unauthenticatedLimits`).
    public var unauthenticatedBufferedBytesMax = 1 << 20
    public var unauthenticatedBulkBytesMax = 16 * 1024
    public var unauthenticatedArgumentsMax = 10
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

    /// Reads every `Setting` from the environment, then checks them together; a malformed value
    /// or a combination that cannot work is an error naming the variables, not a silent default
    /// or a crash at the first connection.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> ServerConfiguration {
        var config = ServerConfiguration()
        for setting in Setting.all {
            guard let text = env[setting.name] else { continue }
            try setting.apply(text, &config)
        }
        try config.validate()
        return config
    }

    /// The limits of one request before AUTH: Redis's (10 arguments, 16 KiB a bulk or line), so
    /// a client that has not signed in cannot make the server hold much.
    public var unauthenticatedLimits: ProtocolLimits {
        let bulk = min(unauthenticatedBulkBytesMax, protocolLimits.maxBulkBytes)
        let arguments = min(unauthenticatedArgumentsMax, protocolLimits.maxArguments)
        return ProtocolLimits(maxInlineLineBytes: min(bulk, protocolLimits.maxInlineLineBytes), maxBulkBytes: bulk,
                              maxArguments: arguments,
                              maxBufferedBytes: min(protocolLimits.maxBufferedBytes, arguments * (bulk + Self.bulkFramingBytes) + 32))
    }

    /// `$`, up to 20 digits and two CRLFs around one bulk argument.
    static let bulkFramingBytes = 32

    /// The settings that only work together.
    func validate() throws {
        let limits = protocolLimits
        guard limits.maxInlineLineBytes + 2 <= limits.maxBufferedBytes else {
            throw ConfigurationError(message: "LOYALTY_LINE_BYTES_MAX (\(limits.maxInlineLineBytes)) plus its CRLF must fit in "
                                     + "LOYALTY_REQUEST_BYTES_MAX (\(limits.maxBufferedBytes))")
        }
        guard limits.maxBulkBytes + 2 * Self.bulkFramingBytes <= limits.maxBufferedBytes else {
            throw ConfigurationError(message: "LOYALTY_BULK_BYTES_MAX (\(limits.maxBulkBytes)) with its command must fit in "
                                     + "LOYALTY_REQUEST_BYTES_MAX (\(limits.maxBufferedBytes)): at most "
                                     + "\(limits.maxBufferedBytes - 2 * Self.bulkFramingBytes)")
        }
        guard unauthenticatedLimits.maxBufferedBytes <= unauthenticatedBufferedBytesMax else {
            throw ConfigurationError(message: "LOYALTY_UNAUTHENTICATED_BUFFERED_BYTES_MAX (\(unauthenticatedBufferedBytesMax)) must "
                                     + "hold one request of LOYALTY_UNAUTHENTICATED_ARGUMENTS_MAX bulks of "
                                     + "LOYALTY_UNAUTHENTICATED_BULK_BYTES_MAX: at least \(unauthenticatedLimits.maxBufferedBytes)")
        }
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// One environment variable of loyaltyd: its name, what it may be, its default and what it does.
/// The README's configuration table is checked against `all` by a test.
public struct Setting: Sendable {
    public let name: String
    /// The values it takes, as a reader of the README sees them.
    public let range: String
    public let defaultValue: String
    public let doc: String
    let apply: @Sendable (String, inout ServerConfiguration) throws -> Void

    static func integer(_ name: String, _ range: ClosedRange<Int>, _ field: WritableKeyPath<ServerConfiguration, Int> & Sendable,
                        _ doc: String) -> Setting {
        Setting(name: name, range: "\(range.lowerBound)–\(range.upperBound)", defaultValue: String(ServerConfiguration()[keyPath: field]),
                doc: doc) { text, config in
            guard let value = Int(text), range.contains(value) else {
                throw ConfigurationError(message: "\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), got \(text)")
            }
            config[keyPath: field] = value
        }
    }

    public static let all: [Setting] = [
        Setting(name: "DATABASE_URL", range: "libpq URI or `key=value` conninfo", defaultValue: "libpq's defaults",
                doc: "where PostgreSQL is; `make run` starts its own cluster") { text, config in config.databaseURL = text },
        Setting(name: "DATABASE_READ_URL", range: "as `DATABASE_URL`", defaultValue: "none: all reads on `DATABASE_URL`",
                doc: "a streaming replica for BALANCE, MEMBER, TIER, STATEMENT (may lag; `INFO replication` shows by how much)") {
            text, config in config.databaseReadURL = text.isEmpty ? nil : text
        },
        Setting(name: "LOYALTY_LISTEN", range: "`host:port`", defaultValue: "`127.0.0.1:7480`", doc: "where to listen") { text, config in
            guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
                throw ConfigurationError(message: "LOYALTY_LISTEN must be host:port, got \(text)")
            }
            config.host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            config.port = port
        },
        .integer("LOYALTY_CONNECTIONS_MAX", 1...1_000_000, \.connectionsMax, "open client connections; one more gets `-LIMIT`"),
        .integer("LOYALTY_IDLE_TIMEOUT_SECONDS", 1...86_400, \.idleTimeoutSeconds, "idle connections are closed after"),
        .integer("LOYALTY_WORKER_THREADS", 1...512, \.workerThreads,
                 "threads serving connections (twice the database connections, so PING is answered while all are busy)"),
        .integer("LOYALTY_DB_CONNECTIONS_MAX", 1...512, \.databaseConnectionsMax, "PostgreSQL connections in the pool"),
        .integer("LOYALTY_DB_ACQUIRE_TIMEOUT_MILLISECONDS", 1...600_000, \.databaseAcquireTimeoutMilliseconds,
                 "a request waits this long for a PostgreSQL connection, then `-UNAVAILABLE`"),
        .integer("LOYALTY_PIPELINED_REQUESTS_MAX", 1...1_000_000, \.pipelinedRequestsMax,
                 "unanswered requests per client before reading pauses"),
        .integer("LOYALTY_INPUT_BUFFERED_BYTES_MAX", 1_024...(1 << 30), \.inputBufferedBytesMax,
                 "argument bytes of a client's unanswered requests before reading pauses"),
        .integer("LOYALTY_OUTPUT_BUFFERED_BYTES_MAX", 1_024...(1 << 30), \.outputBufferedBytesMax,
                 "unsent reply bytes per client before its requests and reading pause"),
        .integer("LOYALTY_OUTPUT_STALL_SECONDS", 1...86_400, \.outputStallSeconds,
                 "a client that takes none of its unsent replies for this long is closed"),
        .integer("LOYALTY_UNAUTHENTICATED_BUFFERED_BYTES_MAX", 1_024...(1 << 30), \.unauthenticatedBufferedBytesMax,
                 "before AUTH: bytes received and not yet run plus unsent replies, before reading pauses"),
        .integer("LOYALTY_UNAUTHENTICATED_BULK_BYTES_MAX", 16...(64 << 20), \.unauthenticatedBulkBytesMax,
                 "before AUTH: one bulk argument or inline line"),
        .integer("LOYALTY_UNAUTHENTICATED_ARGUMENTS_MAX", 3...1_000_000, \.unauthenticatedArgumentsMax,
                 "before AUTH: words in one request"),
        .integer("LOYALTY_LINE_BYTES_MAX", 16...(1 << 30), \.protocolLimits.maxInlineLineBytes, "inline request line"),
        .integer("LOYALTY_BULK_BYTES_MAX", 16...(1 << 30), \.protocolLimits.maxBulkBytes, "one RESP bulk argument"),
        .integer("LOYALTY_REQUEST_BYTES_MAX", 128...(1 << 30), \.protocolLimits.maxBufferedBytes,
                 "one request on the wire; must hold a line or a bulk of the limits above"),
        .integer("LOYALTY_ARGUMENTS_MAX", 1...1_000_000, \.protocolLimits.maxArguments, "words in one request"),
        .integer("LOYALTY_BATCH_LINES_MAX", 1...10_000_000, \.storeLimits.batchLinesMax, "lines in one BATCH"),
        .integer("LOYALTY_BATCH_QUEUE_BYTES_MAX", 64...(64 << 30), \.batchQueueBytesMax,
                 "bytes queued by all open batches together (about 85 per ACCRUE line)"),
        .integer("LOYALTY_HOLD_TTL_SECONDS_MAX", 1...(365 * 86_400), \.storeLimits.holdTTLSecondsMax, "longest HOLD"),
        .integer("LOYALTY_BALANCE_ROUNDS_MAX", 1...512, \.storeLimits.balanceRoundsInFlightMax,
                 "combined BALANCE queries in flight at once (concurrent BALANCEs share one query)"),
        .integer("LOYALTY_BALANCE_ROUND_KEYS_MIN", 1...256, \.storeLimits.balanceRoundKeysMin,
                 "BALANCEs waiting before a further combined query starts beside a running one"),
        .integer("LOYALTY_EVENTS_COUNT_MAX", 1...100_000, \.storeLimits.eventsCountMax,
                 "most events one `EVENTS FROM ... COUNT n` or `EVENTS WAIT` returns"),
        .integer("LOYALTY_EVENTS_WAIT_MS_MAX", 0...3_600_000, \.eventsWaitMillisecondsMax, "longest `EVENTS WAIT` timeout"),
        .integer("LOYALTY_EVENTS_POLL_MS", 10...60_000, \.eventsPollMilliseconds,
                 "how often parked `EVENTS WAIT`s look at the outbox when no notification came"),
        Setting(name: "LOYALTY_DAILY_RUNS_HOUR", range: "0–23 or `off`", defaultValue: String(DailyRuns.hourUTCDefault),
                doc: "hour (UTC) of the server's own daily `tiers evaluate` and `expire`; `off` when cron or the systemd timer runs them") {
            text, config in
            guard text.lowercased() != "off" else { return config.dailyRunsHourUTC = nil }
            guard let hour = Int(text), (0..<24).contains(hour) else {
                throw ConfigurationError(message: "LOYALTY_DAILY_RUNS_HOUR must be an hour 0-23 or off, got \(text)")
            }
            config.dailyRunsHourUTC = hour
        },
        .integer("LOYALTY_SHUTDOWN_GRACE_SECONDS", 0...3_600, \.shutdownGraceSeconds, "SIGTERM waits this long for requests in flight"),
        .integer("LOYALTY_PROGRAM_POLL_MS", 50...5_000, \.programPollMilliseconds,
                 "how often the server looks for a new program version or partner change"),
    ]

    /// The README's row for this setting.
    public var markdownRow: String { "| `\(name)` | \(doc) | \(range) | \(defaultValue) |" }
}
