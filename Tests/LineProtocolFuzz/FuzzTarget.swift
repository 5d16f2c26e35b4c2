#if canImport(LineProtocol)
import LineProtocol  // when built against the module; `make fuzz` compiles the sources in
#endif

/// libFuzzer entry: any bytes, fed in two chunks split where the first byte says, must decode
/// into requests or one protocol error, never crash, and never buffer past the limits.
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
                _ = Reply.array(request.arguments.map(Reply.bulk)).encoded
            }
        } catch {
            precondition(!error.message.isEmpty)
            return 0
        }
        precondition(decoder.bufferedByteCount <= limits.maxBufferedBytes + 65_536, "buffer grew without bound")
    }
    return 0
}
