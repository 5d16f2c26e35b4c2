import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// One element of a parsed SVG: its name, attributes and direct text.
struct Element {
    var name: String
    var attributes: [String: String]
    var text: String
    /// Names of the enclosing elements, outermost first.
    var ancestors: [String]

    func number(_ attribute: String) -> Double? { attributes[attribute].flatMap(Double.init) }
}

/// Parses an SVG with Foundation's XMLParser; a document that is not well-formed XML fails the test.
final class SVGParse: NSObject, XMLParserDelegate {
    private(set) var elements: [Element] = []
    private var open: [Int] = []

    static func parse(_ svg: String, file: StaticString = #filePath, line: UInt = #line) -> [Element] {
        let parser = XMLParser(data: Data(svg.utf8))
        let delegate = SVGParse()
        parser.delegate = delegate
        XCTAssertTrue(parser.parse(), "not well-formed XML: \(parser.parserError.map(String.init(describing:)) ?? "?")",
                      file: file, line: line)
        return delegate.elements
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append(Element(name: name, attributes: attributes, text: "", ancestors: open.map { elements[$0].name }))
        open.append(elements.count - 1)
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard let index = open.last else { return }
        elements[index].text += string
    }
}

extension Array where Element == LoyaltyChartsTests.Element {
    func named(_ name: String) -> [LoyaltyChartsTests.Element] { filter { $0.name == name } }
    var texts: [String] { named("text").map(\.text) }
}

/// What every chart must be: well-formed, titled, sized, and free of anything fetched from elsewhere.
func assertSelfContained(_ svg: String, title: String, file: StaticString = #filePath, line: UInt = #line) {
    let elements = SVGParse.parse(svg, file: file, line: line)
    XCTAssertEqual(elements.first?.name, "svg", file: file, line: line)
    XCTAssertEqual(elements.first?.attributes["xmlns"], "http://www.w3.org/2000/svg", file: file, line: line)
    XCTAssertNotNil(elements.first?.attributes["viewBox"], file: file, line: line)
    XCTAssertEqual(elements.first { $0.name == "title" && $0.ancestors == ["svg"] }?.text, title, file: file, line: line)
    for forbidden in ["href", "url(", "<image", "<script", "@import", "<foreignObject"] {
        XCTAssertFalse(svg.contains(forbidden), "SVG refers outside itself: \(forbidden)", file: file, line: line)
    }
}
