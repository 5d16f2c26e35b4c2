import Foundation
import LoyaltyCore
import LoyaltyStore

/// Partner batch files from disk: what the partner would send between BATCH BEGIN and COMMIT,
/// committed through the same store call, so every rule and exactly-once apply alike.
let importVerbs: [Verb] = [
    Verb(words: ["import"], usage: "import FILE --partner CODE [--batch-id ID] [--chunk-lines N]",
         summary: "commit a partner's batch file as that partner: one `ACCRUE txn-id member date field=value...` or "
             + "`REVERSE txn-id [points=n] [id=reversal-id]` a line, blank lines and # comments skipped; batch-id defaults to the file's "
             + "name; a file over the batch limit (or N lines) goes in as ID.1, ID.2, ...; importing it again applies "
             + "nothing twice", valued: ["partner", "batch-id", "chunk-lines"]) { context, args in
        try args.expectPositionals(1)
        let path = try args.positional(0, "FILE")
        let partnerCode = try args.required("partner")
        let linesMax = context.store.limits.batchLinesMax
        let chunkLines = try args.options["chunk-lines"].map { (text: String) throws(UsageError) -> Int in
            guard let n = Int(text), (1...linesMax).contains(n) else {
                throw UsageError(message: "--chunk-lines must be 1 to \(linesMax), the batch limit")
            }
            return n
        } ?? linesMax
        let batchID = args.options["batch-id"] ?? URL(fileURLWithPath: path).lastPathComponent
        let file = try BatchFile(path: path)
        let partner = try partnerPrincipal(context.store, code: partnerCode)
        let summaries = try importFile(file, partner: partner, batchID: batchID, chunkLinesMax: chunkLines, store: context.store)
        report(summaries, partner: partner, store: context.store)
    },
]

/// Rejected lines printed after the summary; the rest are in `BATCH ERRORS id`.
let importRejectedShownMax = 10

/// The partner as the store knows it; an import acts with the partner's rights, not the admin's.
private func partnerPrincipal(_ store: LoyaltyStore, code: String) throws -> Principal {
    guard let record = try store.partners().first(where: { $0.code == code }) else {
        throw Failure(message: "no partner \(code)")
    }
    guard record.active else { throw Failure(message: "partner \(code) is inactive") }
    return .partner(code: record.code, category: record.category)
}

/// Commits the file in chunks of at most the batch limit, in file order. Chunk ids depend only on
/// the file, so a failed import can be run again: chunks already committed return their summaries.
private func importFile(_ file: BatchFile, partner: Principal, batchID: String, chunkLinesMax: Int,
                        store: LoyaltyStore) throws -> [BatchSummary] {
    assert(chunkLinesMax >= 1 && chunkLinesMax <= store.limits.batchLinesMax)
    let total = file.requestLineCount()
    guard total > 0 else { throw Failure(message: "\(file.path) holds no ACCRUE or REVERSE line") }
    let chunkCount = (total + chunkLinesMax - 1) / chunkLinesMax
    var summaries: [BatchSummary] = []
    var chunk: [BatchLine] = []
    chunk.reserveCapacity(min(total, chunkLinesMax))
    func commit() throws {
        let id = chunkCount == 1 ? batchID : "\(batchID).\(summaries.count + 1)"
        summaries.append(try store.commitBatch(partner: partner, batchID: id, lines: chunk))
        chunk.removeAll(keepingCapacity: true)
    }
    try file.forEachRequestLine { number, words in
        chunk.append(BatchFile.batchLine(number: number, words: words))
        if chunk.count == chunkLinesMax { try commit() }
    }
    if !chunk.isEmpty { try commit() }
    assert(summaries.count == chunkCount)
    return summaries
}

