#if canImport(LineProtocol)
import LineProtocol  // when built against the module; `make fuzz` compiles the sources in
#endif

/// libFuzzer entry: any bytes, fed in two chunks split where the first byte says, must decode
/// into requests or one protocol error, never crash, and never buffer past the limits. Each
/// request's words, made into replies of every kind, must encode in RESP2 and RESP3 to exactly
/// one well-framed value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = ProtocolLimits(maxInlineLineBytes: 256, maxBulkBytes: 512, maxArguments: 16, maxBufferedBytes: 1_024)
    var decoder = RequestDecoder(limits: limits)
    let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    var requests = 0
    for chunk in [bytes[0..<split], bytes[split...]] {
        decoder.append(Array(chunk))
        do {
            while let request = try decoder.next() {
                requests += 1
                precondition(request.arguments.count <= limits.maxArguments, "argument limit broken")
                precondition(request.arguments.allSatisfy { $0.count <= max(limits.maxBulkBytes, limits.maxInlineLineBytes) },
                             "bulk limit broken")
                checkEncodings(request.arguments)
            }
        } catch {
            precondition(!error.message.isEmpty)
            return 0
        }
        precondition(decoder.bufferedByteCount <= limits.maxBufferedBytes + 65_536, "buffer grew without bound")
    }
    return 0
}

/// The words as bulk strings, as verbatim text, as map keys and values and beside nulls: in
/// RESP2 a map is exactly its flat array, and each encoding frames one value with nothing left.
func checkEncodings(_ words: [[UInt8]]) {
    let text = words.map { String(decoding: $0, as: UTF8.self) }
    let fields = zip(text, words).map { Reply.Field($0, .bulk($1)) }
    let reply = Reply.array([.map(fields), .verbatim(text.joined(separator: "\r\n")), .null, .array(words.map(Reply.bulk))])
    let flat = Reply.array([.array(fields.flatMap { [.bulk($0.key), $0.value] }), .bulk(text.joined(separator: "\r\n")), .null,
                            .array(words.map(Reply.bulk))])
    precondition(reply.encoded(.resp2) == flat.encoded(.resp2), "a RESP2 map is not its flat array")
    for version in [ProtocolVersion.resp2, .resp3] {
        let bytes = reply.encoded(version)
        precondition(endOfValue(bytes, from: 0) == bytes.count, "RESP\(version.rawValue) encoding is not one value")
    }
}

/// Where the RESP2/RESP3 value starting at `start` ends, nil if it is not well framed.
func endOfValue(_ bytes: [UInt8], from start: Int) -> Int? {
    guard start < bytes.count, let lineEnd = (start..<bytes.count - 1).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }) else {
        return nil
    }
    let header = String(decoding: bytes[(start + 1)..<lineEnd], as: UTF8.self)
    var next = lineEnd + 2
    switch bytes[start] {
    case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"):
        return next
    case UInt8(ascii: "_"):
        return header.isEmpty ? next : nil
    case UInt8(ascii: "$"), UInt8(ascii: "="):
        guard let length = Int(header) else { return nil }
        if length == -1 && bytes[start] == UInt8(ascii: "$") { return next }
        guard length >= 0, next + length + 2 <= bytes.count, bytes[next + length] == 13, bytes[next + length + 1] == 10 else { return nil }
        return next + length + 2
    case UInt8(ascii: "*"), UInt8(ascii: "%"):
        guard let count = Int(header), count >= 0 else { return nil }
        for _ in 0..<(bytes[start] == UInt8(ascii: "%") ? 2 * count : count) {
            guard let end = endOfValue(bytes, from: next) else { return nil }
            next = end
        }
        return next
    default:
        return nil
    }
}
