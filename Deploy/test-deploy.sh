#!/usr/bin/env bash
# make test-deploy: the production layout of docs/deploy.md on loopback, and a server dying in it.
#   1. the deploy files: systemd-analyze verify, haproxy -c, every variable in loyaltyd.env.example
#   2. a PostgreSQL primary and a streaming replica (pg_basebackup -R), migrated, demo loaded
#   3. two loyaltyd (release build) writing to the primary and reading from the replica, HAProxy in
#      front of them (plain and TLS frontends, PING health checks)
#   4. traffic through HAProxy: accrual clients on persistent connections and a BALANCE reader;
#      one loyaltyd is killed -9 mid-run, HAProxy marks it down, it is restarted and marked up
#   5. checks: every client finished; every acknowledged txn-id is in the primary exactly once with
#      the points acknowledged; loyaltyctl verify passes; the replica caught up; INFO shows its lag;
#      with the replica stopped, reads fall back to the primary
#   6. measures accruals/s and BALANCE/s through one instance and through HAProxy with two
# Everything comes from Debian packages, listens on 127.0.0.1 only, lives under one temporary
# directory, and is stopped and removed at exit. Exits non-zero on any failure.
# Environment: LOYALTY_BIN_DIR (prebuilt loyaltyd and loyaltyctl; default: a release build),
#   LOYALTY_DEPLOY_PORT_BASE (17400; uses base..base+21, below Linux's ephemeral ports, where an
#   outgoing connection can hold a port that nothing listens on), LOYALTY_DEPLOY_CLIENTS (4),
#   LOYALTY_DEPLOY_ACCRUALS (per client, 1000), LOYALTY_DEPLOY_BENCH (1; 0 skips step 6),
#   LOYALTY_DEPLOY_KEEP (1 keeps the directory and its logs).
set -euo pipefail
cd "$(dirname "$0")/.."

base=${LOYALTY_DEPLOY_PORT_BASE:-17400}
primary_port=$base replica_port=$((base + 1))
instance_ports=($((base + 11)) $((base + 12)))
plain_port=$((base + 20)) tls_port=$((base + 21))
clients=${LOYALTY_DEPLOY_CLIENTS:-4}
accruals_per_client=${LOYALTY_DEPLOY_ACCRUALS:-1000}
# Bounds on every wait below, in tenths of a second.
readonly ready_wait_max=300 traffic_wait_max=1800 health_wait_max=100 catch_up_wait_max=300
started=$(date +%s)

