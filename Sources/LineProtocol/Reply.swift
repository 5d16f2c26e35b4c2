/// The reply protocol a connection speaks: RESP2 until a client asks for RESP3 with `HELLO 3`.
public enum ProtocolVersion: Int, Sendable {
    case resp2 = 2, resp3 = 3
}

/// A reply, encoded exactly as Redis would send it in RESP2 or RESP3. The RESP3-only kinds
/// (`map`, `verbatim`) fall back to what Redis sends a RESP2 client, so a handler builds one
/// reply and the connection's protocol decides its bytes.
public enum Reply: Sendable, Equatable {
    /// `+text` — status replies such as `+OK`, `+PONG`, `+QUEUED`.
    case simple(String)
    /// `-CODE message` — `code` is the first word clients switch on (`ERR`, `INVALID`, ...).
    case error(code: String, message: String)
    /// `:n`
    case integer(Int64)
    /// `$len` and the bytes; binary safe.
    case bulk([UInt8])
    /// An absent value: `$-1` (the null bulk string) in RESP2, `_` in RESP3.
    case null
    /// `*n` followed by `n` replies.
    case array([Reply])
    /// Named fields: `%n` and key/value pairs in RESP3; in RESP2 the flat `*2n` array of
    /// bulk-string keys and values that Redis sends for `HGETALL`.
    case map([Field])
    /// Text meant for people (INFO): `=n` with the `txt:` format in RESP3, a bulk string in RESP2.
    case verbatim(String)
    /// A reply already in wire form, written with `RESPWriter`: for large replies (a statement of
    /// a thousand entries), which would cost an allocation per value as a tree of `Reply`.
    case encoded([UInt8])

    /// A bulk reply holding the UTF-8 bytes of `string`.
    public static func bulk(_ string: String) -> Reply { .bulk(Array(string.utf8)) }

    /// `+OK`
    public static let ok = Reply.simple("OK")

    /// One entry of a `map`.
    public struct Field: Sendable, Equatable {
        public let key: String
        public let value: Reply
        public init(_ key: String, _ value: Reply) {
            self.key = key
            self.value = value
        }
    }

    /// Appends the wire form to `buffer`, so a session can batch pipelined replies in one write.
    ///
    /// Simple strings and errors are single lines: CR and LF at their ends are trimmed and
    /// any inside become spaces, as Redis does, so a message can never break the framing.
    public func encode(into buffer: inout [UInt8], protocol version: ProtocolVersion = .resp2) {
        switch self {
        case .simple(let text):
            buffer.append(UInt8(ascii: "+"))
            appendSingleLine(text, to: &buffer)
            appendCRLF(to: &buffer)
        case .error(let code, let message):
            buffer.append(UInt8(ascii: "-"))
            appendSingleLine(code, to: &buffer)
            if !message.isEmpty {
                buffer.append(UInt8(ascii: " "))
                appendSingleLine(message, to: &buffer)
            }
            appendCRLF(to: &buffer)
        case .integer(let value):
            RESPWriter.integer(value, into: &buffer)
        case .bulk(let bytes):
            RESPWriter.bulk(bytes, into: &buffer)
        case .null where version == .resp3:
            buffer.append(UInt8(ascii: "_"))
            appendCRLF(to: &buffer)
        case .null:
            appendHeader(ASCII.dollar, -1, to: &buffer)
        case .array(let elements):
            RESPWriter.arrayHeader(elements.count, into: &buffer)
            for element in elements { element.encode(into: &buffer, protocol: version) }
        case .map(let fields):
            if version == .resp3 {
                appendHeader(UInt8(ascii: "%"), Int64(fields.count), to: &buffer)
            } else {
                RESPWriter.arrayHeader(2 * fields.count, into: &buffer)
            }
            for field in fields {
                RESPWriter.bulk(field.key.utf8, into: &buffer)
                field.value.encode(into: &buffer, protocol: version)
            }
        case .verbatim(let text) where version == .resp3:
            let utf8 = text.utf8
            appendHeader(UInt8(ascii: "="), Int64(4 + utf8.count), to: &buffer)
            buffer.append(contentsOf: "txt:".utf8)
            buffer.append(contentsOf: utf8)
            appendCRLF(to: &buffer)
        case .verbatim(let text):
            RESPWriter.bulk(text.utf8, into: &buffer)
        case .encoded(let bytes) where buffer.isEmpty && bytes.count > buffer.capacity:
            // Shared rather than copied into a buffer that would have to grow for it anyway.
            buffer = bytes
        case .encoded(let bytes):
            buffer.append(contentsOf: bytes)
        }
    }

    /// The RESP2 wire form as a new array.
    public var encoded: [UInt8] { encoded(.resp2) }

    /// The wire form in `version` as a new array.
    public func encoded(_ version: ProtocolVersion) -> [UInt8] {
        var buffer: [UInt8] = []
        encode(into: &buffer, protocol: version)
        return buffer
    }
}

/// Writes arrays, integers and bulk strings (the same bytes in RESP2 and RESP3) straight into a
/// byte buffer: what `Reply` encodes, without building the tree first. The caller keeps the shape
/// right (an array header, then that many values).
public struct RESPWriter: Sendable {
    /// The bytes written, then zeros: room is made ahead, so that a value is written with plain
    /// stores rather than an append (and its uniqueness and capacity checks) per byte.
    private var storage: [UInt8]
    private var count = 0

