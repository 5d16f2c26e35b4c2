#!/usr/bin/env bash
# make test: a PostgreSQL of the suite's own, a build, the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.loyalty/test-pg
url=$(scripts/pg.sh start "$dir" "${LOYALTY_TEST_PG_PORT:-54329}")
trap 'scripts/pg.sh stop "$dir"' EXIT
swift build --build-tests
export LOYALTY_TEST_DATABASE_URL="$url"
export LOYALTY_BIN_DIR; LOYALTY_BIN_DIR=$(swift build --show-bin-path)
swift test --skip-build "$@"
