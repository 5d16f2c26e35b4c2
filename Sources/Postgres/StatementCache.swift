/// Which SQL texts are prepared on one connection, under which names; bounded, least recently
/// used first out. A pure value: the connection asks it what to prepare and what to deallocate.
struct StatementCache {
    private struct Entry {
        let name: String
        var lastUse: UInt64
    }

    let capacity: Int
    private var entries: [String: Entry] = [:]
    private var clock: UInt64 = 0
    private var namesIssued = 0

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// The prepared name for `sql`, marking it as just used; nil when not prepared.
    mutating func lookup(_ sql: String) -> String? {
        guard entries[sql] != nil else { return nil }
        clock += 1
        entries[sql]!.lastUse = clock
        return entries[sql]!.name
    }

    /// A name no statement on this connection has had.
    mutating func makeName() -> String {
        namesIssued += 1
        return "stmt_\(namesIssued)"
    }

    /// Records a statement the server has prepared.
    mutating func insert(_ sql: String, name: String) {
        precondition(entries[sql] == nil, "statement prepared twice")
        precondition(entries.count < capacity, "statement cache full; evict first")
        clock += 1
        entries[sql] = Entry(name: name, lastUse: clock)
    }

    /// Least recently used entries to deallocate so that `newCount` more fit, never one of `sparing`.
    func victims(toFit newCount: Int, sparing: Set<String> = []) -> [(sql: String, name: String)] {
        let excess = entries.count + newCount - capacity
        guard excess > 0 else { return [] }
        return entries
            .filter { !sparing.contains($0.key) }
            .sorted { $0.value.lastUse < $1.value.lastUse }
            .prefix(excess)
            .map { (sql: $0.key, name: $0.value.name) }
    }

    /// Free slots once everything except `sparing` could be evicted.
    func room(sparing: Set<String>) -> Int {
        capacity - entries.keys.filter { sparing.contains($0) }.count
    }

    mutating func remove(_ sql: String) {
        entries[sql] = nil
    }

    /// After a lost connection the server's statements are gone with it.
    mutating func removeAll() {
        entries.removeAll()
    }
}
