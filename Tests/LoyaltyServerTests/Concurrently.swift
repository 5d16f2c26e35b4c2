import Foundation
import XCTest

/// Runs `body` on `count` threads of its own, released together, and returns their results
/// in client order. (Not a dispatch queue: it would run only as many at once as there are cores.)
func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
    let results = Results<T>(count: count)
    let ready = DispatchGroup(), go = DispatchSemaphore(value: 0), done = DispatchGroup()
    for client in 0..<count {
        ready.enter()
        done.enter()
        Thread {
            ready.leave()
            go.wait()
            results.set(client, Result { try body(client) })
            done.leave()
        }.start()
    }
    ready.wait()
    for _ in 0..<count { go.signal() }
    XCTAssertEqual(done.wait(timeout: .now() + 60), .success, "clients still running after 60 s")
    return try results.values.map { try XCTUnwrap($0).get() }
}

/// Results gathered from threads.
private final class Results<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Result<T, any Error>?]
    init(count: Int) { stored = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ result: Result<T, any Error>) { lock.withLock { stored[index] = result } }
    var values: [Result<T, any Error>?] { lock.withLock { stored } }
}
