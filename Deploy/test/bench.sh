#!/usr/bin/env bash
# Step 6 of `make test-deploy`: throughput through one loyaltyd and through HAProxy with two.
#   Deploy/test/bench.sh WORK INSTANCE_PORT HAPROXY_PORT HOTELCO_KEY AGENT_SECRET
# All processes share this machine's cores with the clients, so these are the limits of this box,
# not of the design; docs/scaling.md says what they mean.
#   PING      redis-benchmark, 32 connections: the protocol and the proxy alone
#   BALANCE   redis-benchmark, 32 connections over 1,000 members: reads from the replica
#   ACCRUE    16 connections, each `redis-cli --pipe` of its own accruals: one transaction each
#   BATCH     one connection: BATCH BEGIN, N accruals, BATCH COMMIT: one transaction for all
# Fails if any request was answered with an error.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$1 instance_port=$2 haproxy_port=$3 hotel_key=$4 agent_secret=$5
readonly members=1000 read_requests=${LOYALTY_BENCH_READS:-20000} accrue_connections=16
readonly accruals_per_connection=${LOYALTY_BENCH_ACCRUALS_PER_CONNECTION:-500} batch_lines=${LOYALTY_BENCH_BATCH_LINES:-10000}
# redis-cli --pipe gives up when no reply comes for this long (a BATCH COMMIT is one long wait).
readonly pipe_timeout_seconds=300
today=$(date -u +%F)
say() { printf '%s\n' "test-deploy: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Members are named as redis-benchmark spells __rand_int__ (12 digits), so that
# `BALANCE M__rand_int__` with -r 1000 reads members that exist.
pipe() { # PORT FILE: sends FILE as one pipelined stream; fails on any error reply
  local out
  out=$(redis-cli -h 127.0.0.1 -p "$1" --pipe --pipe-timeout "$pipe_timeout_seconds" <"$2" 2>&1) || true # judged by its summary line
  grep -q 'errors: 0,' <<<"$out" || fail "redis-cli --pipe $2: $out"
}
awk -v secret="$agent_secret" -v members="$members" 'BEGIN {
  printf "AUTH agent:demo %s\r\n", secret
  for (m = 0; m < members; m++) printf "ENROLL M%012d\r\n", m
}' >"$work/bench-enroll"
pipe "$instance_port" "$work/bench-enroll"

# redis-benchmark's requests per second for a command, through PORT.
benchmark() { # PORT PRINCIPAL SECRET COMMAND...
  local port=$1 user=$2 pass=$3 out; shift 3
  out=$(redis-benchmark -h 127.0.0.1 -p "$port" --user "$user" -a "$pass" -n "$read_requests" -c 32 -r "$members" -e --csv "$@" 2>&1 \
        | tr '\r' '\n')
  ! grep -q 'Error from server' <<<"$out" || fail "redis-benchmark $*: $(grep 'Error from server' <<<"$out" | head -n 1)"
  awk -F'"' '$2 ~ /^[A-Z]/ { printf "%d", $4 }' <<<"$out"
}

# COUNT accruals with txn-ids TAG-i, to members from FIRST on (round robin).
accruals() { # TAG FIRST COUNT
  awk -v tag="$1" -v first="$2" -v count="$3" -v members="$members" -v today="$today" 'BEGIN {
    for (i = 0; i < count; i++)
      printf "ACCRUE %s-%d M%012d %s amount=12.50 currency=USD\r\n", tag, i, (first + i) % members, today
  }'
}

# Accruals per second: ACCRUE_CONNECTIONS pipes at once, each its own accruals to its own members.
accrue_rate() { # PORT TAG
  local port=$1 tag=$2 c start pids=()
  for ((c = 0; c < accrue_connections; c++)); do
    { printf 'AUTH HOTELCO %s\r\n' "$hotel_key"; accruals "$tag-$c" "$((c * accruals_per_connection))" "$accruals_per_connection"; } \
      >"$work/bench-$tag-$c"
  done
  start=$(now_ms)
  for ((c = 0; c < accrue_connections; c++)); do pipe "$port" "$work/bench-$tag-$c" & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid" || fail "an accrual pipe failed"; done
  echo $(( accrue_connections * accruals_per_connection * 1000 / ($(now_ms) - start + 1) ))
}

batch_rate() { # PORT TAG
  local port=$1 tag=$2 start
  { printf 'AUTH HOTELCO %s\r\nBATCH BEGIN %s\r\n' "$hotel_key" "$tag"; accruals "$tag" 0 "$batch_lines"; printf 'BATCH COMMIT\r\n'; } \
    >"$work/bench-$tag"
  start=$(now_ms)
  pipe "$port" "$work/bench-$tag"
  echo $(( batch_lines * 1000 / ($(now_ms) - start + 1) ))
}

# Each figure is assigned before it is printed, so that a failed measurement stops the script.
row() { printf 'test-deploy:   %-44s %7s | %s\n' "$@" >&2; }
say "measured, per second (one loyaltyd directly | HAProxy in front of two):"
direct=$(benchmark "$instance_port" agent:demo "$agent_secret" PING)
proxied=$(benchmark "$haproxy_port" agent:demo "$agent_secret" PING)
row "PING (32 connections)" "$direct" "$proxied"
direct=$(benchmark "$instance_port" agent:demo "$agent_secret" BALANCE M__rand_int__)
proxied=$(benchmark "$haproxy_port" agent:demo "$agent_secret" BALANCE M__rand_int__)
row "BALANCE (replica reads, 32 connections)" "$direct" "$proxied"
direct=$(accrue_rate "$instance_port" bd)
proxied=$(accrue_rate "$haproxy_port" bh)
row "ACCRUE ($accrue_connections pipelined connections)" "$direct" "$proxied"
direct=$(batch_rate "$instance_port" batch-d)
proxied=$(batch_rate "$haproxy_port" batch-h)
row "ACCRUE in a BATCH of $batch_lines (1 connection)" "$direct" "$proxied"
say "on $(nproc) cores shared by both PostgreSQL servers, both loyaltyd, HAProxy and the clients"