say() { printf '%s\n' "test-deploy: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
# Polls "$@" every 0.1 s up to $1 tenths; true as soon as it succeeds.
wait_for() {
  local tenths=$1 i; shift
  for ((i = 0; i < tenths; i++)); do "$@" && return 0; sleep 0.1; done
  return 1
}

# --- 0. what is needed --------------------------------------------------------------------------
Deploy/local/deps.sh
missing=()
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v redis-benchmark >/dev/null 2>&1 || missing+=(redis-tools)
command -v ss >/dev/null 2>&1 || missing+=(iproute2)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Any socket on the port blocks a bind, a listener or not (ss lists both).
for port in "$primary_port" "$replica_port" "${instance_ports[@]}" "$plain_port" "$tls_port"; do
  [ -z "$(ss -Htan "sport = :$port")" ] || fail "port $port is in use; set LOYALTY_DEPLOY_PORT_BASE"
done
if [ -n "${LOYALTY_BIN_DIR:-}" ]; then
  bin=$LOYALTY_BIN_DIR
else
  say "building (release)"
  swift build -c release 2>&1 | grep -E "error|warning: unre" >&2 || true
  bin=$(swift build -c release --show-bin-path)
fi
[ -x "$bin/loyaltyd" ] && [ -x "$bin/loyaltyctl" ] || fail "no loyaltyd/loyaltyctl in $bin"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

# --- cleanup: everything started below, in reverse ---------------------------------------------
work=$(mktemp -d /var/tmp/loyalty-deploy.XXXXXX)
chmod 755 "$work" # the postgres user keeps its clusters in here
pids=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  Deploy/local/pg.sh stop "$work/replica" 2>/dev/null || true
  Deploy/local/pg.sh stop "$work/primary" 2>/dev/null || true
  if [ "$status" -ne 0 ]; then
    for log in "$work"/{loyaltyd,haproxy,client,reader}*.log; do
      [ -f "$log" ] && { say "--- tail of $log"; tail -n 15 "$log" >&2; }
    done
  fi
  if [ "${LOYALTY_DEPLOY_KEEP:-0}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
  [ "$status" -eq 0 ] && say "passed in $(($(date +%s) - started)) s" || say "failed (exit $status)"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. the deploy files ----------------------------------------------------------------------
# A throwaway certificate for HAProxy's TLS frontend.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
cat "$work/tls.crt" "$work/tls.key" >"$work/tls.pem"
Deploy/test/files.sh "$work"

# --- 2. primary and streaming replica ------------------------------------------------------------
run_as=()
[ "$(id -u)" -ne 0 ] || run_as=(runuser -u postgres --)
primary=$(Deploy/local/pg.sh start "$work/primary" "$primary_port")
mkdir -m 700 "$work/replica"
[ ${#run_as[@]} -eq 0 ] || chown postgres: "$work/replica"
"${run_as[@]}" "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U loyalty -D "$work/replica" \
  --write-recovery-conf --wal-method=stream --checkpoint=fast --create-slot --slot=test_deploy_replica
replica=$(Deploy/local/pg.sh start "$work/replica" "$replica_port")
[ "$(psql "$replica" -qtAc 'select pg_is_in_recovery()')" = t ] || fail "the replica is not in recovery"
say "primary $primary, streaming replica $replica"
"$bin/loyaltyctl" migrate --database "$primary" >/dev/null
"$bin/loyaltyctl" demo load --database "$primary" >"$work/credentials" 2>/dev/null
secret() { awk -v p="$1" '$1 == p { print $2 }' "$work/credentials"; }
hotel_key=$(secret HOTELCO) agent_secret=$(secret agent:demo)
[ -n "$hotel_key" ] && [ -n "$agent_secret" ] || fail "demo load printed no credentials"

# --- 3. two instances and HAProxy ------------------------------------------------------------------
instance_pids=()
start_instance() { # index
  local port=${instance_ports[$1]}
  LOYALTY_LISTEN="127.0.0.1:$port" DATABASE_URL="$primary" DATABASE_READ_URL="$replica" LOYALTY_DAILY_RUNS_HOUR=off \
    "$bin/loyaltyd" >>"$work/loyaltyd$(($1 + 1)).log" 2>&1 &
  instance_pids[$1]=$!
  pids+=($!)
  wait_for "$ready_wait_max" pong "$port" || fail "loyaltyd $(($1 + 1)) did not answer PING on $port"
}
pong() { [ "$(redis-cli -h 127.0.0.1 -p "$1" PING 2>/dev/null)" = PONG ]; }
start_instance 0
start_instance 1
export LOYALTY_TLS_BIND="127.0.0.1:$tls_port" LOYALTY_TLS_CERT="$work/tls.pem" LOYALTY_PLAIN_BIND="127.0.0.1:$plain_port" \
  LOYALTYD_1="127.0.0.1:${instance_ports[0]}" LOYALTYD_2="127.0.0.1:${instance_ports[1]}" \
  LOYALTY_STATS_SOCKET="$work/haproxy.sock" LOYALTY_HAPROXY_USER=$(id -un) LOYALTY_HAPROXY_GROUP=$(id -gn) \
  LOYALTY_HAPROXY_MAXCONN=2000
haproxy -db -f Deploy/haproxy/haproxy.cfg >"$work/haproxy.log" 2>&1 &
pids+=($!)
# HAProxy's view of a server: UP, DOWN, or a transition such as "UP 1/2".
server_state() { nc -U "$work/haproxy.sock" <<<"show stat" 2>/dev/null | awk -F, -v s="$1" '$1 == "loyaltyd" && $2 == s { print $18 }'; }
is_state() { [ "$(server_state "$1")" = "$2" ]; }
wait_for "$ready_wait_max" is_state loyaltyd1 UP && wait_for "$ready_wait_max" is_state loyaltyd2 UP \
  || fail "HAProxy did not mark both instances up (loyaltyd1 $(server_state loyaltyd1), loyaltyd2 $(server_state loyaltyd2))"
pong "$plain_port" || fail "no PONG through HAProxy's plain frontend"
[ "$(redis-cli --tls --cacert "$work/tls.crt" -h 127.0.0.1 -p "$tls_port" --user agent:demo --pass "$agent_secret" \
      --no-auth-warning BALANCE M1 2>&1)" = 0 ] || fail "BALANCE over TLS through HAProxy did not answer 0"
say "2 loyaltyd behind HAProxy on 127.0.0.1:$plain_port (plain) and :$tls_port (TLS); both UP by PING checks"

# --- 4. traffic, and one instance killed mid-run ---------------------------------------------------
run="dep$(date +%s)"
total=$((clients * accruals_per_client))
client_pids=()
for ((c = 1; c <= clients; c++)); do
  Deploy/test/client.sh accrue 127.0.0.1 "$plain_port" HOTELCO "$hotel_key" "$run-$c" "$accruals_per_client" \
    "$work/acked-$c" >"$work/client-$c.out" 2>"$work/client-$c.log" &
  client_pids+=($!)
done
Deploy/test/client.sh balance 127.0.0.1 "$plain_port" agent:demo "$agent_secret" M1 $((total / 4)) \
  "$work/balances" >"$work/reader.out" 2>"$work/reader.log" &
client_pids+=($!)
pids+=("${client_pids[@]}")
acked() { cat "$work"/acked-* 2>/dev/null | wc -l; }
acked_reached() { [ "$(acked)" -ge "$1" ]; }
traffic_started=$(date +%s%N)
wait_for "$traffic_wait_max" acked_reached $((total / 3)) || fail "only $(acked) of $total accruals acknowledged before the kill"
{ kill -9 "${instance_pids[0]}"; wait "${instance_pids[0]}"; } 2>/dev/null || true
killed_at=$(date +%s%N) acked_at_kill=$(acked)
say "killed loyaltyd 1 (kill -9) with $acked_at_kill of $total accruals acknowledged"
wait_for "$health_wait_max" is_state loyaltyd1 DOWN || fail "HAProxy did not mark the killed instance down"
say "HAProxy marked it DOWN after $(( ($(date +%s%N) - killed_at) / 1000000 )) ms; clients carry on through loyaltyd 2"
wait_for "$traffic_wait_max" acked_reached $((acked_at_kill + total / 10)) || fail "clients stalled after the kill at $(acked)"
start_instance 0
wait_for "$health_wait_max" is_state loyaltyd1 UP || fail "HAProxy did not mark the restarted instance up"
say "restarted loyaltyd 1; HAProxy marked it UP again"
deadline=$((SECONDS + traffic_wait_max / 10))
for pid in "${client_pids[@]}"; do
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "a client did not finish within $((traffic_wait_max / 10)) s"
  wait "$pid" || fail "a client failed: $(cat "$work"/client-*.log "$work/reader.log")"
done
traffic_ms=$(( ($(date +%s%N) - traffic_started) / 1000000 ))
reconnects=$(cat "$work"/client-*.out "$work/reader.out" | awk -F= '$1 == "reconnects" { n += $2 } END { print n + 0 }')
say "$total accruals and $(wc -l <"$work/balances") BALANCE reads in $traffic_ms ms ($((total * 1000 / traffic_ms)) accruals/s" \
    "from $clients one-at-a-time clients); $reconnects reconnects, each resending its request with the same id"
[ "$reconnects" -gt 0 ] || fail "no client was on the killed instance: the kill tested nothing"

# --- 5. nothing lost, nothing doubled ------------------------------------------------------------
[ "$(acked)" -eq "$total" ] || fail "$(acked) of $total accruals acknowledged"
cat "$work"/acked-* >"$work/acked"
ledger_query="SELECT reference || ' ' || points FROM ledger_entries
              WHERE source = 'HOTELCO' AND kind = 'accrual' AND reference LIKE '$run-%' ORDER BY 1"
psql "$primary" -qtAc "$ledger_query" >"$work/primary-ledger"
LC_ALL=C sort -o "$work/acked" "$work/acked"; LC_ALL=C sort -o "$work/primary-ledger" "$work/primary-ledger"
diff -q "$work/acked" "$work/primary-ledger" >/dev/null \
  || fail "the primary's ledger differs from what clients were told: $(diff "$work/acked" "$work/primary-ledger" | head -n 5)"
[ "$(psql "$primary" -qtAc "SELECT count(DISTINCT reference) FROM ledger_entries
                            WHERE kind = 'accrual' AND partner_code = 'HOTELCO' AND reference LIKE '$run-%'")" -eq "$total" ] \
  || fail "accrual txn-ids differ from the $total acknowledged"
say "every acknowledged txn-id is in the primary's ledger exactly once, with the points acknowledged"
"$bin/loyaltyctl" verify --database "$primary" >"$work/verify.log" || fail "loyaltyctl verify: $(grep FAIL "$work/verify.log")"
say "$(tail -n 1 "$work/verify.log")"
replica_matches() { psql "$replica" -qtAc "$ledger_query" 2>/dev/null | LC_ALL=C sort | cmp -s - "$work/primary-ledger"; }
wait_for "$catch_up_wait_max" replica_matches || fail "the replica did not catch up within $((catch_up_wait_max / 10)) s"
say "the replica caught up: the same $total ledger entries"
info=$(redis-cli -h 127.0.0.1 -p "$plain_port" --user agent:demo --pass "$agent_secret" --no-auth-warning INFO replication)
grep -q '^replica:streaming' <<<"$info" && grep -q '^replica_lag_seconds:' <<<"$info" \
  || fail "INFO replication shows no streaming replica: $info"
say "INFO through HAProxy: $(grep -E '^replica' <<<"$info" | tr -d '\r' | paste -sd' ')"
balance() { redis-cli -h 127.0.0.1 -p "$plain_port" --user agent:demo --pass "$agent_secret" --no-auth-warning BALANCE M1; }
primary_available() {
  psql "$primary" -qtAc "SELECT balance - (SELECT coalesce(sum(points), 0) FROM holds h WHERE h.member_number = m.member_number
                           AND status = 'active' AND expires_at > now()) FROM members m WHERE member_number = 'M1'"
}
[ "$(balance)" = "$(primary_available)" ] || fail "BALANCE M1 through HAProxy differs from the primary's $(primary_available)"

# --- 6. measurements ----------------------------------------------------------------------------
if [ "${LOYALTY_DEPLOY_BENCH:-1}" = 1 ]; then
  Deploy/test/bench.sh "$work" "${instance_ports[1]}" "$plain_port" "$hotel_key" "$agent_secret"
fi

# Last, as it stops the replica: reads that tolerate staleness fall back to the primary.
Deploy/local/pg.sh stop "$work/replica"
[ "$(balance)" = "$(primary_available)" ] || fail "BALANCE did not fall back to the primary with the replica down"
redis-cli -h 127.0.0.1 -p "$plain_port" --user agent:demo --pass "$agent_secret" --no-auth-warning INFO replication \
  | grep -q '^replica:unreachable' || fail "INFO does not show the stopped replica as unreachable"
say "replica stopped: BALANCE answered by the primary; INFO shows replica:unreachable"
