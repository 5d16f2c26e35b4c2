-- The program becomes a versioned document an operator applies with loyaltyctl; partners get open
-- categories, a settlement currency and suspension; promotions grant bonus points of their own.

-- Every applied version, never edited: a change is a new version. Accruals earn with the version
-- effective on their activity date; everything else follows the version in force today.
CREATE TABLE program_versions (
    version        int PRIMARY KEY CHECK (version > 0),
    document       jsonb NOT NULL,
    effective_from date NOT NULL,
    applied_at     timestamptz NOT NULL DEFAULT now(),
    actor          text NOT NULL,
    reason         text NOT NULL CHECK (reason <> '')
);

CREATE FUNCTION program_versions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'program versions are never edited (% refused); apply a new version', TG_OP USING ERRCODE = 'raise_exception';
END $$;
CREATE TRIGGER program_versions_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON program_versions
    FOR EACH STATEMENT EXECUTE FUNCTION program_versions_append_only();

-- A program loaded before versions existed becomes version 1.
INSERT INTO program_versions (version, document, effective_from, applied_at, actor, reason)
SELECT 1, value, updated_at::date, updated_at, 'system', 'program before versions (migration 0012)'
FROM program_settings WHERE key = 'program';
DROP TABLE program_settings;

-- Bumped in the same transaction as every change a running loyaltyd must follow (a program
-- version, a partner's state); each loyaltyd polls this one row and reloads when it moves.
CREATE TABLE program_generation (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    generation bigint NOT NULL
);
INSERT INTO program_generation VALUES (true, 1);

-- Earn rules live in the document; categories are any word a program gives a rule.
ALTER TABLE partners DROP CONSTRAINT partners_category_fkey;
DROP TABLE earn_rules;
ALTER TABLE partners
    ADD CONSTRAINT partners_category_word CHECK (category ~ '^[a-z][a-z0-9_]{0,31}$'),
    -- The currency of price_per_thousand_points_minor; NULL = the program currency.
    ADD COLUMN price_currency text CHECK (price_currency ~ '^[A-Z]{3}$'),
    -- A suspended partner signs in and reverses, but earns its members nothing new.
    ADD COLUMN suspended_at timestamptz,
    ADD COLUMN suspended_reason text;

-- Bonus points of a promotion are entries of their own pointing at the accrual (same partner
-- and reference), so statements show them, reversals take them back in proportion and
-- settlement can tell them apart.
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_kind_check;
ALTER TABLE ledger_entries
    ADD CONSTRAINT ledger_entries_kind_check CHECK (kind IN ('accrual', 'reversal', 'redemption', 'refund', 'hold_capture',
        'expiry', 'adjustment', 'transfer_in', 'transfer_out', 'promotion', 'promotion_reversal')),
    ADD COLUMN promotion_id text,
    ADD CONSTRAINT ledger_entries_promotion_record
        CHECK ((kind IN ('promotion', 'promotion_reversal')) = (promotion_id IS NOT NULL)
               AND (promotion_id IS NULL OR partner_code IS NOT NULL));
-- What a reversal looks up: the promotion entries of one accrual.
CREATE INDEX ledger_entries_promotions_of_accrual ON ledger_entries (partner_code, reference, promotion_id)
    WHERE kind IN ('promotion', 'promotion_reversal');

-- What a promotion report reads.
CREATE INDEX ledger_entries_by_promotion ON ledger_entries (promotion_id) WHERE kind IN ('promotion', 'promotion_reversal');

-- Points a promotion with a budget has granted, net of reversals. Accruals lock its row while
-- they spend the budget, so concurrent accruals and batches never grant past it.
CREATE TABLE promotion_totals (
    promotion_id text PRIMARY KEY,
    granted      bigint NOT NULL DEFAULT 0 CHECK (granted >= 0)
);
-- The same per member, for promotions with a per-member cap; written under the member's row lock.
CREATE TABLE promotion_member_totals (
    promotion_id  text NOT NULL,
    member_number text NOT NULL,
    granted       bigint NOT NULL CHECK (granted >= 0),
    PRIMARY KEY (promotion_id, member_number)
);
