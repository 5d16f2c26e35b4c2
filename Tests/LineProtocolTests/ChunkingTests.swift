import LineProtocol
import LoyaltyTesting
import XCTest

/// Random valid streams decode to what was encoded, however the bytes are split.
final class ChunkingTests: XCTestCase {
    func testRandomStreamsDecodeTheSameInAnyChunking() {
        var random = SplitMix64(seed: 42)
        for round in 0..<60 {
            var bytes: [UInt8] = []
            var expected: [Request] = []
            for _ in 0..<Int(random.next() % 6 + 1) {
                let arguments = randomArguments(&random)
                switch random.next() % 4 {
                case 0:
                    bytes += inlineLine(arguments, &random)
                    expected.append(Request(arguments: arguments, isInline: true))
                case 1:
                    // Things that produce no request may sit between requests.
                    bytes += Array(["\r\n", "\n", " \t \r\n", "*0\r\n", "*-1\r\n"][Int(random.next() % 5)].utf8)
                default:
                    bytes += resp(arguments)
                    expected.append(Request(arguments: arguments, isInline: false))
                }
            }
            for sizes in chunkings(of: bytes.count, seed: UInt64(round), randomCount: 10) {
                let decoded = decode(bytes, chunkSizes: sizes)
                XCTAssertEqual(decoded, Decoded(requests: expected), "round \(round), chunks \(sizes)")
                if decoded != Decoded(requests: expected) { return }
            }
        }
    }

    func testLargeBulkFedOneByteAtATime() throws {
        let payload = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let bytes = resp([Array("ECHO".utf8), payload])
        var decoder = RequestDecoder()
        for byte in bytes.dropLast() {
            decoder.append([byte])
            XCTAssertNil(try decoder.next())
        }
        decoder.append([bytes.last!])
        XCTAssertEqual(try decoder.next(), Request(arguments: [Array("ECHO".utf8), payload], isInline: false))
    }

    /// 1–4 arguments of 0–12 bytes drawn from bytes that stress the framing.
    private func randomArguments(_ random: inout SplitMix64) -> [[UInt8]] {
        let alphabet = Array("aZ09=-_ \t\"'\\*$\r\n".utf8) + [0x00, 0xFF, 0xC3, 0xA9]
        return (0..<Int(random.next() % 4 + 1)).map { _ in
            (0..<Int(random.next() % 13)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
        }
    }

    /// An inline line that sdssplitargs reads back as `arguments`: plain words where possible,
    /// otherwise double-quoted with escapes.
    private func inlineLine(_ arguments: [[UInt8]], _ random: inout SplitMix64) -> [UInt8] {
        var line: [UInt8] = []
        for (index, argument) in arguments.enumerated() {
            if index > 0 || random.next() % 2 == 0 { line += Array([" ", "\t", "  "][Int(random.next() % 3)].utf8) }
            let plain = !argument.isEmpty && argument.allSatisfy { byte in
                byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "'")
            }
            line += plain ? argument : quoted(argument)
        }
        return line + Array((random.next() % 2 == 0 ? "\r\n" : "\n").utf8)
    }

    private func quoted(_ argument: [UInt8]) -> [UInt8] {
        var word = Array("\"".utf8)
        for byte in argument {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): word += [UInt8(ascii: "\\"), byte]
            case 0x0A: word += Array("\\n".utf8)
            case 0x0D: word += Array("\\r".utf8)
            case 0x20...0x7E: word.append(byte)
            default:
                let hex = Array("0123456789abcdef".utf8)
                word += [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return word + Array("\"".utf8)
    }
}
