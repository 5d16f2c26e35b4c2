import XCTest
import LoyaltyCore

final class IdentifiersTests: XCTestCase {
    func testMemberNumber() {
        XCTAssertTrue(Identifiers.isMemberNumber("M"))
        XCTAssertTrue(Identifiers.isMemberNumber("Ab_09-xyz"))
        XCTAssertTrue(Identifiers.isMemberNumber(String(repeating: "9", count: 32)))
        XCTAssertFalse(Identifiers.isMemberNumber(String(repeating: "9", count: 33)))
        for bad in ["", "a b", "a.b", "a/b", "é", "a\n", "1*2", "x\u{0}"] {
            XCTAssertFalse(Identifiers.isMemberNumber(bad), bad)
        }
    }

    func testPartnerCode() {
        XCTAssertTrue(Identifiers.isPartnerCode("HOTELCO"))
        XCTAssertTrue(Identifiers.isPartnerCode("A1"))
        XCTAssertTrue(Identifiers.isPartnerCode("SKY_AIR_2"))
        XCTAssertTrue(Identifiers.isPartnerCode(String(repeating: "P", count: 16)))
        XCTAssertFalse(Identifiers.isPartnerCode(String(repeating: "P", count: 17)))
        for bad in ["", "A", "hotelco", "HOTEL-CO", "HOTEL CO", "agent:x"] {
            XCTAssertFalse(Identifiers.isPartnerCode(bad), bad)
        }
    }

    func testClientID() {
        XCTAssertTrue(Identifiers.isClientID("t"))
        XCTAssertTrue(Identifiers.isClientID("!~\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}"))
        XCTAssertTrue(Identifiers.isClientID(String(repeating: "x", count: 64)))
        XCTAssertFalse(Identifiers.isClientID(String(repeating: "x", count: 65)))
        for bad in ["", "a b", "a\tb", "a\u{7F}", "ü", "line\r\n"] {
            XCTAssertFalse(Identifiers.isClientID(bad), bad)
        }
    }

    func testAgentName() {
        XCTAssertTrue(Identifiers.isAgentName("front.desk-1_A"))
        XCTAssertTrue(Identifiers.isAgentName(String(repeating: "a", count: 32)))
        XCTAssertFalse(Identifiers.isAgentName(String(repeating: "a", count: 33)))
        for bad in ["", "front desk", "a:b", "a@b"] {
            XCTAssertFalse(Identifiers.isAgentName(bad), bad)
        }
    }

    func testRewardCode() {
        XCTAssertTrue(Identifiers.isRewardCode("DOM-ECON"))
        XCTAssertFalse(Identifiers.isRewardCode("DOM ECON"))
        XCTAssertFalse(Identifiers.isRewardCode(""))
    }
}
