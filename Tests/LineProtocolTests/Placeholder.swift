import XCTest
final class PlaceholderLineProtocolTests: XCTestCase { func testNothing() {} }
