-- Tier evaluation and expiry runs: one row per kind and date. Each chunk of members commits
-- together with the run's cursor, so an interrupted run resumes where it stopped and a finished
-- run is never applied twice.
CREATE TABLE runs (
    kind         text NOT NULL CHECK (kind IN ('tiers', 'expire')),
    as_of        date NOT NULL,
    -- The ledger reference of what the run posts ("expire-2026-11-23").
    run_id       text NOT NULL UNIQUE,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    -- Members up to and including this number (member_number order) are done; '' before the first chunk.
    done_through text NOT NULL DEFAULT '',
    -- Members changed (tier changes, or members with points expired), points expired, grants made.
    members      bigint NOT NULL DEFAULT 0,
    points       bigint NOT NULL DEFAULT 0,
    grants       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, as_of)
);

-- Soft landing: the one-tier-lower grant a member keeps for a while when a tier lapses.
ALTER TABLE tier_grants DROP CONSTRAINT tier_grants_source_check;
ALTER TABLE tier_grants ADD CONSTRAINT tier_grants_source_check
    CHECK (source IN ('qualified', 'override', 'lifetime', 'soft_landing'));

-- At most one lifetime grant in force per member, so two settles can never both add one.
CREATE UNIQUE INDEX tier_grants_one_lifetime ON tier_grants (member_number)
    WHERE source = 'lifetime' AND revoked_at IS NULL;

-- A run expires a member's points at most once, whatever goes wrong around it.
CREATE UNIQUE INDEX ledger_entries_one_expiry_per_run ON ledger_entries (member_number, reference)
    WHERE kind = 'expiry';
