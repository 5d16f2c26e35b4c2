-- As 0009 did for the ledger: each REDEEM, HOLD and TRANSFER paid a foreign-key trigger (a probe
-- and a share lock of the member row) for a member whose row it had already locked FOR UPDATE in
-- the same transaction. Members are never deleted (0009), so these references cannot dangle;
-- `loyaltyctl verify` checks that every hold, redemption and transfer belongs to a member.
ALTER TABLE holds DROP CONSTRAINT holds_member_number_fkey;
ALTER TABLE redemptions DROP CONSTRAINT redemptions_member_number_fkey;
ALTER TABLE transfers DROP CONSTRAINT transfers_from_member_fkey;
ALTER TABLE transfers DROP CONSTRAINT transfers_to_member_fkey;
