#!/usr/bin/env bash
# Benchmark of the daily runs, not a test: N members (default 1,000,000) generated set-based in a
# scratch database, then `tiers evaluate`, `expire` (inactivity, the demo's policy) and `expire`
# under a lot policy timed, and `verify` run on the result. The scratch database is dropped after.
#
# usage: BENCH_DATABASE_URL=postgresql://user@host:port/any Deploy/local/bench-runs.sh [MEMBERS]
# (defaults to LOYALTY_TEST_DATABASE_URL; the user must be allowed to CREATE DATABASE).
# BENCH_KEEP=1 keeps the scratch database and prints its URL, to study the runs' plans.
set -euo pipefail
cd "$(dirname "$0")/../.."
members=${1:-1000000}
server=${BENCH_DATABASE_URL:-${LOYALTY_TEST_DATABASE_URL:?set BENCH_DATABASE_URL to a PostgreSQL URL}}
base=${server%/*}
db=loyalty_bench_$$
url="$base/$db"
as_of=2026-11-23

swift build --product loyaltyctl >/dev/null
ctl="$(swift build --show-bin-path)/loyaltyctl"

psql -q "$base/postgres" -c "CREATE DATABASE $db"
if [ -n "${BENCH_KEEP:-}" ]; then
  trap 'echo "kept $url" >&2' EXIT
else
  trap 'psql -q "$base/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
fi
"$ctl" migrate --database "$url" >/dev/null
"$ctl" demo load --database "$url" >/dev/null 2>&1

echo "generating $members members..." >&2
start=$(date +%s)
psql -q -v ON_ERROR_STOP=1 "$url" <<SQL
SET synchronous_commit = off;
-- Last activity spread over three years before the run date: about half inactive for 18 months.
-- Every tenth member holds a tier: qualified in 2024 (lapsed on 2026-02-28) or in 2025 (valid
-- through 2027-02-28). Each member has two credits (an older lot and one at its last activity)
-- and a debit, so that balance = ledger and the lot policy has something to consume.
CREATE TEMP TABLE gen AS
SELECT 'B' || lpad(i::text, 8, '0') AS member_number,
       date '$as_of' - (i * 7919 % 1100)::int AS last_activity,
       1000 + i % 5000 AS recent, 500 + i % 700 AS old, 300 + i % 400 AS spent,
       CASE WHEN i % 10 = 0 THEN (ARRAY['PREMIER', 'PREMIER_EXECUTIVE', '1K'])[1 + i / 10 % 3] END AS tier,
       CASE WHEN i % 20 = 0 THEN 2024 ELSE 2025 END AS tier_year
FROM generate_series(1::bigint, $members) AS i;

INSERT INTO members (member_number, name, tier_code, tier_until, balance, last_activity)
SELECT member_number, '', coalesce(tier, 'MEMBER'),
       CASE WHEN tier IS NOT NULL THEN make_date(tier_year + 2, 2, 28) END,
       recent + old - spent, last_activity
FROM gen;

INSERT INTO ledger_entries (member_number, kind, points, activity_date, source, reference)
SELECT member_number, 'adjustment', old, last_activity - 400, 'admin:bench', 'bench-old' FROM gen
UNION ALL
SELECT member_number, 'adjustment', recent, last_activity, 'admin:bench', 'bench-recent' FROM gen
UNION ALL
SELECT member_number, 'adjustment', -spent, last_activity, 'admin:bench', 'bench-spent' FROM gen;

INSERT INTO tier_grants (member_number, tier_code, source, period_start, valid_until, reason)
SELECT member_number, tier, 'qualified', make_date(tier_year, 1, 1), make_date(tier_year + 2, 2, 28), 'bench'
FROM gen WHERE tier IS NOT NULL;

VACUUM ANALYZE;
SQL
echo "generated in $(( $(date +%s) - start )) s" >&2

run() { echo "+ loyaltyctl $*" >&2; "$ctl" "$@" --database "$url"; }
# The first runs catch up on a backlog (half the tiers lapse, half the members expire);
# the next day's are what a daily run costs.
run tiers evaluate --as-of $as_of
run expire --as-of $as_of
run expire --as-of $as_of
run tiers evaluate --as-of 2026-11-24
run expire --as-of 2026-11-24
"$ctl" program export --database "$url" \
  | python3 -c 'import json, sys; p = json.load(sys.stdin); p["expiry"] = {"policy": "lot", "months": 24}; json.dump(p, sys.stdout)' \
  | "$ctl" program apply - --reason "bench: lot expiry" --database "$url"
run expire --as-of 2026-11-25 --dry-run
run expire --as-of 2026-11-25
run verify | tail -1
