/// Splits a `name=value` word at its first `=`, as used by ACCRUE's optional fields.
///
/// Returns nil if there is no `=`, the name is empty, or either side is not valid UTF-8.
/// The value may be empty and may itself contain `=`.
public func splitField(_ word: [UInt8]) -> (name: String, value: String)? {
    guard let equals = word.firstIndex(of: UInt8(ascii: "=")), equals > word.startIndex else {
        return nil
    }
    guard let name = validatedUTF8(word[..<equals]),
          let value = validatedUTF8(word[(equals + 1)...])
    else { return nil }
    return (name, value)
}
