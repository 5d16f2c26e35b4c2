import Foundation
import Glibc

/// A loopback TCP forwarder a test can cut and restore, to take PostgreSQL away from loyaltyd
/// and give it back without touching the shared PostgreSQL server.
final class TCPProxy: @unchecked Sendable {
    let port: UInt16
    private let targetPort: UInt16
    private let listenFD: Int32
    private let lock = NSLock()
    private var sockets: [Int32] = []
    private var stopped = false
    /// Signalled once the listening socket is closed and its port free for another proxy.
    private let listenerClosed = DispatchSemaphore(value: 0)

    /// Listens on `port` (0: any free port) and forwards every connection to `targetPort`.
    init(targetPort: UInt16, port requested: UInt16 = 0) throws {
        self.targetPort = targetPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(requested)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw UnexpectedReply("proxy cannot listen on port \(requested): errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        listenFD = fd
        port = UInt16(bigEndian: address.sin_port)
        Thread { [self] in acceptLoop() }.start()
    }

    /// Refuses new connections and cuts every forwarded one, as a crashed database host would.
    /// Call it before dropping the proxy: its threads keep it alive until then.
    func stop() {
        let first: Bool = lock.withLock {
            defer { stopped = true }
            // shutdown() wakes the threads blocked in accept() and read(); they close their own descriptors.
            Glibc.shutdown(listenFD, Int32(SHUT_RDWR))
            for fd in sockets { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
            return !stopped
        }
        if first { listenerClosed.wait() }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listenFD, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                close(listenFD)
                listenerClosed.signal()
                return
            }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(targetPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            let accepted: Bool = lock.withLock {
                guard !stopped, connected == 0 else { return false }
                sockets += [client, upstream]
                return true
            }
            guard accepted else {
                close(client)
                close(upstream)
                continue
            }
            Thread { [self] in pump(from: client, to: upstream) }.start()
            Thread { [self] in pump(from: upstream, to: client) }.start()
        }
    }

    private func pump(from source: Int32, to target: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = read(source, &buffer, buffer.count)
            guard count > 0 else { break }
            var offset = 0
            while offset < count {
                let sent = buffer[offset..<count].withUnsafeBytes { send(target, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard sent > 0 else { break }
                offset += sent
            }
            if offset < count { break }
        }
        // Either side ending ends both; the last of the two pumps closes the descriptors.
        lock.withLock {
            Glibc.shutdown(source, Int32(SHUT_RDWR))
            Glibc.shutdown(target, Int32(SHUT_RDWR))
            if sockets.contains(source) {
                sockets.removeAll { $0 == source || $0 == target }
            } else {
                close(source)
                close(target)
            }
        }
    }

    private static func loopback(_ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
