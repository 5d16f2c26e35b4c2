import Foundation

extension TestDatabase {
    /// The secret the demo load issued to `principal` (HOTELCO, agent:demo, member:M1, ...).
    public func secret(_ principal: String) throws -> String {
        guard let secret = credentials[principal] else {
            throw TestEnvironmentMissing(description: "the demo issues no secret for \(principal)")
        }
        return secret
    }
}

extension RawClient {
    /// A connection to a test's server, signed in as `principal` with its demo secret when one is given.
    public static func signedIn(port: UInt16, as principal: String?, database: TestDatabase) throws -> RawClient {
        guard let principal else { return try RawClient(port: port) }
        return try signedIn(port: port, as: principal, secret: try database.secret(principal))
    }

    /// A connection signed in with a secret in hand (for threads, which cannot share the database).
    public static func signedIn(port: UInt16, as principal: String, secret: String) throws -> RawClient {
        let client = try RawClient(port: port)
        let reply = try client.call(["AUTH", principal, secret])
        guard reply == .simple("OK") else {
            throw TestEnvironmentMissing(description: "AUTH \(principal) answered \(reply)")
        }
        return client
    }
}

/// Days in the demo program's zone (UTC), as a server's clock sees them.
public enum DemoCalendar {
    /// `YYYY-MM-DD`, `offset` days from now.
    public static func day(_ offset: Int) -> String {
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date().addingTimeInterval(Double(offset) * 86_400))
    }
}
