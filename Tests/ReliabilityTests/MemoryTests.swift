import Foundation
import LoyaltyTesting
import XCTest

/// What a client that never pauses, and a large open batch, cost the server's memory.
final class MemoryTests: ReliabilityTestCase {
    /// Resident memory the server may gain over the test (its allocator keeps some).
    static let residentGrowthKilobytesMax = 32 * 1024

    func testAFullPipelineAndAHundredThousandQueuedLinesCostLittleMemory() throws {
        let probe = ProcessProbe(pid: server.process.processIdentifier)
        let warm = try connect(as: "agent:demo")
        for index in 0..<200 { XCTAssertEqual(try warm.call(["ECHO", "warm-\(index)"]), .bulk("warm-\(index)")) }
        let residentBefore = probe.residentKilobytes

        // 200,000 requests sent without waiting: the pipeline never drains while they come.
        try streamAndCount(count: 200_000, prologue: [], line: { _ in ["PING", "x"] }, expected: .bulk("x"))
        // A 100,000-line batch, open, then abandoned.
        try streamAndCount(count: 100_000, prologue: [["AUTH", "HOTELCO", try secret("HOTELCO")], ["BATCH", "BEGIN", "big"]],
                           line: { ["ACCRUE", "t\($0)", "M1", Self.today, "amount=12.34", "currency=USD"] }, expected: .simple("QUEUED"))

        XCTAssertLessThan(probe.residentKilobytes - residentBefore, Self.residentGrowthKilobytesMax,
                          "resident memory grew from \(residentBefore) KiB to \(probe.residentKilobytes) KiB")
    }

    /// Sends the prologue and `count` lines from a thread while this one reads every reply.
    private func streamAndCount(count: Int, prologue: [[String]], line: @escaping @Sendable (Int) -> [String],
                                expected: RESPValue) throws {
        let client = try RawClient(port: server.port)
        let head = prologue.flatMap { resp($0) }
        nonisolated(unsafe) let sender = client
        Thread {
            sender.send(head)
            var chunk: [UInt8] = []
            for index in 0..<count {
                chunk += resp(line(index))
                if chunk.count > 64 * 1024 { sender.send(chunk); chunk.removeAll(keepingCapacity: true) }
            }
            sender.send(chunk)
        }.start()
        for _ in prologue { XCTAssertEqual(try client.readReply(), .simple("OK")) }
        for index in 0..<count {
            let reply = try client.readReply()
            guard reply == expected else { return XCTFail("reply \(index): \(reply)") }
        }
    }
}
