import Glibc
import LineProtocol

/// What waits to be run for a client, in arrival order.
enum PendingWork {
    case request(Request)
    /// The framing broke: this error is the last reply, then the connection closes.
    case protocolError(Reply)
}

/// One client socket. Fields marked "server lock" are touched by the I/O thread and workers
/// under `Server.lock`; `session` belongs to whichever single worker is serving the connection.
final class ClientConnection: @unchecked Sendable {
    let id: Int
    let fd: Int32
    let peer: String
    // server lock
    var decoder: RequestDecoder
    var pending: [PendingWork] = []
    var output: [UInt8] = []
    var outputSent = 0
    /// Queued for or held by a worker; a connection is served by one worker at a time, so replies stay in order.
    var scheduled = false
    /// Close once the output is flushed (QUIT, protocol error, shutdown).
    var closeWhenFlushed = false
    /// The peer is gone: drop everything once no worker holds the connection.
    var peerGone = false
    var closed = false
    /// Events epoll watches for this socket; 0 while it is out of the epoll set.
    var registeredEvents: UInt32 = 0
    var lastActiveSeconds: Int
    // the serving worker only
    var session: Session

    init(id: Int, fd: Int32, peer: String, limits: ProtocolLimits, now: Int) {
        self.id = id
        self.fd = fd
        self.peer = peer
        self.decoder = RequestDecoder(limits: limits)
        self.session = Session(clientID: id)
        self.lastActiveSeconds = now
    }

    var unsentBytes: Int { output.count - outputSent }
}
