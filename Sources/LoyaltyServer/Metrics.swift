import Foundation

/// Counters INFO reports; updated by workers and the I/O thread.
final class Metrics: @unchecked Sendable {
    private let lock = NSLock()
    private var commands: [String: Int] = [:]
    private var errors: [String: Int] = [:]
    private(set) var startedAt = Date()
    private var connectedClients = 0
    private var totalConnections = 0
    private var rejectedConnections = 0
    private var batchesCommitted = 0
    private var accrualsApplied = 0

    func command(_ name: String) { lock.withLock { commands[name, default: 0] += 1 } }
    func error(_ code: String) { lock.withLock { errors[code, default: 0] += 1 } }
    func connected() { lock.withLock { connectedClients += 1; totalConnections += 1 } }
    func disconnected() { lock.withLock { connectedClients -= 1 } }
    func rejected() { lock.withLock { rejectedConnections += 1 } }
    func batchCommitted(accrualsApplied applied: Int) { lock.withLock { batchesCommitted += 1; accrualsApplied += applied } }
    func accrualApplied() { lock.withLock { accrualsApplied += 1 } }

    struct Snapshot {
        var commands: [String: Int]
        var errors: [String: Int]
        var uptimeSeconds: Int
        var connectedClients: Int
        var totalConnections: Int
        var rejectedConnections: Int
        var batchesCommitted: Int
        var accrualsApplied: Int
    }

    var snapshot: Snapshot {
        lock.withLock {
            Snapshot(commands: commands, errors: errors, uptimeSeconds: Int(Date().timeIntervalSince(startedAt)),
                     connectedClients: connectedClients, totalConnections: totalConnections,
                     rejectedConnections: rejectedConnections, batchesCommitted: batchesCommitted, accrualsApplied: accrualsApplied)
        }
    }
}
