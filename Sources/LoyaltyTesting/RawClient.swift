import Foundation
import Glibc

/// A decoded RESP2 or RESP3 reply, as a test wants to compare it. RESP3's verbatim text reads as
/// a bulk string (without its format) and its null as `null`.
public indirect enum RESPValue: Equatable, CustomStringConvertible, Sendable {
    case simple(String)
    case error(String)
    case integer(Int64)
    case bulk(String)
    case null
    case array([RESPValue])
    /// A RESP3 map, keys and values alternating.
    case map([RESPValue])

    public var description: String {
        switch self {
        case .simple(let s): return "+\(s)"
        case .error(let s): return "-\(s)"
        case .integer(let n): return ":\(n)"
        case .bulk(let s): return "\"\(s)\""
        case .null: return "(nil)"
        case .array(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .map(let items): return "{" + items.map(\.description).joined(separator: ", ") + "}"
        }
    }

    /// The error code (first word) of an error reply.
    public var errorCode: String? {
        if case .error(let text) = self { return text.split(separator: " ").first.map(String.init) }
        return nil
    }
}

extension RESPValue {
    /// A map reply, or a flat array of field/value pairs, as a dictionary keyed by field name.
    public var dictionary: [String: RESPValue]? {
        let items: [RESPValue]
        switch self {
        case .map(let pairs), .array(let pairs): items = pairs
        default: return nil
        }
        return Dictionary(stride(from: 0, to: items.count - 1, by: 2).map { (items[$0].text ?? "", items[$0 + 1]) }) { $1 }
    }

    /// The fields of an array reply; nil for any other reply.
    public var fields: [RESPValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// The text of a bulk or simple reply.
    public var text: String? {
        switch self {
        case .bulk(let s), .simple(let s): return s
        default: return nil
        }
    }

    /// The value of an integer reply.
    public var integer: Int64? {
        if case .integer(let n) = self { return n }
        return nil
    }
}

/// A plain TCP client that sends whatever bytes a test wants (inline lines as `nc` would, RESP,
/// garbage) and reads RESP replies back. Blocking, with a timeout.
public final class RawClient {
    private let fd: Int32
    private var buffer: [UInt8] = []
    public var timeoutSeconds: Int

    public init(port: UInt16, timeoutSeconds: Int = 10) throws {
        self.timeoutSeconds = timeoutSeconds
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            close(fd)
            throw TestEnvironmentMissing(description: "connect to port \(port): errno \(errno)")
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    public func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    public func send(_ text: String) { send(Array(text.utf8)) }

    /// Sends what the socket takes now of `bytes[offset...]` without waiting; how many bytes that was.
    public func sendAvailable(_ bytes: [UInt8], from offset: Int) -> Int {
        let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
        return max(0, sent)
    }

    /// Sends one command as a RESP array of bulk strings.
    public func sendCommand(_ words: [String]) {
        send(resp(words))
    }

    /// Sends a command and reads its reply.
    public func command(_ words: String...) throws -> RESPValue {
        try call(words)
    }

    /// Sends one command as RESP and reads its reply.
    public func call(_ words: [String]) throws -> RESPValue {
        sendCommand(words)
        return try readReply()
    }

    public func shutdownWrite() { Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// True once the server has closed the connection (reads EOF).
    public func isClosedByServer() -> Bool {
        while true {
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &chunk, chunk.count, 0)
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
            buffer += chunk[0..<count]
        }
    }

    public func readReply() throws -> RESPValue {
        let line = try readLine()
        guard let marker = line.first else { throw TestEnvironmentMissing(description: "empty reply line") }
        let rest = String(line.dropFirst())
        switch marker {
        case "+": return .simple(rest)
        case "-": return .error(rest)
        case ":": return .integer(Int64(rest) ?? 0)
        case "$":
            let length = Int(rest) ?? -1
            if length < 0 { return .null }
            let bytes = try readBytes(length + 2)
            return .bulk(String(decoding: bytes.dropLast(2), as: UTF8.self))
        case "*":
            let count = Int(rest) ?? -1
            if count < 0 { return .null }
            return .array(try (0..<count).map { _ in try readReply() })
        case "_": return .null
        case "=":
            let bytes = try readBytes((Int(rest) ?? 0) + 2)
            return .bulk(String(decoding: bytes.dropFirst(4).dropLast(2), as: UTF8.self))
        case "%":
            return .map(try (0..<2 * (Int(rest) ?? 0)).map { _ in try readReply() })
        default:
            throw TestEnvironmentMissing(description: "unexpected reply line \(line)")
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = recv(fd, &chunk, chunk.count, 0)
        guard count > 0 else { throw TestEnvironmentMissing(description: count == 0 ? "connection closed by server" : "read timed out") }
        buffer += chunk[0..<count]
    }

    private func readLine() throws -> String {
        while true {
            if let index = buffer.firstIndex(of: 10), index > 0, buffer[index - 1] == 13 {
                let line = String(decoding: buffer[0..<(index - 1)], as: UTF8.self)
                buffer.removeFirst(index + 1)
                return line
            }
            try fill()
        }
    }

    /// The next `count` bytes as they came, to compare a reply byte for byte.
    public func readBytes(_ count: Int) throws -> [UInt8] {
        while buffer.count < count { try fill() }
        let bytes = Array(buffer[0..<count])
        buffer.removeFirst(count)
        return bytes
    }
}

/// One command as a RESP array of bulk strings, as bytes (arguments may be any bytes).
public func resp(_ words: [[UInt8]]) -> [UInt8] {
    var bytes = Array("*\(words.count)\r\n".utf8)
    for word in words { bytes += Array("$\(word.count)\r\n".utf8) + word + [13, 10] }
    return bytes
}

public func resp(_ words: [String]) -> [UInt8] { resp(words.map { Array($0.utf8) }) }
