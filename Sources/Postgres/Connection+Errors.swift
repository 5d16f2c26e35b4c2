import CLibPQ
import Foundation

/// Turning libpq failures into `PostgresError`, and forgetting server-side state when the
/// connection is gone.
extension Connection {
    private enum Field {
        static let sqlState = UInt8(ascii: "C")
        static let messagePrimary = UInt8(ascii: "M")
        static let messageDetail = UInt8(ascii: "D")
        static let constraintName = UInt8(ascii: "n")
        static let messageHint = UInt8(ascii: "H")
    }

    /// The error a failed result stands for: `.connectionLost` when the connection broke,
    /// `.server` for a statement the server rejected, `.unexpectedResult` for any other status.
    func failure(_ result: borrowing OwnedResult) -> PostgresError {
        let lost = noteLostConnection()
        let code: PostgresError.Code =
            lost ? .connectionLost : (result.status == PGRES_FATAL_ERROR ? .server : .unexpectedResult)
        let message = result.errorField(Field.messagePrimary)
            ?? nonEmpty(String(cString: PQresultErrorMessage(result.pointer)))
            ?? nonEmpty(Connection.libpqMessage(live))
            ?? "unexpected result status \(String(cString: PQresStatus(result.status)))"
        return PostgresError(
            code: code,
            message: message,
            sqlState: result.errorField(Field.sqlState),
            detail: result.errorField(Field.messageDetail),
            constraint: result.errorField(Field.constraintName),
            hint: result.errorField(Field.messageHint))
    }

    /// The error for a libpq call that failed without a result (could not send, out of memory).
    func failureWithoutResult() -> PostgresError {
        let lost = noteLostConnection()
        return PostgresError(code: lost ? .connectionLost : .unexpectedResult, message: Connection.libpqMessage(live))
    }

    private func nonEmpty(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// True when the connection is broken; then the prepared statements died with the backend.
    private func noteLostConnection() -> Bool {
        guard PQstatus(live) != CONNECTION_OK else { return false }
        statements.removeAll()
        return true
    }
}
