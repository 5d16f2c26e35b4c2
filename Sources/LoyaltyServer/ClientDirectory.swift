import Foundation
import LineProtocol

/// What `CLIENT INFO` and `CLIENT LIST` show of each open connection. Sessions belong to the
/// thread serving them; this copy of what they say about themselves is what other threads read.
final class ClientDirectory: @unchecked Sendable {
    struct Entry {
        let id: Int
        let peer: String
        let connectedAt: Date
        var name = ""
        var libraryName = ""
        var libraryVersion = ""
        var user = ""
        var protocolVersion = ProtocolVersion.resp2

        /// One `CLIENT LIST` line, fields as Redis names them.
        func line(now: Date) -> String {
            "id=\(id) addr=\(peer) name=\(name) age=\(Int(now.timeIntervalSince(connectedAt))) db=0 user=\(user) "
                + "resp=\(protocolVersion.rawValue) lib-name=\(libraryName) lib-ver=\(libraryVersion)"
        }
    }

    private let lock = NSLock()
    private var entries: [Int: Entry] = [:]

    func connected(id: Int, peer: String) { lock.withLock { entries[id] = Entry(id: id, peer: peer, connectedAt: Date()) } }
    func disconnected(id: Int) { _ = lock.withLock { entries.removeValue(forKey: id) } }

    func update(_ id: Int, _ change: (inout Entry) -> Void) {
        lock.withLock {
            guard var entry = entries[id] else { return }
            change(&entry)
            entries[id] = entry
        }
    }

    func entry(_ id: Int) -> Entry? { lock.withLock { entries[id] } }

    /// Every open connection, oldest first.
    var all: [Entry] { lock.withLock { entries.values.sorted { $0.id < $1.id } } }
}
