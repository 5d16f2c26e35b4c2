import CLinux
import Foundation
import Glibc
import LineProtocol
import LoyaltyCore
import LoyaltyStore
import Postgres

/// The network server: a fixed set of threads share one epoll set. Sockets are armed one-shot,
/// so the thread that gets a socket's event owns it until it re-arms: it reads, decodes, runs the
/// requests in order against PostgreSQL and writes the replies, with no hand-off between
/// threads on the way. No thread is created per request or per connection.
public final class Server: @unchecked Sendable {
    public let configuration: ServerConfiguration
    let services: Services
    /// Guards `connections`, each connection's `busy`/`closed`, and the lifecycle fields below.
    private let lock = NSLock()
    private var connections: [Int32: ClientConnection] = [:]
    private var nextClientID = 1
    private var shutdownRequested = false
    private var drainDeadline: Int?
    private var lastSweepSeconds = 0
    /// The listener is left unarmed after running out of descriptors; the next sweep re-arms it.
    private var acceptPaused = false
    /// False once a shutdown stopped accepting (server lock). The descriptor itself stays open
    /// until every serving thread is gone, so no thread can accept on a number reused meanwhile.
    private var listening = true
    private var threadsRunning = 0
    private let threadsDone = NSCondition()
    private let epollFD: Int32
    /// Request limits before AUTH (`ServerConfiguration.unauthenticatedLimits`).
    private let unauthenticatedLimits: ProtocolLimits
    private let listenFD: Int32
    /// The port actually bound (differs from the configuration's when that is 0).
    public let port: UInt16

    private static let readChunkBytes = 64 * 1024
    /// Requests one thread runs for a connection before letting others have a turn.
    private static let requestsPerTurnMax = 256
    private static let listenTag = UInt64.max
    /// How often an idle thread looks up from epoll for housekeeping and shutdown.
    private static let housekeepingIntervalMilliseconds: Int32 = 250

