-- Member data rights: when a member's personal fields were erased (`loyaltyctl member erase`).
-- The row, its number and its ledger stay for accounting; the name, email and PIN do not.
ALTER TABLE members ADD COLUMN erased_at timestamptz;
