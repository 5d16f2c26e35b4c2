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
