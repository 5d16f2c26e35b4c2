import Foundation

/// Threads that were still running when a test stopped waiting for them.
public struct StillRunning: Error, CustomStringConvertible {
    public var description: String
}

/// Runs `body` on `count` threads of its own, released together, and returns their results in
/// order. (Not a dispatch queue: it would run only as many at once as there are cores.)
public func concurrently<T: Sendable>(_ count: Int, timeoutSeconds: Int = 120,
                                      _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
    let results = Gathered<Result<T, any Error>>()
    let ready = DispatchGroup(), go = DispatchSemaphore(value: 0), done = DispatchGroup()
    for index in 0..<count {
        ready.enter()
        done.enter()
        Thread {
            ready.leave()
            go.wait()
            results.set(index, Result { try body(index) })
            done.leave()
        }.start()
    }
    ready.wait()
    for _ in 0..<count { go.signal() }
    guard done.wait(timeout: .now() + .seconds(timeoutSeconds)) == .success else {
        throw StillRunning(description: "threads still running after \(timeoutSeconds) s")
    }
    return try (0..<count).map { index in
        guard let result = results.get(index) else { throw StillRunning(description: "thread \(index) gave no result") }
        return try result.get()
    }
}

/// Values gathered from threads, by index.
public final class Gathered<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: T] = [:]
    public init() {}
    public func set(_ index: Int, _ value: T) { lock.withLock { values[index] = value } }
    public func get(_ index: Int) -> T? { lock.withLock { values[index] } }
}
