import Foundation
import Glibc
import LoyaltyTesting
import XCTest

/// Two thousand connections at once, from a server started with the common soft limit of 1,024
/// descriptors; and a server that truly runs out of descriptors waits, without spinning, until
/// some are free.
final class ConnectionFloodTests: ReliabilityTestCase {
    static let connections = 2_000
    /// Descriptors this test process needs: the clients, the server's log, the database.
    static let ownDescriptorsWanted = connections + 512

    override func setUpWithError() throws {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        guard limit.rlim_max >= rlim_t(Self.ownDescriptorsWanted) else {
            throw XCTSkip("the hard limit on open files (\(limit.rlim_max)) is below \(Self.ownDescriptorsWanted)")
        }
        // loyaltyd inherits the limit of the process that starts it: start it with 1,024, as a
        // login shell or service manager commonly hands out, and let it raise its own.
        let previous = Int(limit.rlim_cur)
        setOwnOpenFilesLimit(1_024)
        defer { setOwnOpenFilesLimit(max(previous, Self.ownDescriptorsWanted)) }
        try super.setUpWithError()
    }

    func testTwoThousandConnectionsAtOnceAreAllServed() throws {
        let probe = ProcessProbe(pid: server.process.processIdentifier)
        XCTAssertGreaterThan(probe.openFilesSoftLimit, Self.connections + 64, "loyaltyd raised its own soft limit")
        let residentBefore = probe.residentKilobytes
        let clients = try (0..<Self.connections).map { _ in try RawClient(port: server.port, timeoutSeconds: 30) }
        for (index, client) in clients.enumerated() { client.sendCommand(["ECHO", "c\(index)"]) }
        for (index, client) in clients.enumerated() {
            guard try client.readReply() == .bulk("c\(index)") else { return XCTFail("connection \(index) was not answered") }
        }
        // All of them still open: a partner's writes and an agent's reads go through.
        let card = try connect(as: "CARDCO")
        XCTAssertEqual(try card.call(["ACCRUE", "flood", "M1", Self.today, "amount=10.00", "currency=USD"]),
                       .array([.bulk("flood"), .integer(10), .integer(0)]))
        let agent = try connect(as: "agent:demo")
        guard case .bulk(let info) = try agent.call(["INFO", "clients"]) else { return XCTFail("INFO clients") }
        XCTAssertTrue(info.contains("connected_clients:\(Self.connections + 2)\r\n"), info)
        for client in clients.prefix(100) { XCTAssertEqual(try client.call(["PING"]), .simple("PONG")) }
        print("flood: \(Self.connections) connections; resident \(residentBefore) KiB -> \(probe.residentKilobytes) KiB")
        XCTAssertLessThan(probe.residentKilobytes - residentBefore, 256 * 1024, "about 100 KiB a connection at most")
    }

    func testOutOfDescriptorsTheServerWaitsWithoutSpinningAndCatchesUp() throws {
        let probe = ProcessProbe(pid: server.process.processIdentifier)
        let agent = try connect(as: "agent:demo")
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(0), "a database connection is open")
        XCTAssertTrue(probe.setOpenFilesSoftLimit(64))
        let port = server.port
        let clients = try (0..<100).map { _ in try RawClient(port: port, timeoutSeconds: 10) }
        usleep(300_000)
        let before = probe.cpuTicks
        usleep(2_000_000)
        let spent = probe.cpuTicks - before
        XCTAssertLessThan(spent, 50, "with connections queued that it cannot take, loyaltyd used \(spent) ticks of CPU in 2 s")
        XCTAssertTrue(server.log.contains("event=accept_paused"))
        XCTAssertEqual(try agent.call(["BALANCE", "M1"]), .integer(0), "connections already open are served")
        // Descriptors come back; the queued connections are taken and answered.
        XCTAssertTrue(probe.setOpenFilesSoftLimit(4_096))
        for (index, client) in clients.enumerated() {
            guard try client.call(["ECHO", "late-\(index)"]) == .bulk("late-\(index)") else {
                return XCTFail("queued connection \(index) was not served")
            }
        }
    }
}
