@testable import LoyaltyCharts
import XCTest

final class NumberTextTests: XCTestCase {
    func testGroupedPutsCommasEveryThreeDigits() {
        XCTAssertEqual(NumberText.grouped(0), "0")
        XCTAssertEqual(NumberText.grouped(999), "999")
        XCTAssertEqual(NumberText.grouped(1_000), "1,000")
        XCTAssertEqual(NumberText.grouped(1_234_567), "1,234,567")
        XCTAssertEqual(NumberText.grouped(-1_200), "-1,200")
        XCTAssertEqual(NumberText.grouped(Int64.min), "-9,223,372,036,854,775,808")
    }

    func testCompactTruncatesToOneDecimal() {
        XCTAssertEqual(NumberText.compact(950), "950")
        XCTAssertEqual(NumberText.compact(1_500), "1.5k")
        XCTAssertEqual(NumberText.compact(1_999), "1.9k")
        XCTAssertEqual(NumberText.compact(250_000), "250k")
        XCTAssertEqual(NumberText.compact(2_000_000), "2M")
        XCTAssertEqual(NumberText.compact(1_250_000_000), "1.2B")
        XCTAssertEqual(NumberText.compact(-40_000), "-40k")
    }

    func testPercentFromBasisPointsHasTwoDecimals() {
        XCTAssertEqual(NumberText.percent(basisPoints: 0), "0.00 %")
        XCTAssertEqual(NumberText.percent(basisPoints: 5), "0.05 %")
        XCTAssertEqual(NumberText.percent(basisPoints: 1234), "12.34 %")
        XCTAssertEqual(NumberText.percent(basisPoints: 10_000), "100.00 %")
        XCTAssertEqual(NumberText.percent(basisPoints: -250), "-2.50 %")
    }

    func testNiceScaleRoundsUpToOneTwoOrFiveTimesAPowerOfTen() {
        XCTAssertEqual(NiceScale(minimum: 0, maximum: 87), NiceScale(bottom: 0, top: 100, step: 20))
        XCTAssertEqual(NiceScale(minimum: 0, maximum: 1_000_000), NiceScale(bottom: 0, top: 1_000_000, step: 200_000))
        XCTAssertEqual(NiceScale(minimum: 0, maximum: 1_000_001), NiceScale(bottom: 0, top: 1_500_000, step: 500_000))
        XCTAssertEqual(NiceScale(minimum: 0, maximum: 3), NiceScale(bottom: 0, top: 3, step: 1))
        XCTAssertEqual(NiceScale(minimum: -30, maximum: 100), NiceScale(bottom: -50, top: 100, step: 50))
        XCTAssertEqual(NiceScale(minimum: 0, maximum: 0).ticks, [0, 1])
        XCTAssertEqual(NiceScale(minimum: 0, maximum: 87).ticks, [0, 20, 40, 60, 80, 100])
    }

    func testCoordinatesHaveOneDecimalAndNoNegativeZero() {
        XCTAssertEqual(SVGWriter.number(12), "12")
        XCTAssertEqual(SVGWriter.number(12.34), "12.3")
        XCTAssertEqual(SVGWriter.number(-0.01), "0")
        XCTAssertEqual(SVGWriter.number(-7.25), "-7.3")
        XCTAssertEqual(SVGWriter.number(123_456.7), "123456.7")
    }

    func testEscapeMakesAnyTextSafeXML() {
        XCTAssertEqual(SVGWriter.escape(#"<a href="x">Tom & 'Jerry'</a>"#),
                       "&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;")
        XCTAssertEqual(SVGWriter.escape("bell\u{7}tab\tüñí"), "belltab\tüñí")
    }
}
