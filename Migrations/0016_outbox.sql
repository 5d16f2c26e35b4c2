-- Outbound events (the outbox): each row is written in the same transaction as the change it
-- reports, so an event exists exactly when its change committed.
--
-- Consumers read in `position` order and keep the last position they read. A sequence id taken
-- at insert would not do: a transaction that took a lower id but commits later would appear
-- below a position a consumer has already passed, and be skipped. So a row gets its position
-- only after it committed, from events_stamp(), which one caller at a time runs (an advisory
-- lock) and which numbers every committed unstamped row in id order after the highest position.
CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    position bigint UNIQUE,
    kind text NOT NULL,
    member_number text NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    payload jsonb NOT NULL DEFAULT '{}',
    -- Daily events are written once per key (a member's lot date, a tier's end): reruns add nothing.
    once_key text UNIQUE
);
CREATE INDEX events_unstamped ON events (id) WHERE position IS NULL;

CREATE FUNCTION events_stamp() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    stamped bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM events WHERE position IS NULL) THEN
        RETURN 0;
    END IF;
    PERFORM pg_advisory_xact_lock(7480020);
    -- A new snapshot (READ COMMITTED): it sees the stamps of whoever held the lock before.
    WITH top AS (
        SELECT coalesce(max(position), 0) AS position FROM events
    ), todo AS (
        SELECT id, row_number() OVER (ORDER BY id) AS n FROM events WHERE position IS NULL
    )
    UPDATE events e SET position = top.position + todo.n FROM top, todo WHERE e.id = todo.id;
    GET DIAGNOSTICS stamped = ROW_COUNT;
    RETURN stamped;
END $$;

-- Wakes EVENTS WAIT: the notification is delivered when the inserting transaction commits, and
-- only if it inserted a row (a tier refresh that changed nothing sends none).
CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM added) THEN
        PERFORM pg_notify('loyalty_events', '');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON events REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify();
