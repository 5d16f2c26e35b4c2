/// One statement's result, copied out of libpq's `PGresult` (which is cleared before the call
/// returns), so it is a plain value that may cross threads.
public struct QueryResult: Sendable {
    /// Column names in result order.
    public let columns: [String]
    public let rows: [Row]
    /// Rows inserted, updated, deleted, selected or copied (`PQcmdTuples`); 0 when not reported.
    public let affectedRows: Int

    public var count: Int { rows.count }
    public var first: Row? { rows.first }

    /// The position of a column, for reading many rows without looking the name up in each.
    /// Naming a column the query does not return is a programming error and traps.
    public func column(_ name: String) -> Int {
        guard let index = columns.firstIndex(of: name) else { preconditionFailure("no column \"\(name)\" in result \(columns)") }
        return index
    }
}

/// Column name to index, shared by every row of one result.
final class ColumnLayout: Sendable {
    let names: [String]
    private let indexByName: [String: Int]

    init(names: [String]) {
        self.names = names
        var indexByName: [String: Int] = [:]
        // With duplicate names the first column wins, as in `SELECT a.id, b.id`.
        for (index, name) in names.enumerated() where indexByName[name] == nil {
            indexByName[name] = index
        }
        self.indexByName = indexByName
    }

    func index(of column: String) -> Int? { indexByName[column] }
}

/// One row of text-format values; nil is SQL NULL.
public struct Row: Sendable {
    private let layout: ColumnLayout
    private let values: [String?]

    init(layout: ColumnLayout, values: [String?]) {
        assert(values.count == layout.names.count)
        self.layout = layout
        self.values = values
    }

    /// The value of a column by name; nil is SQL NULL. Naming a column the query does not
    /// return is a programming error and traps.
    public subscript(_ column: String) -> String? { values[position(column)] }

    /// The value of a column by position; nil is SQL NULL.
    public subscript(_ index: Int) -> String? {
        precondition(values.indices.contains(index), "column index \(index) out of range")
        return values[index]
    }

    /// A value that must not be NULL.
    public func string(_ column: String) throws(PostgresError) -> String { try string(position(column)) }

    /// A value that must not be NULL, by position (`QueryResult.column(_:)`).
    public func string(_ index: Int) throws(PostgresError) -> String {
        guard let value = self[index] else {
            throw PostgresError(code: .unexpectedResult, message: "column \"\(layout.names[index])\" is NULL")
        }
        return value
    }

    /// An integer value that must not be NULL.
    public func int64(_ column: String) throws(PostgresError) -> Int64 { try int64(position(column)) }

    /// An integer value that must not be NULL, by position (`QueryResult.column(_:)`).
    public func int64(_ index: Int) throws(PostgresError) -> Int64 {
        let text = try string(index)
        guard let value = Int64(text) else {
            throw PostgresError(code: .unexpectedResult, message: "column \"\(layout.names[index])\" is not an integer: \(text)")
        }
        return value
    }

    public func int(_ column: String) throws(PostgresError) -> Int {
        Int(try int64(column))
    }

    /// A boolean value in PostgreSQL's text form, "t" or "f".
    public func bool(_ column: String) throws(PostgresError) -> Bool {
        switch try string(column) {
        case "t": return true
        case "f": return false
        case let other:
            throw PostgresError(code: .unexpectedResult, message: "column \"\(column)\" is not a boolean: \(other)")
        }
    }

    /// An integer value, nil for NULL.
    public func optionalInt64(_ column: String) throws(PostgresError) -> Int64? {
        let index = position(column)
        return self[index] == nil ? nil : try int64(index)
    }

    private func position(_ column: String) -> Int {
        guard let index = layout.index(of: column) else {
            preconditionFailure("no column \"\(column)\" in result \(layout.names)")
        }
        return index
    }
}
