/// Splits one inline line (without its terminator) into words, following Redis's `sdssplitargs`:
///
/// - words are separated by blanks (space, tab, `\r`, `\v`, `\f`);
/// - a double quote anywhere in a word opens a quoted part taking the escapes `\" \\ \n \r \t
///   \a \b \xHH`; any other escaped byte stands for itself;
/// - a single quote opens a literal part in which only `\'` is an escape;
/// - a closing quote must be followed by a blank or the end of the line.
///
/// Unlike C, a NUL byte is an ordinary byte of a word. An empty or all-blank line has no words.
func splitInlineWords(
    _ line: UnsafeBufferPointer<UInt8>, maxArguments: Int
) throws(ProtocolError) -> [[UInt8]] {
    var words: [[UInt8]] = []
    var index = 0
    while true {
        while index < line.count && ASCII.isBlank(line[index]) { index += 1 }
        guard index < line.count else { return words }
        guard words.count < maxArguments else { throw .tooManyArguments(max: maxArguments) }
        var word: [UInt8] = []
        while index < line.count && !ASCII.isBlank(line[index]) {
            switch line[index] {
            case doubleQuote:
                index = try readDoubleQuoted(line, from: index + 1, into: &word)
            case singleQuote:
                index = try readSingleQuoted(line, from: index + 1, into: &word)
            default:
                // Copy a whole run of plain bytes at once.
                let start = index
                while index < line.count, !ASCII.isBlank(line[index]),
                      line[index] != doubleQuote, line[index] != singleQuote {
                    index += 1
                }
                word.append(contentsOf: line[start..<index])
            }
        }
        words.append(word)
    }
}

private let doubleQuote = UInt8(ascii: "\"")
private let singleQuote = UInt8(ascii: "'")
private let backslash = UInt8(ascii: "\\")

/// Reads up to and including the closing `"`; returns the index after it.
private func readDoubleQuoted(
    _ line: UnsafeBufferPointer<UInt8>, from start: Int, into word: inout [UInt8]
) throws(ProtocolError) -> Int {
    var index = start
    while index < line.count {
        let byte = line[index]
        if byte == backslash, index + 3 < line.count, line[index + 1] == UInt8(ascii: "x"),
           let high = ASCII.hexValue(line[index + 2]), let low = ASCII.hexValue(line[index + 3]) {
            word.append(high << 4 | low)
            index += 4
        } else if byte == backslash, index + 1 < line.count {
            word.append(unescaped(line[index + 1]))
            index += 2
        } else if byte == doubleQuote {
            return try afterClosingQuote(line, at: index)
        } else {
            word.append(byte)
            index += 1
        }
    }
    throw .unbalancedQuotes
}

/// Reads up to and including the closing `'`; returns the index after it.
private func readSingleQuoted(
    _ line: UnsafeBufferPointer<UInt8>, from start: Int, into word: inout [UInt8]
) throws(ProtocolError) -> Int {
    var index = start
    while index < line.count {
        let byte = line[index]
        if byte == backslash, index + 1 < line.count, line[index + 1] == singleQuote {
            word.append(singleQuote)
            index += 2
        } else if byte == singleQuote {
            return try afterClosingQuote(line, at: index)
        } else {
            word.append(byte)
            index += 1
        }
    }
    throw .unbalancedQuotes
}

/// A closing quote glued to more text (`"a"b`) is an error, as in Redis.
private func afterClosingQuote(
    _ line: UnsafeBufferPointer<UInt8>, at quote: Int
) throws(ProtocolError) -> Int {
    let next = quote + 1
    guard next == line.count || ASCII.isBlank(line[next]) else { throw .unbalancedQuotes }
    return next
}

private func unescaped(_ byte: UInt8) -> UInt8 {
    switch byte {
    case UInt8(ascii: "n"): ASCII.lf
    case UInt8(ascii: "r"): ASCII.cr
    case UInt8(ascii: "t"): UInt8(ascii: "\t")
    case UInt8(ascii: "b"): 0x08
    case UInt8(ascii: "a"): 0x07
    default: byte
    }
}
