-- Program data: small reference tables, the same for every member (replicated to every node
-- when the member-scoped tables are distributed; see docs/scaling.md).

-- The whole program definition as JSON (LoyaltyCore.Program); the tables below mirror the parts
-- that SQL needs (thresholds for reports and expiry exemption, the catalog, partner categories).
CREATE TABLE program_settings (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tiers (
    code                 text PRIMARY KEY CHECK (code ~ '^[A-Z0-9_]{1,32}$'),
    name                 text NOT NULL UNIQUE,
    rank                 int NOT NULL UNIQUE CHECK (rank >= 0),
    qualifying_threshold bigint NOT NULL CHECK (qualifying_threshold >= 0),
    bonus_percent        bigint NOT NULL CHECK (bonus_percent >= 0)
);

CREATE TABLE rewards (
    code        text PRIMARY KEY CHECK (code ~ '^[A-Z0-9_-]{1,32}$'),
    points      bigint NOT NULL CHECK (points > 0),
    description text NOT NULL,
    active      boolean NOT NULL DEFAULT true
);

CREATE TABLE earn_rules (
    category text PRIMARY KEY CHECK (category IN ('airline', 'hotel', 'car_rental', 'card', 'dining')),
    rule     jsonb NOT NULL
);

CREATE TABLE partners (
    code        text PRIMARY KEY CHECK (code ~ '^[A-Z0-9_]{2,16}$'),
    name        text NOT NULL,
    category    text NOT NULL REFERENCES earn_rules (category),
    -- What the partner pays the program, in the program currency's minor units per 1,000 points.
    price_per_thousand_points_minor bigint NOT NULL DEFAULT 0 CHECK (price_per_thousand_points_minor >= 0),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Keys are random and long, so a SHA-256 digest is enough; only the digest is kept.
CREATE TABLE partner_keys (
    partner_code text NOT NULL REFERENCES partners (code),
    key_id       bigint GENERATED ALWAYS AS IDENTITY,
    key_sha256   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    PRIMARY KEY (partner_code, key_id)
);
CREATE UNIQUE INDEX partner_keys_one_active ON partner_keys (partner_code) WHERE revoked_at IS NULL;

CREATE TABLE agents (
    name          text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.-]{1,32}$'),
    secret_sha256 text NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);
