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
    private(set) var pending: [PendingWork] = []
    private(set) var pendingHead = 0
    /// What the requests in `pending` hold: their argument bytes and 32 for each argument's storage.
    private(set) var pendingBytes = 0
    /// No more requests are decoded: a framing error is queued, or QUIT or an error ended the input.
    var decodingStopped = false
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
    /// When the client last took reply bytes (or had none waiting); a stall is measured from here.
    var lastOutputProgressSeconds: Int

    init(id: Int, fd: Int32, peer: String, limits: ProtocolLimits, now: Int) {
        self.id = id
        self.fd = fd
        self.peer = peer
        self.decoder = RequestDecoder(limits: limits)
        self.session = Session(clientID: id)
        self.lastActiveSeconds = now
        self.lastOutputProgressSeconds = now
    }

    var unsentBytes: Int { output.count - outputSent }
    var hasPending: Bool { pendingHead < pending.count }
    var pendingCount: Int { pending.count - pendingHead }

    func enqueue(_ work: PendingWork) {
        pending.append(work)
        pendingBytes += work.heldBytes
    }

    /// The next pending work, in arrival order; the caller checked `hasPending`.
    func takeNext() -> PendingWork {
        let work = pending[pendingHead]
        pendingHead += 1
        pendingBytes -= work.heldBytes
        if !hasPending {
            pending.removeAll(keepingCapacity: pending.capacity <= 1_024)
            pendingHead = 0
        }
        return work
    }

    /// Drops the answered requests from the front, so that a client that keeps its pipeline full
    /// does not keep them until it stops sending.
    func compactPending() {
        pending.removeFirst(pendingHead)
        pendingHead = 0
    }

    func dropPending() {
        pending.removeAll()
        pendingHead = 0
        pendingBytes = 0
    }

    /// The epoll tag: the connection id beside the fd, so an event for a closed socket whose
    /// number was reused is recognised and ignored.
    var tag: UInt64 { UInt64(UInt32(truncatingIfNeeded: id)) << 32 | UInt64(UInt32(bitPattern: fd)) }
}

/// What waits to be run for a client, in arrival order.
enum PendingWork {
    case request(Request)
    /// The framing broke: this error is the last reply, then the connection closes.
    case protocolError(Reply)

    var heldBytes: Int {
        guard case .request(let request) = self else { return 0 }
        return request.arguments.reduce(0) { $0 + $1.count + 32 }
    }
}
