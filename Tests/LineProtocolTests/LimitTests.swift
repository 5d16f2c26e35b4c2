import LineProtocol
import XCTest

/// Every limit at its edge: exactly at the limit is accepted, one over is a `.limit` error,
/// raised before the bytes it guards have to be buffered.
final class LimitTests: XCTestCase {
    private let lineTooLong = limitError("line too long (max 65536 bytes)")

    func testDefaults() {
        let limits = ProtocolLimits.default
        XCTAssertEqual(limits.maxInlineLineBytes, 65536)
        XCTAssertEqual(limits.maxBulkBytes, 1_048_576)
        XCTAssertEqual(limits.maxArguments, 1024)
        XCTAssertEqual(limits.maxBufferedBytes, 4_194_304)
    }

    // MARK: maxInlineLineBytes

    func testInlineLineAtTheLimitIsAccepted() {
        let word = String(repeating: "a", count: 65536)
        for terminator in ["\r\n", "\n"] {
            let decoded = decode(Array((word + terminator).utf8), chunkSizes: [1000])
            XCTAssertEqual(decoded, Decoded(requests: [inline(word)]))
        }
    }

    func testInlineLineOneOverTheLimitIsRejected() {
        let line = String(repeating: "a", count: 65537) + "\r\n"
        XCTAssertEqual(decode(Array(line.utf8)).error, lineTooLong)
        XCTAssertEqual(decode(Array(line.utf8), chunkSizes: [1000]).error, lineTooLong)
    }

    func testInlineLineIsRejectedBeforeItsNewlineArrives() throws {
        var decoder = RequestDecoder()
        decoder.append(Array(repeating: UInt8(ascii: "a"), count: 65536))
        XCTAssertNil(try decoder.next())
        decoder.append(Array("\r".utf8))
        XCTAssertNil(try decoder.next(), "the CR may begin the terminator")
        decoder.append(Array("a".utf8))
        XCTAssertThrowsError(try decoder.next()) { XCTAssertEqual($0 as? ProtocolError, self.lineTooLong) }
    }

    func testCustomLineLimitEdges() {
        let limits = ProtocolLimits(maxInlineLineBytes: 8)
        assertDecodes("ECHO abc\r\nECHO abc\n", to: [inline("ECHO", "abc"), inline("ECHO", "abc")], limits: limits)
        assertFails("ECHO abcd\r\n", with: limitError("line too long (max 8 bytes)"), limits: limits)
        assertFails("ECHO abcd", with: limitError("line too long (max 8 bytes)"), limits: limits)
    }

    // MARK: maxArguments

    func testArgumentCountAtTheLimitIsAccepted() {
        let words = (0..<1024).map { "w\($0)" }
        let bytes = resp(words.map { Array($0.utf8) })
        XCTAssertEqual(decode(bytes), Decoded(requests: [Request(arguments: words.map { Array($0.utf8) }, isInline: false)]))
    }

    func testArgumentCountOneOverIsRejectedOnTheHeader() throws {
        var decoder = RequestDecoder()
        decoder.append(Array("*1025\r\n".utf8))
        XCTAssertThrowsError(try decoder.next()) {
            XCTAssertEqual($0 as? ProtocolError, limitError("too many arguments (max 1024)"))
        }
    }

    func testInlineWordsCountAgainstTheArgumentLimit() {
        let limits = ProtocolLimits(maxArguments: 3)
        assertDecodes("SET a b\r\n*3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n", to: [inline("SET", "a", "b"), multibulk("x", "y", "z")], limits: limits)
        assertFails("SET a b c\r\n", with: limitError("too many arguments (max 3)"), limits: limits)
        assertFails("*4\r\n", with: limitError("too many arguments (max 3)"), limits: limits)
    }

    // MARK: maxBulkBytes

    func testBulkAtTheLimitIsAccepted() {
        let payload = [UInt8](repeating: 0x41, count: 1_048_576)
        let bytes = resp([Array("ECHO".utf8), payload])
        let decoded = decode(bytes, chunkSizes: Array(repeating: 65536, count: 20))
        XCTAssertEqual(decoded, Decoded(requests: [Request(arguments: [Array("ECHO".utf8), payload], isInline: false)]))
    }

    func testBulkOneOverIsRejectedOnTheHeaderBeforeItsPayload() throws {
        var decoder = RequestDecoder()
        decoder.append(Array("*2\r\n$4\r\nECHO\r\n$1048577\r\n".utf8))
        XCTAssertThrowsError(try decoder.next()) {
            XCTAssertEqual($0 as? ProtocolError, limitError("bulk too long (max 1048576 bytes)"))
        }
    }

    func testCustomBulkLimitEdges() {
        let limits = ProtocolLimits(maxBulkBytes: 3)
        assertDecodes("*1\r\n$3\r\nabc\r\n", to: [multibulk("abc")], limits: limits)
        assertFails("*1\r\n$4\r\n", with: limitError("bulk too long (max 3 bytes)"), limits: limits)
    }

    // MARK: maxBufferedBytes

    func testRequestOfExactlyMaxBufferedBytesIsAccepted() {
        // "*2\r\n" (4) + "$4\r\nECHO\r\n" (10) + "$20\r\n" (5) + 20 + "\r\n" (2) = 41 bytes.
        let limits = ProtocolLimits(maxInlineLineBytes: 8, maxBufferedBytes: 41)
        let payload = String(repeating: "p", count: 20)
        XCTAssertEqual(resp("ECHO", payload).count, 41)
        assertDecodes(resp("ECHO", payload), to: Decoded(requests: [multibulk("ECHO", payload)]), limits: limits)
    }

    func testRequestOneOverMaxBufferedBytesIsRejectedBeforeThePayload() {
        let limits = ProtocolLimits(maxInlineLineBytes: 8, maxBufferedBytes: 40)
        let tooLarge = limitError("request too large (max 40 bytes)")
        assertFails(resp("ECHO", String(repeating: "p", count: 20)), with: tooLarge, limits: limits)
        // Only the headers are sent: the announced size alone is enough to refuse.
        assertFails("*2\r\n$4\r\nECHO\r\n$20\r\n", with: tooLarge, limits: limits)
    }

    func testManyArgumentsAddUpAgainstMaxBufferedBytes() {
        // Each argument fits maxBulkBytes, together they do not fit maxBufferedBytes.
        let limits = ProtocolLimits(maxInlineLineBytes: 8, maxBulkBytes: 10, maxBufferedBytes: 40)
        assertFails(
            resp("ECHO", "0123456789", "0123456789"), with: limitError("request too large (max 40 bytes)"), limits: limits
        )
    }

    func testPipelinedRequestsEachGetTheWholeBudget() {
        let limits = ProtocolLimits(maxInlineLineBytes: 8, maxBufferedBytes: 41)
        let payload = String(repeating: "p", count: 20)
        let bytes = resp("ECHO", payload) + resp("ECHO", payload)
        assertDecodes(bytes, to: Decoded(requests: [multibulk("ECHO", payload), multibulk("ECHO", payload)]), limits: limits)
    }
}
