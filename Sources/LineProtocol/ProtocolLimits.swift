/// Named, configurable bounds on what one client may make the decoder hold.
///
/// Every limit is checked before the memory it guards is spent: a bulk header announcing more
/// than `maxBulkBytes` is rejected before its payload arrives, an inline line is rejected as soon
/// as the bytes buffered for it exceed `maxInlineLineBytes`. Violations are `ProtocolError`s of
/// kind `.limit`.
public struct ProtocolLimits: Sendable, Equatable {
    /// Longest inline line, without its `\n` or `\r\n` terminator.
    public var maxInlineLineBytes: Int
    /// Longest single bulk string argument (the `$len` of a RESP request).
    public var maxBulkBytes: Int
    /// Most arguments in one request (the multibulk count `*N`, or the words of an inline line).
    public var maxArguments: Int
    /// Most bytes one request may take on the wire, headers and terminators included; this is
    /// what the decoder may have to hold for one incomplete request.
    public var maxBufferedBytes: Int

    /// Every limit must be positive, and an inline line with its terminator must fit in
    /// `maxBufferedBytes`, so that `maxBufferedBytes` bounds every incomplete request.
    public init(
        maxInlineLineBytes: Int = 64 * 1024,
        maxBulkBytes: Int = 1 * 1024 * 1024,
        maxArguments: Int = 1024,
        maxBufferedBytes: Int = 4 * 1024 * 1024
    ) {
        self.maxInlineLineBytes = maxInlineLineBytes
        self.maxBulkBytes = maxBulkBytes
        self.maxArguments = maxArguments
        self.maxBufferedBytes = maxBufferedBytes
        assertValid()
    }

    /// Checked again by `RequestDecoder.init`, since the fields are mutable after `init`.
    func assertValid() {
        precondition(maxInlineLineBytes > 0, "maxInlineLineBytes must be positive")
        precondition(maxBulkBytes > 0, "maxBulkBytes must be positive")
        precondition(maxArguments > 0, "maxArguments must be positive")
        precondition(
            maxInlineLineBytes <= maxBufferedBytes - 2,
            "an inline line and its CRLF must fit in maxBufferedBytes"
        )
    }

    /// 64 KiB inline lines, 1 MiB bulk strings, 1024 arguments, 4 MiB per request.
    public static let `default` = ProtocolLimits()
}
