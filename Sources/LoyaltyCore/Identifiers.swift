/// Validation of client-supplied names and ids (PROTOCOL.md "Values").
///
/// Checked at the edge so that nothing malformed reaches the ledger or the audit trail.
public enum Identifiers {
    public static let memberNumberLengthMax = 32
    public static let partnerCodeLengthRange = 2...16
    public static let clientIDLengthMax = 64
    public static let agentNameLengthMax = 32
    public static let rewardCodeLengthMax = 32

    /// 1–32 of `A-Z a-z 0-9 _ -`.
    public static func isMemberNumber(_ s: String) -> Bool {
        matches(s, lengths: 1...memberNumberLengthMax, isNameByte)
    }

    /// 2–16 of `A-Z 0-9 _`.
    public static func isPartnerCode(_ s: String) -> Bool {
        matches(s, lengths: partnerCodeLengthRange) { isUpper($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }

    /// A txn-id, batch-id or request-id: 1–64 printable ASCII (0x21...0x7E), no spaces.
    public static func isClientID(_ s: String) -> Bool {
        matches(s, lengths: 1...clientIDLengthMax) { (0x21...0x7E).contains($0) }
    }

    /// 1–32 of `A-Z a-z 0-9 _ - .`.
    public static func isAgentName(_ s: String) -> Bool {
        matches(s, lengths: 1...agentNameLengthMax) { isNameByte($0) || $0 == UInt8(ascii: ".") }
    }

    /// A rewards catalog code: 1–32 of `A-Z a-z 0-9 _ -` ("DOM-ECON").
    public static func isRewardCode(_ s: String) -> Bool {
        matches(s, lengths: 1...rewardCodeLengthMax, isNameByte)
    }

    /// Lengths count UTF-8 bytes; any non-ASCII byte fails every predicate, so they equal characters.
    static func matches(_ s: String, lengths: ClosedRange<Int>, _ allowed: (UInt8) -> Bool) -> Bool {
        lengths.contains(s.utf8.count) && s.utf8.allSatisfy(allowed)
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
    static func isUpper(_ b: UInt8) -> Bool { b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") }
    static func isLower(_ b: UInt8) -> Bool { b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") }
    /// `A-Z a-z 0-9 _ -`.
    static func isNameByte(_ b: UInt8) -> Bool {
        isDigit(b) || isUpper(b) || isLower(b) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
    }
}
