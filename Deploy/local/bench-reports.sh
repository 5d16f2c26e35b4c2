#!/usr/bin/env bash
# Benchmark of `loyaltyctl report` (not a test): generates members and ledger entries set-based in
# SQL into a scratch database, then times each report once.
#
#   Deploy/local/bench-reports.sh [MEMBERS] [ENTRIES]       defaults 1000000 10000000
#
# Environment: LOYALTY_TEST_DATABASE_URL (the server; default postgresql://loyalty@127.0.0.1:54329/loyalty),
# BENCH_DB (scratch database name, dropped and recreated; default loyalty_bench_reports),
# BENCH_AS_OF (default 2026-06-30), BENCH_KEEP=1 keeps the database afterwards, BENCH_REUSE=1 times
# the reports on the database a BENCH_KEEP run left (no generation), BENCH_RUNS=N times each report N
# times and prints the fastest (other load on the machine only ever adds), BENCH_SVG_DIR writes each chart there.
#
# The data is shaped like the ledger the reports read (skewed activity, five partners, reversals,
# debits, expiries, holds, tiers) but skips the records only `verify` reads (accruals, qualifying months).
set -euo pipefail
cd "$(dirname "$0")/../.."
members=${1:-1000000}
entries=${2:-10000000}
server=${LOYALTY_TEST_DATABASE_URL:-postgresql://loyalty@127.0.0.1:54329/loyalty}
db=${BENCH_DB:-loyalty_bench_reports}
as_of=${BENCH_AS_OF:-2026-06-30}
base=${server%/*}
url="$base/$db"

swift build --product loyaltyctl >/dev/null
ctl="$(swift build --show-bin-path)/loyaltyctl"

export PGOPTIONS="-c client_min_messages=warning"
seconds() { date +%s.%N; }

if [ "${BENCH_REUSE:-0}" != 1 ]; then
psql -q "$base/postgres" -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
"$ctl" migrate --database "$url" --migrations Migrations >/dev/null
"$ctl" demo load --database "$url" >/dev/null 2>&1

started=$(seconds)
psql -q "$url" -v ON_ERROR_STOP=1 -v members="$members" -v entries="$entries" -v as_of="$as_of" <<'SQL'
UPDATE partners SET price_per_thousand_points_minor = CASE code
    WHEN 'SKYAIR' THEN 1500 WHEN 'HOTELCO' THEN 1250 WHEN 'DRIVECO' THEN 900 WHEN 'CARDCO' THEN 800 ELSE 999 END;

-- Tiers: about 80 % Member, 12 % Premier, 6 % Premier Executive, 2 % 1K, valid 0-24 months on.
INSERT INTO members (member_number, tier_code, tier_until, status)
SELECT 'B' || lpad(i::text, 8, '0'), t.code,
       CASE WHEN t.code = 'MEMBER' THEN NULL ELSE :'as_of'::date + (random() * 730)::int END,
       CASE WHEN random() < 0.02 THEN 'closed' ELSE 'active' END
FROM (SELECT i, random() AS r FROM generate_series(1, :members) i) g
CROSS JOIN LATERAL (SELECT CASE WHEN g.r < 0.80 THEN 'MEMBER' WHEN g.r < 0.92 THEN 'PREMIER'
                                WHEN g.r < 0.98 THEN 'PREMIER_EXECUTIVE' ELSE '1K' END AS code) t;

-- Entries over the two years before as-of; member numbers drawn as members × u^2.5, so a few
-- members earn most (about what a coalition programme sees).
INSERT INTO ledger_entries (member_number, posted_at, kind, points, qualifying, activity_date, source, reference,
                            partner_code, amount_minor, currency, fingerprint)
SELECT 'B' || lpad((1 + floor(:members * power(g.u, 2.5)))::text, 8, '0'),
       (g.day + time '06:00')::timestamp AT TIME ZONE 'UTC' + make_interval(hours => floor(g.a * 40)::int),
       k.kind,
       CASE k.kind
           WHEN 'accrual' THEN CASE g.p WHEN 0 THEN g.miles WHEN 1 THEN g.amount * 3 / 100 WHEN 2 THEN least(1250, 250 * (1 + floor(g.a * 7)::int))
                                        WHEN 3 THEN g.amount / 100 ELSE g.amount * 3 / 100 END
           WHEN 'reversal' THEN -(100 + floor(g.a * 1900)::int)
           WHEN 'adjustment' THEN -(100 + floor(g.a * 4900)::int)
           ELSE -(100 + floor(g.a * 2900)::int) END,
       CASE WHEN k.kind = 'accrual' AND g.p = 0 THEN g.miles WHEN k.kind = 'accrual' AND g.p = 3 THEN g.amount / 2000 ELSE 0 END,
       g.day,
       CASE WHEN k.kind IN ('accrual', 'reversal') THEN (ARRAY['SKYAIR', 'HOTELCO', 'DRIVECO', 'CARDCO', 'DINECO'])[g.p + 1] ELSE 'system' END,
       'b' || g.i,
       CASE WHEN k.kind IN ('accrual', 'reversal') THEN (ARRAY['SKYAIR', 'HOTELCO', 'DRIVECO', 'CARDCO', 'DINECO'])[g.p + 1] END,
       CASE WHEN k.kind = 'accrual' AND g.p IN (1, 3, 4) THEN g.amount END,
       CASE WHEN k.kind = 'accrual' AND g.p IN (1, 3, 4) THEN 'USD' END,
       -- Every accrual is its own exactly-once record (migration 0010).
       CASE WHEN k.kind = 'accrual' THEN 'bench' END
FROM (SELECT i, random() AS u, :'as_of'::date - floor(random() * 730)::int AS day, floor(random() * 5)::int AS p,
             random() AS a, 500 + floor(random() * 4500)::int AS miles, 1000 + floor(random() * 149000)::bigint AS amount,
             random() AS k
      FROM generate_series(1, :entries) i) g
CROSS JOIN LATERAL (SELECT CASE WHEN g.k < 0.88 THEN 'accrual' WHEN g.k < 0.91 THEN 'reversal'
                                WHEN g.k < 0.985 THEN 'adjustment' ELSE 'expiry' END AS kind) k;

UPDATE members m SET balance = s.balance, last_activity = s.last_activity
FROM (SELECT member_number, sum(points) AS balance, max(activity_date) AS last_activity
      FROM ledger_entries GROUP BY member_number) s
WHERE s.member_number = m.member_number;

INSERT INTO holds (member_number, hold_id, points, expires_at, principal)
SELECT 'B' || lpad((1 + floor(:members * random()))::text, 8, '0'), 'bh' || i, 100 + floor(random() * 5000)::int,
       now() + interval '1 hour', 'agent:demo'
FROM generate_series(1, greatest(1, :members / 200)) i
ON CONFLICT DO NOTHING;

VACUUM ANALYZE members;
VACUUM ANALYZE ledger_entries;
VACUUM ANALYZE holds;
SQL
printf 'generated %s members, %s ledger entries in %.1f s\n' "$members" "$entries" "$(echo "$(seconds) - $started" | bc)"
fi
echo "load average before the reports: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

# Seconds of the fastest of BENCH_RUNS runs of `loyaltyctl report ARGS...`; empty when a run fails.
fastest() {
  local best="" started elapsed run
  for run in $(seq "${BENCH_RUNS:-1}"); do
    started=$(seconds)
    "$ctl" report "$@" --database "$url" --as-of "$as_of" --format csv >/dev/null 2>/tmp/bench-reports.err || return 1
    elapsed=$(echo "$(seconds) - $started" | bc)
    if [ -z "$best" ] || [ "$(echo "$elapsed < $best" | bc)" = 1 ]; then best=$elapsed; fi
  done
  echo "$best"
}

status=0
for report in rfm pareto liability tiers settlement clv cohorts ladder "rfm --member B00000001" "clv --member B00000001"; do
  svg=()
  if [ -n "${BENCH_SVG_DIR:-}" ] && [ "$report" = "${report% *}" ]; then
    mkdir -p "$BENCH_SVG_DIR" && svg=(--svg "$BENCH_SVG_DIR/$report.svg")
  fi
  # shellcheck disable=SC2086 # the member variant is two words on purpose
  if elapsed=$(fastest $report "${svg[@]}"); then
    printf '%-24s %6.1f s\n' "$report" "$elapsed"
  else
    echo "$report failed: $(cat /tmp/bench-reports.err)"; status=1
  fi
done

[ "${BENCH_KEEP:-0}" = 1 ] || psql -q "$base/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
exit $status
