/// Why a client's byte stream cannot be decoded. Thrown, the connection cannot be resynchronised,
/// so the server replies once (see `reply`) and closes; carried by a `Request` (an inline line
/// with unbalanced quotes), only that request fails.
public struct ProtocolError: Error, Sendable, Equatable {
    /// Whether the client broke a size limit or the framing itself.
    public enum Kind: Sendable {
        /// A configured `ProtocolLimits` bound was exceeded.
        case limit
        /// The bytes are not RESP or a well-formed inline line.
        case syntax
    }

    public var kind: Kind
    /// Human readable, without the error code, e.g. "Protocol error: invalid bulk length".
    public var message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    /// The reply to send before closing: `-LIMIT ...` for limits, `-ERR ...` for syntax.
    public var reply: Reply {
        switch kind {
        case .limit: .error(code: "LIMIT", message: message)
        case .syntax: .error(code: "ERR", message: message)
        }
    }
}

extension ProtocolError {
    static let invalidMultibulkLength = syntax("invalid multibulk length")
    static let invalidBulkLength = syntax("invalid bulk length")
    static let missingBulkTerminator = syntax("expected CRLF after bulk payload")
    static let unbalancedQuotes = syntax("unbalanced quotes in request")

    static func expectedBulk(got byte: UInt8) -> ProtocolError {
        // Printable ASCII as itself, anything else as \xHH so the reply stays one clean line.
        let hexDigits = Array("0123456789abcdef")
        let shown = (0x21...0x7E).contains(byte)
            ? String(UnicodeScalar(byte))
            : "\\x\(hexDigits[Int(byte >> 4)])\(hexDigits[Int(byte & 0xF)])"
        return syntax("expected '$', got '\(shown)'")
    }

    static func lineTooLong(max: Int) -> ProtocolError {
        ProtocolError(kind: .limit, message: "line too long (max \(max) bytes)")
    }

    static func bulkTooLong(max: Int) -> ProtocolError {
        ProtocolError(kind: .limit, message: "bulk too long (max \(max) bytes)")
    }

    static func tooManyArguments(max: Int) -> ProtocolError {
        ProtocolError(kind: .limit, message: "too many arguments (max \(max))")
    }

    static func requestTooLarge(max: Int) -> ProtocolError {
        ProtocolError(kind: .limit, message: "request too large (max \(max) bytes)")
    }

    /// Framing errors carry Redis's "Protocol error: " prefix so Redis tooling recognises them.
    private static func syntax(_ detail: String) -> ProtocolError {
        ProtocolError(kind: .syntax, message: "Protocol error: " + detail)
    }
}
