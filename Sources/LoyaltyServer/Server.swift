import Foundation
import CLinux
import Glibc
import LineProtocol
import LoyaltyCore
import LoyaltyStore
import Postgres

/// The network server: one I/O thread moves bytes (epoll), a fixed pool of worker threads runs
/// commands against PostgreSQL. A connection is served by at most one worker at a time, so its
/// replies leave in request order; workers take connections round-robin, so one busy pipeline
/// cannot starve the others. No thread is created per request or per connection.
public final class Server: @unchecked Sendable {
    public let configuration: ServerConfiguration
    let services: Services
    /// Guards every connection's shared fields, the work queue and the lifecycle flags.
    private let state = NSCondition()
    private var connections: [Int32: ClientConnection] = [:]
    private var workQueue: [ClientConnection] = []
    private var workQueueHead = 0
    private var nextClientID = 1
    private var shutdownRequested = false
    private var workersStopping = false
    private var workersRunning = 0
    private let epollFD: Int32
    private var listenFD: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    /// The port actually bound (differs from the configuration's when that is 0).
    public let port: UInt16
    private static let readChunkBytes = 64 * 1024

    public init(configuration: ServerConfiguration) throws {
        self.configuration = configuration
        let pool = ConnectionPool(conninfo: configuration.databaseURL, maxConnections: configuration.databaseConnectionsMax,
                                  acquireTimeoutMilliseconds: configuration.databaseAcquireTimeoutMilliseconds)
        services = Services(store: LoyaltyStore(pool: pool, limits: configuration.storeLimits), metrics: Metrics(),
                            configuration: configuration)
        (listenFD, port) = try Socket.listen(host: configuration.host, port: configuration.port)
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        var fds: [Int32] = [0, 0]
        guard epollFD >= 0, pipe(&fds) == 0 else { throw SocketError(operation: "epoll/pipe", code: errno) }
        (wakeRead, wakeWrite) = (fds[0], fds[1])
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        register(listenFD, Socket.epollIn, op: EPOLL_CTL_ADD)
        register(wakeRead, Socket.epollIn, op: EPOLL_CTL_ADD)
    }

    /// Serves until `shutdown()`; then stops accepting, finishes what is in flight (up to the
    /// grace period), closes every connection and returns.
    public func run() {
        signal(SIGPIPE, SIG_IGN)
        Log.event("listening", ["host": configuration.host, "port": String(port), "workers": String(configuration.workerThreads),
                                "db_connections_max": String(configuration.databaseConnectionsMax)])
        do {
            // Loaded once up front so a missing program is reported at start, not on the first request.
            _ = try services.store.program()
        } catch {
            Log.error("program_unavailable", ["code": error.code.rawValue, "message": error.message])
        }
        startWorkers()
        eventLoop()
        stopWorkers()
        services.store.pool.close()
        Log.event("stopped")
    }

