import Foundation

/// A real `loyaltyd` process on a free loopback port, for end-to-end tests with real clients.
public final class ServerProcess: @unchecked Sendable {
    public let port: UInt16
    public let process: Process
    public let logPath: String

    /// The built executables: LOYALTY_BIN_DIR (set by `make test`), else the debug build folder.
    public static func binary(_ name: String) -> String {
        if let dir = ProcessInfo.processInfo.environment["LOYALTY_BIN_DIR"] { return dir + "/" + name }
        let root = URL(fileURLWithPath: TestDatabase.migrationsDirectory()).deletingLastPathComponent().path
        return root + "/.build/debug/" + name
    }

    /// Starts loyaltyd on `database` with extra environment (limits); waits until it listens.
    public init(database: TestDatabase, environment: [String: String] = [:], port requestedPort: UInt16 = 0) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary("loyaltyd"))
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = database.url
        env["LOYALTY_LISTEN"] = "127.0.0.1:\(requestedPort)"
        env["LOYALTY_DAILY_RUNS_HOUR"] = "off"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        logPath = NSTemporaryDirectory() + "loyaltyd-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(15)
        var found: UInt16?
        while found == nil && Date() < deadline && process.isRunning {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let line = log.split(separator: "\n").first(where: { $0.contains("event=listening") }),
               let field = line.split(separator: " ").first(where: { $0.hasPrefix("port=") }) {
                found = UInt16(field.dropFirst(5))
            } else {
                usleep(20_000)
            }
        }
        guard let found else {
            process.terminate()
            throw TestEnvironmentMissing(description: "loyaltyd did not start: \((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
        }
        port = found
    }

    /// What the server logged so far.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGTERM and wait; returns the exit status.
    @discardableResult
    public func stop() -> Int32 {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// SIGKILL: a crash, as far as clients and the database can tell.
    public func kill() {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: logPath)
    }
}

/// Runs `redis-cli` against a server, the way a partner's engineer would.
public enum RedisCLI {
    /// Output of `redis-cli -p PORT [--user U --pass P] args...` (raw mode, as when piped), and its exit status.
    public static func run(port: UInt16, user: String? = nil, password: String? = nil, _ arguments: [String],
                           stdin: String? = nil, extra: [String] = []) throws -> (output: String, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var args = ["redis-cli", "-p", String(port), "--no-auth-warning"]
        if let user, let password { args += ["--user", user, "--pass", password] }
        process.arguments = args + extra + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: data, as: UTF8.self), process.terminationStatus)
    }
}

/// Runs a built executable (loyaltyctl) and collects what it printed.
public enum Command {
    public struct Outcome: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    public static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:],
                           stdin: String? = nil) throws -> Outcome {
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DATABASE_URL")
        for (key, value) in environment { env[key] = value }
        return try run(executable: ServerProcess.binary(name), arguments, environment: env, stdin: stdin)
    }

    /// Runs any executable with `environment` (the test process's own when nil), feeding `stdin`.
    public static func run(executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           stdin: String? = nil) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes at once so a chatty child cannot block on a full pipe.
        nonisolated(unsafe) var errData = Data()
        let stderrRead = DispatchGroup()
        DispatchQueue.global().async(group: stderrRead) { errData = err.fileHandleForReading.readDataToEndOfFile() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        stderrRead.wait()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                       stderr: String(decoding: errData, as: UTF8.self))
    }
}
