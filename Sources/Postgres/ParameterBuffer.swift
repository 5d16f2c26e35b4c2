/// Text parameters laid out as NUL-terminated C strings in one allocation, the shape libpq's
/// `paramValues` wants: one copy of the bytes, no per-parameter allocation.
///
/// A parameter holding a NUL byte is refused rather than silently cut short at the NUL.
struct ParameterBuffer: ~Copyable {
    /// PostgreSQL's protocol carries the parameter count in 16 bits.
    static let parametersMax = 65_535

    private let bytes: UnsafeMutableBufferPointer<CChar>
    private let pointers: UnsafeMutableBufferPointer<UnsafePointer<CChar>?>

    init(_ parameters: [String?]) throws(PostgresError) {
        precondition(parameters.count <= Self.parametersMax, "too many parameters: \(parameters.count)")
        let byteCount = parameters.reduce(0) { $0 + ($1.map { $0.utf8.count + 1 } ?? 0) }
        let bytes = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(byteCount, 1))
        let pointers = UnsafeMutableBufferPointer<UnsafePointer<CChar>?>.allocate(capacity: max(parameters.count, 1))
        var offset = 0
        for (index, parameter) in parameters.enumerated() {
            guard let parameter else {
                pointers[index] = nil
                continue
            }
            pointers[index] = UnsafePointer(bytes.baseAddress! + offset)
            for byte in parameter.utf8 {
                guard byte != 0 else {
                    bytes.deallocate()
                    pointers.deallocate()
                    throw Self.nulError(index)
                }
                bytes[offset] = CChar(bitPattern: byte)
                offset += 1
            }
            bytes[offset] = 0
            offset += 1
        }
        assert(offset == byteCount)
        self.bytes = bytes
        self.pointers = pointers
    }

    /// Checks parameters without laying them out, for callers that must refuse a batch before
    /// sending any of it.
    static func validate(_ parameters: [String?]) throws(PostgresError) {
        for (index, parameter) in parameters.enumerated() where parameter?.utf8.contains(0) == true {
            throw nulError(index)
        }
    }

    private static func nulError(_ index: Int) -> PostgresError {
        PostgresError(code: .invalidParameter, message: "parameter $\(index + 1) contains a NUL byte")
    }

    deinit {
        bytes.deallocate()
        pointers.deallocate()
    }

    /// Valid only while this buffer is alive.
    var values: UnsafePointer<UnsafePointer<CChar>?> { UnsafePointer(pointers.baseAddress!) }
}
