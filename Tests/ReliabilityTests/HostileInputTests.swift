import Foundation
import LoyaltyTesting
import XCTest

/// Oversized and malformed framing, binary garbage and clients that trickle a byte at a time:
/// refused before the memory is spent, answered or closed, never a crash, and nobody else waits.
final class HostileInputTests: ReliabilityTestCase {
    /// Resident memory the server may gain over a whole test of abuse (its allocator keeps some).
    static let residentGrowthKilobytesMax = 64 * 1024

    func testFramingAttacksAreRefusedBeforeTheMemoryIsSpent() throws {
        let bystander = try connect(as: "agent:demo")
        let probe = ProcessProbe(pid: server.process.processIdentifier)
        for index in 0..<200 { XCTAssertEqual(try bystander.call(["ECHO", "warm-\(index)"]), .bulk("warm-\(index)")) }
        let residentBefore = probe.residentKilobytes
        let megabyte = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        let attacks: [(name: String, bytes: [UInt8], code: String)] = [
            ("an 8 MB inline line without a newline", Array(repeating: UInt8(ascii: "A"), count: 8 << 20), "LIMIT"),
            ("a 100 kB inline line", Array(("PING " + String(repeating: "a", count: 100_000) + "\r\n").utf8), "LIMIT"),
            ("a bulk of 2147483647 bytes", Array("*1\r\n$2147483647\r\n".utf8), "LIMIT"),
            ("a bulk of Int64.max bytes", Array("*2\r\n$4\r\nECHO\r\n$9223372036854775807\r\n".utf8), "LIMIT"),
            ("a bulk length past Int64", Array("*1\r\n$99999999999999999999999\r\n".utf8), "ERR"),
            ("a negative bulk length", Array("*1\r\n$-5\r\n".utf8), "ERR"),
            ("an array of a million", Array("*1000000\r\n".utf8), "LIMIT"),
            ("an array of 2147483647", Array("*2147483647\r\n".utf8), "LIMIT"),
            ("a negative array", Array("*-2\r\n".utf8), "ERR"),
            ("arrays nested 100,000 deep", Array(String(repeating: "*1\r\n", count: 100_000).utf8), "ERR"),
            ("five 1 MB bulks in one request", Array("*1000\r\n".utf8)
                + (0..<5).flatMap { _ in Array("$\(megabyte.count)\r\n".utf8) + megabyte + [13, 10] }, "LIMIT"),
            ("a bulk without its CRLF", Array("*2\r\n$4\r\nECHO\r\n$3\r\nabcXY".utf8), "ERR"),
            ("a header line that never ends", Array(("*" + String(repeating: "9", count: 4_096)).utf8), "ERR"),
        ]
        for attack in attacks {
            let client = try RawClient(port: server.port)
            // Sent from a thread: the server stops reading once it has refused, so a large send may not finish.
            let bytes = attack.bytes
            nonisolated(unsafe) let sender = client
            Thread { sender.send(bytes) }.start()
            let reply = try client.readReply()
            XCTAssertEqual(reply.errorCode, attack.code, "\(attack.name): \(reply)")
            XCTAssertTrue(client.isClosedByServer(), "\(attack.name): the connection is closed after the refusal")
            XCTAssertEqual(try bystander.call(["BALANCE", "M1"]), .integer(0), "served during \(attack.name)")
        }
        XCTAssertTrue(server.process.isRunning)
        XCTAssertLessThan(probe.residentKilobytes - residentBefore, Self.residentGrowthKilobytesMax,
                          "resident memory grew from \(residentBefore) KiB to \(probe.residentKilobytes) KiB")
        try assertLogLinesAreWhole()
    }

