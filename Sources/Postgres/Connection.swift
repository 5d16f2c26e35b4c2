import CLibPQ
import Foundation
import Glibc

/// One libpq connection, used in blocking mode.
///
/// Not `Sendable`: one thread uses it at a time (the pool hands it out). Every call returns only
/// after its results are read and copied out, so the connection is idle again between calls.
public final class Connection {
    /// Statements kept prepared per connection; the least recently used are deallocated past this.
    public static let preparedStatementsMax = 512
    /// Used unless the conninfo names its own `connect_timeout`; libpq's default is to wait forever.
    static let connectTimeoutSecondsDefault = 10
    /// TCP settings used unless the conninfo names its own: a server or network that vanishes
    /// without a word (a dropped route, a powered-off host) is noticed in about 30 s instead of
    /// the kernel's two hours of keepalive silence and fifteen minutes of retransmissions.
    static let tcpDefaults: [(keyword: String, value: String)] = [
        ("keepalives", "1"), ("keepalives_idle", "10"), ("keepalives_interval", "5"), ("keepalives_count", "4"),
        ("tcp_user_timeout", "30000"),
    ]

    /// nil once closed.
    private(set) var handle: OpaquePointer?
    var statements = StatementCache(capacity: Connection.preparedStatementsMax)
    /// Statements of the open transaction whose results nobody reads: sent with its COMMIT.
    var beforeCommit: [(sql: String, parameters: [String?])] = []
    /// The BEGIN of a transaction whose first statement has not been sent: it goes with it.
    var pendingBegin: String?
    /// Channels to notify once the open transaction commits (`notifyAfterCommit`).
    var channelsAfterCommit: Set<String> = []
    /// Sends those notifications after the commit; without one they go with the COMMIT itself.
    public var commitNotifier: CommitNotifier?

    /// Connects with `conninfo` as given to libpq (keyword/value string or URI).
    ///
    /// `client_encoding` is always UTF8, since values are decoded as Swift strings; a
    /// `connect_timeout` of 10 seconds and the TCP keepalive settings of `tcpDefaults` apply
    /// unless `conninfo` sets its own.
    public init(conninfo: String) throws(PostgresError) {
        // Processed in order: the defaults first so conninfo can override them, the encoding
        // last so nothing can.
        let defaults = [("connect_timeout", "\(Self.connectTimeoutSecondsDefault)")] + Self.tcpDefaults
        let keywords = try ParameterBuffer(defaults.map(\.0) + ["dbname", "client_encoding", nil])
        let values = try ParameterBuffer(defaults.map(\.1) + [conninfo, "UTF8", nil])
        guard let handle = PQconnectdbParams(keywords.values, values.values, 1) else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Self.libpqMessage(handle)
            PQfinish(handle)
            throw PostgresError(code: .connectionFailed, message: message)
        }
        // libpq prints notices ("relation already exists, skipping") to stderr by default.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        self.handle = handle
    }

    deinit {
        close()
    }

    /// Closes the connection; later calls on it are a programming error. Idempotent.
    public func close() {
        guard let handle else { return }
        PQfinish(handle)
        self.handle = nil
        statements.removeAll()
    }

    /// Connected, not inside a failed transaction and not mid-pipeline: fit to be used again.
    public var isHealthy: Bool {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return false }
        guard PQpipelineStatus(handle) == PQ_PIPELINE_OFF else { return false }
        let transaction = PQtransactionStatus(handle)
        return transaction == PQTRANS_IDLE || transaction == PQTRANS_INTRANS
    }

    /// Healthy and outside any transaction block: what a pool may hand to the next user.
    var isReusable: Bool {
        isHealthy && PQtransactionStatus(handle) == PQTRANS_IDLE
    }

    /// True when the server sent something to an idle connection: in practice the FATAL message
    /// and EOF of a backend that was terminated or a server shutting down. Costs one poll(2).
    var hasUnreadInput: Bool {
        var descriptor = pollfd(fd: PQsocket(live), events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) != 0
    }

    /// The value libpq connected with for a conninfo keyword (`keepalives_idle`, `host`, ...);
    /// nil when it is unset or unknown.
    public func connectionOption(_ keyword: String) -> String? {
        guard let options = PQconninfo(live) else { return nil }
        defer { PQconninfoFree(options) }
        var option = options
        while let name = option.pointee.keyword {
            if String(cString: name) == keyword { return option.pointee.val.map { String(cString: $0) } }
            option += 1
        }
        return nil
    }

    /// The server's version as an integer, e.g. 150004 for 15.4.
    public var serverVersion: Int {
        Int(PQserverVersion(live))
    }

    /// The open handle; using a closed connection is a programming error.
    var live: OpaquePointer {
        guard let handle else { preconditionFailure("connection used after close()") }
        return handle
    }

    /// Quotes an identifier for SQL text, for the rare DDL that cannot take a parameter
    /// (`CREATE DATABASE`): doubles embedded quotes and wraps the name in double quotes, as
    /// libpq's `PQescapeIdentifier` does for UTF-8 text.
    public static func escapeIdentifier(_ identifier: String) -> String {
        precondition(!identifier.utf8.contains(0), "identifier contains a NUL byte")
        return "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func libpqMessage(_ handle: OpaquePointer) -> String {
        String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
