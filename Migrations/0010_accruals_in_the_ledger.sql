-- One row per accrual. The exactly-once record of ACCRUE moves into the accrual's own ledger
-- entry (its fingerprint and batch-id), and what REVERSE may still take back is the accrual less
-- the reversal entries of the same txn-id. Batch ingestion wrote two heap rows and five B-tree
-- entries a line; it now writes one row, COPYs it straight in, and maintains two B-trees.

ALTER TABLE ledger_entries
    -- For accruals: the canonical accrual fields (AccrualInput.fingerprint); with member_number,
    -- what "the same content" of a txn-id means.
    ADD COLUMN fingerprint text,
    -- For accruals that came in a partner batch: its batch-id.
    ADD COLUMN batch_id text;

-- Carrying the records over is the one update the ledger ever takes, inside this migration only.
ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only;
UPDATE ledger_entries e SET fingerprint = substr(a.fingerprint, length(a.member_number) + 2), batch_id = a.batch_id
FROM accruals a
WHERE e.member_number = a.member_number AND e.entry_id = a.entry_id;
ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only;

-- Every accrual entry is its own exactly-once record (fails here if one had no accrual record).
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_accrual_record
    CHECK (kind <> 'accrual' OR (partner_code IS NOT NULL AND fingerprint IS NOT NULL));
-- Exactly once per (partner, txn-id): a racing second insert collides and its transaction retries.
CREATE UNIQUE INDEX ledger_entries_one_accrual_per_txn ON ledger_entries (partner_code, reference)
    WHERE kind = 'accrual';

DROP TABLE accruals;

-- Each B-tree cost a random leaf page per ingested line, and nothing needs them as B-trees: the
-- reports scan a year or more of the ledger, the settlement report a range of posting months.
-- Entries arrive in posting order (and activity dates near it), which is what BRIN summarizes.
DROP INDEX ledger_entries_by_partner;
DROP INDEX ledger_entries_by_kind_date;
CREATE INDEX ledger_entries_by_posted_brin ON ledger_entries USING brin (posted_at);
CREATE INDEX ledger_entries_by_activity_brin ON ledger_entries USING brin (activity_date);

-- Room on each page for the next version of a month's row, so the upserts of accruals stay HOT.
ALTER TABLE qualifying_months SET (fillfactor = 70);
-- Every accrual, redemption and transfer updates its member's row: room for the new version on
-- the same page keeps those updates HOT (no new primary-key entry).
ALTER TABLE members SET (fillfactor = 90);

-- Like the ledger's (0009): every writer of a month holds its member's row lock, and members are
-- never deleted; the per-row check cost a trigger call for each new month of a batch.
ALTER TABLE qualifying_months DROP CONSTRAINT qualifying_months_member_number_fkey;
