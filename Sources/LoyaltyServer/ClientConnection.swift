import Glibc
import LineProtocol

/// One client socket. At most one thread serves it at a time (EPOLLONESHOT plus `busy`), so its
/// decoder, pending requests, session and output need no lock; `busy`, `closed` and the
/// lifecycle flags are read by housekeeping under `Server.lock`.
final class ClientConnection: @unchecked Sendable {
    let id: Int
    let fd: Int32
    let peer: String
    var decoder: RequestDecoder
    var pending: [PendingWork] = []
    var pendingHead = 0
    var output: [UInt8] = []
    var outputSent = 0
    var session: Session
    /// A thread is serving it (server lock).
    var busy = false
    /// Gone from the server (server lock).
    var closed = false
    /// Close once what is pending is answered and flushed (QUIT, protocol error, end of input, shutdown).
    var closeWhenFlushed = false
    var lastActiveSeconds: Int

    init(id: Int, fd: Int32, peer: String, limits: ProtocolLimits, now: Int) {
        self.id = id
        self.fd = fd
        self.peer = peer
        self.decoder = RequestDecoder(limits: limits)
        self.session = Session(clientID: id)
        self.lastActiveSeconds = now
    }

    var unsentBytes: Int { output.count - outputSent }
    var hasPending: Bool { pendingHead < pending.count }

    /// The epoll tag: the connection id beside the fd, so an event for a closed socket whose
    /// number was reused is recognised and ignored.
    var tag: UInt64 { UInt64(UInt32(truncatingIfNeeded: id)) << 32 | UInt64(UInt32(bitPattern: fd)) }
}

/// What waits to be run for a client, in arrival order.
enum PendingWork {
    case request(Request)
    /// The framing broke: this error is the last reply, then the connection closes.
    case protocolError(Reply)
}
