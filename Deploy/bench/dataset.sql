-- The benchmark's data set, generated set-based: :members members named M000000000000,
-- M000000000001, ... (what redis-benchmark's `M__rand_int__` expands to), about :per_member
-- accruals each over a year from the five demo partners (the year before :'today', or 20
-- months earlier for one member in ten, who are dormant), and member M000000000000 with 1,000
-- entries (the STATEMENT scenario). Ledger entries (each accrual its own exactly-once record),
-- balances, last activity and qualifying months are all derived from one deterministic view, so `loyaltyctl verify` passes
-- on the result. Points follow the demo program's earn rules at the base tier; tiers are left
-- for `tiers evaluate` to work out.
--
-- Run in parts (psql -v part=...): `prepare`, then `ledger` and `members` (with qualifying
-- months) at the same time in two sessions, a core each, then `finish`.
\set ON_ERROR_STOP on
-- Generation only: the benchmark itself runs with the cluster's durable settings.
SET synchronous_commit = off;
SET work_mem = '256MB';
SET maintenance_work_mem = '512MB';
-- Foreign-key triggers check row by row; every generated reference exists by construction.
SET session_replication_role = replica;
SELECT :'part' = 'prepare' AS is_prepare, :'part' = 'ledger' AS is_ledger, :'part' = 'members' AS is_members,
       :'part' = 'finish' AS is_finish \gset

\if :is_prepare
CREATE SCHEMA bench_gen;
-- h is a deterministic scramble of (member, accrual): the "random" part of every value.
CREATE VIEW bench_gen.gen AS
SELECT m.i, g.j, m.member_number, (m.i + g.j) % 5 AS p,
       (m.i * 1000003 + g.j * 7919 + 12345) % 1000000007 AS h,
       :'today'::date - 364 + (g.j * 365 / m.c)::int - m.dormant_days AS activity_date,
       m.i * 2000 + g.j + 1 AS entry_id,
       'g' || lpad(m.i::text, 9, '0') || '-' || lpad(g.j::text, 4, '0') AS txn_id
FROM (SELECT i, 'M' || lpad(i::text, 12, '0') AS member_number,
             CASE WHEN i = 0 THEN 1000 ELSE 1 + (i * 7919) % greatest(1, 2 * :per_member - 1) END AS c,
             -- One member in ten went quiet 20 months ago: what inactivity expiry is for.
             CASE WHEN i % 10 = 9 THEN 600 ELSE 0 END AS dormant_days
      FROM generate_series(0::bigint, :members - 1) AS i) m
CROSS JOIN LATERAL generate_series(0::bigint, m.c - 1) AS g(j);

CREATE VIEW bench_gen.input AS
SELECT g.*, (ARRAY['SKYAIR', 'HOTELCO', 'DRIVECO', 'CARDCO', 'DINECO'])[g.p + 1] AS partner_code,
       CASE g.p WHEN 0 THEN 300 + g.h % 4700 END AS miles,
       CASE g.p WHEN 0 THEN (ARRAY['Y', 'Y', 'Y', 'Y', 'Y', 'Y', 'Y', 'Y', 'J', 'F'])[1 + g.h % 10] END AS cabin,
       CASE g.p WHEN 2 THEN 1 + g.h % 7 END AS days,
       CASE g.p WHEN 1 THEN 5000 + g.h % 95000 WHEN 3 THEN 1000 + g.h % 200000 WHEN 4 THEN 1500 + g.h % 15000 END AS amount_minor
FROM bench_gen.gen g;

-- Earn rules of the demo program (DEMO-PROGRAM.md), floor per line, base tier (no flight bonus).
-- Computed once into an unlogged table: four statements read it, two of them at the same time.
CREATE UNLOGGED TABLE bench_gen.accrual AS
SELECT x.*,
       CASE x.p WHEN 0 THEN CASE WHEN x.cabin IN ('F', 'J') THEN x.miles * 3 / 2 ELSE x.miles END
                WHEN 1 THEN x.amount_minor * 3 / 100 WHEN 2 THEN least(1250, 250 * x.days)
                WHEN 3 THEN x.amount_minor / 100 ELSE x.amount_minor * 3 / 100 END AS points,
       CASE x.p WHEN 0 THEN CASE WHEN x.cabin IN ('F', 'J') THEN x.miles * 3 / 2 ELSE x.miles END
                WHEN 3 THEN x.amount_minor / 2000 ELSE 0 END AS qualifying,
       -- AccrualInput.fingerprint, the part of LoyaltyStore.accrualFingerprint an entry keeps:
       -- activity_date= amount= currency= days= miles= cabin=
       'activity_date=' || x.activity_date
           || coalesce(' amount=' || x.amount_minor || ' currency=USD', '') || coalesce(' days=' || x.days, '')
           || coalesce(' miles=' || x.miles, '') || coalesce(' cabin=' || x.cabin, '') AS fingerprint
FROM bench_gen.input x;

-- Secondary indexes are built once after the load, faster than maintained row by row; the
-- primary keys stay (the rows arrive in their order).
CREATE TABLE bench_gen.deferred_indexes AS
SELECT indexname, indexdef FROM pg_indexes
WHERE schemaname = 'public' AND tablename = 'ledger_entries' AND indexname NOT LIKE '%\_pkey';
DO $$ DECLARE i record; BEGIN
    FOR i IN SELECT indexname FROM bench_gen.deferred_indexes LOOP EXECUTE format('DROP INDEX %I', i.indexname); END LOOP;
END $$;
\endif

\if :is_ledger
INSERT INTO ledger_entries (member_number, entry_id, posted_at, kind, points, qualifying, activity_date, source, reference,
                            partner_code, amount_minor, currency, fingerprint)
SELECT member_number, entry_id, activity_date + time '12:00', 'accrual', points, qualifying, activity_date, partner_code,
       txn_id, partner_code, amount_minor, CASE WHEN amount_minor IS NOT NULL THEN 'USD' END, fingerprint
FROM bench_gen.accrual;
SELECT setval('ledger_entry_id_seq', (SELECT max(entry_id) FROM ledger_entries)) \gset
\endif

\if :is_members
INSERT INTO members (member_number, tier_code, balance, last_activity, enrolled_at)
SELECT 'M' || lpad(i::text, 12, '0'), 'MEMBER', s.balance, s.last_activity, :'today'::date - 800
FROM (SELECT i, sum(points) AS balance, max(activity_date) AS last_activity FROM bench_gen.accrual GROUP BY i) s;

INSERT INTO qualifying_months (member_number, month, qualifying)
SELECT member_number, date_trunc('month', activity_date)::date, sum(qualifying)
FROM bench_gen.accrual WHERE qualifying <> 0 GROUP BY 1, 2;
\endif

\if :is_finish
DO $$ DECLARE i record; BEGIN
    FOR i IN SELECT indexdef FROM bench_gen.deferred_indexes LOOP EXECUTE i.indexdef; END LOOP;
END $$;
DROP SCHEMA bench_gen CASCADE;
RESET session_replication_role;
VACUUM ANALYZE members, ledger_entries, qualifying_months;
CHECKPOINT;
\endif
