-- The ledger is the truth: balances are derivable from these entries, which are never changed.

CREATE SEQUENCE ledger_entry_id_seq;

CREATE TABLE ledger_entries (
    member_number text NOT NULL REFERENCES members (member_number),
    entry_id      bigint NOT NULL DEFAULT nextval('ledger_entry_id_seq'),
    posted_at     timestamptz NOT NULL DEFAULT now(),
    kind          text NOT NULL CHECK (kind IN ('accrual', 'reversal', 'redemption', 'refund', 'hold_capture',
                                               'expiry', 'adjustment', 'transfer_in', 'transfer_out')),
    points        bigint NOT NULL,
    qualifying    bigint NOT NULL DEFAULT 0,
    -- The date the activity happened (accruals), else the posting date in the program's zone.
    activity_date date NOT NULL,
    -- Who caused it: a partner code, agent:NAME, member:NUMBER, admin:USER or system.
    source        text NOT NULL,
    -- The client's or server's id of what it belongs to (txn-id, redemption id, run id).
    reference     text NOT NULL,
    partner_code  text,
    -- Partner spend behind an accrual, in minor units of `currency`, for analytics and settlement.
    amount_minor  bigint,
    currency      text,
    PRIMARY KEY (member_number, entry_id)
);
CREATE INDEX ledger_entries_by_partner ON ledger_entries (partner_code, posted_at) WHERE partner_code IS NOT NULL;
CREATE INDEX ledger_entries_by_kind_date ON ledger_entries (kind, activity_date);

CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only (% refused)', TG_OP USING ERRCODE = 'raise_exception';
END $$;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_append_only();

-- One row per partner transaction: the exactly-once record of ACCRUE and what REVERSE may take back.
CREATE TABLE accruals (
    partner_code        text NOT NULL REFERENCES partners (code),
    txn_id              text NOT NULL CHECK (txn_id ~ '^[!-~]{1,64}$'),
    member_number       text NOT NULL REFERENCES members (member_number),
    fingerprint         text NOT NULL,
    activity_date       date NOT NULL,
    points              bigint NOT NULL,
    qualifying          bigint NOT NULL,
    reversed_points     bigint NOT NULL DEFAULT 0,
    reversed_qualifying bigint NOT NULL DEFAULT 0,
    entry_id            bigint NOT NULL,
    batch_id            text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (partner_code, txn_id),
    CHECK (reversed_points BETWEEN 0 AND points),
    CHECK (reversed_qualifying BETWEEN 0 AND qualifying)
);
CREATE INDEX accruals_by_member ON accruals (member_number);

-- Qualifying points by member and calendar month of the activity; periods (calendar year or a
-- rolling 12 months) are sums of months.
CREATE TABLE qualifying_months (
    member_number text NOT NULL REFERENCES members (member_number),
    month         date NOT NULL CHECK (extract(day FROM month) = 1),
    qualifying    bigint NOT NULL,
    PRIMARY KEY (member_number, month)
);

-- Tiers a member holds: one qualified grant per period, admin overrides, lifetime status.
CREATE TABLE tier_grants (
    member_number text NOT NULL REFERENCES members (member_number),
    grant_id      bigint GENERATED ALWAYS AS IDENTITY,
    tier_code     text NOT NULL REFERENCES tiers (code),
    source        text NOT NULL CHECK (source IN ('qualified', 'override', 'lifetime')),
    period_start  date,
    valid_until   date,
    reason        text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    PRIMARY KEY (member_number, grant_id)
);
CREATE UNIQUE INDEX tier_grants_one_per_period ON tier_grants (member_number, period_start)
    WHERE source = 'qualified' AND revoked_at IS NULL;

-- Every tier change with its why, for members and agents to read.
CREATE TABLE tier_history (
    member_number text NOT NULL REFERENCES members (member_number),
    change_id     bigint GENERATED ALWAYS AS IDENTITY,
    changed_at    timestamptz NOT NULL DEFAULT now(),
    from_tier     text NOT NULL,
    to_tier       text NOT NULL,
    valid_until   date,
    reason        text NOT NULL,
    PRIMARY KEY (member_number, change_id)
);
