import Foundation
import LineProtocol
import LoyaltyCore

/// The bytes of all batch lines queued on the server, against one budget, so that open batches
/// together cannot take the server's memory however many partners hold one open.
final class BatchQueueBudget: @unchecked Sendable {
    // @unchecked: `used` is read and written with `lock` held.
    let bytesMax: Int
    private let lock = NSLock()
    private var used = 0

    init(bytesMax: Int) {
        precondition(bytesMax > 0)
        self.bytesMax = bytesMax
    }

    /// Takes `bytes` from the budget, or nothing and false when that would pass the maximum.
    func reserve(_ bytes: Int) -> Bool {
        lock.withLock {
            guard used + bytes <= bytesMax else { return false }
            used += bytes
            return true
        }
    }

    func release(_ bytes: Int) {
        lock.withLock {
            used -= bytes
            assert(used >= 0, "released more batch bytes than were reserved")
        }
    }

    var usedBytes: Int { lock.withLock { used } }
}

/// The lines of one open batch as their raw arguments, packed into one buffer: a queued line
/// costs about the bytes it came in (each argument behind a 4-byte length), not a parsed value
/// with allocations of its own. Lines are parsed at COMMIT. What the lines reserved from the
/// budget goes back when the batch ends in any way (COMMIT, ABORT, a closed connection).
final class QueuedBatchLines {
    private let budget: BatchQueueBudget
    private var packed: [UInt8] = []
    private(set) var count = 0

    init(budget: BatchQueueBudget) { self.budget = budget }

    deinit { budget.release(packed.count) }

    /// What a line of these arguments takes from the budget.
    static func cost(of arguments: [[UInt8]]) -> Int { 1 + arguments.reduce(0) { $0 + 4 + $1.count } }

    /// Queues one line (command name first); refused with LIMIT when the server's budget is spent.
    func append(_ arguments: [[UInt8]]) throws(LoyaltyError) {
        precondition(arguments.count <= Int(UInt8.max) && arguments.allSatisfy { $0.count <= Int(UInt32.max) })
        guard budget.reserve(Self.cost(of: arguments)) else {
            throw .limit("batches queued on this server hold \(budget.bytesMax) bytes at most; commit or abort one and resend")
        }
        packed.append(UInt8(arguments.count))
        for argument in arguments {
            withUnsafeBytes(of: UInt32(argument.count).littleEndian) { packed.append(contentsOf: $0) }
            packed.append(contentsOf: argument)
        }
        count += 1
    }

    /// Each queued line's arguments, in the order they came.
    func forEach(_ body: ([[UInt8]]) throws -> Void) rethrows {
        var offset = 0
        while offset < packed.count {
            let argumentCount = Int(packed[offset])
            offset += 1
            var arguments: [[UInt8]] = []
            arguments.reserveCapacity(argumentCount)
            for _ in 0..<argumentCount {
                let length = packed[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | Int($1) }
                offset += 4
                arguments.append(Array(packed[offset..<offset + length]))
                offset += length
            }
            try body(arguments)
        }
    }
}
