-- Member-scoped tables: every key starts with member_number, the distribution key for scale-out.

CREATE TABLE members (
    member_number text PRIMARY KEY CHECK (member_number ~ '^[A-Za-z0-9_-]{1,32}$'),
    name          text NOT NULL DEFAULT '',
    email         text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed', 'merged')),
    merged_into   text,
    enrolled_at   timestamptz NOT NULL DEFAULT now(),
    -- PINs are low-entropy: bcrypt through pgcrypto's crypt().
    pin_hash      text,
    -- Set when the 5th wrong PIN within 15 minutes arrives; sign-in is refused until then.
    locked_until  timestamptz,
    -- Kept in the same transaction as every ledger entry; `verify` recomputes it from the ledger.
    balance       bigint NOT NULL DEFAULT 0,
    -- Last accrual, redemption or transfer (activity date for accruals), for inactivity expiry.
    last_activity date,
    -- Cache of the tier in force, derived from tier_grants.
    tier_code     text NOT NULL REFERENCES tiers (code),
    tier_until    date
);

-- Wrong PINs, for the sign-in lockout (5 in 15 minutes locks for 15 minutes).
CREATE TABLE member_signin_failures (
    member_number text NOT NULL REFERENCES members (member_number),
    failed_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX member_signin_failures_by_member ON member_signin_failures (member_number, failed_at);
