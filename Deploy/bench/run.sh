#!/usr/bin/env bash
# make bench: loyaltyd against PostgreSQL's own tools on the same cluster in the same run.
# Starts a durable PostgreSQL of its own (.loyalty/bench-pg), builds release, generates the data
# set, runs each scenario and its reference back to back, prints the table, checks the targets
# and appends a dated row to docs/benchmarks.md. docs/benchmarks.md says what each row measures.
#
#   Deploy/bench/run.sh [--members N] [--seconds S] [--rounds R] [--only LIST] [--no-append]
#
# Environment (flags win): BENCH_MEMBERS (default 1000000), BENCH_ACCRUALS_PER_MEMBER (4),
# BENCH_SECONDS per side of a round (5), BENCH_ROUNDS (3), BENCH_INGEST_LINES (200000),
# BENCH_PG_PORT (54340), BENCH_PORT (7490), BENCH_APPEND=0 to leave docs/benchmarks.md alone,
# BENCH_ONLY: a comma list of memory,balance,statement,spend,ingestion,jobs (a partial run is
# never appended to docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

members=${BENCH_MEMBERS:-1000000}
per_member=${BENCH_ACCRUALS_PER_MEMBER:-4}
seconds=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-3}
ingest_lines=${BENCH_INGEST_LINES:-200000}
append=${BENCH_APPEND:-1}
only=${BENCH_ONLY:-all}
while [ $# -gt 0 ]; do
  case $1 in
    --members) members=${2:?--members N}; shift 2 ;;
    --members=*) members=${1#*=}; shift ;;
    --seconds) seconds=${2:?--seconds S}; shift 2 ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    --rounds) rounds=${2:?--rounds R}; shift 2 ;;
    --rounds=*) rounds=${1#*=}; shift ;;
    --only) only=${2:?--only LIST}; shift 2 ;;
    --only=*) only=${1#*=}; shift ;;
    --no-append) append=0; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $members =~ ^[0-9]+$ ]] && [ "$members" -ge 10000 ] || { echo "bench: --members must be at least 10000" >&2; exit 2; }
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -ge 1 ] || { echo "bench: --seconds must be a positive integer" >&2; exit 2; }
[[ $rounds =~ ^[0-9]+$ ]] && [ "$rounds" -ge 1 ] || { echo "bench: --rounds must be a positive integer" >&2; exit 2; }
scenarios="memory balance statement spend ingestion jobs"
if [ "$only" != all ]; then
  for s in ${only//,/ }; do
    [[ " $scenarios " == *" $s "* ]] || { echo "bench: --only takes a comma list of: ${scenarios// /,}" >&2; exit 2; }
  done
  append=0
fi
wants() { [ "$only" = all ] || [[ ",$only," == *",$1,"* ]]; }
# Members the REDEEM scenario spreads over, and the agents' clients, as the issue fixes them.
spend_members=10000
clients=8
idle_connections=1000
pg_port=${BENCH_PG_PORT:-54340}
port=${BENCH_PORT:-7490}
work=.loyalty/bench
pg_dir=.loyalty/bench-pg

Deploy/local/deps.sh
for tool in python3 redis-benchmark pgbench; do
  command -v $tool >/dev/null || { echo "bench: $tool is missing" >&2; exit 1; }
done
# 1,000 idle connections need as many descriptors, on both ends.
[ "$(ulimit -n)" -ge 4096 ] || ulimit -n 4096

started=$(date +%s)
psql() { PGOPTIONS="-c client_min_messages=warning" command psql "$@"; }
log() { printf '[bench %4ds] %s\n' $(( $(date +%s) - started )) "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
rm -rf "$work" && mkdir -p "$work"
results=$work/results.tsv
record() { printf '%s\t%s\n' "$1" "$2" >>"$results"; }
record date "$(date -u '+%Y-%m-%d %H:%M UTC')"
record commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo +)"
record machine "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
record members "$members"

log "building (release)"
t=$(now)
# A failed build must stop the run: the binaries of an earlier build would be timed instead.
swift build -c release >"$work/build.log" 2>&1 \
  || { grep -E "error:" "$work/build.log" >&2; echo "bench: release build failed; see $work/build.log" >&2; exit 1; }
bin=$(swift build -c release --show-bin-path)
record build_seconds "$(since "$t")"

log "starting PostgreSQL (durable: fsync and synchronous_commit on) on port $pg_port"
url=$(Deploy/local/pg.sh start "$pg_dir" "$pg_port")
server_pid=""
hog_pid=""
cleanup() {
  [ -z "$hog_pid" ] || kill "$hog_pid" 2>/dev/null || true
  [ -z "$server_pid" ] || { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; }
  Deploy/local/pg.sh stop "$pg_dir" || true
}
trap cleanup EXIT
base=${url%/*}
db=$base/loyalty_bench
ref=$base/pgbench_ref
psql -q "$base/postgres" -v ON_ERROR_STOP=1 \
  -c "DROP DATABASE IF EXISTS loyalty_bench WITH (FORCE)" -c "CREATE DATABASE loyalty_bench" \
  -c "DROP DATABASE IF EXISTS pgbench_ref WITH (FORCE)" -c "CREATE DATABASE pgbench_ref"
ctl() { "$bin/loyaltyctl" "$@" --database "$db" --actor bench; }
ctl migrate --migrations Migrations >/dev/null
(umask 077; ctl demo load >"$work/credentials" 2>/dev/null)
secret() { awk -v p="$1" '$1 == p { print $2 }' "$work/credentials"; }
agent_secret=$(secret agent:demo)
today=$(date -u +%F)

log "generating $members members, about $per_member accruals each (set-based SQL, ledger and members in parallel)"
t=$(now)
generate() {
  psql -q "$db" -v members="$members" -v per_member="$per_member" \
    -v today="$today" -v part="$1" -f Deploy/bench/dataset.sql >/dev/null
}
generate prepare
generate ledger & ledger_pid=$!
generate members
wait "$ledger_pid"
generate finish
record generate_seconds "$(since "$t")"
record entries "$(psql -qtAc "SELECT count(*) FROM ledger_entries" "$db")"

# pgbench's scale 1 is 100,000 accounts: the same number of rows as our members.
scale=$(( (members + 99999) / 100000 ))
log "pgbench -i -s $scale (the reference's own data set, same cluster)"
pgbench -i -q -s "$scale" "$ref" >"$work/pgbench-init.log" 2>&1
record pgbench_scale "$scale"

log "starting loyaltyd (release) on port $port"
DATABASE_URL=$db LOYALTY_LISTEN=127.0.0.1:$port LOYALTY_DAILY_RUNS_HOUR=off \
  "$bin/loyaltyd" 2>"$work/loyaltyd.log" >/dev/null &
server_pid=$!
for _ in $(seq 100); do
  redis-cli -p "$port" PING >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$port" PING >/dev/null || { cat "$work/loyaltyd.log" >&2; exit 1; }
agent() { redis-cli -p "$port" --no-auth-warning --user agent:demo --pass "$agent_secret" "$@"; }
[[ $(agent BALANCE M000000000001) =~ ^[0-9]+$ ]] || { echo "bench: BALANCE does not answer a number" >&2; exit 1; }

if wants memory; then
  log "memory with $idle_connections idle connections"
  python3 Deploy/bench/load.py idle "$port" --connections "$idle_connections" --pid "$server_pid" >"$work/idle.json"
  record rss_start_kib "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["rss_before_kib"])' <"$work/idle.json")"
  record rss_idle_kib "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["hwm_kib"])' <"$work/idle.json")"
fi

# Each scenario runs in rounds, ours then the reference, so that both see the same moment of a
# noisy machine; report.py pairs them round by round and takes medians.
# redis-benchmark runs a request count, pgbench a time: a short run sizes the count to `seconds`.
redis_bench() { # redis-benchmark with the agent, $clients clients; prints the CSV data line
  redis-benchmark -p "$port" --user agent:demo -a "$agent_secret" -c "$clients" --csv "$@" 2>/dev/null | tail -n 1
}
csv_field() { echo "$1" | awk -F'","' -v n="$2" '{ gsub(/"/, "", $n); print $n }'; }
sized_count() { # the request count that takes about `seconds` at the rate of a short run
  local rps; rps=$(csv_field "$(redis_bench -n "$1" "${@:2}")" 2)
  awk -v r="$rps" -v s="$seconds" 'BEGIN { n = int(r * s); print (n < 1000 ? 1000 : n) }'
}
ours_redis() { # name, request count, then the command; records NAME_rps, NAME_p50_ms, NAME_p99_ms
  local name=$1 count=$2 line; shift 2
  line=$(redis_bench -n "$count" "$@")
  record "${name}_rps" "$(csv_field "$line" 2)"
  record "${name}_p50_ms" "$(csv_field "$line" 5)"
  record "${name}_p99_ms" "$(csv_field "$line" 7)"
}
pg_latency() { # p50 and p99 in ms from pgbench's transaction logs (microseconds in column 3)
  cat "$@" | awk '{ print $3 }' | sort -n | awk '{ v[NR] = $1 } END { printf "%.3f %.3f\n", v[int(NR * 0.5) + 1] / 1000, v[int(NR * 0.99) + 1] / 1000 }'
}
pgbench_run() { # name, then pgbench arguments; records NAME_tps, NAME_p50_ms, NAME_p99_ms
  local name=$1 p50 p99; shift
  rm -f "$work"/pgb_"$name".*
  pgbench -n -c "$clients" -T "$seconds" -l --sampling-rate 0.2 --log-prefix "$work/pgb_$name" "$@" >"$work/$name.log" 2>&1 \
    || { cat "$work/$name.log" >&2; exit 1; }
  record "${name}_tps" "$(grep -oE '^tps = [0-9.]+' "$work/$name.log" | head -n 1 | awk '{ print $3 }')"
  read -r p50 p99 < <(pg_latency "$work"/pgb_"$name".*)
  record "${name}_p50_ms" "$p50"
  record "${name}_p99_ms" "$p99"
}
spend() { # load.py mode; records MODE_ops, MODE_p50_ms, MODE_p99_ms, MODE_errors
  python3 Deploy/bench/load.py "$1" "$port" agent:demo "$agent_secret" --clients "$clients" --members "$spend_members" \
    --seconds "$seconds" >"$work/$1.json"
  python3 - "$work/$1.json" "${1//-/_}" >>"$results" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); k = sys.argv[2]
for name, value in (("ops", r["ops_per_second"]), ("p50_ms", r["p50_ms"]), ("p99_ms", r["p99_ms"]),
                    ("errors", sum(r["errors"].values()))):
    print("%s_%s\t%s" % (k, name, value))
PY
}
checkpoint() { psql -qc CHECKPOINT "$db" >/dev/null; }
idle_percent() { # the machine's idle CPU over one second, in percent: how quiet it is before a scenario
  local a b; a=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat); sleep 1
  b=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2]) }'
}
# BALANCE against `pgbench -S -j 2` (the reference at its best on 2 cores) at 8 and 64 clients, on
# the machine as found and with one core kept busy by a spinning process (a loaded machine made on
# purpose); each pair records the load average and idle CPU just before it, the conditions of its ratio.
balance_counts=()
balance_matrix() {
  local condition c key
  for condition in found loaded; do
    [ "$condition" = found ] || { bash -c 'while :; do :; done' & hog_pid=$!; }
    for c in 8 64; do
      key=${condition}_c$c
      record "idle_$key" "$(idle_percent)"
      record "load_$key" "$(cut -d' ' -f1 /proc/loadavg)"
      clients=$c ours_redis "balance_$key" "${balance_counts[$c]}" -r "$members" BALANCE M__rand_int__
      clients=$c pgbench_run "pgbench_select_$key" -S -j 2 "$ref"
    done
    [ -z "$hog_pid" ] || { kill "$hog_pid"; wait "$hog_pid" 2>/dev/null || true; hog_pid=""; }
  done
}

cat >"$work/statement.sql" <<'SQL'
SELECT entry_id, to_char(posted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS posted_at, kind, points, qualifying,
       source, reference
FROM ledger_entries WHERE member_number = 'M000000000000' ORDER BY entry_id DESC LIMIT 1000;
SQL
if wants balance; then
  for c in 8 64; do balance_counts[$c]=$(clients=$c sized_count 20000 -r "$members" BALANCE M__rand_int__); done
fi
! wants statement || statement_n=$(sized_count 200 STATEMENT M000000000000 LIMIT 1000)
for round in $(seq "$rounds"); do
  log "round $round/$rounds: BALANCE vs pgbench -S; STATEMENT vs its SELECT; REDEEM, HOLD+CAPTURE vs TPC-B-like ($only)"
  checkpoint
  ! wants balance || balance_matrix
  if wants statement; then
    ours_redis statement "$statement_n" STATEMENT M000000000000 LIMIT 1000
    pgbench_run statement_ref -f "$work/statement.sql" "$db"
  fi
  if wants spend; then
    checkpoint
    spend redeem
    spend hold-capture
    pgbench_run tpcb "$ref"
  fi
done

if wants ingestion; then
  log "ingestion: $ingest_lines accrual lines in batches through redis-cli --pipe and loyaltyctl import  vs  COPY"
  run_id=$(date +%s)
  python3 Deploy/bench/batches.py "$work/batches" --lines "$ingest_lines" --members "$members" --today "$today" \
    --batch-lines 10000 --keys "$work/credentials" --run "$run_id"
  ingested() { psql -qtAc "SELECT count(*) FROM ledger_entries WHERE batch_id LIKE 'bench-$run_id-$1%'" "$db"; }
  copy_reference() { # COPY of the piped rows into a bare table with the same key; records copy_seconds
    psql -q "$db" -v ON_ERROR_STOP=1 -c "DROP TABLE IF EXISTS bench_copy" -c "
      CREATE TABLE bench_copy (partner_code text, txn_id text, member_number text, activity_date date, amount_minor bigint,
                               currency text, miles bigint, cabin text, days bigint, PRIMARY KEY (partner_code, txn_id))" -c CHECKPOINT
    local t; t=$(now)
    psql -q "$db" -v ON_ERROR_STOP=1 -c "\\copy bench_copy FROM '$work/batches/copy.tsv'"
    record copy_seconds "$(since "$t")"
    record copy_rows "$(psql -qtAc "SELECT count(*) FROM bench_copy" "$db")"
    psql -qc "DROP TABLE bench_copy" "$db"
  }
  copy_reference
  checkpoint
  t=$(now)
  redis-cli -p "$port" --pipe <"$work/batches/pipe.txt" >"$work/pipe.log" 2>&1
  record pipe_seconds "$(since "$t")"
  grep -q "errors: 0," "$work/pipe.log" || { echo "bench: redis-cli --pipe saw errors:" >&2; cat "$work/pipe.log" >&2; exit 1; }
  record pipe_rows "$(ingested pipe-)"
  # Exactly once: the same batches again return their stored summaries and apply nothing.
  redis-cli -p "$port" --pipe <"$work/batches/pipe.txt" >"$work/pipe-again.log" 2>&1
  record pipe_rows_after_resend "$(ingested pipe-)"
  sent=$(grep -c '^ACCRUE' "$work/batches/pipe.txt")
  [ "$(ingested pipe-)" = "$sent" ] || { echo "bench: $(ingested pipe-) accruals from $sent piped lines sent twice" >&2; exit 1; }
  checkpoint
  t=$(now)
  for partner in SKYAIR HOTELCO DRIVECO CARDCO DINECO; do
    ctl import "$work/batches/import-$partner.txt" --partner "$partner" --batch-id "bench-$run_id-import-$partner" \
      --chunk-lines 10000 >>"$work/import.log"
  done
  record import_seconds "$(since "$t")"
  record import_rows "$(ingested import-)"
  copy_reference
fi
record rss_load_kib "$(awk '/VmHWM/ { print $2 }' "/proc/$server_pid/status")"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

verified=ok
if wants jobs; then
  # The runs and reports over the whole data set; each timed against one aggregate pass over the
  # ledger in plain SQL, the least any of them can do.
  t=$(now)
  psql -qtAc "SELECT count(*) FROM (SELECT member_number, sum(points) FROM ledger_entries GROUP BY 1) s" "$db" >/dev/null
  record ledger_pass_seconds "$(since "$t")"
  help=$("$bin/loyaltyctl" --help 2>&1 || true)
  job() { # loyaltyctl words, timed if this build has the verb
    if ! grep -q "loyaltyctl $1" <<<"$help"; then record "job:$1" "absent"; return; fi
    log "loyaltyctl $1"
    local t words; t=$(now); read -ra words <<<"$1"
    if ctl "${words[@]}" >"$work/job.log" 2>&1; then record "job:$1" "$(since "$t")"; else record "job:$1" "failed"; tail -n 5 "$work/job.log" >&2; fi
  }
  job "tiers evaluate"
  job "expire"
  for report in $(grep -oE 'loyaltyctl report [a-z]+' <<<"$help" | awk '{ print $3 }' | sort -u); do
    job "report $report"
  done
  log "loyaltyctl verify (every invariant, after all of the above)"
  t=$(now)
  ctl verify >"$work/verify.log" 2>&1 || verified=FAILED
  record verify "$verified"
  record "job:verify" "$(since "$t")"
fi
record total_seconds "$(( $(date +%s) - started ))"
python3 Deploy/bench/report.py "$results" $([ "$append" = 1 ] && echo --append docs/benchmarks.md) | tee "$work/table.md"
log "done; figures in $root/$work (results.tsv, table.md, server log)"
[ "$verified" = ok ] || { echo "bench: verify found broken invariants after the run; see $work/verify.log" >&2; exit 1; }
