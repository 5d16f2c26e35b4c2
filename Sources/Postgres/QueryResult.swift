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
    public subscript(_ column: String) -> String? {
        guard let index = layout.index(of: column) else {
            preconditionFailure("no column \"\(column)\" in result \(layout.names)")
        }
        return values[index]
    }

    /// The value of a column by position; nil is SQL NULL.
    public subscript(_ index: Int) -> String? {
        precondition(values.indices.contains(index), "column index \(index) out of range")
        return values[index]
    }

    /// A value that must not be NULL.
    public func string(_ column: String) throws(PostgresError) -> String {
        guard let value = self[column] else {
            throw PostgresError(code: .unexpectedResult, message: "column \"\(column)\" is NULL")
        }
        return value
    }

    /// An integer value that must not be NULL.
    public func int64(_ column: String) throws(PostgresError) -> Int64 {
        guard let value = try optionalInt64(column) else {
            throw PostgresError(code: .unexpectedResult, message: "column \"\(column)\" is NULL")
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
        guard let text = self[column] else { return nil }
        guard let value = Int64(text) else {
            throw PostgresError(code: .unexpectedResult, message: "column \"\(column)\" is not an integer: \(text)")
        }
        return value
    }
}
