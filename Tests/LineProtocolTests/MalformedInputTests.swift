import LineProtocol
import LoyaltyTesting
import XCTest

/// Framing errors: the decoder throws a `.syntax` error and is poisoned, whatever the chunking.
final class MalformedInputTests: XCTestCase {
    private let invalidMultibulkLength = syntaxError("invalid multibulk length")
    private let invalidBulkLength = syntaxError("invalid bulk length")
    private let missingTerminator = syntaxError("expected CRLF after bulk payload")

    func testMalformedArrayCounts() {
        for header in ["*abc", "*", "*+1", "*01", "*00", "* 1", "*1 ", "*-0", "*-2", "*-100", "*1x",
                       "*99999999999999999999", "*-9223372036854775809"] {
            assertFails(header + "\r\n", with: invalidMultibulkLength)
        }
    }

    func testArrayCountMustEndWithCRLF() {
        assertFails("*1\rX$4\r\nPING\r\n", with: invalidMultibulkLength)
        assertFails("*1\n$4\r\nPING\r\n", with: invalidMultibulkLength)
    }

    func testOverlongHeaderIsRejectedWithoutWaitingForCR() {
        assertFails("*" + String(repeating: "1", count: 40), with: invalidMultibulkLength)
        assertFails("*1\r\n$" + String(repeating: "9", count: 40), with: invalidBulkLength)
    }

    func testMalformedBulkLengths() {
        for header in ["$-5", "$-1", "$abc", "$", "$01", "$+3", "$3 ", "$99999999999999999999"] {
            assertFails("*1\r\n" + header + "\r\n", with: invalidBulkLength)
        }
    }

    func testBulkPayloadMustEndWithCRLF() {
        for tail in ["abcXY", "abc\rX", "abc\n\r", "abcd\r\n"] {
            assertFails("*1\r\n$3\r\n" + tail, with: missingTerminator)
        }
    }

    func testSomethingElseWhereABulkIsExpected() {
        assertFails(
            "*2\r\n$4\r\nECHO\r\n:1\r\n", with: syntaxError("expected '$', got ':'")
        )
        assertFails(
            [UInt8]("*1\r\n".utf8) + [0x00, 0x01], with: syntaxError(#"expected '$', got '\x00'"#)
        )
        assertFails(
            [UInt8]("*1\r\n".utf8) + [0xFF], with: syntaxError(#"expected '$', got '\xff'"#)
        )
    }

    func testWrongMarkerIsRejectedBeforeItsLineEnds() throws {
        var decoder = RequestDecoder()
        decoder.append(Array("*1\r\nP".utf8))
        XCTAssertThrowsError(try decoder.next())
    }

    func testDecoderIsPoisonedAfterAnError() throws {
        var decoder = RequestDecoder()
        decoder.append(Array("*x\r\n".utf8))
        XCTAssertThrowsError(try decoder.next()) { XCTAssertEqual($0 as? ProtocolError, self.invalidMultibulkLength) }
        decoder.append(resp("PING"))
        XCTAssertThrowsError(try decoder.next()) { XCTAssertEqual($0 as? ProtocolError, self.invalidMultibulkLength) }
        XCTAssertEqual(decoder.bufferedByteCount, 0, "a failed decoder holds no bytes")
    }

    func testValidRequestsBeforeGarbageAreReturned() {
        assertFails(
            resp("PING") + Array("*2\r\n$4\r\nECHO\r\n$2\r\nhiXX".utf8),
            with: missingTerminator,
            after: [multibulk("PING")]
        )
    }

    func testErrorsMapToRepliesTheServerSendsBeforeClosing() {
        XCTAssertEqual(invalidBulkLength.reply.encoded, Array("-ERR Protocol error: invalid bulk length\r\n".utf8))
        XCTAssertEqual(
            limitError("line too long (max 65536 bytes)").reply.encoded,
            Array("-LIMIT line too long (max 65536 bytes)\r\n".utf8)
        )
    }

    func testBinaryGarbageDecodesTheSameHoweverChunked() {
        // Random bytes biased towards the protocol's own characters, so they reach deep states.
        var random = SplitMix64(seed: 7)
        let alphabet = Array("*$\r\n\r\n-0123456789 \t\"'\\xaZ".utf8) + [0x00, 0xFF, 0x80]
        for _ in 0..<300 {
            let count = Int(random.next() % 60) + 1
            let bytes = (0..<count).map { _ in
                random.next() % 4 == 0 ? UInt8(truncatingIfNeeded: random.next()) : alphabet[Int(random.next() % UInt64(alphabet.count))]
            }
            let once = decode(bytes)
            for sizes in chunkings(of: bytes.count, randomCount: 5) {
                XCTAssertEqual(decode(bytes, chunkSizes: sizes), once, "bytes \(bytes), chunks \(sizes)")
            }
        }
    }
}
