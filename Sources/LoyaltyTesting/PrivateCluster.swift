import Foundation
import Glibc

/// A PostgreSQL cluster of one test's own — `Deploy/local/pg.sh` on a temporary directory and a
/// free port — for tests that stop, restart or crash PostgreSQL under a running loyaltyd. The
/// suite's shared server must never be treated that way. Runs with fsync on, like production.
public final class PrivateCluster: @unchecked Sendable {
    public let port: UInt16
    /// Where the data lives (as given to pg.sh; as root it is owned by the `postgres` user).
    public let directory: String
    /// How long a start may take, crash recovery included.
    static let startSecondsMax = 60

    /// Creates and starts the cluster; `settings` go to `ALTER SYSTEM` and take effect at once.
    public init(settings: [String: String] = [:]) throws {
        port = try Self.freePort()
        directory = NSTemporaryDirectory() + "loyalty-private-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try start()
        if !settings.isEmpty {
            try Self.shell("psql -v ON_ERROR_STOP=1 -q '\(url(database: "postgres"))'",
                           stdin: settings.map { "ALTER SYSTEM SET \($0.key) = '\($0.value)';\n" }.joined())
            try stop()
            try start()
        }
    }

    deinit {
        try? stop()
        _ = try? Self.shell("rm -rf '\(directory)' '\(directory).initdb.log'")
    }

    /// A database on this cluster, as a libpq URI.
    public func url(database: String) -> String { "postgresql://loyalty@127.0.0.1:\(port)/\(database)" }

    /// Starts the cluster (creating it the first time); recovers from a crash first if need be.
    public func start() throws {
        try Self.shell("'\(Self.pgScript)' start '\(directory)' \(port) >/dev/null")
    }

    /// A fast shutdown: sessions are ended, open transactions roll back, the rest is checkpointed.
    public func stop() throws {
        try Self.shell("'\(Self.pgScript)' stop '\(directory)'")
    }

    /// What `kill -9` of every PostgreSQL process does: all of them are stopped at once, then
    /// killed, so nothing is flushed or checkpointed on the way out. The next `start()` recovers
    /// from the WAL.
    public func crash() throws {
        let pidFile = try Self.shell("readlink -f '\(directory)'").trimmingCharacters(in: .whitespacesAndNewlines) + "/postmaster.pid"
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let postmaster = text.split(separator: "\n").first.flatMap({ Int32($0) }) else {
            throw TestEnvironmentMissing(description: "no running postmaster in \(directory)")
        }
        let processes = [postmaster] + Self.children(of: postmaster)
        for pid in processes { kill(pid, SIGSTOP) }
        for pid in processes { kill(pid, SIGKILL) }
        let deadline = Date().addingTimeInterval(10)
        while processes.contains(where: { kill($0, 0) == 0 && !Self.isZombie($0) }) && Date() < deadline { usleep(10_000) }
        // As after a machine crash: a dead postmaster's pid may live on as an unreaped zombie
        // here, which PostgreSQL would take for a running server.
        try? FileManager.default.removeItem(atPath: pidFile)
    }

    /// Copies a test database (schema, demo program and issued credentials) into a new database
    /// of the same name here, so the same secrets sign in; returns its URL.
    public func copy(of database: TestDatabase) throws -> String {
        try Self.shell("createdb -h 127.0.0.1 -p \(port) -U loyalty '\(database.name)'")
        try Self.shell("set -o pipefail; pg_dump --no-owner '\(database.url)' | psql -v ON_ERROR_STOP=1 -q '\(url(database: database.name))' >/dev/null")
        return url(database: database.name)
    }

    // MARK: - Helpers

    public static var pgScript: String {
        URL(fileURLWithPath: TestDatabase.migrationsDirectory()).deletingLastPathComponent()
            .appendingPathComponent("Deploy/local/pg.sh").path
    }

    /// Runs a bash script; its stdout, or an error with its stderr when it fails.
    ///
    /// The script first closes every descriptor it inherited beyond stdin, stdout and stderr:
    /// a PostgreSQL it starts would keep them open for its lifetime, and Foundation waits for
    /// the end of a socket it passes to every child before it reports the child's exit.
    @discardableResult
    public static func shell(_ script: String, stdin: String? = nil) throws -> String {
        let closeInherited = #"for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2>/dev/null"#
        let outcome = try Command.run(executable: "/bin/bash", ["-c", closeInherited + "\n" + script], stdin: stdin)
        guard outcome.status == 0 else {
            throw TestEnvironmentMissing(description: "`\(script)` failed: \(outcome.stderr)")
        }
        return outcome.stdout
    }

    /// A loopback port nobody listens on right now.
    public static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TestEnvironmentMissing(description: "no free port: errno \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Direct children, from /proc: PostgreSQL's backends and auxiliary processes.
    static func children(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            // After "pid (comm)": state, then the parent's pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent
        }
    }

    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }
}
