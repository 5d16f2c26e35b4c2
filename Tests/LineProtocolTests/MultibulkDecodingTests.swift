import LineProtocol
import XCTest

/// RESP arrays of bulk strings: what redis-cli, redis-benchmark and client libraries send.
final class MultibulkDecodingTests: XCTestCase {
    func testSingleCommand() {
        assertDecodes("*1\r\n$4\r\nPING\r\n", to: [multibulk("PING")])
    }

    func testArgumentsKeepTheirBytesAndCase() {
        assertDecodes(
            "*3\r\n$6\r\nENROLL\r\n$4\r\nM-01\r\n$10\r\nname=Ada L\r\n",
            to: [multibulk("ENROLL", "M-01", "name=Ada L")]
        )
    }

    func testEmptyBulkIsAnEmptyArgument() {
        assertDecodes("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", to: [multibulk("ECHO", "")])
    }

    func testPayloadIsBinarySafe() {
        let payload: [UInt8] = [0, 13, 10, 0xFF, 0x2A, 0x24, 13, 10, 13, 0, 10]
        let bytes = resp([Array("ECHO".utf8), payload])
        let expected = Request(arguments: [Array("ECHO".utf8), payload], isInline: false)
        assertDecodes(bytes, to: Decoded(requests: [expected]))
    }

    func testPipelinedRequestsComeOutInOrder() {
        let bytes = resp("AUTH", "HOTELCO", "k") + resp("PING") + resp("BALANCE", "M1")
        assertDecodes(
            bytes,
            to: Decoded(requests: [multibulk("AUTH", "HOTELCO", "k"), multibulk("PING"), multibulk("BALANCE", "M1")])
        )
    }

    func testEmptyAndNullArraysAreIgnoredLikeRedis() {
        assertDecodes("*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n*0\r\n", to: [multibulk("PING")])
    }

    func testInlineAndMultibulkMayAlternate() {
        assertDecodes(
            "PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nECHO there\n",
            to: [inline("PING"), multibulk("ECHO", "hi"), inline("ECHO", "there")]
        )
    }

    func testIncompleteRequestWaitsForTheRest() throws {
        var decoder = RequestDecoder()
        decoder.append(Array("*2\r\n$4\r\nECHO\r\n$5\r\nhel".utf8))
        XCTAssertNil(try decoder.next())
        XCTAssertNil(try decoder.next(), "asking again without new bytes changes nothing")
        decoder.append(Array("lo\r\n".utf8))
        XCTAssertEqual(try decoder.next(), multibulk("ECHO", "hello"))
        XCTAssertNil(try decoder.next())
    }

    func testBufferedByteCountTracksUnconsumedBytes() throws {
        var decoder = RequestDecoder()
        XCTAssertEqual(decoder.bufferedByteCount, 0)
        decoder.append(Array("*2\r\n$4\r\nECHO\r\n$5\r\nhe".utf8))
        XCTAssertEqual(decoder.bufferedByteCount, 20)
        XCTAssertNil(try decoder.next())
        // The headers and the first argument are consumed; "he" waits for the rest.
        XCTAssertEqual(decoder.bufferedByteCount, 2)
        decoder.append(Array("llo\r\n*1\r\n".utf8))
        XCTAssertEqual(try decoder.next(), multibulk("ECHO", "hello"))
        XCTAssertEqual(decoder.bufferedByteCount, 4)
        XCTAssertNil(try decoder.next())
    }

    func testAppendFromRawBufferPointer() throws {
        var decoder = RequestDecoder()
        let bytes = resp("PING")
        bytes.withUnsafeBytes { decoder.append($0) }
        XCTAssertEqual(try decoder.next(), multibulk("PING"))
    }

    func testManyPipelinedRequestsAcrossChunksStayCorrect() {
        // Enough traffic to make the decoder drop consumed bytes many times mid-request.
        var bytes: [UInt8] = []
        var expected: [Request] = []
        for index in 0..<20_000 {
            let key = "key-\(index)"
            bytes += index % 3 == 0 ? Array("BALANCE \(key)\r\n".utf8) : resp("BALANCE", key)
            expected.append(index % 3 == 0 ? inline("BALANCE", key) : multibulk("BALANCE", key))
        }
        for chunk in [1000, 4096, 65536, 7] {
            let decoded = decode(bytes, chunkSizes: Array(repeating: chunk, count: bytes.count / chunk + 1))
            XCTAssertNil(decoded.error)
            XCTAssertEqual(decoded.requests.count, expected.count, "chunk \(chunk)")
            XCTAssertEqual(decoded.requests, expected, "chunk \(chunk)")
        }
    }
}
