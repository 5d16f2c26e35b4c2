import LineProtocol
import XCTest

/// Inline lines, what a person types into nc or telnet; quoting follows Redis's sdssplitargs.
final class InlineDecodingTests: XCTestCase {
    private func words(_ line: String) -> Decoded { decode(Array(line.utf8)) }

    func testLinesEndWithCRLFOrLF() {
        assertDecodes("PING\r\nPING\nECHO hi\r\n", to: [inline("PING"), inline("PING"), inline("ECHO", "hi")])
    }

    func testWordsSplitOnRunsOfSpacesAndTabs() {
        assertDecodes(
            "  ACCRUE\tT-1   M1 \t 2024-05-01\tnights=3  \r\n",
            to: [inline("ACCRUE", "T-1", "M1", "2024-05-01", "nights=3")]
        )
    }

    func testStrayCarriageReturnSeparatesWords() {
        assertDecodes("ECHO a\rb\r\r\n", to: [inline("ECHO", "a", "b")])
    }

    func testEmptyAndBlankLinesAreIgnored() {
        assertDecodes("\r\n\n   \r\n\t \n PING \n\r\n", to: [inline("PING")])
    }

    func testNulIsAnOrdinaryByte() {
        let expected = Request(arguments: [Array("ECHO".utf8), [0x61, 0, 0x62]], isInline: true)
        assertDecodes(Array("ECHO a\0b\n".utf8), to: Decoded(requests: [expected]))
    }

    func testLinesStartingWithOtherMarkersAreInline() {
        assertDecodes("$5 x\r\n+OK\r\n", to: [inline("$5", "x"), inline("+OK")])
    }

    func testDoubleQuotesGroupWordsAndTakeEscapes() {
        assertDecodes(
            #"ECHO "a b" "q\"q" "back\\slash" "nl\n cr\r tab\t" "\a\b" "\x41\x7a" "\q\ \'""#
                + "\r\n",
            to: [inline(
                "ECHO", "a b", "q\"q", "back\\slash", "nl\n cr\r tab\t", "\u{07}\u{08}", "Az", "q '"
            )]
        )
    }

    func testHexEscapeNeedsTwoHexDigits() {
        // Without two hex digits `\x` is just `x`, as in sdssplitargs.
        assertDecodes(#"ECHO "\xZZ" "\x4" "\x4g""#  + "\n", to: [inline("ECHO", "xZZ", "x4", "x4g")])
    }

    func testHexEscapeMakesArbitraryBytes() {
        let decoded = words(#"ECHO "\xff\x00\xC3""# + "\n")
        XCTAssertNil(decoded.error)
        XCTAssertEqual(decoded.requests.first?.arguments.last, [0xFF, 0x00, 0xC3])
        XCTAssertNil(decoded.requests.first?.string(1), "not valid UTF-8")
    }

    func testSingleQuotesAreLiteralExceptEscapedQuote() {
        assertDecodes(
            #"ECHO 'a b' 'it\'s' 'no\nescape' '"' 'back\slash'"# + "\n",
            to: [inline("ECHO", "a b", "it's", #"no\nescape"#, "\"", #"back\slash"#)]
        )
    }

    func testEmptyQuotesAreEmptyArguments() {
        assertDecodes("ECHO \"\" ''\n", to: [inline("ECHO", "", "")])
    }

    func testQuotesMayStartInsideAWord() {
        assertDecodes("SET ab\"c d\" x'y z'\n", to: [inline("SET", "abc d", "xy z")])
    }

    func testClosingQuoteMayBeFollowedByAnyBlank() {
        assertDecodes("ECHO \"a\"\t'b'\r\"c\"\r\n", to: [inline("ECHO", "a", "b", "c")])
    }

    /// The request that an inline line with unbalanced quotes becomes: it fails, the stream goes on.
    private var unbalanced: Request {
        Request(arguments: [], isInline: true, malformation: syntaxError("unbalanced quotes in request"))
    }

    func testQuoteMustBeClosed() {
        for line in [#"ECHO "abc"#, "ECHO 'abc", #"ECHO "abc\""#, #"ECHO 'abc\'"#, #"ECHO "abc\"#] {
            assertDecodes(line + "\r\nPING\r\n", to: [unbalanced, inline("PING")])
        }
    }

    func testClosingQuoteMustNotBeFollowedByText() {
        for line in [#"ECHO "a"b"#, "ECHO 'a'b", #"ECHO "a""b""#, #"ECHO "a"'b'"#] {
            assertDecodes(line + "\n", to: [unbalanced])
        }
    }

    func testNewlineEndsTheLineEvenInsideQuotes() {
        // Like Redis, the line is cut at the first LF before quotes are looked at; the rest is the next line.
        assertDecodes("ECHO \"a\nb\"\n", to: [unbalanced, unbalanced])
    }

    func testAnUnbalancedLineFailsAloneAndTheStreamGoesOn() {
        assertDecodes("PING\r\nECHO \"oops\r\nPING\r\n", to: [inline("PING"), unbalanced, inline("PING")])
    }

    func testIncompleteLineWaitsForNewline() throws {
        var decoder = RequestDecoder()
        decoder.append(Array("BALANCE M".utf8))
        XCTAssertNil(try decoder.next())
        decoder.append(Array("1\r".utf8))
        XCTAssertNil(try decoder.next(), "CR alone does not end a line")
        decoder.append(Array("\n".utf8))
        XCTAssertEqual(try decoder.next(), inline("BALANCE", "M1"))
        XCTAssertEqual(decoder.bufferedByteCount, 0)
    }
}
