import Foundation

/// Counters describing a pool at one moment.
public struct PoolStatistics: Sendable, Equatable {
    /// Connections handed out (or being connected) right now.
    public var inUse: Int
    /// Open connections waiting to be handed out.
    public var idle: Int
    /// The most connections the pool will open.
    public var max: Int
    /// Connections opened since the pool was made.
    public var created: Int
    /// Connections thrown away as broken or left mid-transaction.
    public var discarded: Int
}

/// A bounded pool of connections for blocking worker threads.
///
/// Connections are opened lazily up to `maxConnections`; `withConnection` waits up to the acquire
/// timeout for one, then throws `.poolTimeout`. A connection that is broken or left inside a
/// transaction after use is closed rather than reused, and an idle connection the server has
/// spoken on (a restart or `pg_terminate_backend` sends a farewell) is replaced before it is
/// handed out, so a restarted PostgreSQL is reconnected to transparently.
public final class ConnectionPool: @unchecked Sendable {
    // @unchecked: every access to `state` (and so to the connections in it) holds `condition`'s
    // lock; a connection is touched outside it only by the one thread it was handed to.
    private let condition = NSCondition()
    private var state: PoolState<Connection>
    private let conninfo: String
    private let acquireTimeoutMilliseconds: Int
    private let sessionSettings: [(name: String, value: String)]
    private let commitNotifier: CommitNotifier?

    /// `sessionSettings` are applied to every new connection with `set_config` (e.g. a server's
    /// `plan_cache_mode`), so they hold whatever the conninfo says. `commitNotifier`, when given,
    /// sends every connection's `notifyAfterCommit` notifications (and closes with the pool).
    public init(conninfo: String, maxConnections: Int, acquireTimeoutMilliseconds: Int = 5_000,
                sessionSettings: [(name: String, value: String)] = [], commitNotifier: CommitNotifier? = nil) {
        precondition(acquireTimeoutMilliseconds >= 0)
        self.commitNotifier = commitNotifier
        self.conninfo = conninfo
        self.state = PoolState(capacity: maxConnections)
        self.acquireTimeoutMilliseconds = acquireTimeoutMilliseconds
        self.sessionSettings = sessionSettings
    }

    /// Lends a connection to `body` on the calling thread and takes it back afterwards.
    ///
    /// Throws `.poolTimeout` or `.poolClosed` when no connection can be had, `.connectionFailed`
    /// when a new one cannot be opened, and whatever `body` throws.
    public func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        let connection = try acquire()
        defer { release(connection) }
        return try body(connection)
    }

    public var statistics: PoolStatistics {
        condition.lock()
        defer { condition.unlock() }
        return PoolStatistics(
            inUse: state.inUse, idle: state.idle.count, max: state.capacity,
            created: state.created, discarded: state.discarded)
    }

    /// Closes idle connections now and the others as they come back; later acquires throw `.poolClosed`.
    public func close() {
        condition.lock()
        let idle = state.close()
        condition.broadcast()
        condition.unlock()
        for connection in idle {
            connection.close()
        }
        commitNotifier?.close()
    }

    private func acquire() throws(PostgresError) -> Connection {
        let deadline = Date(timeIntervalSinceNow: Double(acquireTimeoutMilliseconds) / 1_000)
        condition.lock()
        var action = state.acquire()
        while case .wait = action {
            guard condition.wait(until: deadline) else {
                condition.unlock()
                throw PostgresError(
                    code: .poolTimeout,
                    message: "no connection free within \(acquireTimeoutMilliseconds) ms (max \(state.capacity))")
            }
            action = state.acquire()
        }
        condition.unlock()
        switch action {
        case .use(let connection):
            guard connection.hasUnreadInput else { return connection }
            connection.close()
            locked { $0.replaceStale() }
            return try connect()
        case .connect:
            return try connect()
        case .closed:
            throw PostgresError(code: .poolClosed, message: "the connection pool is closed")
        case .wait:
            preconditionFailure("unreachable: waited above")
        }
    }

    /// Opens a connection in a slot already reserved, outside the lock since it takes a round trip.
    private func connect() throws(PostgresError) -> Connection {
        do throws(PostgresError) {
            let connection = try Connection(conninfo: conninfo)
            connection.commitNotifier = commitNotifier
            do throws(PostgresError) {
                for setting in sessionSettings {
                    _ = try connection.query("SELECT set_config($1, $2, false)", [setting.name, setting.value])
                }
            } catch {
                connection.close()
                throw error
            }
            locked { $0.connected() }
            return connection
        } catch {
            locked { $0.connectFailed() }
            condition.signal()
            throw error
        }
    }

    private func release(_ connection: Connection) {
        let reusable = connection.isReusable
        let toClose = locked { $0.release(connection, reusable: reusable) }
        condition.signal()
        toClose?.close()
    }

    private func locked<R>(_ body: (inout PoolState<Connection>) -> R) -> R {
        condition.lock()
        defer { condition.unlock() }
        return body(&state)
    }
}
