import CLinux
import Glibc

/// Thin wrappers over the socket calls the event loop needs; errno becomes a thrown error.
struct SocketError: Error, CustomStringConvertible {
    var operation: String
    var code: Int32
    var description: String { "\(operation): \(String(cString: strerror(code)))" }
    /// The call would have had to wait (EAGAIN): not a failure on a non-blocking socket.
    var wouldBlock: Bool { code == EAGAIN || code == EWOULDBLOCK }
}

enum Socket {
    static let epollIn: UInt32 = 0x001
    static let epollOut: UInt32 = 0x004
    static let epollErr: UInt32 = 0x008
    static let epollHup: UInt32 = 0x010
    static let epollRdHup: UInt32 = 0x2000
    static let epollOneShot: UInt32 = 1 << 30

    /// Every system call of the server goes through here: retried when a signal interrupted
    /// it, and a failure thrown with its errno instead of a -1 to remember to check.
    @discardableResult
    static func call<Result: BinaryInteger>(_ operation: @autoclosure () -> String,
                                            _ body: () -> Result) throws(SocketError) -> Result {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = errno
            if code != EINTR { throw SocketError(operation: operation(), code: code) }
        }
    }

    /// A non-blocking listening socket on host:port (port 0 picks a free one); returns it and the bound port.
    static func listen(host: String, port: UInt16, backlog: Int32 = 1_024) throws -> (fd: Int32, port: UInt16) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let info = list else {
            throw SocketError(operation: "resolve \(host): \(String(cString: gai_strerror(status)))", code: 0)
        }
        defer { freeaddrinfo(list) }
        let fd = try call("socket") {
            socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        do {
            var on: Int32 = 1
            try call("setsockopt SO_REUSEADDR") { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size)) }
            try call("bind \(host):\(port)") { bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) }
            try call("listen") { Glibc.listen(fd, backlog) }
            try withUnsafeMutablePointer(to: &address) { (pointer) throws(SocketError) in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (socketAddress) throws(SocketError) in
                    _ = try call("getsockname") { getsockname(fd, socketAddress, &length) }
                }
            }
        } catch {
            close(fd)
            throw error
        }
        return (fd, boundPort(address))
    }

    /// Accepts one pending connection, already non-blocking and close-on-exec (accept4), with
    /// Nagle off (replies are small and must leave at once). Nil when none is waiting; a
    /// connection whose option cannot be set is closed and thrown about.
    static func accept(_ listener: Int32) throws(SocketError) -> (fd: Int32, peer: String)? {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd: Int32
        do {
            fd = try withUnsafeMutablePointer(to: &address) { (pointer) throws(SocketError) in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (socketAddress) throws(SocketError) in
                    try call("accept4") {
                        accept4(listener, socketAddress, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                    }
                }
            }
        } catch where error.wouldBlock {
            return nil
        }
        do {
            var on: Int32 = 1
            try call("setsockopt TCP_NODELAY") { setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size)) }
        } catch {
            close(fd)
            throw error
        }
        return (fd, describe(address))
    }

    /// Raises the soft limit on open descriptors toward `wanted`, never past the hard limit, and
    /// returns the limit in force. A common soft default of 1,024 would otherwise cap the clients
    /// far below `connectionsMax`, whatever the hard limit allows.
    static func raiseOpenFilesLimit(to wanted: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < rlim_t(wanted) {
            var raised = limit
            raised.rlim_cur = min(rlim_t(wanted), limit.rlim_max)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    private static func boundPort(_ address: sockaddr_storage) -> UInt16 {
        var copy = address
        return withUnsafePointer(to: &copy) { pointer in
            if address.ss_family == sa_family_t(AF_INET6) {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    private static func describe(_ address: sockaddr_storage) -> String {
        var copy = address
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let status = withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, socklen_t(MemoryLayout<sockaddr_storage>.size), &host, socklen_t(host.count),
                            &service, socklen_t(service.count), NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard status == 0 else { return "unknown" }
        func text(_ chars: [CChar]) -> String { String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return text(host) + ":" + text(service)
    }
}
