import XCTest
final class PlaceholderLoyaltyStoreTests: XCTestCase { func testNothing() {} }
