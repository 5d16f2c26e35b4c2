-- A partial REVERSE carries the partner's id for it (`REVERSE txn-id points=n id=r1`): resent, it
-- returns the first reply instead of reversing again. Unique per partner and txn-id.
ALTER TABLE ledger_entries ADD COLUMN reversal_id text;
CREATE UNIQUE INDEX ledger_entries_one_reversal_per_id ON ledger_entries (partner_code, reference, reversal_id)
    WHERE kind = 'reversal' AND reversal_id IS NOT NULL;
