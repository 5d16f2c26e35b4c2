-- Partner batches: the summary a committed batch-id returns forever, and its rejected lines.
CREATE TABLE batches (
    partner_code text NOT NULL REFERENCES partners (code),
    batch_id     text NOT NULL CHECK (batch_id ~ '^[!-~]{1,64}$'),
    accepted     int NOT NULL,
    duplicates   int NOT NULL,
    rejected     int NOT NULL,
    committed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (partner_code, batch_id)
);

CREATE TABLE batch_errors (
    partner_code text NOT NULL,
    batch_id     text NOT NULL,
    line         int NOT NULL,
    txn_id       text NOT NULL,
    code         text NOT NULL,
    message      text NOT NULL,
    PRIMARY KEY (partner_code, batch_id, line),
    FOREIGN KEY (partner_code, batch_id) REFERENCES batches (partner_code, batch_id)
);

-- Every admin action: who, when, what, why.
CREATE TABLE audit_log (
    audit_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    actor         text NOT NULL,
    action        text NOT NULL,
    member_number text,
    details       jsonb NOT NULL DEFAULT '{}',
    reason        text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_by_member ON audit_log (member_number, at) WHERE member_number IS NOT NULL;

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP USING ERRCODE = 'raise_exception';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
