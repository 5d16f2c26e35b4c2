import LoyaltyCore
import Postgres

/// One ACCRUE line of a batch on its way in.
struct QueuedAccrual {
    var line: Int
    var txnID: String
    var input: AccrualInput
    /// Its member and canonical fields, worked out once.
    var content: AccrualContent
    var member: String { content.member }

    init(line: Int, txnID: String, member: String, input: AccrualInput) {
        self.line = line
        self.txnID = txnID
        self.input = input
        content = AccrualContent(member: member, fingerprint: input.fingerprint)
    }
}

/// A member of the run, read under its row lock; `row` (its ctid) finds it again without the key.
/// The points the run credits it and its latest activity date add up as lines earn.
private struct LockedBatchMember {
    var status: String
    var tier: TierDefinition
    var row: String
    var points: Int64 = 0
    var lastActivity: LocalDate?

    mutating func credit(_ earned: Int64, on date: LocalDate) {
        points += earned
        lastActivity = max(lastActivity ?? date, date)
    }
}

/// A line that earned: what its ledger entry records, and the promotions it may earn a bonus from.
private struct CreditedAccrual {
    var accrual: QueuedAccrual
    var points: Int64
    var qualifying: Int64
    var offers: [PromotionOffer]
    var grants: [PromotionGrant] = []
}

/// What a run of batch lines came to: counts, and the lines refused with why.
struct BatchOutcome {
    var accepted = 0
    var duplicates = 0
    var rejected: [(line: Int, txnID: String, error: LoyaltyError)] = []
}

