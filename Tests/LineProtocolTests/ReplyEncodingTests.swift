import LineProtocol
import XCTest

/// Replies are exactly RESP2 or RESP3 as Redis clients parse it.
final class ReplyEncodingTests: XCTestCase {
    private func assertEncodes(_ reply: Reply, _ expected: String, _ version: ProtocolVersion = .resp2,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(String(decoding: reply.encoded(version), as: UTF8.self), expected, file: file, line: line)
    }

    func testSimpleStrings() {
        assertEncodes(.ok, "+OK\r\n")
        assertEncodes(.simple("QUEUED"), "+QUEUED\r\n")
    }

    func testErrors() {
        assertEncodes(.error(code: "ERR", message: "unknown command 'FOO'"), "-ERR unknown command 'FOO'\r\n")
        assertEncodes(.error(code: "INSUFFICIENT", message: ""), "-INSUFFICIENT\r\n")
    }

    func testLineBreaksCannotEscapeALine() {
        // Trimmed at the ends, turned into spaces inside, as Redis does.
        assertEncodes(.error(code: "INVALID", message: "bad\r\nvalue\nhere\r\n"), "-INVALID bad  value here\r\n")
        assertEncodes(.simple("\r\nOK\r"), "+OK\r\n")
        assertEncodes(.simple("\n"), "+\r\n")
    }

    func testTheWriterWritesWhatTheReplyTreeEncodes() {
        var writer = RESPWriter()
        writer.arrayHeader(2)
        writer.integer(-7)
        writer.bulk("héllo")
        let tree = Reply.array([.integer(-7), .bulk("héllo")])
        XCTAssertEqual(Array(writer.bytes), tree.encoded)
        let reply = writer.reply()
        assertEncodes(reply, "*2\r\n:-7\r\n$6\r\nhéllo\r\n")
        assertEncodes(.array([reply, .ok]), "*2\r\n*2\r\n:-7\r\n$6\r\nhéllo\r\n+OK\r\n")
    }

    func testTheWriterGrowsPastItsReserveAndWritesEveryWidth() {
        var writer = RESPWriter(reservingCapacity: 4)
        var tree: [Reply] = []
        for value: Int64 in [0, 9, 10, -1, -10, 99, 100, .max, .min] {
            writer.integer(value)
            tree.append(.integer(value))
        }
        for text in ["", "x", String(repeating: "é", count: 5_000)] {
            writer.bulk(text)
            tree.append(.bulk(text))
        }
        writer.arrayHeader(0)
        tree.append(.array([]))
        XCTAssertEqual(writer.reply().encoded, tree.flatMap(\.encoded))
    }

    func testIntegers() {
        assertEncodes(.integer(0), ":0\r\n")
        assertEncodes(.integer(42), ":42\r\n")
        assertEncodes(.integer(-7), ":-7\r\n")
        assertEncodes(.integer(10), ":10\r\n")
        assertEncodes(.integer(Int64.max), ":9223372036854775807\r\n")
        assertEncodes(.integer(Int64.min), ":-9223372036854775808\r\n")
        for value in [Int64(9), 99, 100, 1_000_000_007, -1_000] { assertEncodes(.integer(value), ":\(value)\r\n") }
        assertEncodes(.integer(1_000_000), ":1000000\r\n")
        assertEncodes(.integer(.max), ":9223372036854775807\r\n")
        assertEncodes(.integer(.min), ":-9223372036854775808\r\n")
    }

    func testBulkStrings() {
        assertEncodes(.bulk("hello"), "$5\r\nhello\r\n")
        assertEncodes(.bulk(""), "$0\r\n\r\n")
        assertEncodes(.bulk("é"), "$2\r\né\r\n")
        XCTAssertEqual(Reply.bulk([0, 13, 10, 0xFF]).encoded, Array("$4\r\n".utf8) + [0, 13, 10, 0xFF] + [13, 10])
    }

    func testNull() {
        assertEncodes(.null, "$-1\r\n")
    }

    func testArrays() {
        assertEncodes(.array([]), "*0\r\n")
        assertEncodes(
            .array([.bulk("T-1"), .integer(150), .null, .array([.simple("x"), .error(code: "ERR", message: "e")])]),
            "*4\r\n$3\r\nT-1\r\n:150\r\n$-1\r\n*2\r\n+x\r\n-ERR e\r\n"
        )
    }

    func testEncodeAppendsToExistingBuffer() {
        var buffer = Array("+PONG\r\n".utf8)
        Reply.integer(5).encode(into: &buffer)
        Reply.ok.encode(into: &buffer)
        XCTAssertEqual(String(decoding: buffer, as: UTF8.self), "+PONG\r\n:5\r\n+OK\r\n")
    }

    func testArrayOfBulksIsARequestTheDecoderReadsBack() throws {
        let arguments: [[UInt8]] = [Array("ECHO".utf8), [0, 13, 10], []]
        var decoder = RequestDecoder()
        decoder.append(Reply.array(arguments.map(Reply.bulk)).encoded)
        XCTAssertEqual(try decoder.next(), Request(arguments: arguments, isInline: false))
    }

    func testRESP3HasItsOwnNullMapAndVerbatimText() {
        assertEncodes(.null, "_\r\n", .resp3)
        let fields = Reply.map([.init("tier", .bulk("Member")), .init("tier_until", .null), .init("qualifying", .integer(3000))])
        assertEncodes(fields, "%3\r\n$4\r\ntier\r\n$6\r\nMember\r\n$10\r\ntier_until\r\n_\r\n$10\r\nqualifying\r\n:3000\r\n", .resp3)
        assertEncodes(.map([]), "%0\r\n", .resp3)
        // The length counts the `txt:` format and the UTF-8 bytes.
        assertEncodes(.verbatim("# Server\r\né:1\r\n"), "=20\r\ntxt:# Server\r\né:1\r\n\r\n", .resp3)
        assertEncodes(.array([.null, .map([.init("k", .null)])]), "*2\r\n_\r\n%1\r\n$1\r\nk\r\n_\r\n", .resp3)
    }

    func testInRESP2AMapIsTheFlatArrayAndVerbatimTextABulkString() {
        let fields = Reply.map([.init("tier", .bulk("Member")), .init("tier_until", .null)])
        assertEncodes(fields, "*4\r\n$4\r\ntier\r\n$6\r\nMember\r\n$10\r\ntier_until\r\n$-1\r\n")
        XCTAssertEqual(fields.encoded, Reply.array([.bulk("tier"), .bulk("Member"), .bulk("tier_until"), .null]).encoded)
        assertEncodes(.verbatim("a:1\r\n"), "$5\r\na:1\r\n\r\n")
    }

    func testEveryOtherReplyIsTheSameInBothProtocols() {
        let replies: [Reply] = [.ok, .error(code: "NOPROTO", message: "unsupported protocol version"), .integer(-7),
                                .bulk([0, 13, 10]), .array([.bulk("t1"), .integer(1350), .integer(0)]), RESPWriter().reply()]
        for reply in replies { XCTAssertEqual(reply.encoded(.resp3), reply.encoded(.resp2), "\(reply)") }
    }
}
