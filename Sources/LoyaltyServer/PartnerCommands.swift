import LineProtocol
import LoyaltyCore
import LoyaltyStore

/// Partner transactions: a partner acts only on its own.
let partnerCommands: [Command] = [
    Command("ACCRUE", arity: 4...16, access: .partners, writes: true, queuesInBatch: true,
            "ACCRUE txn-id number activity-date [field=value ...]") { args, session, services throws(LoyaltyError) in
        let (txnID, member, input) = try parseAccrual(args)
        let receipt = try services.store.accrue(partner: try signedIn(session), txnID: txnID, member: member, input: input)
        if !receipt.duplicate { services.metrics.accrualApplied() }
        return .array([.bulk(receipt.txnID), .integer(receipt.points), .integer(receipt.qualifying)])
    },
    Command("REVERSE", arity: 2...4, access: .partners, writes: true, queuesInBatch: true,
            "REVERSE txn-id [points=n] [id=reversal-id]") { args, session, services throws(LoyaltyError) in
        let (txnID, request) = try parseReversal(args)
        let receipt = try services.store.reverse(partner: try signedIn(session), txnID: txnID, points: request.points, id: request.id)
        return .array([.bulk(receipt.txnID), .integer(receipt.points), .integer(receipt.qualifying)])
    },
    Command("BATCH", arity: 2...3, access: .partners, writes: true,
            "BATCH BEGIN id | COMMIT | ABORT | STATUS id | ERRORS id") { args, session, services throws(LoyaltyError) in
        let partner = try signedIn(session)
        switch (try args.text(1).uppercased(), args.count) {
        case ("BEGIN", 3):
            guard session.batch == nil else { throw .syntax("a batch is already open; COMMIT or ABORT it first") }
            try services.store.requireNotSuspended(partner: partner)
            session.batch = OpenBatch(id: try args.clientID(2, "batch-id"), lines: QueuedBatchLines(budget: services.batchBudget))
            return .ok
        case ("COMMIT", 2):
            guard let batch = session.batch else { throw .syntax("no batch is open") }
            // The batch ends here whatever happens: a failed COMMIT applied nothing and may be resent whole.
            session.batch = nil
            let commit = try services.store.commit(partner: partner, batchID: batch.id, lines: parsedLines(batch.lines))
            if !commit.replayed { services.metrics.batchCommitted(accrualsApplied: commit.accrualsApplied) }
            return batchSummaryReply(commit.summary)
        case ("ABORT", 2):
            guard session.batch != nil else { throw .syntax("no batch is open") }
            session.batch = nil
            return .ok
        case ("STATUS", 3):
            return batchSummaryReply(try services.store.batchStatus(partner: partner, batchID: try args.clientID(2, "batch-id")))
        case ("ERRORS", 3):
            return .array(try services.store.batchErrors(partner: partner, batchID: try args.clientID(2, "batch-id")).map {
                .array([.integer(Int64($0.line)), .bulk($0.txnID), .bulk($0.code), .bulk($0.message)])
            })
        default:
            throw .syntax("syntax error: BATCH BEGIN id | COMMIT | ABORT | STATUS id | ERRORS id")
        }
    },
]

func batchSummaryReply(_ summary: BatchSummary) -> Reply {
    .array([.bulk(summary.batchID), .integer(Int64(summary.accepted)), .integer(Int64(summary.duplicates)),
            .integer(Int64(summary.rejected))])
}

func parseAccrual(_ args: Arguments) throws(LoyaltyError) -> (String, String, AccrualInput) {
    let txnID = try args.clientID(1, "txn-id")
    let member = try args.memberNumber(2)
    let input = try AccrualInput.parse(activityDate: try args.date(3), fields: try args.fields(from: 4))
    return (txnID, member, input)
}

func parseReversal(_ args: Arguments) throws(LoyaltyError) -> (String, ReversalRequest) {
    (try args.clientID(1, "txn-id"), try ReversalRequest.parse(fields: try args.fields(from: 2)))
}

/// ACCRUE and REVERSE between BATCH BEGIN and COMMIT: queued as they came, parsed and applied
/// at COMMIT.
func queueInBatch(_ args: Arguments, session: Session, services: Services) throws(LoyaltyError) -> Reply {
    guard let lines = session.batch?.lines else { throw .syntax("no batch is open") }
    guard lines.count < services.store.limits.batchLinesMax else {
        throw .limit("a batch holds at most \(services.store.limits.batchLinesMax) lines")
    }
    try lines.append(args.request.arguments)
    return .simple("QUEUED")
}

/// The queued lines as the store takes them. A line that does not parse is kept as rejected, so
/// its line number and error come back from BATCH ERRORS.
func parsedLines(_ queued: QueuedBatchLines) -> [BatchLine] {
    var lines: [BatchLine] = []
    lines.reserveCapacity(queued.count)
    queued.forEach { words in
        let args = Arguments(request: Request(arguments: words, isInline: false))
        // Kept for BATCH ERRORS even when malformed, so made storable: NUL spelled out, bad UTF-8 replaced.
        let decoded = String(decoding: words[1], as: UTF8.self)
        let txnID = words[1].contains(0) ? decoded.replacingOccurrences(of: "\0", with: "\\x00") : decoded
        let operation: BatchLine.Operation
        do throws(LoyaltyError) {
            if args.request.commandName == "ACCRUE" {
                let (_, member, input) = try parseAccrual(args)
                operation = .accrue(member: member, input: input)
            } else {
                operation = .reverse(try parseReversal(args).1)
            }
        } catch {
            operation = .malformed(error)
        }
        lines.append(BatchLine(line: lines.count + 1, txnID: txnID, operation: operation))
    }
    return lines
}
