import CLibPQ

/// Sole owner of one `PGresult`: `PQclear` runs when it goes out of scope, on every path,
/// so no result can leak and none outlives the call that fetched it.
struct OwnedResult: ~Copyable {
    let pointer: OpaquePointer

    /// Takes ownership of what libpq returned; nil stays nil (libpq's "no more results").
    init?(_ pointer: OpaquePointer?) {
        guard let pointer else { return nil }
        self.pointer = pointer
    }

    deinit {
        PQclear(pointer)
    }

    var status: ExecStatusType { PQresultStatus(pointer) }

    /// COMMAND_OK, TUPLES_OK and EMPTY_QUERY are the statuses of a statement that ran.
    var succeeded: Bool {
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY: return true
        default: return false
        }
    }

    /// Rows the command touched (`PQcmdTuples`), 0 when the command reports none.
    var affectedRows: Int {
        Int(String(cString: PQcmdTuples(pointer))) ?? 0
    }

    /// The command tag, e.g. "INSERT 0 1" or "ROLLBACK".
    var commandStatus: String {
        String(cString: PQcmdStatus(pointer))
    }

    func errorField(_ field: UInt8) -> String? {
        guard let value = PQresultErrorField(pointer, Int32(field)) else { return nil }
        return String(cString: value)
    }

    /// Hands `body` the values in place; the result stays alive (uncleared) for the whole call.
    func read<T>(_ body: (consuming ResultView) throws -> T) rethrows -> T {
        try body(ResultView(pointer))
    }

    /// Copies every value out, so the `PGresult` can be cleared right after.
    func copyOut() -> QueryResult {
        let view = ResultView(pointer)
        let columns = (0..<view.columnCount).map { String(cString: PQfname(pointer, Int32($0))) }
        let layout = ColumnLayout(names: columns)
        var rows: [Row] = []
        rows.reserveCapacity(view.rowCount)
        for rowIndex in 0..<view.rowCount {
            var values: [String?] = []
            values.reserveCapacity(view.columnCount)
            for columnIndex in 0..<view.columnCount {
                values.append(view.string(row: rowIndex, column: columnIndex))
            }
            rows.append(Row(layout: layout, values: values))
        }
        return QueryResult(columns: columns, rows: rows, affectedRows: affectedRows)
    }
}
