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
        let client = try RawClient(port: port)
        if let principal {
            let reply = try client.call(["AUTH", principal, try database.secret(principal)])
            guard reply == .simple("OK") else {
                throw TestEnvironmentMissing(description: "AUTH \(principal) answered \(reply)")
            }
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
