import XCTest
final class PlaceholderLoyaltyServerTests: XCTestCase { func testNothing() {} }
