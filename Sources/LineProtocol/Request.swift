/// One decoded client request: the command name and its arguments, as raw bytes.
public struct Request: Sendable, Equatable {
    /// Every word, command name first. Raw bytes because arguments may be binary or non-UTF-8.
    public var arguments: [[UInt8]]
    /// True if the request came as a typed inline line rather than a RESP array.
    public var isInline: Bool
    /// Set for an inline line whose words could not be split (unbalanced quotes): the line ended,
    /// so the stream is still in step; the request fails with this error and the connection goes on.
    public var malformation: ProtocolError?

    public init(arguments: [[UInt8]], isInline: Bool, malformation: ProtocolError? = nil) {
        self.arguments = arguments
        self.isInline = isInline
        self.malformation = malformation
    }

    /// `arguments[0]` with ASCII letters uppercased, for case-insensitive command lookup;
    /// "" if there are no arguments. Invalid UTF-8 becomes U+FFFD, which matches no command.
    public var commandName: String {
        guard let name = arguments.first else { return "" }
        return String(decoding: name.map(asciiUppercased), as: UTF8.self)
    }

    /// The argument at `index` decoded as UTF-8; nil if out of range or not valid UTF-8.
    public func string(_ index: Int) -> String? {
        guard arguments.indices.contains(index) else { return nil }
        return validatedUTF8(arguments[index][...])
    }
}

private func asciiUppercased(_ byte: UInt8) -> UInt8 {
    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) ? byte - 0x20 : byte
}
