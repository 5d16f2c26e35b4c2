import Foundation

/// The program as the JSON document an operator edits (docs/program.md): parsed strictly, so a
/// misspelt field is an error rather than a rule silently left at its default.
public enum ProgramDocument {
    /// Largest document accepted; a real programme is a few tens of KiB.
    public static let bytesMax = 4 << 20

    /// The program, or every problem found: a document that is not JSON, or does not decode,
    /// stops at its first problem; one that decodes is checked whole (unknown fields, then
    /// `Program.problems(context:)`).
    public static func parse(_ data: Data, context: ProgramContext?) -> Result<Program, ProblemList> {
        guard data.count <= bytesMax else {
            return .failure(ProblemList([ProgramProblem(path: "$", reason: "document is larger than \(bytesMax) bytes")]))
        }
        let tree: Any
        do {
            tree = try JSONSerialization.jsonObject(with: data)
        } catch {
            return .failure(ProblemList([ProgramProblem(path: "$", reason: "not JSON: \(error.localizedDescription)")]))
        }
        let program: Program
        do {
            program = try JSONDecoder().decode(Program.self, from: data)
        } catch let error as DecodingError {
            return .failure(ProblemList([problem(error)]))
        } catch {
            return .failure(ProblemList([ProgramProblem(path: "$", reason: "\(error)")]))
        }
        // A field the program does not know decodes to nothing; what decoding kept is what encoding
        // writes back, so every input key missing from the re-encoded tree is one nobody reads.
        var found = unknownKeys(tree, known: (try? JSONSerialization.jsonObject(with: encode(program))) ?? [:], path: "$")
        found += program.problems(context: context)
        return found.isEmpty ? .success(program) : .failure(ProblemList(found))
    }

    /// Canonical text: sorted keys, indented, so exports diff cleanly.
    public static func encode(_ program: Program) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding plain structs of strings and integers cannot fail.
        guard let data = try? encoder.encode(program) else { preconditionFailure("a program always encodes") }
        // Foundation prints an empty list or object over three lines; a newline cannot occur
        // inside a JSON string, so this touches only empty containers.
        let text = String(decoding: data, as: UTF8.self)
            .replacingOccurrences(of: #"\[\n\s*\]"#, with: "[]", options: .regularExpression)
            .replacingOccurrences(of: #"\{\n\s*\}"#, with: "{}", options: .regularExpression)
        return Data(text.utf8)
    }

    static func unknownKeys(_ given: Any, known: Any, path: String) -> [ProgramProblem] {
        switch (given, known) {
        case let (given as [String: Any], known as [String: Any]):
            return given.keys.sorted().flatMap { key -> [ProgramProblem] in
                guard let value = given[key] else { return [] }
                guard let knownValue = known[key] else {
                    return isEmptyDefault(value) ? [] : [ProgramProblem(path: "\(path).\(key)", reason: "unknown field")]
                }
                return unknownKeys(value, known: knownValue, path: "\(path).\(key)")
            }
        case let (given as [Any], known as [Any]):
            return zip(given, known).enumerated().flatMap { index, pair in unknownKeys(pair.0, known: pair.1, path: "\(path)[\(index)]") }
        default:
            return []
        }
    }

    /// Values an export leaves out rather than write (an optional field's null, an empty list or
    /// object, `false`): given explicitly they say nothing decoding did not keep.
    static func isEmptyDefault(_ value: Any) -> Bool {
        switch value {
        case is NSNull: return true
        case let object as [String: Any]: return object.isEmpty
        case let list as [Any]: return list.isEmpty
        default: return ProgramDiff.text(value) == "false"
        }
    }

    static func problem(_ error: DecodingError) -> ProgramProblem {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.reduce("$") { path, key in key.intValue.map { "\(path)[\($0)]" } ?? "\(path).\(key.stringValue)" }
        }
        switch error {
        case let .keyNotFound(key, context):
            return ProgramProblem(path: path(context.codingPath + [key]), reason: "missing")
        case let .typeMismatch(type, context):
            return ProgramProblem(path: path(context.codingPath), reason: "expected \(typeName(type))")
        case let .valueNotFound(type, context):
            return ProgramProblem(path: path(context.codingPath), reason: "expected \(typeName(type)), found null")
        case let .dataCorrupted(context):
            return ProgramProblem(path: path(context.codingPath), reason: context.debugDescription)
        @unknown default:
            return ProgramProblem(path: "$", reason: "\(error)")
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int64.Type: return "an integer"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default: return type is any Collection.Type ? "a list or object" : "an object"
        }
    }
}

/// Problems of a document, as an error.
public struct ProblemList: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [ProgramProblem]

    public init(_ problems: [ProgramProblem]) {
        self.problems = problems
    }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
