import Foundation

/// A usage error: exit code 2 with the verb's help.
struct UsageError: Error { var message: String }

/// Parsed words of one verb: positionals in order, `--name value` / `--name=value` options, flags.
struct Arguments {
    var positionals: [String] = []
    var options: [String: String] = [:]
    var flags: Set<String> = []
    /// Values of `repeated` options, in the order given.
    var lists: [String: [String]] = [:]

    /// `valued` options take a value, `repeated` ones a value each time they are given, `flags`
    /// stand alone. `-5` style words are positionals (point deltas).
    init(_ words: [String], valued: Set<String>, repeated: Set<String> = [], flags allowedFlags: Set<String>) throws(UsageError) {
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            guard word.hasPrefix("--"), word.count > 2 else {
                if word.hasPrefix("-"), word.count > 1, Int(word) == nil { throw UsageError(message: "unknown option \(word)") }
                positionals.append(word)
                continue
            }
            var name = String(word.dropFirst(2))
            var value: String?
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if allowedFlags.contains(name) {
                guard value == nil else { throw UsageError(message: "--\(name) takes no value") }
                flags.insert(name)
            } else if valued.contains(name) || repeated.contains(name) {
                if value == nil {
                    guard index < words.count else { throw UsageError(message: "--\(name) needs a value") }
                    value = words[index]
                    index += 1
                }
                if repeated.contains(name) {
                    lists[name, default: []].append(value ?? "")
                    continue
                }
                guard options[name] == nil else { throw UsageError(message: "--\(name) given twice") }
                options[name] = value
            } else {
                throw UsageError(message: "unknown option --\(name)")
            }
        }
    }

    func positional(_ index: Int, _ name: String) throws(UsageError) -> String {
        guard index < positionals.count else { throw UsageError(message: "missing \(name)") }
        return positionals[index]
    }

    func expectPositionals(_ count: Int) throws(UsageError) {
        guard positionals.count <= count else {
            throw UsageError(message: "unexpected argument \(positionals[count])")
        }
    }

    /// A positive whole number, or nil when the option is absent.
    func optionalInt(_ option: String) throws(UsageError) -> Int? {
        try options[option].map { (text: String) throws(UsageError) -> Int in
            guard let n = Int(text), n > 0 else { throw UsageError(message: "--\(option) must be a positive number") }
            return n
        }
    }

    func required(_ option: String) throws(UsageError) -> String {
        guard let value = options[option] else { throw UsageError(message: "--\(option) is required") }
        return value
    }
}
