/// The bytes the RESP and inline grammars are written in.
enum ASCII {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let asterisk = UInt8(ascii: "*")
    static let dollar = UInt8(ascii: "$")
    static let colon = UInt8(ascii: ":")
    static let minus = UInt8(ascii: "-")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")

    /// Word separators of inline lines: C `isspace` without `\n`, which ends the line.
    static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || ((0x09...0x0D).contains(byte) && byte != lf)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// `bytes` as text, or nil when they are not valid UTF-8. Arguments are nearly always ASCII, which
/// needs no validation beyond a byte scan; the generic `String(validating:as:)` instantiates its
/// encoding's metadata on every call, a measurable part of parsing a batch line.
func validatedUTF8(_ bytes: ArraySlice<UInt8>) -> String? {
    bytes.allSatisfy { $0 < 0x80 } ? String(decoding: bytes, as: UTF8.self) : String(validating: bytes, as: UTF8.self)
}
