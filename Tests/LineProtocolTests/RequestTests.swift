import LineProtocol
import XCTest

final class RequestTests: XCTestCase {
    func testCommandNameIsUppercasedASCII() {
        XCTAssertEqual(inline("ping").commandName, "PING")
        XCTAssertEqual(inline("bAtCh", "begin").commandName, "BATCH")
        XCTAssertEqual(inline("é-x_1").commandName, "é-X_1", "only ASCII letters change")
        XCTAssertEqual(Request(arguments: [], isInline: true).commandName, "")
    }

    func testStringDecodesValidUTF8InRange() {
        let request = Request(arguments: [Array("ECHO".utf8), Array("Zoë".utf8), [0xFF, 0xFE]], isInline: false)
        XCTAssertEqual(request.string(0), "ECHO")
        XCTAssertEqual(request.string(1), "Zoë")
        XCTAssertNil(request.string(2), "invalid UTF-8")
        XCTAssertNil(request.string(3))
        XCTAssertNil(request.string(-1))
    }

    func testSplitFieldSplitsAtTheFirstEquals() {
        XCTAssertTrue(splitField(Array("amount=450.00".utf8)) ?? ("", "") == ("amount", "450.00"))
        XCTAssertTrue(splitField(Array("code=a=b".utf8)) ?? ("", "") == ("code", "a=b"))
        XCTAssertTrue(splitField(Array("cabin=".utf8)) ?? ("", "x") == ("cabin", ""))
        XCTAssertTrue(splitField(Array("name=Zoë Ünal".utf8)) ?? ("", "") == ("name", "Zoë Ünal"))
    }

    func testSplitFieldRejectsWordsThatAreNotFields() {
        XCTAssertNil(splitField(Array("=value".utf8)), "empty name")
        XCTAssertNil(splitField(Array("novalue".utf8)))
        XCTAssertNil(splitField([]))
        XCTAssertNil(splitField([0xFF, UInt8(ascii: "="), UInt8(ascii: "v")]), "name not UTF-8")
        XCTAssertNil(splitField([UInt8(ascii: "n"), UInt8(ascii: "="), 0xC3]), "value not UTF-8")
    }
}
