import LineProtocol
import LoyaltyTesting
import XCTest

/// What a stream decodes to: the requests returned, then the error that stopped decoding, if any.
struct Decoded: Equatable {
    var requests: [Request] = []
    var error: ProtocolError?
}

/// Feeds `bytes` in chunks of the given sizes (the last chunk takes the rest), draining
/// `next()` after every chunk as a server does after every read.
func decode(
    _ bytes: [UInt8], limits: ProtocolLimits = .default, chunkSizes: [Int] = []
) -> Decoded {
    var decoder = RequestDecoder(limits: limits)
    var result = Decoded()
    var offset = 0
    var sizes = chunkSizes[...]
    while offset < bytes.count {
        let size = min(sizes.popFirst() ?? bytes.count, bytes.count - offset)
        decoder.append(Array(bytes[offset..<(offset + size)]))
        offset += size
        do throws(ProtocolError) {
            while let request = try decoder.next() { result.requests.append(request) }
        } catch {
            result.error = error
            return result
        }
    }
    return result
}

/// Chunkings worth trying: all at once, one byte at a time, every split into two pieces (for
/// short streams), and seeded random chunkings.
func chunkings(of count: Int, seed: UInt64 = 1, randomCount: Int = 20) -> [[Int]] {
    var result: [[Int]] = [[count], Array(repeating: 1, count: count)]
    if count <= 512 {
        for split in 1..<max(count, 1) { result.append([split, count - split]) }
    }
    var random = SplitMix64(seed: seed)
    for _ in 0..<randomCount {
        var sizes: [Int] = []
        var total = 0
        while total < count {
            let size = Int(random.next() % 17) + 1
            sizes.append(size)
            total += size
        }
        result.append(sizes)
    }
    return result
}

/// Asserts that `bytes` decodes to `expected` however it is chunked.
func assertDecodes(
    _ bytes: [UInt8], to expected: Decoded, limits: ProtocolLimits = .default,
    file: StaticString = #filePath, line: UInt = #line
) {
    for sizes in chunkings(of: bytes.count) {
        let actual = decode(bytes, limits: limits, chunkSizes: sizes)
        guard actual == expected else {
            XCTFail("chunks \(sizes.prefix(20)): got \(actual), expected \(expected)", file: file, line: line)
            return
        }
    }
}

func assertDecodes(
    _ text: String, to requests: [Request], limits: ProtocolLimits = .default,
    file: StaticString = #filePath, line: UInt = #line
) {
    assertDecodes(Array(text.utf8), to: Decoded(requests: requests), limits: limits, file: file, line: line)
}

func assertFails(
    _ bytes: [UInt8], with error: ProtocolError, after requests: [Request] = [],
    limits: ProtocolLimits = .default, file: StaticString = #filePath, line: UInt = #line
) {
    assertDecodes(bytes, to: Decoded(requests: requests, error: error), limits: limits, file: file, line: line)
}

func assertFails(
    _ text: String, with error: ProtocolError, after requests: [Request] = [],
    limits: ProtocolLimits = .default, file: StaticString = #filePath, line: UInt = #line
) {
    assertFails(Array(text.utf8), with: error, after: requests, limits: limits, file: file, line: line)
}

/// A RESP array of bulk strings, as a Redis client sends it.
func resp(_ arguments: [[UInt8]]) -> [UInt8] {
    var bytes = Array("*\(arguments.count)\r\n".utf8)
    for argument in arguments {
        bytes += Array("$\(argument.count)\r\n".utf8) + argument + [13, 10]
    }
    return bytes
}

func resp(_ words: String...) -> [UInt8] { resp(words.map { Array($0.utf8) }) }

func multibulk(_ words: String...) -> Request {
    Request(arguments: words.map { Array($0.utf8) }, isInline: false)
}

func inline(_ words: String...) -> Request {
    Request(arguments: words.map { Array($0.utf8) }, isInline: true)
}

func syntaxError(_ detail: String) -> ProtocolError {
    ProtocolError(kind: .syntax, message: "Protocol error: " + detail)
}

func limitError(_ message: String) -> ProtocolError {
    ProtocolError(kind: .limit, message: message)
}
