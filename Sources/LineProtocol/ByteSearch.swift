#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Array where Element == UInt8 {
    /// The first index of `byte` within `range`, found with `memchr` since the decoder scans
    /// every byte a client sends.
    func firstIndex(of byte: UInt8, in range: Range<Int>) -> Int? {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        guard !range.isEmpty else { return nil }
        return withUnsafeBufferPointer { bytes in
            let base = bytes.baseAddress!
            guard let found = memchr(base + range.lowerBound, Int32(byte), range.count) else {
                return nil
            }
            return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
    }
}
