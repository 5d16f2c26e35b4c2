import LoyaltyCore

/// Who is acting. The server signs principals in; loyaltyctl acts as an admin.
public enum Principal: Sendable, Equatable, CustomStringConvertible {
    case partner(code: String, category: PartnerCategory)
    case agent(name: String)
    case member(number: String)
    case admin(user: String)

    /// How the principal is written in ledger `source`, `requests.principal` and the audit log.
    public var description: String {
        switch self {
        case .partner(let code, _): return code
        case .agent(let name): return "agent:\(name)"
        case .member(let number): return "member:\(number)"
        case .admin(let user): return "admin:\(user)"
        }
    }

    /// Members may act only on themselves; everyone else whom the command table admits may act on any member.
    public func mayActOn(member number: String) -> Bool {
        if case .member(let own) = self { return own == number }
        return true
    }
}
