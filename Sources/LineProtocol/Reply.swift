/// A RESP2 reply, encoded exactly as Redis would send it.
public enum Reply: Sendable, Equatable {
    /// `+text` — status replies such as `+OK`, `+PONG`, `+QUEUED`.
    case simple(String)
    /// `-CODE message` — `code` is the first word clients switch on (`ERR`, `INVALID`, ...).
    case error(code: String, message: String)
    /// `:n`
    case integer(Int64)
    /// `$len` and the bytes; binary safe.
    case bulk([UInt8])
    /// `$-1` — the null bulk string, for absent values.
    case null
    /// `*n` followed by `n` replies.
    case array([Reply])

    /// A bulk reply holding the UTF-8 bytes of `string`.
    public static func bulk(_ string: String) -> Reply { .bulk(Array(string.utf8)) }

    /// `+OK`
    public static let ok = Reply.simple("OK")

    /// Appends the wire form to `buffer`, so a session can batch pipelined replies in one write.
    ///
    /// Simple strings and errors are single lines: CR and LF at their ends are trimmed and
    /// any inside become spaces, as Redis does, so a message can never break the framing.
    public func encode(into buffer: inout [UInt8]) {
        switch self {
        case .simple(let text):
            buffer.append(UInt8(ascii: "+"))
            appendSingleLine(text, to: &buffer)
            buffer.append(contentsOf: crlf)
        case .error(let code, let message):
            buffer.append(UInt8(ascii: "-"))
            appendSingleLine(code, to: &buffer)
            if !message.isEmpty {
                buffer.append(UInt8(ascii: " "))
                appendSingleLine(message, to: &buffer)
            }
            buffer.append(contentsOf: crlf)
        case .integer(let value):
            appendHeader(UInt8(ascii: ":"), value, to: &buffer)
        case .bulk(let bytes):
            appendHeader(ASCII.dollar, Int64(bytes.count), to: &buffer)
            buffer.append(contentsOf: bytes)
            buffer.append(contentsOf: crlf)
        case .null:
            appendHeader(ASCII.dollar, -1, to: &buffer)
        case .array(let elements):
            appendHeader(ASCII.asterisk, Int64(elements.count), to: &buffer)
            for element in elements { element.encode(into: &buffer) }
        }
    }

    /// The wire form as a new array.
    public var encoded: [UInt8] {
        var buffer: [UInt8] = []
        encode(into: &buffer)
        return buffer
    }
}

private let crlf: [UInt8] = [ASCII.cr, ASCII.lf]

private func appendHeader(_ marker: UInt8, _ value: Int64, to buffer: inout [UInt8]) {
    buffer.append(marker)
    appendDecimal(value, to: &buffer)
    buffer.append(contentsOf: crlf)
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
