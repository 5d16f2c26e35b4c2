import LoyaltyCore
import Postgres

/// One queued line of a partner batch, as the server parsed it.
public struct BatchLine: Sendable {
    public enum Operation: Sendable {
        case accrue(member: String, input: AccrualInput)
        case reverse(ReversalRequest)
        /// A line that could not even be parsed; it is reported at COMMIT like any other rejected line.
        case malformed(LoyaltyError)
    }
    public var line: Int
    public var txnID: String
    public var operation: Operation
    public init(line: Int, txnID: String, operation: Operation) {
        self.line = line
        self.txnID = txnID
        self.operation = operation
    }
}

/// `[batch-id, accepted, duplicates, rejected]`.
public struct BatchSummary: Sendable, Equatable {
    public var batchID: String
    public var accepted: Int
    public var duplicates: Int
    public var rejected: Int
}

public struct BatchError: Sendable, Equatable {
    public var line: Int
    public var txnID: String
    public var code: String
    public var message: String
}

/// What one COMMIT did, beyond the summary every COMMIT of the batch-id returns: INFO counts
/// batches and accruals applied, which a replayed batch-id must not count again.
public struct BatchCommit: Sendable, Equatable {
    public var summary: BatchSummary
    /// True when the batch-id was already committed and nothing was applied now.
    public var replayed: Bool
    /// Accrual lines credited by this commit (reversals and duplicates are not accruals applied).
    public var accrualsApplied: Int
}

extension LoyaltyStore {
    /// Applies every valid line of a batch in one transaction; invalid lines are rejected one by
    /// one. A batch-id already committed returns its stored summary and applies nothing again.
    public func commitBatch(partner: Principal, batchID: String, lines: [BatchLine]) throws(LoyaltyError) -> BatchSummary {
        try commit(partner: partner, batchID: batchID, lines: lines).summary
    }

    /// `commitBatch`, also saying whether this commit applied the batch and how many accruals.
    public func commit(partner: Principal, batchID: String, lines: [BatchLine]) throws(LoyaltyError) -> BatchCommit {
        guard case .partner(let partnerCode, _) = partner else { throw .noPermission("only partners send batches") }
        guard Identifiers.isClientID(batchID) else { throw .invalid("batch-id must be 1-64 printable ASCII, no spaces") }
        guard lines.count <= limits.batchLinesMax else { throw .limit("a batch holds at most \(limits.batchLinesMax) lines") }
        let timeline = try programTimeline()
        let today = try today()
        let program = timeline.version(on: today).program
        return try write { conn in
            // Serializes concurrent commits of the same batch-id, so it is applied once.
            _ = try conn.query("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))", [partnerCode, batchID])
            if let stored = try Self.storedBatch(conn, partnerCode: partnerCode, batchID: batchID) {
                return BatchCommit(summary: stored, replayed: true, accrualsApplied: 0)
            }
            try Self.requireNotSuspended(conn, partnerCode)
            var outcome = BatchOutcome()
            var reversalsApplied = 0
            var run: [QueuedAccrual] = []
            // Runs of ACCRUE lines go in set-based; a REVERSE waits for the accruals before it, so
            // lines take effect in the order they were sent.
            func flushRun() throws {
                guard case .partner(_, let category) = partner, !run.isEmpty else { return }
                try BatchAccruals.apply(conn, timeline: timeline, today: today, partnerCode: partnerCode, category: category,
                                        batchID: batchID, lines: run, into: &outcome)
                run.removeAll()
            }
            for line in lines {
                switch line.operation {
                case .accrue(let member, let input):
                    run.append(QueuedAccrual(line: line.line, txnID: line.txnID, member: member, input: input))
                case .reverse(let request):
                    try flushRun()
                    do {
                        _ = try Self.applyReversal(conn, program: program, today: today, partner: partner, txnID: line.txnID,
                                                   request: request)
                        outcome.accepted += 1
                        reversalsApplied += 1
                    } catch let error as LoyaltyError {
                        outcome.rejected.append((line.line, line.txnID, error))
                    }
                case .malformed(let error):
                    outcome.rejected.append((line.line, line.txnID, error))
                }
            }
            try flushRun()
            let summary = BatchSummary(batchID: batchID, accepted: outcome.accepted, duplicates: outcome.duplicates,
                                       rejected: outcome.rejected.count)
            let errors: [[String?]] = outcome.rejected.sorted { $0.line < $1.line }.map {
                [partnerCode, batchID, String($0.line), $0.txnID, $0.error.code.rawValue, $0.error.message]
            }
            _ = try conn.query("""
                INSERT INTO batches (partner_code, batch_id, accepted, duplicates, rejected) VALUES ($1, $2, $3, $4, $5)
                """, [partnerCode, batchID, String(summary.accepted), String(summary.duplicates), String(summary.rejected)])
            if !errors.isEmpty {
                _ = try conn.copyIn("COPY batch_errors (partner_code, batch_id, line, txn_id, code, message) FROM STDIN", rows: errors)
            }
            return BatchCommit(summary: summary, replayed: false, accrualsApplied: summary.accepted - reversalsApplied)
        }
    }

