#!/usr/bin/env bash
# make test: a PostgreSQL of the suite's own, a build, the whole suite (arguments go to swift test).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=.loyalty/test-pg
url=$(LOYALTY_PG_EPHEMERAL=1 Deploy/local/pg.sh start "$dir" "${LOYALTY_TEST_PG_PORT:-54329}")
trap 'Deploy/local/pg.sh stop "$dir"' EXIT
# Databases left by an earlier run that was killed.
psql "$url" -qtAc "select datname from pg_database where datname like 'loyalty\_test\_%'" | while read -r db; do
  psql "$url" -qc "drop database if exists \"$db\" with (force)" >/dev/null
done
# Private clusters (Sources/LoyaltyTesting/PrivateCluster.swift, named by the test process's pid)
# of test processes that were killed before they could stop them.
for stale in "${TMPDIR:-/tmp}"/loyalty-private-pg-*; do
  case $stale in *.initdb.log) continue ;; esac
  [ -e "$stale" ] || continue
  pid=${stale##*/loyalty-private-pg-}; pid=${pid%%-*}
  ! kill -0 "$pid" 2>/dev/null || continue
  Deploy/local/pg.sh stop "$stale" >/dev/null 2>&1 || true
  rm -rf "$(readlink -f "$stale")" "$stale" "$stale.initdb.log"
done
Deploy/local/client-libraries.sh
# LOYALTY_TEST_SANITIZE=thread (make tsan): everything, loyaltyd included, built with that
# sanitizer in a build folder of its own.
sanitize=()
[ -z "${LOYALTY_TEST_SANITIZE:-}" ] || sanitize=(--sanitize="$LOYALTY_TEST_SANITIZE" --build-path ".build/$LOYALTY_TEST_SANITIZE")
swift build --build-tests "${sanitize[@]}"
export LOYALTY_TEST_DATABASE_URL="$url"
export LOYALTY_BIN_DIR; LOYALTY_BIN_DIR=$(swift build --show-bin-path "${sanitize[@]}")
swift test --skip-build "${sanitize[@]}" "$@"
# A short fuzz of the codec on every run; `make fuzz` runs it longer.
[ -n "${LOYALTY_TEST_SANITIZE:-}" ] || Deploy/local/fuzz.sh "${LOYALTY_TEST_FUZZ_SECONDS:-20}"
