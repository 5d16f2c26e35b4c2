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

    /// 200 clients that pipeline 64 MiB of ECHO each before AUTH and read none of the replies:
    /// each is held to its budget (1 MiB received and unsent together, 16 KiB a bulk), so the
    /// server stays small, and a signed-in client is answered throughout. Before the budgets
    /// each could queue 1,024 requests and 4 MiB of replies: 4 GiB for the 200.
    func testTwoHundredClientsPipeliningEchoWithoutReadingKeepTheServerSmall() throws {
        let probe = ProcessProbe(pid: server.process.processIdentifier)
        let bystander = try connect(as: "agent:demo")
        let echo = resp(["ECHO", String(repeating: "e", count: 16 * 1024)])
        let chunk = Array((0..<64).map { _ in echo }.joined())
        let bytesPerClient = 64 << 20
        let clients = try (0..<200).map { _ in try RawClient(port: server.port) }
        var sent = [Int](repeating: 0, count: clients.count)
        var residentMaxKilobytes = 0
        var lastProgress = Date()
        // Until every client is done or none can send any more: the server stopped reading them.
        while Date().timeIntervalSince(lastProgress) < 3 && sent.contains(where: { $0 < bytesPerClient }) {
            for (index, client) in clients.enumerated() where sent[index] < bytesPerClient {
                let count = client.sendAvailable(chunk, from: sent[index] % chunk.count)
                if count > 0 { lastProgress = Date() }
                sent[index] += count
            }
            residentMaxKilobytes = max(residentMaxKilobytes, probe.residentKilobytes)
            XCTAssertEqual(try bystander.call(["PING"]), .simple("PONG"))
            usleep(10_000)
        }
        XCTAssertEqual(try bystander.call(["BALANCE", "M1"]).integer.map { $0 >= 0 }, true)
        let sentMebibytes = sent.reduce(0, +) >> 20
        XCTAssertLessThan(residentMaxKilobytes, 512 * 1024, "resident memory with \(sentMebibytes) MiB sent by 200 clients")
        print("200 clients sent \(sentMebibytes) MiB of ECHO; loyaltyd's resident memory peaked at \(residentMaxKilobytes >> 10) MiB")
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
