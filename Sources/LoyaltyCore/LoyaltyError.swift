/// An operating error of the domain: a value or request that breaks a rule.
///
/// Programmer errors are assertions; everything a client can cause is one of these, so callers
/// handle it and reply with `-CODE message`. `code` names match the wire protocol's error codes.
public struct LoyaltyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The first word of the protocol's error reply.
    public enum Code: String, Sendable {
        case invalid = "INVALID", notFound = "NOTFOUND", conflict = "CONFLICT"
        case insufficient = "INSUFFICIENT", closed = "CLOSED", noPermission = "NOPERM", limit = "LIMIT"
        case unavailable = "UNAVAILABLE", locked = "LOCKED", wrongPass = "WRONGPASS", syntax = "ERR", noAuth = "NOAUTH"
        /// HELLO with a protocol version other than 2 or 3, worded as Redis does.
        case noProto = "NOPROTO"
    }

    public var code: Code
    /// Human readable; names the offending field or value.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `CODE message`, the text of a protocol error reply without the leading `-`.
    public var description: String { "\(code.rawValue) \(message)" }

    public static func invalid(_ m: String) -> LoyaltyError { .init(.invalid, m) }
    public static func notFound(_ m: String) -> LoyaltyError { .init(.notFound, m) }
    public static func conflict(_ m: String) -> LoyaltyError { .init(.conflict, m) }
    public static func insufficient(_ m: String) -> LoyaltyError { .init(.insufficient, m) }
    public static func closed(_ m: String) -> LoyaltyError { .init(.closed, m) }
    public static func noPermission(_ m: String) -> LoyaltyError { .init(.noPermission, m) }
    public static func limit(_ m: String) -> LoyaltyError { .init(.limit, m) }
    public static func unavailable(_ m: String) -> LoyaltyError { .init(.unavailable, m) }
    public static func locked(_ m: String) -> LoyaltyError { .init(.locked, m) }
    public static func wrongPass(_ m: String) -> LoyaltyError { .init(.wrongPass, m) }
    public static func syntax(_ m: String) -> LoyaltyError { .init(.syntax, m) }
    public static func noAuth(_ m: String) -> LoyaltyError { .init(.noAuth, m) }
}
