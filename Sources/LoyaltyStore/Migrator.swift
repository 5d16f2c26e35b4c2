import Foundation
import LoyaltyCore
import Postgres

/// One SQL file of Migrations/: `NNNN_name.sql`, applied in version order.
public struct Migration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var sql: String
}

public struct MigrationStatus: Sendable, Equatable {
    public enum State: String, Sendable { case applied, pending, modified, missingFile = "missing-file" }
    public var version: Int
    public var name: String
    public var state: State
    public var appliedAt: String?
}

/// Applies Migrations/ in order, each in its own transaction, recorded with a checksum; an
/// applied file that was edited afterwards is refused rather than silently skipped.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    /// Reads `NNNN_name.sql` files from a folder; anything else there is an error, not ignored.
    public init(directory: String) throws(LoyaltyError) {
        let files: [String]
        do { files = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw .notFound("cannot read migrations folder \(directory)")
        }
        var migrations: [Migration] = []
        for file in files.sorted() where file.hasSuffix(".sql") {
            guard let underscore = file.firstIndex(of: "_"), let version = Int(file[..<underscore]), version > 0 else {
                throw .invalid("migration file \(file) is not named NNNN_name.sql")
            }
            guard let sql = try? String(contentsOfFile: directory + "/" + file, encoding: .utf8) else {
                throw .invalid("cannot read \(file) as UTF-8")
            }
            guard !migrations.contains(where: { $0.version == version }) else { throw .invalid("two migrations numbered \(version)") }
            migrations.append(Migration(version: version, name: String(file.dropLast(4)), sql: sql))
        }
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// The folder: an explicit one, else $LOYALTY_MIGRATIONS, else ./Migrations, else the
    /// checkout the executable was built in, else the installed copy.
    public static func locateDirectory(explicit: String?) -> String {
        if let explicit { return explicit }
        if let env = ProcessInfo.processInfo.environment["LOYALTY_MIGRATIONS"] { return env }
        var candidates = [FileManager.default.currentDirectoryPath + "/Migrations"]
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.path + "/Migrations")
            dir = dir.deletingLastPathComponent()
        }
        candidates.append("/usr/share/loyalty/Migrations")
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
    }

    /// Applies what is pending; returns the names applied. Serialized across processes by an advisory lock.
    /// With an actor, what was applied is in the audit trail (once the trail's own migration is in).
    public func migrate(_ conn: Connection, actor: Principal? = nil) throws -> [String] {
        // Held across creating the bookkeeping table too, so instances starting together on an
        // empty database do not race to create it.
        _ = try conn.query("SELECT pg_advisory_lock(7480001)")
        defer { _ = try? conn.query("SELECT pg_advisory_unlock(7480001)") }
        try Self.ensureTable(conn)
        return try conn.transaction { conn in
            let applied = try Self.applied(conn)
            // A file numbered below one already applied was written against an older schema:
            // applying it now would run it out of order on this database and in order on a new one.
            if let newest = applied.keys.max(),
               let late = migrations.first(where: { $0.version < newest && applied[$0.version] == nil }) {
                throw LoyaltyError.conflict("migration \(late.name) is numbered below \(applied[newest]?.name ?? String(newest)), "
                                            + "which is already applied; renumber it after the newest")
            }
            var done: [String] = []
            for migration in migrations {
                let checksum = try Self.checksum(conn, migration.sql)
                if let recorded = applied[migration.version] {
                    guard recorded.checksum == checksum else {
                        throw LoyaltyError.conflict("migration \(migration.name) was edited after it was applied "
                                                    + "(checksum \(recorded.checksum.prefix(12)) recorded, \(checksum.prefix(12)) now); "
                                                    + "write a new migration instead")
                    }
                    continue
                }
                try conn.execute(migration.sql)
                _ = try conn.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                                   [String(migration.version), migration.name, checksum])
                done.append(migration.name)
            }
            if let actor, !done.isEmpty {
                try Audit.record(conn, actor: actor, action: "migrate", details: ["applied": done.joined(separator: ",")])
            }
            return done
        }
    }

    public func status(_ conn: Connection) throws -> [MigrationStatus] {
        try Self.ensureTable(conn)
        let applied = try Self.applied(conn)
        var statuses: [MigrationStatus] = []
        for migration in migrations {
            if let recorded = applied[migration.version] {
                let state: MigrationStatus.State = try Self.checksum(conn, migration.sql) == recorded.checksum ? .applied : .modified
                statuses.append(.init(version: migration.version, name: migration.name, state: state, appliedAt: recorded.appliedAt))
            } else {
                statuses.append(.init(version: migration.version, name: migration.name, state: .pending, appliedAt: nil))
            }
        }
        for (version, recorded) in applied where !migrations.contains(where: { $0.version == version }) {
            statuses.append(.init(version: version, name: recorded.name, state: .missingFile, appliedAt: recorded.appliedAt))
        }
        return statuses.sorted { $0.version < $1.version }
    }

    private static func ensureTable(_ conn: Connection) throws {
        try conn.execute("""
            SET client_min_messages = warning;
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    int PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            );
            """)
    }

    private static func applied(_ conn: Connection) throws -> [Int: (name: String, checksum: String, appliedAt: String)] {
        var applied: [Int: (name: String, checksum: String, appliedAt: String)] = [:]
        for row in try conn.query("""
            SELECT version, name, checksum, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS applied_at
            FROM schema_migrations
            """).rows {
            applied[try row.int("version")] = (try row.string("name"), try row.string("checksum"), try row.string("applied_at"))
        }
        return applied
    }

    /// SHA-256 by PostgreSQL itself, so no crypto library is needed here.
    private static func checksum(_ conn: Connection, _ sql: String) throws -> String {
        try conn.query("SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex') AS sum", [sql]).first?.string("sum") ?? ""
    }
}