/// Applies a run of ACCRUE lines set-based: a handful of statements for the whole run (lock the
/// members in key order, look up earlier txn-ids, COPY the computed entries straight into the
/// ledger, add balances and qualifying months from totals per member), instead of several a line.
/// Each entry is its accrual's exactly-once record; the ledger's unique index on (partner,
/// txn-id) makes a racing insert of the same txn-id fail, and its transaction retry.
/// Earn rules stay in Swift; the per-member tier a line earns with is simulated in line order,
/// so a flight that crosses a threshold earns the next flight's bonus as it would one by one.
enum BatchAccruals {
    static func apply(_ conn: Connection, timeline: ProgramTimeline, today: LocalDate, partnerCode: String, category: PartnerCategory,
                      batchID: String, lines: [QueuedAccrual], into outcome: inout BatchOutcome) throws {
        let inForce = timeline.version(on: today)
        let program = inForce.program
        var candidates: [QueuedAccrual] = []
        var seen: [String: AccrualContent] = [:]
        // A txn-id repeated within the run: settled once the first copy's fate is known.
        var repeats: [QueuedAccrual] = []
        var refusedFirst: [String: LoyaltyError] = [:]
        defer {
            for line in repeats {
                if seen[line.txnID] != line.content {
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
        seen.reserveCapacity(lines.count)
        candidates.reserveCapacity(lines.count)
        for line in lines {
            guard Identifiers.isClientID(line.txnID) else {
                outcome.rejected.append((line.line, line.txnID, .invalid("txn-id must be 1-64 printable ASCII, no spaces")))
                continue
            }
            if seen[line.txnID] != nil {
                repeats.append(line)
                continue
            }
            seen[line.txnID] = line.content
            candidates.append(line)
        }
        guard !candidates.isEmpty else { return }

        // The members' locks before the look-up of earlier txn-ids: a direct ACCRUE of one of these
        // txn-ids holds its member's lock until it commits, so once the locks are taken the look-up
        // sees it, and the insert below does not collide with it. The locks are taken in key order
        // (the sorted list drives a nested loop), so concurrent batches cannot deadlock; the lateral
        // subqueries here are index probes per key, never a scan of the whole table.
        let memberList = Set(candidates.map(\.member).filter(Identifiers.isMemberNumber)).sorted().joined(separator: "\n")
        var members: [String: LockedBatchMember] = [:]
        for row in try conn.query("""
            SELECT m.member_number, m.status, m.tier_code, m.ctid::text AS row
            FROM unnest(string_to_array($1, chr(10))) AS k(member_number)
            CROSS JOIN LATERAL (SELECT member_number, status, tier_code, ctid FROM members m
                                WHERE m.member_number = k.member_number FOR UPDATE) m
            """, [memberList]).rows {
            members[try row.string("member_number")] = LockedBatchMember(
                status: try row.string("status"), tier: program.tier(code: try row.string("tier_code")) ?? program.baseTier,
                row: try row.string("row"))
        }

        // Txn-ids and member numbers hold no whitespace, so a newline-joined list is a safe array parameter.
        let earlier = try conn.query("""
            SELECT e.reference, e.member_number, e.fingerprint
            FROM unnest(string_to_array($2, chr(10))) AS t(txn_id)
            CROSS JOIN LATERAL (SELECT reference, member_number, fingerprint FROM ledger_entries e
                                WHERE e.kind = 'accrual' AND e.partner_code = $1 AND e.reference = t.txn_id OFFSET 0) e
            """, [partnerCode, candidates.map(\.txnID).joined(separator: "\n")])
        var stored: [String: AccrualContent] = [:]
        for row in earlier.rows { stored[try row.string("reference")] = try AccrualContent(row) }
        var fresh: [QueuedAccrual] = []
        for line in candidates {
            if let content = stored[line.txnID] {
                if content == line.content { outcome.duplicates += 1 } else {
                    refuse(line, .conflict("txn-id \(line.txnID) was already used with different content"))
                }
            } else if !Identifiers.isMemberNumber(line.member) {
                refuse(line, .invalid("malformed member number"))
            } else {
                fresh.append(line)
            }
        }
        guard !fresh.isEmpty else { return }

        let earnsQualifying = timeline.versions.contains { ($0.program.earnRule(partner: partnerCode, category: category)?.qualifyingNumerator ?? 0) != 0 }
        var qualification = earnsQualifying ? try QualificationSimulation(conn, program: program, today: today, members: memberList) : nil

        var credited: [CreditedAccrual] = []
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
            // The rules of the activity date: a back-dated claim earns at the rules of its day.
            let version = timeline.version(on: line.input.activityDate)
            let rules = version.program
            // Most lines earn with the version in force, whose tiers the member's tier already is.
            let earningTier = version.version == inForce.version ? tier : rules.tier(code: tier.code) ?? rules.baseTier
            let earned: EarnResult
            do {
                try program.checkClaimWindow(line.input.activityDate, today: today)
                earned = try rules.earnWithinWindow(partner: partnerCode, category: category, input: line.input, tier: earningTier)
            } catch {
                refuse(line, error)
                continue
            }
            if earned.qualifying != 0 {
                qualification?.add(earned.qualifying, member: line.member, on: line.input.activityDate, startingTier: tier)
            }
            let offers = rules.promotionOffers(partner: partnerCode, category: category, tierCode: earningTier.code,
                                               input: line.input, earned: earned)
            credited.append(CreditedAccrual(accrual: line, points: earned.points, qualifying: earned.qualifying, offers: offers))
            members[line.member]?.credit(earned.points, on: line.input.activityDate)
        }
        guard !credited.isEmpty else { return }
        try grantPromotions(conn, &credited, &members)

        try post(conn, partnerCode: partnerCode, batchID: batchID, credited)
        try addBalances(conn, members.filter { $0.value.lastActivity != nil })
        if earnsQualifying { try addQualifyingMonths(conn, credited) }
        outcome.accepted += credited.count
        // Only members whose earned tier for a period changed need their grants and tier looked at.
        for (member, dates) in qualification?.crossings ?? [:] {
            for date in dates {
                try TierKeeper.requalify(conn, program: program, member: member, activityDate: date)
            }
            try TierKeeper.refresh(conn, program: program, member: member, today: today, reason: "batch \(partnerCode)/\(batchID)")
        }
    }

    /// Promotion bonuses line by line, in line order, within the caps and budgets read under lock;
    /// nothing to lock or read when no line matched a promotion.
    private static func grantPromotions(_ conn: Connection, _ credited: inout [CreditedAccrual],
                                        _ members: inout [String: LockedBatchMember]) throws {
        let offered = credited.flatMap { $0.offers.map(\.promotion) }
        guard !offered.isEmpty else { return }
        let offeredMembers = Set(credited.filter { !$0.offers.isEmpty }.map(\.accrual.member))
        var allowances = try PromotionAllowances.lock(conn, promotions: offered, members: offeredMembers)
        for index in credited.indices where !credited[index].offers.isEmpty {
            let accrual = credited[index].accrual
            credited[index].grants = allowances.grant(credited[index].offers, member: accrual.member)
            members[accrual.member]?.credit(credited[index].grants.reduce(0) { $0 + $1.points }, on: accrual.input.activityDate)
        }
        try allowances.save(conn)
    }

    /// The entries, in line order, straight into the ledger (ids and posting time by default):
    /// each accrual, followed by its promotion bonuses.
    private static func post(_ conn: Connection, partnerCode: String, batchID: String, _ credited: [CreditedAccrual]) throws {
        _ = try conn.copyIn("""
            COPY ledger_entries (member_number, kind, points, qualifying, activity_date, source, reference, partner_code,
                                 amount_minor, currency, fingerprint, batch_id, promotion_id) FROM STDIN
            """, rows: credited.lazy.flatMap { entry -> [[String?]] in
            let accrual = entry.accrual, amount = accrual.input.amount, date = accrual.input.activityDate.description
            let own: [String?] = [accrual.member, "accrual", String(entry.points), String(entry.qualifying), date,
                                  partnerCode, accrual.txnID, partnerCode, amount.map { String($0.minorUnits) }, amount?.currency,
                                  accrual.content.fingerprint, batchID, nil]
            guard !entry.grants.isEmpty else { return [own] }
            return [own] + entry.grants.map { grant in
                [accrual.member, "promotion", String(grant.points), "0", date, partnerCode, accrual.txnID, partnerCode,
                 nil, nil, nil, batchID, grant.promotionID]
            }
        })
    }

    /// One update per member credited, with the run's points and latest activity date. The rows
    /// are found by their ctid: locked since the look-up, they cannot have moved, and a TID scan
    /// costs no index probe or join against the whole table.
    private static func addBalances(_ conn: Connection, _ credited: [String: LockedBatchMember]) throws {
        let rows = Array(credited)
        let updated = try conn.query("""
            UPDATE members m SET balance = m.balance + s.points, last_activity = greatest(m.last_activity, s.last_activity)
            FROM unnest(string_to_array($1, chr(10)), string_to_array($2, chr(10))::bigint[], string_to_array($3, chr(10))::date[])
                 AS s(member_number, points, last_activity)
            WHERE m.ctid = ANY(string_to_array($4, chr(10))::tid[]) AND m.member_number = s.member_number
            """, [rows.map(\.key).joined(separator: "\n"), rows.map { String($0.value.points) }.joined(separator: "\n"),
                  rows.map { $0.value.lastActivity?.description ?? "" }.joined(separator: "\n"),
                  rows.map(\.value.row).joined(separator: "\n")]).affectedRows
        guard updated == rows.count else {
            throw LoyaltyError(.syntax, "internal error: \(updated) of \(rows.count) locked members found again; nothing was applied")
        }
    }

    /// Qualifying points added per member and month of activity, one upsert each.
    private static func addQualifyingMonths(_ conn: Connection, _ credited: [CreditedAccrual]) throws {
        var months: [String: [LocalDate: Int64]] = [:]
        for entry in credited where entry.qualifying != 0 {
            let date = entry.accrual.input.activityDate
            months[entry.accrual.member, default: [:]][LocalDate(year: date.year, month: date.month, day: 1) ?? date, default: 0]
                += entry.qualifying
        }
        let rows = months.flatMap { member, totals in totals.map { (member: member, month: $0.key, qualifying: $0.value) } }
        guard !rows.isEmpty else { return }
        _ = try conn.query("""
            INSERT INTO qualifying_months (member_number, month, qualifying)
            SELECT * FROM unnest(string_to_array($1, chr(10)), string_to_array($2, chr(10))::date[],
                                 string_to_array($3, chr(10))::bigint[])
            ON CONFLICT (member_number, month) DO UPDATE SET qualifying = qualifying_months.qualifying + EXCLUDED.qualifying
            """, [rows.map(\.member).joined(separator: "\n"), rows.map(\.month.description).joined(separator: "\n"),
                  rows.map { String($0.qualifying) }.joined(separator: "\n")])
    }
}
