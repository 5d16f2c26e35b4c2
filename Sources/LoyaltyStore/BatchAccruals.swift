import LoyaltyCore
import Postgres

/// One ACCRUE line of a batch on its way in.
struct QueuedAccrual {
    var line: Int
    var txnID: String
    var member: String
    var input: AccrualInput
    var fingerprint: String { LoyaltyStore.accrualFingerprint(member: member, input: input) }
}

/// What a run of batch lines came to: counts, and the lines refused with why.
struct BatchOutcome {
    var accepted = 0
    var duplicates = 0
    var rejected: [(line: Int, txnID: String, error: LoyaltyError)] = []
}

/// Applies a run of ACCRUE lines set-based: a handful of statements for the whole run (look up
/// earlier txn-ids, lock the members in key order, COPY the computed entries into a staging
/// table, insert ledger, accruals and balances from it), instead of several statements a line.
/// Earn rules stay in Swift; the per-member tier a line earns with is simulated in line order,
/// so a flight that crosses a threshold earns the next flight's bonus as it would one by one.
enum BatchAccruals {
    static func apply(_ conn: Connection, program: Program, today: LocalDate, partnerCode: String, category: PartnerCategory,
                      batchID: String, lines: [QueuedAccrual], into outcome: inout BatchOutcome) throws {
        var candidates: [QueuedAccrual] = []
        var seen: [String: String] = [:]
        // A txn-id repeated within the run: settled once the first copy's fate is known.
        var repeats: [QueuedAccrual] = []
        var refusedFirst: [String: LoyaltyError] = [:]
        defer {
            for line in repeats {
                if seen[line.txnID] != line.fingerprint {
                    outcome.rejected.append((line.line, line.txnID, .conflict("txn-id \(line.txnID) was already used with different content")))
                } else if let error = refusedFirst[line.txnID] {
                    outcome.rejected.append((line.line, line.txnID, error))
                } else {
                    outcome.duplicates += 1
                }
            }
        }
        func refuse(_ line: QueuedAccrual, _ error: LoyaltyError) {
            outcome.rejected.append((line.line, line.txnID, error))
            refusedFirst[line.txnID] = error
        }
        for line in lines {
            guard Identifiers.isClientID(line.txnID) else {
                outcome.rejected.append((line.line, line.txnID, .invalid("txn-id must be 1-64 printable ASCII, no spaces")))
                continue
            }
            if seen[line.txnID] != nil {
                repeats.append(line)
                continue
            }
            seen[line.txnID] = line.fingerprint
            candidates.append(line)
        }
        guard !candidates.isEmpty else { return }

        // The members' locks before the look-up of earlier txn-ids: a direct ACCRUE of one of these
        // txn-ids holds its member's lock until it commits, so once the locks are taken the look-up
        // sees it, and the insert below does not collide with it.
        let memberList = Set(candidates.map(\.member).filter(Identifiers.isMemberNumber)).sorted().joined(separator: "\n")
        var members: [String: (status: String, tier: TierDefinition)] = [:]
        for row in try conn.query("""
            SELECT member_number, status, tier_code FROM members WHERE member_number = ANY(string_to_array($1, chr(10)))
            ORDER BY member_number FOR UPDATE
            """, [memberList]).rows {
            members[try row.string("member_number")] = (try row.string("status"),
                                                         program.tier(code: try row.string("tier_code")) ?? program.baseTier)
        }

        // Txn-ids and member numbers hold no whitespace, so a newline-joined list is a safe array parameter.
        let earlier = try conn.query("""
            SELECT txn_id, fingerprint FROM accruals WHERE partner_code = $1 AND txn_id = ANY(string_to_array($2, chr(10)))
            """, [partnerCode, candidates.map(\.txnID).joined(separator: "\n")])
        var stored: [String: String] = [:]
        for row in earlier.rows { stored[try row.string("txn_id")] = try row.string("fingerprint") }
        var fresh: [QueuedAccrual] = []
        for line in candidates {
            if let fingerprint = stored[line.txnID] {
                if fingerprint == line.fingerprint { outcome.duplicates += 1 } else {
                    refuse(line, .conflict("txn-id \(line.txnID) was already used with different content"))
                }
            } else if !Identifiers.isMemberNumber(line.member) {
                refuse(line, .invalid("malformed member number"))
            } else {
                fresh.append(line)
            }
        }
        guard !fresh.isEmpty else { return }

        let rule = program.earnRules[category]
        let earnsQualifying = (rule?.qualifyingNumerator ?? 0) != 0
        var qualification = earnsQualifying ? try QualificationSimulation(conn, program: program, today: today, members: memberList) : nil

        var staged: [[String?]] = []
        for line in fresh {
            guard let member = members[line.member] else {
                refuse(line, .notFound("no member \(line.member)"))
                continue
            }
            guard member.status == "active" else {
                refuse(line, .closed("member \(line.member) is \(member.status)"))
                continue
            }
            let tier = qualification?.tier(of: line.member, from: member.tier) ?? member.tier
            let earned: EarnResult
            do {
                earned = try program.earn(category: category, input: line.input, tier: tier, today: today)
            } catch {
                refuse(line, error)
                continue
            }
            if earned.qualifying != 0 {
                qualification?.add(earned.qualifying, member: line.member, on: line.input.activityDate, startingTier: tier)
            }
            staged.append([String(line.line), line.member, line.txnID, line.fingerprint, line.input.activityDate.description,
                           String(earned.points), String(earned.qualifying), line.input.amount.map { String($0.minorUnits) },
                           line.input.amount?.currency])
        }
        guard !staged.isEmpty else { return }

        try conn.execute("""
            CREATE TEMP TABLE IF NOT EXISTS batch_stage (
                line int, member_number text, txn_id text, fingerprint text, activity_date date,
                points bigint, qualifying bigint, amount_minor bigint, currency text
            ) ON COMMIT DELETE ROWS
            """)
        _ = try conn.copyIn("""
            COPY batch_stage (line, member_number, txn_id, fingerprint, activity_date, points, qualifying, amount_minor, currency)
            FROM STDIN
            """, rows: staged)
        // Fresh statistics, or the planner takes the staging table for empty and joins it row by row.
        try conn.execute("ANALYZE batch_stage")
        _ = try conn.query("""
            WITH entries AS (
                INSERT INTO ledger_entries (member_number, kind, points, qualifying, activity_date, source, reference,
                                            partner_code, amount_minor, currency)
                SELECT member_number, 'accrual', points, qualifying, activity_date, $1, txn_id, $1, amount_minor, currency
                FROM batch_stage ORDER BY line
                RETURNING member_number, entry_id, reference
            )
            INSERT INTO accruals (partner_code, txn_id, member_number, fingerprint, activity_date, points, qualifying, entry_id, batch_id)
            SELECT $1, s.txn_id, s.member_number, s.fingerprint, s.activity_date, s.points, s.qualifying, e.entry_id, $2
            FROM batch_stage s JOIN entries e ON e.member_number = s.member_number AND e.reference = s.txn_id
            """, [partnerCode, batchID])
        _ = try conn.query("""
            UPDATE members m SET balance = m.balance + s.points, last_activity = greatest(m.last_activity, s.last_activity)
            FROM (SELECT member_number, sum(points) AS points, max(activity_date) AS last_activity
                  FROM batch_stage GROUP BY member_number) s
            WHERE m.member_number = s.member_number
            """)
        if earnsQualifying {
            _ = try conn.query("""
                INSERT INTO qualifying_months (member_number, month, qualifying)
                SELECT member_number, date_trunc('month', activity_date)::date, sum(qualifying)
                FROM batch_stage WHERE qualifying <> 0 GROUP BY 1, 2
                ON CONFLICT (member_number, month) DO UPDATE SET qualifying = qualifying_months.qualifying + EXCLUDED.qualifying
                """)
        }
        outcome.accepted += staged.count
        // Only members whose earned tier for a period changed need their grants and tier looked at.
        for (member, dates) in qualification?.crossings ?? [:] {
            for date in dates {
                try TierKeeper.requalify(conn, program: program, member: member, activityDate: date)
            }
            try TierKeeper.refresh(conn, program: program, member: member, today: today, reason: "batch \(partnerCode)/\(batchID)")
        }
    }
}

