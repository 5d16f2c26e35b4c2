/// The pool's bookkeeping as a value: events in, decisions out; the pool performs the I/O.
///
/// Generic over the resource so it can be tested without a server. A slot counts as in use from
/// the moment a caller is told to connect until the resource is released or the connect fails.
struct PoolState<Resource> {
    enum AcquireAction {
        /// Use this idle resource.
        case use(Resource)
        /// A slot is reserved: create a new resource outside the lock.
        case connect
        /// Every slot is in use: wait for a release.
        case wait
        /// The pool is closed.
        case closed
    }

    let capacity: Int
    /// Most recently released last, so the warmest resource is reused first.
    private(set) var idle: [Resource] = []
    private(set) var inUse = 0
    private(set) var created = 0
    private(set) var discarded = 0
    private(set) var isClosed = false

    init(capacity: Int) {
        precondition(capacity > 0, "a pool needs at least one connection")
        self.capacity = capacity
    }

    mutating func acquire() -> AcquireAction {
        if isClosed { return .closed }
        if let resource = idle.popLast() {
            inUse += 1
            return .use(resource)
        }
        guard inUse < capacity else { return .wait }
        inUse += 1
        return .connect
    }

    /// A resource handed out by `.use` turned out dead before use: its slot stays reserved for
    /// a replacement, which the caller connects.
    mutating func replaceStale() {
        precondition(inUse > 0)
        discarded += 1
    }

    mutating func connected() {
        created += 1
    }

    /// A connect failed: the reserved slot is free again.
    mutating func connectFailed() {
        precondition(inUse > 0)
        inUse -= 1
    }

    /// Takes a resource back; returns it when the caller must close it instead of keeping it.
    mutating func release(_ resource: Resource, reusable: Bool) -> Resource? {
        precondition(inUse > 0)
        inUse -= 1
        guard reusable, !isClosed else {
            if !reusable { discarded += 1 }
            return resource
        }
        idle.append(resource)
        precondition(idle.count + inUse <= capacity)
        return nil
    }

    /// Closes the pool; returns the idle resources for the caller to close.
    mutating func close() -> [Resource] {
        isClosed = true
        defer { idle.removeAll() }
        return idle
    }
}
