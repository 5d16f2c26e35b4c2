import Foundation

/// A condition a test waited for that did not come in time.
public struct TimedOut: Error, CustomStringConvertible {
    public var description: String
}

/// Polls `condition` until it holds; throws `TimedOut` after `seconds`.
public func waitUntil(_ what: String, seconds: Double = 10, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return }
        usleep(20_000)
    }
    throw TimedOut(description: "timed out after \(seconds) s waiting until \(what)")
}
