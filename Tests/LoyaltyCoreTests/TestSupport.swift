import XCTest
@testable import LoyaltyCore

/// A date literal for tests; a typo in one is a bug in the test itself.
func date(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> LocalDate {
    guard let value = LocalDate(text) else {
        XCTFail("bad date literal \(text)", file: file, line: line)
        return LocalDate(daysSinceEpoch: 0)
    }
    return value
}

/// Asserts that `body` throws a `LoyaltyError` with `code` whose message contains `fragment`.
func assertError<T>(_ code: LoyaltyError.Code, mentioning fragment: String,
                    file: StaticString = #filePath, line: UInt = #line,
                    _ body: () throws -> T) {
    do {
        let value = try body()
        XCTFail("expected \(code.rawValue), got \(value)", file: file, line: line)
    } catch let error as LoyaltyError {
        XCTAssertEqual(error.code, code, error.message, file: file, line: line)
        XCTAssertTrue(error.message.contains(fragment), "'\(error.message)' does not mention '\(fragment)'", file: file, line: line)
    } catch {
        XCTFail("expected a LoyaltyError, got \(error)", file: file, line: line)
    }
}
