import Foundation

/// What changes between two programs, in words an operator reads before applying:
/// `changed earnRules.hotel.pointsNumerator: 3 -> 4`, `added promotions[SUMMER]: {...}`.
/// Lists whose entries carry a `code` or `id` (tiers, rewards, promotions) are compared entry by
/// entry under that key, so inserting one does not read as changing all that follow.
public enum ProgramDiff {
    public static func lines(from old: Program, to new: Program) -> [String] {
        var out: [String] = []
        compare(tree(old), tree(new), path: "", into: &out)
        return out
    }

    static func tree(_ program: Program) -> Any {
        (try? JSONSerialization.jsonObject(with: ProgramDocument.encode(program))) ?? [:]
    }

    static func compare(_ old: Any?, _ new: Any?, path: String, into out: inout [String]) {
        switch (old, new) {
        case (nil, nil):
            return
        case let (nil, new?):
            out.append("added \(display(path)): \(text(new))")
        case let (old?, nil):
            out.append("removed \(display(path)) (was \(text(old)))")
        case let (old as [String: Any], new as [String: Any]):
            for key in Set(old.keys).union(new.keys).sorted() {
                compare(old[key], new[key], path: path.isEmpty ? key : "\(path).\(key)", into: &out)
            }
        case let (old as [Any], new as [Any]):
            if let oldKeyed = keyed(old), let newKeyed = keyed(new) {
                let order = oldKeyed.order + newKeyed.order.filter { oldKeyed.entries[$0] == nil }
                for key in order { compare(oldKeyed.entries[key], newKeyed.entries[key], path: "\(path)[\(key)]", into: &out) }
            } else {
                for index in 0..<max(old.count, new.count) {
                    compare(index < old.count ? old[index] : nil, index < new.count ? new[index] : nil,
                            path: "\(path)[\(index)]", into: &out)
                }
            }
        case let (old?, new?):
            if text(old) != text(new) { out.append("changed \(display(path)): \(text(old)) -> \(text(new))") }
        }
    }

    /// Entries by their `code` or `id`, when every entry has a distinct one.
    static func keyed(_ list: [Any]) -> (order: [String], entries: [String: Any])? {
        var order: [String] = []
        var entries: [String: Any] = [:]
        for element in list {
            guard let object = element as? [String: Any], let key = (object["id"] ?? object["code"] ?? object["tierCode"]) as? String,
                  entries[key] == nil else { return nil }
            order.append(key)
            entries[key] = object
        }
        return (order, entries)
    }

    static func display(_ path: String) -> String { path.isEmpty ? "the program" : path }

    /// JSON text of a value, scalars included (JSON decides true vs 1, not a cast).
    static func text(_ value: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]))
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
    }
}