    /// Asks a running server to stop gracefully; safe from any thread.
    public func shutdown() {
        state.lock()
        shutdownRequested = true
        state.unlock()
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    // MARK: - I/O thread

    private func eventLoop() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.readChunkBytes, alignment: 16)
        defer { buffer.deallocate() }
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        var lastSweep = Self.nowSeconds()
        var drainDeadline: Int?
        while true {
            let count = epoll_wait(epollFD, &events, Int32(events.count), 1_000)
            if count < 0 && errno != EINTR {
                Log.error("epoll_wait", ["errno": String(errno)])
                break
            }
            for index in 0..<max(0, Int(count)) {
                let fd = events[index].data.fd
                let flags = events[index].events
                if fd == listenFD {
                    acceptAll()
                } else if fd == wakeRead {
                    var sink = [UInt8](repeating: 0, count: 64)
                    while read(wakeRead, &sink, sink.count) > 0 {}
                } else {
                    serviceSocket(fd, flags, buffer)
                }
            }
            let now = Self.nowSeconds()
            state.lock()
            if shutdownRequested && drainDeadline == nil {
                drainDeadline = now + configuration.shutdownGraceSeconds
                beginDrain()
            }
            if now != lastSweep {
                lastSweep = now
                closeIdle(now: now, force: drainDeadline.map { now >= $0 } ?? false)
            }
            let finished = drainDeadline != nil && connections.isEmpty
            state.unlock()
            if finished { break }
        }
    }

    private func acceptAll() {
        while let (fd, peer) = Socket.accept(listenFD) {
            state.lock()
            defer { state.unlock() }
            guard connections.count < configuration.connectionsMax, !shutdownRequested else {
                let refusal = Reply.error(code: "LIMIT", message: "too many connections (max \(configuration.connectionsMax))").encoded
                _ = refusal.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
                close(fd)
                services.metrics.rejected()
                Log.event("connection_refused", ["peer": peer, "reason": "connections_max"])
                continue
            }
            let connection = ClientConnection(id: nextClientID, fd: fd, peer: peer, limits: configuration.protocolLimits,
                                              now: Self.nowSeconds())
            nextClientID += 1
            connections[fd] = connection
            updateInterest(connection)
            services.metrics.connected()
            Log.event("connect", ["client": String(connection.id), "peer": peer])
        }
    }

    private func serviceSocket(_ fd: Int32, _ flags: UInt32, _ buffer: UnsafeMutableRawBufferPointer) {
        state.lock()
        defer { state.unlock() }
        guard let connection = connections[fd], !connection.closed else { return }
        if flags & Socket.epollOut != 0 { flush(connection) }
        if flags & (Socket.epollIn | Socket.epollHup | Socket.epollErr | Socket.epollRdHup) != 0 {
            readAvailable(connection, buffer)
        }
    }

    /// Reads what the socket has (a bounded number of chunks, for fairness) and decodes it into pending work.
    private func readAvailable(_ connection: ClientConnection, _ buffer: UnsafeMutableRawBufferPointer) {
        for _ in 0..<4 where !connection.peerGone && !connection.closeWhenFlushed {
            let count = read(connection.fd, buffer.baseAddress, buffer.count)
            if count == 0 {
                // End of input (the client may have only half-closed, as `nc -N` does): answer what
                // it sent, then close.
                connection.closeWhenFlushed = true
                break
            }
            if count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                peerGone(connection)
                return
            }
            guard count > 0 else { break }
            connection.lastActiveSeconds = Self.nowSeconds()
            connection.decoder.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            do {
                while let request = try connection.decoder.next() { connection.pending.append(.request(request)) }
            } catch {
                Log.error("protocol_error", ["client": String(connection.id), "message": error.message])
                connection.pending.append(.protocolError(error.reply))
                connection.closeWhenFlushed = true
            }
            if connection.pending.count >= configuration.pipelinedRequestsMax { break }
        }
        if !connection.pending.isEmpty && !connection.scheduled { schedule(connection) }
        closeIfDone(connection)
        if !connection.closed { updateInterest(connection) }
    }

    private func beginDrain() {
        Log.event("shutdown", ["connections": String(connections.count)])
        register(listenFD, 0, op: EPOLL_CTL_DEL)
        close(listenFD)
        listenFD = -1
        for connection in connections.values {
            connection.closeWhenFlushed = true
            closeIfDone(connection)
            if !connection.closed { updateInterest(connection) }
        }
    }

    private func closeIdle(now: Int, force: Bool) {
        for connection in Array(connections.values) {
            if force {
                closeNow(connection, reason: "shutdown_grace_expired")
            } else if !connection.scheduled && connection.pending.isEmpty && connection.unsentBytes == 0
                        && now - connection.lastActiveSeconds >= configuration.idleTimeoutSeconds {
                closeNow(connection, reason: "idle_timeout")
            }
        }
    }

    // MARK: - Workers

    private func startWorkers() {
        state.lock()
        workersRunning = configuration.workerThreads
        state.unlock()
        for index in 0..<configuration.workerThreads {
            let thread = Thread { [self] in workerLoop() }
            thread.name = "loyaltyd-worker-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func stopWorkers() {
        state.lock()
        workersStopping = true
        state.broadcast()
        while workersRunning > 0 { state.wait() }
        state.unlock()
    }

    private func workerLoop() {
        state.lock()
        while true {
            while workQueueHead == workQueue.count && !workersStopping { state.wait() }
            if workQueueHead == workQueue.count { break }
            let connection = workQueue[workQueueHead]
            workQueueHead += 1
            if workQueueHead > 1_024 && workQueueHead * 2 > workQueue.count {
                workQueue.removeFirst(workQueueHead)
                workQueueHead = 0
            }
            let work = connection.pending
            connection.pending.removeAll(keepingCapacity: true)
            state.unlock()
            let (output, stop) = run(work, on: connection)
            state.lock()
            finish(connection, output: output, stop: stop)
        }
        workersRunning -= 1
        state.broadcast()
        state.unlock()
    }

    /// Runs a connection's pending requests in order, outside the lock.
    private func run(_ work: [PendingWork], on connection: ClientConnection) -> ([UInt8], Bool) {
        var output: [UInt8] = []
        for item in work {
            switch item {
            case .request(let request):
                let reply = dispatch(request, session: &connection.session, services: services)
                if case .error(let code, let message) = reply {
                    Log.error("command_error", ["client": String(connection.id), "command": String(request.commandName.prefix(32)),
                                                "code": code, "message": message])
                }
                reply.encode(into: &output)
                if connection.session.closeAfterReply { return (output, true) }
            case .protocolError(let reply):
                reply.encode(into: &output)
                return (output, true)
            }
        }
        return (output, false)
    }

    /// Back under the lock: hand the replies to the socket, then requeue, release or close.
    private func finish(_ connection: ClientConnection, output: [UInt8], stop: Bool) {
        if connection.closed { return }
        if stop {
            connection.closeWhenFlushed = true
            connection.pending.removeAll()
        }
        if connection.peerGone {
            connection.scheduled = false
            closeNow(connection, reason: "peer_closed")
            return
        }
        connection.output.append(contentsOf: output)
        connection.lastActiveSeconds = Self.nowSeconds()
        flush(connection)
        if connection.closed { return }
        if connection.pending.isEmpty {
            connection.scheduled = false
            closeIfDone(connection)
        } else {
            workQueue.append(connection)
            state.signal()
        }
        if !connection.closed { updateInterest(connection) }
    }

    private func schedule(_ connection: ClientConnection) {
        connection.scheduled = true
        workQueue.append(connection)
        state.signal()
    }

    // MARK: - Socket state (all under the lock)

    /// Writes what the socket takes now; the rest waits for EPOLLOUT.
    private func flush(_ connection: ClientConnection) {
        while connection.unsentBytes > 0 {
            let sent = connection.output.withUnsafeBytes { bytes in
                send(connection.fd, bytes.baseAddress! + connection.outputSent, connection.unsentBytes,
                     Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if sent > 0 {
                connection.outputSent += sent
            } else if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                break
            } else if !(sent < 0 && errno == EINTR) {
                peerGone(connection)
                return
            }
        }
        if connection.unsentBytes == 0 {
            connection.output.removeAll(keepingCapacity: connection.output.capacity <= 64 * 1024)
            connection.outputSent = 0
            closeIfDone(connection)
        }
        if !connection.closed { updateInterest(connection) }
    }

    private func closeIfDone(_ connection: ClientConnection) {
        if connection.closeWhenFlushed && !connection.scheduled && connection.pending.isEmpty && connection.unsentBytes == 0 {
            closeNow(connection, reason: "closed_by_server")
        }
    }

    private func peerGone(_ connection: ClientConnection) {
        connection.peerGone = true
        updateInterest(connection)
        if !connection.scheduled { closeNow(connection, reason: "peer_closed") }
    }

    private func closeNow(_ connection: ClientConnection, reason: String) {
        guard !connection.closed else { return }
        connection.closed = true
        if connection.registeredEvents != 0 { register(connection.fd, 0, op: EPOLL_CTL_DEL) }
        close(connection.fd)
        connections[connection.fd] = nil
        services.metrics.disconnected()
        Log.event("disconnect", ["client": String(connection.id), "peer": connection.peer, "reason": reason,
                                 "open_batch": connection.session.batch == nil || connection.scheduled ? "no" : "discarded"])
    }

    /// Reading stops while a client has too much queued or unsent, and once its input ended or it
    /// must close; writing is watched while output waits. A socket with nothing to watch leaves the
    /// epoll set, so a hung-up peer cannot spin the loop while a worker finishes its requests.
    private func updateInterest(_ connection: ClientConnection) {
        let backlogged = connection.pending.count >= configuration.pipelinedRequestsMax
            || connection.unsentBytes >= configuration.outputBufferedBytesMax
        var wanted: UInt32 = 0
        if !connection.peerGone {
            if !backlogged && !connection.closeWhenFlushed { wanted |= Socket.epollIn | Socket.epollRdHup }
            if connection.unsentBytes > 0 { wanted |= Socket.epollOut }
        }
        let registered = connection.registeredEvents
        guard wanted != registered else { return }
        register(connection.fd, wanted, op: registered == 0 ? EPOLL_CTL_ADD : wanted == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD)
        connection.registeredEvents = wanted
    }

    private func register(_ fd: Int32, _ events: UInt32, op: Int32) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        _ = epoll_ctl(epollFD, op, fd, &event)
    }

    static func nowSeconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec
    }
}