    public init(reservingCapacity capacity: Int = 0) { storage = Array(repeating: 0, count: capacity) }

    /// What was written so far.
    public var bytes: ArraySlice<UInt8> { storage[..<count] }

    /// What was written, as a reply; the buffer is handed over, not copied.
    public consuming func reply() -> Reply {
        storage.removeSubrange(count...)
        return .encoded(storage)
    }

    /// `*n`: the next `count` values are the array's elements.
    public mutating func arrayHeader(_ count: Int) { writeHeader(ASCII.asterisk, Int64(count)) }
    public mutating func integer(_ value: Int64) { writeHeader(ASCII.colon, value) }
    /// A bulk string of the UTF-8 bytes of `text`.
    public mutating func bulk(_ text: String) {
        var text = text
        text.withUTF8 { bulk($0) }
    }

    /// A bulk string of `value`, e.g. a database value where libpq holds it.
    public mutating func bulk(_ value: UnsafeBufferPointer<UInt8>) {
        write(atMost: Self.headerBytesMax + value.count + 2) { start in
            let headerCount = Self.header(ASCII.dollar, Int64(value.count), at: start)
            return headerCount + Self.line(value, at: start + headerCount)
        }
    }

    private mutating func writeHeader(_ marker: UInt8, _ value: Int64) {
        write(atMost: Self.headerBytesMax) { Self.header(marker, value, at: $0) }
    }

    /// A marker, a sign and 19 digits, CRLF: the longest header.
    static let headerBytesMax = 23

    /// Writes `marker`, `value` in decimal and CRLF at `start`; returns how many bytes it wrote.
    static func header(_ marker: UInt8, _ value: Int64, at start: UnsafeMutablePointer<UInt8>) -> Int {
        start[0] = marker
        var end = 1
        if value < 0 {
            start[end] = ASCII.minus
            end += 1
        }
        var magnitude = value.magnitude
        var probe = magnitude
        while probe >= 10 {
            end += 1
            probe /= 10
        }
        end += 1
        // Least significant digit last, written first.
        var index = end
        repeat {
            index -= 1
            start[index] = ASCII.zero + UInt8(magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        start[end] = ASCII.cr
        start[end + 1] = ASCII.lf
        return end + 2
    }

    /// Writes `bytes` and CRLF at `start`; returns how many bytes it wrote.
    private static func line(_ bytes: UnsafeBufferPointer<UInt8>, at start: UnsafeMutablePointer<UInt8>) -> Int {
        if let base = bytes.baseAddress { start.update(from: base, count: bytes.count) }
        start[bytes.count] = ASCII.cr
        start[bytes.count + 1] = ASCII.lf
        return bytes.count + 2
    }

    /// Makes room for `size` bytes (doubling, so growth stays amortized), then lets `body` write
    /// at most that many at the end and return how many it wrote.
    private mutating func write(atMost size: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        if storage.count - count < size {
            storage.append(contentsOf: repeatElement(0, count: max(size, storage.count)))
        }
        let start = count
        count += storage.withUnsafeMutableBufferPointer { body($0.baseAddress! + start) }
    }

    static func arrayHeader(_ count: Int, into buffer: inout [UInt8]) { appendHeader(ASCII.asterisk, Int64(count), to: &buffer) }
    static func integer(_ value: Int64, into buffer: inout [UInt8]) { appendHeader(ASCII.colon, value, to: &buffer) }
    static func bulk<Bytes: Collection<UInt8>>(_ bytes: Bytes, into buffer: inout [UInt8]) {
        appendHeader(ASCII.dollar, Int64(bytes.count), to: &buffer)
        buffer.append(contentsOf: bytes)
        appendCRLF(to: &buffer)
    }
}

/// Two appends: cheaper than appending a two-byte array, and this ends every value.
private func appendCRLF(to buffer: inout [UInt8]) {
    buffer.append(ASCII.cr)
    buffer.append(ASCII.lf)
}

/// Built on the stack and appended at once.
private func appendHeader(_ marker: UInt8, _ value: Int64, to buffer: inout [UInt8]) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: RESPWriter.headerBytesMax) { scratch in
        let count = RESPWriter.header(marker, value, at: scratch.baseAddress!)
        buffer.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[..<count]))
    }
}

/// Appends `text` with CR and LF trimmed from its ends and turned into spaces inside.
private func appendSingleLine(_ text: String, to buffer: inout [UInt8]) {
    let isLineBreak = { (byte: UInt8) in byte == ASCII.cr || byte == ASCII.lf }
    let utf8 = text.utf8
    if utf8.contains(where: isLineBreak) {
        let start = utf8.firstIndex { !isLineBreak($0) } ?? utf8.endIndex
        let end = utf8.lastIndex { !isLineBreak($0) }.map(utf8.index(after:)) ?? start
        buffer.append(contentsOf: utf8[start..<end].map { isLineBreak($0) ? 0x20 : $0 })
    } else {
        buffer.append(contentsOf: utf8)
    }
}
