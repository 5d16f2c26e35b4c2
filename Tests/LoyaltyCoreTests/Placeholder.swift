import XCTest
final class PlaceholderLoyaltyCoreTests: XCTestCase { func testNothing() {} }
