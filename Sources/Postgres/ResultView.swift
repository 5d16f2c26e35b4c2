import CLibPQ

/// A look at one result's values where libpq keeps them, without copying them out: for a
/// large result read once, such as a 1,000-entry statement written straight into a reply.
///
/// Valid only inside the closure it is given to (`Connection.query(_:_:binary:reading:)`), after which
/// the result is cleared; it cannot be copied, so it cannot be kept past that by accident.
public struct ResultView: ~Copyable {
    private let pointer: OpaquePointer
    public let rowCount: Int
    public let columnCount: Int

    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
        rowCount = Int(PQntuples(pointer))
        columnCount = Int(PQnfields(pointer))
    }

    public func isNull(row: Int, column: Int) -> Bool {
        checkBounds(row, column)
        return PQgetisnull(pointer, Int32(row), Int32(column)) == 1
    }

    /// The value's bytes as libpq holds them (empty for NULL): text, or a binary-format result's
    /// binary form (for `text`, the same UTF-8 bytes). Valid no longer than the view.
    public func bytes(row: Int, column: Int) -> UnsafeBufferPointer<UInt8> {
        checkBounds(row, column)
        let length = Int(PQgetlength(pointer, Int32(row), Int32(column)))
        let start = UnsafeRawPointer(PQgetvalue(pointer, Int32(row), Int32(column)))
        return UnsafeBufferPointer(start: start?.assumingMemoryBound(to: UInt8.self), count: length)
    }

    /// An 8-byte value of a binary-format result (`bigint`, or `timestamptz` as microseconds
    /// since 2000-01-01 UTC), which PostgreSQL sends big-endian. Any other width is a programming error.
    public func int64(row: Int, column: Int) -> Int64 {
        let value = bytes(row: row, column: column)
        precondition(value.count == 8, "column \(column) is not an 8-byte binary value")
        return Int64(bigEndian: UnsafeRawPointer(value.baseAddress!).loadUnaligned(as: Int64.self))
    }

    /// The value as a string; nil is SQL NULL.
    public func string(row: Int, column: Int) -> String? {
        isNull(row: row, column: column) ? nil : String(decoding: bytes(row: row, column: column), as: UTF8.self)
    }

    /// Out of range, libpq returns no value at all: caught here as the programming error it is.
    private func checkBounds(_ row: Int, _ column: Int) {
        precondition((0..<rowCount).contains(row) && (0..<columnCount).contains(column),
                     "value (\(row), \(column)) outside a result of \(rowCount) x \(columnCount)")
    }
}
