import Foundation
import LoyaltyCore
import LoyaltyStore
import Postgres

/// What a verb runs with: the database (opened on first use) and who is acting.
final class Context {
    let conninfo: String
    let actor: Principal
    private var opened: LoyaltyStore?

    init(arguments: Arguments) {
        conninfo = arguments.options["database"] ?? ProcessInfo.processInfo.environment["DATABASE_URL"] ?? ""
        let env = ProcessInfo.processInfo.environment
        actor = .admin(user: arguments.options["actor"] ?? env["LOYALTY_ACTOR"] ?? env["USER"] ?? "root")
    }

    var store: LoyaltyStore {
        if let opened { return opened }
        // The admin sees PostgreSQL's own words, which the store keeps from the server's clients.
        let store = LoyaltyStore(pool: ConnectionPool(conninfo: conninfo, maxConnections: 2), databaseFailed: { error in
            FileHandle.standardError.write(Data("loyaltyctl: \(databaseErrorText(error))\n".utf8))
        })
        opened = store
        return store
    }

    /// A raw connection, for migrations (which run before there is a program to load).
    func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        try store.pool.withConnection(body)
    }
}

/// PostgreSQL's error as an admin needs it: SQLSTATE, message, detail and hint.
func databaseErrorText(_ error: PostgresError) -> String {
    var text = "PostgreSQL error" + (error.sqlState.map { " \($0)" } ?? " (\(error.code))") + ": \(error.message)"
    if let detail = error.detail { text += "\n  DETAIL: \(detail)" }
    if let hint = error.hint { text += "\n  HINT: \(hint)" }
    return text
}

/// One row of the verb table: its words, help, options, and what it runs.
struct Verb: Sendable {
    var words: [String]
    var usage: String
    var summary: String
    var valued: Set<String> = []
    /// Options that may be given more than once (`--tier-price`).
    var repeated: Set<String> = []
    var flags: Set<String> = []
    var run: @Sendable (Context, Arguments) throws -> Void

    /// Every verb takes these.
    static let commonValued: Set<String> = ["database", "actor"]
}

/// A failure to report: exit code 1.
struct Failure: Error { var message: String }

func printTable(_ header: [String], _ rows: [[String]]) {
    let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    for row in [header] + rows {
        print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
    }
}