/// The summary of every chunk (and their total), then the first rejected lines with why.
private func report(_ summaries: [BatchSummary], partner: Principal, store: LoyaltyStore) {
    var rows = summaries.map { [$0.batchID, String($0.accepted), String($0.duplicates), String($0.rejected)] }
    if summaries.count > 1 {
        rows.append(["total", String(summaries.map(\.accepted).reduce(0, +)),
                     String(summaries.map(\.duplicates).reduce(0, +)), String(summaries.map(\.rejected).reduce(0, +))])
    }
    printTable(["batch_id", "accepted", "duplicates", "rejected"], rows)
    let rejected = summaries.map(\.rejected).reduce(0, +)
    guard rejected > 0 else { return }
    var shown: [[String]] = []
    for summary in summaries where summary.rejected > 0 && shown.count < importRejectedShownMax {
        // The batch is committed whatever this read does; a failure here only shortens the report.
        let errors = (try? store.batchErrors(partner: partner, batchID: summary.batchID)) ?? []
        shown += errors.prefix(importRejectedShownMax - shown.count).map {
            [String($0.line), summary.batchID, $0.txnID, $0.code, $0.message]
        }
    }
    print("\nrejected lines (\(shown.count) of \(rejected); all with BATCH ERRORS batch-id):")
    printTable(["line", "batch_id", "txn_id", "code", "message"], shown)
}

/// A batch file, memory-mapped, read line by line twice (count, then commit), so a file of
/// millions of lines never sits in memory as parsed lines beyond one chunk.
struct BatchFile {
    let path: String
    private let data: Data

    init(path: String) throws {
        self.path = path
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw Failure(message: "cannot read \(path): \((error as NSError).localizedDescription)")
        }
    }

    func requestLineCount() -> Int {
        var count = 0
        forEachRequestLine { _, _ in count += 1 }
        return count
    }

    /// Calls `body` with the 1-based line number and the blank-separated words of every line that
    /// is neither blank nor a `#` comment. Line numbers are the file's, so BATCH ERRORS points into it.
    func forEachRequestLine(_ body: (Int, [Substring]) throws -> Void) rethrows {
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            guard let base = bytes.baseAddress else { return }
            var start = 0
            var number = 0
            while start < bytes.count {
                let end = memchr(base + start, Int32(UInt8(ascii: "\n")), bytes.count - start)
                    .map { base.distance(to: UnsafeRawPointer($0)) } ?? bytes.count
                number += 1
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
                let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
                if let first = words.first, !first.hasPrefix("#") { try body(number, words) }
                start = end + 1
            }
        }
    }

    /// Largest ACCRUE line in words, as the server's command table allows.
    static let accrueWordsMax = 16

    /// One line as the server would queue it: parsed now, and a line that does not parse is queued
    /// as malformed so that it is rejected at commit with its line number, like any other.
    static func batchLine(number: Int, words: [Substring]) -> BatchLine {
        let txnID = words.count > 1 ? String(words[1]) : ""
        let operation: BatchLine.Operation
        do throws(LoyaltyError) {
            switch words[0].uppercased() {
            case "ACCRUE": operation = try accrue(words)
            case "REVERSE": operation = try reverse(words)
            default: throw .syntax("unknown command '\(words[0].prefix(64))'; a batch file holds ACCRUE and REVERSE lines")
            }
        } catch {
            operation = .malformed(error)
        }
        return BatchLine(line: number, txnID: txnID, operation: operation)
    }

    private static func accrue(_ words: [Substring]) throws(LoyaltyError) -> BatchLine.Operation {
        guard (4...accrueWordsMax).contains(words.count) else { throw .syntax("wrong number of arguments for 'accrue' command") }
        let member = String(words[2])
        guard Identifiers.isMemberNumber(member) else { throw .invalid("malformed member number (1-32 of A-Z a-z 0-9 _ -)") }
        guard let date = LocalDate(String(words[3])) else { throw .invalid("dates are YYYY-MM-DD") }
        return .accrue(member: member, input: try AccrualInput.parse(activityDate: date, fields: try words.dropFirst(4).map(field)))
    }

    private static func field(_ word: Substring) throws(LoyaltyError) -> (name: String, value: String) {
        guard let equals = word.firstIndex(of: "="), equals != word.startIndex else {
            throw .invalid("expected field=value, got \(word.prefix(64))")
        }
        return (String(word[..<equals]), String(word[word.index(after: equals)...]))
    }

    private static func reverse(_ words: [Substring]) throws(LoyaltyError) -> BatchLine.Operation {
        guard (2...4).contains(words.count) else { throw .syntax("wrong number of arguments for 'reverse' command") }
        return .reverse(try ReversalRequest.parse(fields: try words.dropFirst(2).map(field)))
    }
}
