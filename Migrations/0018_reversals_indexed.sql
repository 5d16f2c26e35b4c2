-- `loyaltyctl verify` reads the reversals and every partner code of the ledger without a pass
-- over it: accruals and promotion entries are already indexed by partner (0010, 0012); this
-- covers the rest. Only reversals (and partner codes on other kinds, which no writer makes) get an
-- entry, so ingestion of accruals pays nothing for it.
CREATE INDEX ledger_entries_reversals_and_other_partners ON ledger_entries (partner_code, reference)
    WHERE kind = 'reversal' OR (partner_code IS NOT NULL AND kind NOT IN ('accrual', 'promotion', 'promotion_reversal'));