/// Qualifying points per member and month as the batch adds them, to know the tier each line
/// earns with and which members crossed a threshold.
struct QualificationSimulation {
    private let program: Program
    private let today: LocalDate
    private var months: [String: [LocalDate: Int64]] = [:]
    private var simulatedTier: [String: TierDefinition] = [:]
    /// Members and a date in each period whose earned tier changed.
    private(set) var crossings: [String: [LocalDate]] = [:]

    init(_ conn: Connection, program: Program, today: LocalDate, members: String) throws {
        self.program = program
        self.today = today
        for row in try conn.query("""
            SELECT member_number, month::text, qualifying FROM qualifying_months
            WHERE member_number = ANY(string_to_array($1, chr(10)))
            """, [members]).rows {
            if let month = LocalDate(try row.string("month")) {
                months[try row.string("member_number"), default: [:]][month] = try row.int64("qualifying")
            }
        }
    }

    func tier(of member: String, from stored: TierDefinition) -> TierDefinition { simulatedTier[member] ?? stored }

    mutating func add(_ qualifying: Int64, member: String, on date: LocalDate, startingTier: TierDefinition) {
        let period = program.period(containing: date)
        let before = total(member, period)
        let month = LocalDate(year: date.year, month: date.month, day: 1) ?? date
        months[member, default: [:]][month, default: 0] += qualifying
        let after = total(member, period)
        let earnedBefore = program.tier(forQualifying: before), earnedAfter = program.tier(forQualifying: after)
        guard earnedBefore.code != earnedAfter.code else { return }
        crossings[member, default: []].append(date)
        if earnedAfter.rank > startingTier.rank && program.tierValidUntil(periodEnd: period.upperBound) >= today {
            simulatedTier[member] = earnedAfter
        }
    }

    private func total(_ member: String, _ period: ClosedRange<LocalDate>) -> Int64 {
        let first = LocalDate(year: period.lowerBound.year, month: period.lowerBound.month, day: 1) ?? period.lowerBound
        return months[member]?.reduce(0) { sum, entry in (first...period.upperBound).contains(entry.key) ? sum + entry.value : sum } ?? 0
    }
}
