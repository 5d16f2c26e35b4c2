import XCTest
final class PlaceholderPostgresTests: XCTestCase { func testNothing() {} }