    public init(configuration: ServerConfiguration) throws {
        self.configuration = configuration
        unauthenticatedLimits = configuration.unauthenticatedLimits
        func pool(_ conninfo: String) -> ConnectionPool {
            // Every statement the server sends is keyed lookups and writes whose best plan does not
            // depend on the values: a generic plan saves re-planning on each call (BALANCE's combined
            // read was planned anew every time, three quarters of its database time).
            // The outbox's wake-ups go after each commit, so that writers do not commit one flush after another.
            ConnectionPool(conninfo: conninfo, maxConnections: configuration.databaseConnectionsMax,
                           acquireTimeoutMilliseconds: configuration.databaseAcquireTimeoutMilliseconds,
                           sessionSettings: [("plan_cache_mode", "force_generic_plan")],
                           commitNotifier: CommitNotifier(conninfo: conninfo))
        }
        let store = LoyaltyStore(pool: pool(configuration.databaseURL), readPool: configuration.databaseReadURL.map(pool),
                                 limits: configuration.storeLimits, databaseFailed: { error in
            Log.error("database", ["code": error.code.description, "sqlstate": error.sqlState ?? "", "message": error.message])
        })
        services = Services(store: store, metrics: Metrics(), configuration: configuration)
        (listenFD, port) = try Socket.listen(host: configuration.host, port: configuration.port)
        epollFD = try Socket.call("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        try control(EPOLL_CTL_ADD, listenFD, Socket.epollIn | Socket.epollOneShot, tag: Self.listenTag)
    }

    /// Serves until `shutdown()`; then stops accepting, finishes what is in flight (up to the
    /// grace period), closes every connection and returns.
    public func run() {
        signal(SIGPIPE, SIG_IGN)
        // Every client takes a descriptor; so do the database connections (two pools) and a few more.
        let descriptorsWanted = configuration.connectionsMax + 2 * configuration.databaseConnectionsMax + 64
        let openFilesMax = Socket.raiseOpenFilesLimit(to: descriptorsWanted)
        if openFilesMax < descriptorsWanted {
            Log.error("open_files_limit", ["max": String(openFilesMax), "wanted": String(descriptorsWanted),
                                           "connections_max": String(configuration.connectionsMax)])
        }
        Log.event("listening", ["host": configuration.host, "port": String(port), "threads": String(configuration.workerThreads),
                                "open_files_max": String(openFilesMax),
                                "db_connections_max": String(configuration.databaseConnectionsMax)])
        do {
            // Loaded once up front so a missing program is reported at start, not on the first request.
            _ = try services.store.program()
        } catch {
            Log.error("program_unavailable", ["code": error.code.rawValue, "message": error.message])
        }
        let dailyRuns = configuration.dailyRunsHourUTC.map { DailyRuns(store: services.store, hourUTC: $0) }
        dailyRuns?.start()
        let programFollower = ProgramFollower(store: services.store, intervalMilliseconds: configuration.programPollMilliseconds)
        programFollower.start()
        services.eventWaiters.start()
        threadsDone.lock()
        threadsRunning = configuration.workerThreads
        threadsDone.unlock()
        for index in 0..<configuration.workerThreads {
            let thread = Thread { [self] in
                // The system's name (top -H, gdb, /proc): Foundation's Thread.name does not always reach it.
                _ = pthread_setname_np(pthread_self(), "loyaltyd-\(index)")
                serveLoop()
                threadsDone.lock()
                threadsRunning -= 1
                threadsDone.broadcast()
                threadsDone.unlock()
            }
            thread.start()
        }
        threadsDone.lock()
        while threadsRunning > 0 && !shutdownAbandoned() { _ = threadsDone.wait(until: Date().addingTimeInterval(0.25)) }
        let stuck = threadsRunning
        threadsDone.unlock()
        dailyRuns?.stop()
        programFollower.stop()
        services.eventWaiters.stop()
        if stuck > 0 {
            // A request still running past the grace period (a lock that is never released, a hung
            // database): exiting drops its database connection, so PostgreSQL rolls it back unanswered.
            Log.error("stopped_with_requests_in_flight", ["threads": String(stuck)])
            return
        }
        close(listenFD)
        services.store.close()
        Log.event("stopped")
    }

    /// True a second after the shutdown grace period ran out, when run() stops waiting for stuck threads.
    private func shutdownAbandoned() -> Bool {
        lock.withLock { drainDeadline.map { Self.nowSeconds() >= $0 + 2 } ?? false }
    }

    /// Asks a running server to stop gracefully; safe from any thread. The threads notice within
    /// one housekeeping interval.
    public func shutdown() {
        lock.withLock { shutdownRequested = true }
        // Parked EVENTS WAITs are answered (with nothing yet) rather than held through the grace period.
        services.eventWaiters.stop()
    }

    // MARK: - The serving threads

    private func serveLoop() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.readChunkBytes, alignment: 16)
        defer { buffer.deallocate() }
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while true {
            let count: Int32
            do {
                count = try Socket.call("epoll_wait") {
                    epoll_wait(epollFD, &events, Int32(events.count), Self.housekeepingIntervalMilliseconds)
                }
            } catch {
                Log.error("epoll_wait", ["errno": String(error.code), "message": error.description])
                return
            }
            for index in 0..<Int(count) {
                let tag = events[index].data.u64
                if tag == Self.listenTag { acceptAll() } else { serve(tag: tag, events: events[index].events, buffer) }
            }
            if housekeeping() { return }
        }
    }

    private func acceptAll() {
        var outOfDescriptors = false
        defer { if !outOfDescriptors { lock.withLock { armListenerLocked() } } }
        for _ in 0..<256 {
            let accepted: (fd: Int32, peer: String)?
            do {
                accepted = try Socket.accept(listenFD)
            } catch where error.code == EMFILE || error.code == ENFILE {
                // Out of descriptors, the waiting connection stays queued and the listener would fire
                // again at once, spinning a thread: it rests until housekeeping re-arms it.
                outOfDescriptors = true
                let open = lock.withLock {
                    acceptPaused = true
                    return connections.count
                }
                Log.error("accept_paused", ["reason": "out_of_file_descriptors", "connections": String(open)])
                return
            } catch {
                // A shutdown stopped the listener under this thread: nothing to say.
                guard lock.withLock({ listening }) else { return }
                Log.error("accept", ["errno": String(error.code), "message": error.description])
                // A connection reset before it was accepted: the next one may be fine.
                if error.code == ECONNABORTED || error.code == EPROTO { continue }
                return
            }
            guard let (fd, peer) = accepted else { return }
            lock.lock()
            guard connections.count < configuration.connectionsMax, !shutdownRequested else {
                lock.unlock()
                let refusal = Reply.error(code: "LIMIT", message: "too many connections (max \(configuration.connectionsMax))").encoded
                _ = try? Socket.call("send") {
                    refusal.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
                }
                close(fd)
                services.metrics.rejected()
                Log.event("connection_refused", ["peer": peer, "reason": "connections_max"])
                continue
            }
            let connection = ClientConnection(id: nextClientID, fd: fd, peer: peer, limits: unauthenticatedLimits,
                                              now: Self.nowSeconds())
            nextClientID += 1
            connections[fd] = connection
            lock.unlock()
            services.metrics.connected()
            services.clients.connected(id: connection.id, peer: peer)
            Log.event("connect", ["client": String(connection.id), "peer": peer])
            arm(connection, EPOLL_CTL_ADD, Socket.epollIn | Socket.epollRdHup | Socket.epollOneShot)
        }
    }

    /// Re-arms the listener unless a shutdown stopped it; a failure is logged and left to the
    /// next sweep, as when out of descriptors.
    private func armListenerLocked() {
        guard listening else { return }
        do {
            try control(EPOLL_CTL_MOD, listenFD, Socket.epollIn | Socket.epollOneShot, tag: Self.listenTag)
        } catch {
            acceptPaused = true
            Log.error("epoll_ctl", ["fd": "listener", "errno": String(error.code), "message": error.description])
        }
    }

    /// Asks epoll for the connection's next events; if it refuses, the client could never be
    /// served again, so it is closed (and said why) rather than left open and silent.
    private func arm(_ connection: ClientConnection, _ operation: Int32, _ events: UInt32) {
        do {
            try control(operation, connection.fd, events, tag: connection.tag)
        } catch {
            Log.error("epoll_ctl", ["client": String(connection.id), "errno": String(error.code), "message": error.description])
            lock.withLock { closeLocked(connection, reason: "epoll_ctl_failed") }
        }
    }

    /// One turn of one connection: read, run, write, then re-arm or close.
    private func serve(tag: UInt64, events: UInt32, _ buffer: UnsafeMutableRawBufferPointer) {
        lock.lock()
        let fd = Int32(bitPattern: UInt32(truncatingIfNeeded: tag))
        guard let connection = connections[fd], connection.tag == tag, !connection.busy, !connection.closed else {
            lock.unlock()
            return
        }
        connection.busy = true
        if shutdownRequested { connection.closeWhenFlushed = true }
        lock.unlock()

        var peerGone = false
        if events & Socket.epollOut != 0 { peerGone = !flush(connection) }
        if !peerGone && events & (Socket.epollIn | Socket.epollHup | Socket.epollErr | Socket.epollRdHup) != 0 {
            peerGone = !readAvailable(connection, buffer)
        }
        if peerGone { finishTurn(connection, peerGone: true) } else { continueTurn(connection) }
    }

    /// Runs what is pending and ends the turn, unless a request was deferred: then the turn goes
    /// on, on whichever thread answers it (`resume`), and this thread must not touch the connection.
    private func continueTurn(_ connection: ClientConnection) {
        switch runPending(connection) {
        case .deferred: return
        case .ran(let peerGone): finishTurn(connection, peerGone: peerGone)
        }
    }

    /// The answer to a deferred request: the turn it interrupted goes on from here. Requests the
    /// client pipelined behind it are left to a serving thread (`finishTurn` arms the socket for
    /// them), since this thread may be answering a whole round of other clients.
    private func resume(_ connection: ClientConnection, request: Request, reply: Reply) {
        answer(connection, request: request, reply: reply)
        if connection.hasPending { finishTurn(connection, peerGone: !flush(connection)) } else { continueTurn(connection) }
    }

    /// Reads what the socket holds now, while the client is within its budget, and decodes it;
    /// false when the peer is gone.
    private func readAvailable(_ connection: ClientConnection, _ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        for _ in 0..<4 where !connection.closeWhenFlushed && !isBacklogged(connection) {
            let count: Int
            do {
                count = try Socket.call("read") { read(connection.fd, buffer.baseAddress, buffer.count) }
            } catch {
                if error.wouldBlock { break }
                return false
            }
            if count == 0 {
                // End of input (the client may have only half-closed, as `nc -N` does): answer what it sent, then close.
                connection.closeWhenFlushed = true
                break
            }
            connection.decoder.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            decodeRequests(connection)
            // A short read emptied the socket; asking again would only cost a system call to hear EAGAIN.
            if count < buffer.count { break }
        }
        return true
    }

    /// Turns received bytes into pending requests. Before AUTH one request at a time, under the
    /// tighter limits: what follows an AUTH is decoded once it has run, under the client's own.
    private func decodeRequests(_ connection: ClientConnection) {
        do {
            while !connection.decodingStopped && (connection.session.principal != nil || !connection.hasPending) {
                connection.decoder.limits = connection.session.principal == nil ? unauthenticatedLimits : configuration.protocolLimits
                guard let request = try connection.decoder.next() else { return }
                connection.enqueue(.request(request))
            }
        } catch {
            Log.error("protocol_error", ["client": String(connection.id), "message": error.message])
            connection.enqueue(.protocolError(error.reply))
            connection.decodingStopped = true
        }
    }

    /// Whether the client holds what it may make the server hold, so that reading from it waits:
    /// requests queued unanswered (a count and bytes) and unsent replies; before AUTH all of it
    /// together, received bytes not yet decoded included.
    private func isBacklogged(_ connection: ClientConnection) -> Bool {
        if connection.session.principal == nil {
            return connection.decoder.bufferedByteCount + connection.pendingBytes + connection.unsentBytes
                >= configuration.unauthenticatedBufferedBytesMax
        }
        return connection.pendingCount >= configuration.pipelinedRequestsMax
            || connection.pendingBytes >= configuration.inputBufferedBytesMax
            || connection.unsentBytes >= configuration.outputBufferedBytesMax
    }

    /// Unsent reply bytes past which a client's requests wait for it to read.
    private func outputBudget(_ connection: ClientConnection) -> Int {
        connection.session.principal == nil ? configuration.unauthenticatedBufferedBytesMax : configuration.outputBufferedBytesMax
    }

    private enum PendingOutcome {
        case ran(peerGone: Bool)
        /// The last request went on to be answered later (`resume`).
        case deferred
    }

    /// Runs pending requests in order, flushing as replies pile up; stops for the turn when the
    /// client reads too slowly or has had its share, or when a request is deferred: then the
    /// requests behind it wait for its answer (`resume`), and this thread serves other sockets.
    private func runPending(_ connection: ClientConnection) -> PendingOutcome {
        var ran = 0
        // Before AUTH a request is decoded only once the one before it has run.
        decodeRequests(connection)
        while connection.hasPending && ran < Self.requestsPerTurnMax && connection.unsentBytes < outputBudget(connection) {
            let work = connection.takeNext()
            ran += 1
            switch work {
            case .request(let request):
                switch dispatch(request, session: &connection.session, services: services) {
                case .reply(let reply):
                    answer(connection, request: request, reply: reply)
                case .deferred(let start):
                    start { [self] reply in resume(connection, request: request, reply: reply) }
                    return .deferred
                }
            case .protocolError(let reply):
                if case .error(let code, _) = reply { services.metrics.error(code) }
                reply.encode(into: &connection.output)
                stopAfterThisReply(connection)
            }
            if connection.unsentBytes >= 16 * 1024, !flush(connection) { return .ran(peerGone: true) }
            if !connection.hasPending { decodeRequests(connection) }
        }
        if connection.hasPending { connection.compactPending() }
        return .ran(peerGone: !flush(connection))
    }

    /// Queues a request's reply, logging a failed command.
    private func answer(_ connection: ClientConnection, request: Request, reply: Reply) {
        if case .error(let code, let message) = reply {
            Log.error("command_error", ["client": String(connection.id), "command": String(request.commandName.prefix(32)),
                                        "code": code, "message": message])
        }
        reply.encode(into: &connection.output, protocol: connection.session.protocolVersion)
        if connection.session.closeAfterReply { stopAfterThisReply(connection) }
    }

    private func stopAfterThisReply(_ connection: ClientConnection) {
        connection.closeWhenFlushed = true
        connection.decodingStopped = true
        connection.dropPending()
    }

    /// Writes what the socket takes now; false when the peer is gone.
    private func flush(_ connection: ClientConnection) -> Bool {
        while connection.unsentBytes > 0 {
            do {
                connection.outputSent += try Socket.call("send") {
                    connection.output.withUnsafeBytes { bytes in
                        send(connection.fd, bytes.baseAddress! + connection.outputSent, connection.unsentBytes,
                             Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
                    }
                }
                connection.lastOutputProgressSeconds = Self.nowSeconds()
            } catch {
                return error.wouldBlock
            }
        }
        connection.output.removeAll(keepingCapacity: connection.output.capacity <= 64 * 1024)
        connection.outputSent = 0
        connection.lastOutputProgressSeconds = Self.nowSeconds()
        return true
    }

    /// Re-arms the socket for what it waits on next, or closes it.
    private func finishTurn(_ connection: ClientConnection, peerGone: Bool) {
        // A shutdown that began during this turn: the connection ends once these replies are out,
        // rather than staying open until the grace period runs out.
        if lock.withLock({ shutdownRequested }) { connection.closeWhenFlushed = true }
        let done = connection.closeWhenFlushed && !connection.hasPending && connection.unsentBytes == 0
        if peerGone || done {
            lock.withLock { closeLocked(connection, reason: peerGone ? "peer_closed" : "closed_by_server") }
            return
        }
        var wanted = Socket.epollOneShot | Socket.epollRdHup
        if !connection.closeWhenFlushed && !isBacklogged(connection) { wanted |= Socket.epollIn }
        // Unsent output, or requests left for a later turn: come back when the socket can take more.
        if connection.unsentBytes > 0 || connection.hasPending { wanted |= Socket.epollOut }
        lock.withLock {
            connection.busy = false
            connection.lastActiveSeconds = Self.nowSeconds()
        }
        arm(connection, EPOLL_CTL_MOD, wanted)
    }

    // MARK: - Housekeeping, shutdown, closing

    /// Once a second one thread closes idle connections and drives a shutdown; true when this
    /// thread should exit.
    private func housekeeping() -> Bool {
        let now = Self.nowSeconds()
        lock.lock()
        defer { lock.unlock() }
        if shutdownRequested && drainDeadline == nil {
            drainDeadline = now + configuration.shutdownGraceSeconds
            Log.event("shutdown", ["connections": String(connections.count)])
            // New connections are refused from now on; a thread inside accept4 gets an error.
            listening = false
            try? control(EPOLL_CTL_DEL, listenFD, 0, tag: 0)
            _ = Glibc.shutdown(listenFD, Int32(SHUT_RDWR))
            for connection in connections.values where !connection.busy {
                if !connection.hasPending && connection.unsentBytes == 0 { closeLocked(connection, reason: "shutdown") }
            }
        }
        if now != lastSweepSeconds {
            lastSweepSeconds = now
            if acceptPaused {
                acceptPaused = false
                armListenerLocked()
            }
            let graceOver = drainDeadline.map { now >= $0 } ?? false
            for connection in Array(connections.values) where !connection.busy {
                let idle = !connection.hasPending && connection.unsentBytes == 0
                    // Whole seconds: `>` so that a connection used a moment ago is never taken for idle.
                    && now - connection.lastActiveSeconds > configuration.idleTimeoutSeconds
                // A client that reads none of its replies would hold them, and its requests, for ever.
                let stalled = connection.unsentBytes > 0 && now - connection.lastOutputProgressSeconds > configuration.outputStallSeconds
                if graceOver { closeLocked(connection, reason: "shutdown_grace_expired") }
                else if idle { closeLocked(connection, reason: "idle_timeout") }
                else if stalled { closeLocked(connection, reason: "output_stalled") }
            }
        }
        guard let deadline = drainDeadline else { return false }
        return connections.isEmpty || now >= deadline + 1
    }

    private func closeLocked(_ connection: ClientConnection, reason: String) {
        guard !connection.closed else { return }
        connection.closed = true
        connection.busy = false
        // Closing the descriptor also removes it from the epoll set.
        close(connection.fd)
        connections[connection.fd] = nil
        services.metrics.disconnected()
        services.clients.disconnected(id: connection.id)
        Log.event("disconnect", ["client": String(connection.id), "peer": connection.peer, "reason": reason,
                                 "batch_discarded": connection.session.batch == nil ? "no" : "yes"])
    }

    private func control(_ operation: Int32, _ fd: Int32, _ events: UInt32, tag: UInt64) throws(SocketError) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = tag
        try Socket.call("epoll_ctl") { epoll_ctl(epollFD, operation, fd, &event) }
    }

    static func nowSeconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec
    }
}
