-- Batch ingestion spent half its time in per-row foreign-key triggers (three RI checks per
-- accrual). Every write locks and checks the member row in the same transaction before it adds
-- entries, and members are never deleted (enforced below), so these references cannot dangle;
-- `loyaltyctl verify` checks it anyway ("every ledger entry and accrual belongs to a member").
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_member_number_fkey;
ALTER TABLE accruals DROP CONSTRAINT accruals_member_number_fkey;
ALTER TABLE accruals DROP CONSTRAINT accruals_partner_code_fkey;

-- Accounts are closed or merged, never removed: the ledger must always have its member.
CREATE FUNCTION members_never_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'members are closed, never deleted (% refused)', TG_OP USING ERRCODE = 'raise_exception';
END $$;
CREATE TRIGGER members_never_deleted BEFORE DELETE OR TRUNCATE ON members
    FOR EACH STATEMENT EXECUTE FUNCTION members_never_deleted();
