import Foundation
import LoyaltyCore
import LoyaltyStore
import Postgres

/// Why a test cannot run here (no PostgreSQL given); tests turn it into XCTSkip.
public struct TestEnvironmentMissing: Error, CustomStringConvertible {
    public var description: String
}

/// A fresh database per test: a copy of a template that was migrated and loaded with the demo
/// program once per test process, so each test starts from the same known state in ~100 ms.
public final class TestDatabase: @unchecked Sendable {
    public let name: String
    public let url: String
    /// Credentials the demo load issued: principal -> secret (HOTELCO, agent:demo, member:M1, ...).
    public let credentials: [String: String]
    private let adminURL: String

    /// The suite's server, from LOYALTY_TEST_DATABASE_URL (set by `make test`).
    public static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["LOYALTY_TEST_DATABASE_URL"], !url.isEmpty else {
            throw TestEnvironmentMissing(description: "LOYALTY_TEST_DATABASE_URL is not set; run `make test`")
        }
        return url
    }

    public init() throws {
        let base = try Self.serverURL()
        adminURL = Self.url(base, database: "postgres")
        let template = try Self.template(base: base)
        name = "loyalty_test_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try Connection(conninfo: adminURL)
        defer { admin.close() }
        // FILE_COPY copies the small template's files instead of logging every page (PostgreSQL 15+).
        let strategy = admin.serverVersion >= 150_000 ? " STRATEGY FILE_COPY" : ""
        try admin.execute("CREATE DATABASE \(Connection.escapeIdentifier(name)) TEMPLATE \(Connection.escapeIdentifier(template.name))\(strategy)")
        url = Self.url(base, database: name)
        credentials = template.credentials
    }

    /// A store on this database with a fixed or moving clock (seconds since the epoch).
    public func store(clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
                      limits: StoreLimits = StoreLimits(), connections: Int = 4) -> LoyaltyStore {
        LoyaltyStore(pool: ConnectionPool(conninfo: url, maxConnections: connections), limits: limits, clock: clock)
    }

    /// A direct connection, for checks and for tampering tests.
    public func connect() throws -> Connection { try Connection(conninfo: url) }

    deinit {
        guard let admin = try? Connection(conninfo: adminURL) else { return }
        try? admin.execute("DROP DATABASE IF EXISTS \(Connection.escapeIdentifier(name)) WITH (FORCE)")
        admin.close()
    }

    // MARK: - The template, made once per process

    private struct Template: Sendable { var name: String; var credentials: [String: String] }
    private static let templateLock = NSLock()
    nonisolated(unsafe) private static var made: Template?

    private static func template(base: String) throws -> Template {
        try templateLock.withLock {
            if let made { return made }
            let name = "loyalty_test_template_\(getpid())"
            let admin = try Connection(conninfo: url(base, database: "postgres"))
            defer { admin.close() }
            try admin.execute("DROP DATABASE IF EXISTS \(Connection.escapeIdentifier(name)) WITH (FORCE)")
            try admin.execute("CREATE DATABASE \(Connection.escapeIdentifier(name))")
            let templateURL = url(base, database: name)
            let migrator = try Migrator(directory: migrationsDirectory())
            let conn = try Connection(conninfo: templateURL)
            _ = try migrator.migrate(conn)
            conn.close()
            let pool = ConnectionPool(conninfo: templateURL, maxConnections: 1)
            let issued = try LoyaltyStore(pool: pool).loadDemo(actor: .admin(user: "test"))
            pool.close()
            let template = Template(name: name, credentials: Dictionary(uniqueKeysWithValues: issued.map { ($0.principal, $0.secret) }))
            made = template
            return template
        }
    }

    /// The repository's Migrations/, found from this source file's location.
    public static func migrationsDirectory() -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Migrations").path
    }

    /// The same server with another database name; works for URIs and key=value conninfo.
    static func url(_ base: String, database: String) -> String {
        if base.hasPrefix("postgres://") || base.hasPrefix("postgresql://") {
            guard var components = URLComponents(string: base) else { return base }
            components.path = "/" + database
            return components.string ?? base
        }
        return base + " dbname=\(database)"
    }
}
