import CLibPQ

/// A look at one result's text values where libpq keeps them, without copying them out: for a
/// large result read once, such as a 1,000-entry statement written straight into a reply.
///
/// Valid only inside the closure it is given to (`Connection.query(_:_:reading:)`), after which
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

    /// The position of a column. Naming a column the query does not return is a programming error and traps.
    public func column(_ name: String) -> Int {
        let index = Int(PQfnumber(pointer, "\"\(name)\""))
        precondition(index >= 0, "no column \"\(name)\" in the result")
        return index
    }

    public func isNull(row: Int, column: Int) -> Bool {
        checkBounds(row, column)
        return PQgetisnull(pointer, Int32(row), Int32(column)) == 1
    }

    /// The value's text as libpq holds it (empty for NULL): valid no longer than the view.
    public func bytes(row: Int, column: Int) -> UnsafeBufferPointer<UInt8> {
        checkBounds(row, column)
        let length = Int(PQgetlength(pointer, Int32(row), Int32(column)))
        let start = UnsafeRawPointer(PQgetvalue(pointer, Int32(row), Int32(column)))
        return UnsafeBufferPointer(start: start?.assumingMemoryBound(to: UInt8.self), count: length)
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
