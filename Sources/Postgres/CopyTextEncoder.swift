/// Encodes rows in COPY's text format: tab between columns, newline after each row, `\N` for NULL,
/// and backslash escapes for the characters that would otherwise be read as structure.
struct CopyTextEncoder {
    private(set) var bytes: [UInt8] = []

    init(reservingCapacity capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    /// Appends one row; refuses a value holding a NUL byte, which COPY text cannot carry.
    mutating func append(_ row: [String?]) throws(PostgresError) {
        for (index, value) in row.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: "\t")) }
            guard let value else {
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
                continue
            }
            // Most values need no escape: copied whole, not byte by byte.
            let copiedWhole = value.utf8.withContiguousStorageIfAvailable { text in
                guard !text.contains(where: Self.needsEscape) else { return false }
                bytes.append(contentsOf: text)
                return true
            }
            if copiedWhole == true { continue }
            for byte in value.utf8 {
                switch byte {
                case 0:
                    throw PostgresError(code: .invalidParameter, message: "COPY value contains a NUL byte")
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                default: bytes.append(byte)
                }
            }
        }
        bytes.append(UInt8(ascii: "\n"))
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte <= UInt8(ascii: "\r") && (byte == 0 || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r"))
            || byte == UInt8(ascii: "\\")
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }
}
