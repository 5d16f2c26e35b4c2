#!/usr/bin/env bash
# Installs the system packages the build, the server and the tests need, only where missing.
set -euo pipefail
missing=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || missing+=(postgresql)
[ -n "$pg_bin" ] && [ -f "$(dirname "$pg_bin")/lib/pgcrypto.so" ] || missing+=(postgresql-contrib)
pkg-config --exists libpq 2>/dev/null || missing+=(libpq-dev pkg-config)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v nc >/dev/null 2>&1 || missing+=(netcat-openbsd)
command -v pg_isready >/dev/null 2>&1 || missing+=(postgresql-client)
# SystemCallTests build a small fault injector for loyaltyd (LD_PRELOAD).
command -v cc >/dev/null 2>&1 || missing+=(gcc)
"$(dirname "$0")/apt-install.sh" deps ${missing[@]+"${missing[@]}"}
