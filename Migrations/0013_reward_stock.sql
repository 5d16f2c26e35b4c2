-- Reward stock is live state, not program: REDEEM takes it and CANCEL gives it back without a
-- new program. NULL = unlimited. A redemption records how much stock it took, so a CANCEL returns
-- exactly that, even when the reward's stock was set or lifted in between.
ALTER TABLE rewards ADD COLUMN stock bigint CHECK (stock >= 0);
ALTER TABLE redemptions ADD COLUMN stock_taken int NOT NULL DEFAULT 0 CHECK (stock_taken >= 0);