    /// BATCH BEGIN's check: a suspended partner is told at once, not after queueing its lines.
    public func requireNotSuspended(partner: Principal) throws(LoyaltyError) {
        guard case .partner(let code, _) = partner else { throw .noPermission("only partners send batches") }
        try read { conn in try Self.requireNotSuspended(conn, code) }
    }

    static func requireNotSuspended(_ conn: Connection, _ partnerCode: String) throws {
        if try conn.query("SELECT 1 FROM partners WHERE code = $1 AND suspended_at IS NOT NULL", [partnerCode]).first != nil {
            throw LoyaltyError.noPermission("partner suspended")
        }
    }

    public func batchStatus(partner: Principal, batchID: String) throws(LoyaltyError) -> BatchSummary {
        let partnerCode = try Self.ownBatchPartner(partner)
        return try read { conn in
            guard let stored = try Self.storedBatch(conn, partnerCode: partnerCode, batchID: batchID) else {
                throw try Self.missingBatch(conn, batchID)
            }
            return stored
        }
    }

    public func batchErrors(partner: Principal, batchID: String) throws(LoyaltyError) -> [BatchError] {
        let partnerCode = try Self.ownBatchPartner(partner)
        return try read { conn in
            guard try Self.storedBatch(conn, partnerCode: partnerCode, batchID: batchID) != nil else {
                throw try Self.missingBatch(conn, batchID)
            }
            return try conn.query("""
                SELECT line, txn_id, code, message FROM batch_errors WHERE partner_code = $1 AND batch_id = $2 ORDER BY line
                """, [partnerCode, batchID]).rows.map { row in
                BatchError(line: try row.int("line"), txnID: try row.string("txn_id"), code: try row.string("code"),
                           message: try row.string("message"))
            }
        }
    }

    private static func ownBatchPartner(_ partner: Principal) throws(LoyaltyError) -> String {
        guard case .partner(let code, _) = partner else { throw .noPermission("only partners have batches") }
        return code
    }

    private static func storedBatch(_ conn: Connection, partnerCode: String, batchID: String) throws -> BatchSummary? {
        guard let row = try conn.query("""
            SELECT accepted, duplicates, rejected FROM batches WHERE partner_code = $1 AND batch_id = $2
            """, [partnerCode, batchID]).first else { return nil }
        return BatchSummary(batchID: batchID, accepted: try row.int("accepted"), duplicates: try row.int("duplicates"),
                            rejected: try row.int("rejected"))
    }

    private static func missingBatch(_ conn: Connection, _ batchID: String) throws -> LoyaltyError {
        if try conn.query("SELECT 1 FROM batches WHERE batch_id = $1 LIMIT 1", [batchID]).first != nil {
            return .noPermission("batch \(batchID) is another partner's")
        }
        return .notFound("no batch \(batchID)")
    }
}