    func testBinaryGarbageIsAnsweredOrClosedNeverACrash() throws {
        let bystander = try connect(as: "agent:demo")
        let probe = ProcessProbe(pid: server.process.processIdentifier)
        let residentBefore = probe.residentKilobytes
        let port = server.port, inputs = 400
        // Each input starts like something the decoder knows, then turns to noise.
        let openings: [[UInt8]] = [[], Array("*".utf8), Array("*3\r\n$".utf8), Array("*2\r\n$4\r\nECHO\r\n$".utf8),
                                   Array("ECHO \"".utf8), Array("AUTH '".utf8), [0], [0xff, 0xfe]]
        let totals = try concurrently(8) { worker -> (replies: Int, bytes: Int) in
            var random = SplitMix64(seed: UInt64(worker) &+ 0xbad)
            var replies = 0, bytes = 0
            for index in stride(from: worker, to: inputs, by: 8) {
                let length = 1 + random.below(index % 10 == 0 ? 256 * 1024 : 4_096)
                let garbage = openings[index % openings.count] + (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                let client = try RawClient(port: port)
                nonisolated(unsafe) let sender = client
                Thread {
                    sender.send(garbage)
                    sender.shutdownWrite()
                }.start()
                // The server answers what it could decode and closes at the end of the input or at
                // the first framing error; every reply it sends is well-formed RESP.
                while try client.readReplyUnlessClosed() != nil { replies += 1 }
                bytes += garbage.count
            }
            return (replies, bytes)
        }
        XCTAssertTrue(server.process.isRunning)
        XCTAssertEqual(try bystander.call(["BALANCE", "M1"]), .integer(0))
        XCTAssertLessThan(probe.residentKilobytes - residentBefore, Self.residentGrowthKilobytesMax)
        try assertLogLinesAreWhole()
        try assertLedgerVerifies()
        print("garbage: \(inputs) inputs, \(totals.map(\.bytes).reduce(0, +)) bytes, \(totals.map(\.replies).reduce(0, +)) replies")
    }

    func testClientsTricklingAByteAtATimeHoldUpNobody() throws {
        let slowClients = 40, key = try secret("HOTELCO"), port = server.port
        let started = DispatchGroup(), replies = Gathered<[RESPValue]>()
        for client in 0..<slowClients {
            started.enter()
            Thread {
                defer { started.leave() }
                guard let connection = try? RawClient(port: port, timeoutSeconds: 30) else { return }
                let text = "AUTH HOTELCO \(key)\r\nACCRUE slow-\(client) M1 \(Self.today) amount=1.00 currency=USD\r\n"
                for byte in text.utf8 {
                    connection.send([byte])
                    usleep(20_000)
                }
                replies.set(client, [(try? connection.readReply()) ?? .null, (try? connection.readReply()) ?? .null])
            }.start()
        }
        // Meanwhile: more trickling connections than the server has threads, and a quick client
        // is answered at once, again and again.
        let quick = try connect(as: "agent:demo")
        var slowest = 0.0, answered = 0
        while started.wait(timeout: .now()) == .timedOut {
            let sent = Date()
            XCTAssertEqual(try quick.call(["ECHO", "quick"]), .bulk("quick"))
            slowest = max(slowest, Date().timeIntervalSince(sent))
            answered += 1
            usleep(20_000)
        }
        XCTAssertLessThan(slowest, 1, "a quick client waited behind the slow ones")
        XCTAssertGreaterThan(answered, 20)
        for client in 0..<slowClients {
            XCTAssertEqual(replies.get(client), [.simple("OK"), .array([.bulk("slow-\(client)"), .integer(3), .integer(0)])],
                           "slow client \(client) got its answers in the end")
        }
        XCTAssertEqual(try quick.call(["BALANCE", "M1"]), .integer(Int64(3 * slowClients)))
    }

    /// Every line the server logged is one whole record: nothing a client sent split it.
    private func assertLogLinesAreWhole(file: StaticString = #filePath, line: UInt = #line) throws {
        let lines = server.log.split(separator: "\n")
        XCTAssertFalse(lines.isEmpty, file: file, line: line)
        for logLine in lines where !logLine.hasPrefix("ts=") {
            XCTFail("a log line does not start a record: \(logLine.prefix(200))", file: file, line: line)
        }
    }
}
