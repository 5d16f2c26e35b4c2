-- Spending: holds, redemptions, transfers, and the exactly-once record of client request-ids.

CREATE SEQUENCE spend_id_seq;

CREATE TABLE holds (
    member_number text NOT NULL REFERENCES members (member_number),
    hold_id       text NOT NULL UNIQUE,
    points        bigint NOT NULL CHECK (points > 0),
    expires_at    timestamptz NOT NULL,
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'captured', 'released')),
    principal     text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    closed_at     timestamptz,
    PRIMARY KEY (member_number, hold_id)
);
-- Available = balance less active, unexpired holds; a lapsed hold simply stops counting.
CREATE INDEX holds_active ON holds (member_number, expires_at) WHERE status = 'active';

CREATE TABLE redemptions (
    member_number  text NOT NULL REFERENCES members (member_number),
    redemption_id  text NOT NULL UNIQUE,
    reward_code    text REFERENCES rewards (code),
    quantity       int NOT NULL DEFAULT 1 CHECK (quantity > 0),
    points         bigint NOT NULL CHECK (points > 0),
    hold_id        text,
    status         text NOT NULL DEFAULT 'completed' CHECK (status IN ('completed', 'cancelled')),
    principal      text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    cancelled_at   timestamptz,
    PRIMARY KEY (member_number, redemption_id)
);

CREATE TABLE transfers (
    from_member  text NOT NULL REFERENCES members (member_number),
    transfer_id  text NOT NULL UNIQUE,
    to_member    text NOT NULL REFERENCES members (member_number),
    points       bigint NOT NULL CHECK (points > 0),
    principal    text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (from_member, transfer_id)
);

-- REDEEM, HOLD and TRANSFER request-ids: the same id with the same content returns the stored
-- reply; with other content it is a conflict.
CREATE TABLE requests (
    principal     text NOT NULL,
    request_id    text NOT NULL CHECK (request_id ~ '^[!-~]{1,64}$'),
    command       text NOT NULL,
    fingerprint   text NOT NULL,
    member_number text NOT NULL,
    result_id     text NOT NULL,
    reply         jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, request_id)
);
