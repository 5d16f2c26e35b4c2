#!/usr/bin/env bash
# make run: build, start the embedded PostgreSQL unless DATABASE_URL is set, migrate, load the demo, serve.
set -euo pipefail
cd "$(dirname "$0")/../.."
echo "building (release)..." >&2
swift build -c release 2>&1 | grep -E "error|warning: unre|Compiling|Build complete" >&2 || true
bin=$(swift build -c release --show-bin-path)
[ -x "$bin/loyaltyd" ] || { echo "run: build failed; see: swift build -c release" >&2; exit 1; }
mkdir -p .loyalty
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(Deploy/local/pg.sh start .loyalty/pg "${LOYALTY_PG_PORT:-54320}")
  export DATABASE_URL
fi
"$bin/loyaltyctl" migrate
creds=$("$bin/loyaltyctl" demo load)
if [ -n "$creds" ]; then (umask 077; printf '%s\n' "$creds" > .loyalty/demo-credentials); fi
listen=${LOYALTY_LISTEN:-127.0.0.1:7480}
host=${listen%:*}; port=${listen##*:}
key() { awk -v p="$1" '$1 == p { print $2 }' .loyalty/demo-credentials 2>/dev/null; }
cat >&2 <<MSG

loyaltyd is starting on $listen (database: $DATABASE_URL)
Demo credentials are in .loyalty/demo-credentials. Try:
  redis-cli -h $host -p $port --user HOTELCO --pass $(key HOTELCO) ACCRUE t1 M1 $(date -u +%F) amount=450.00 currency=USD
  redis-cli -h $host -p $port --user agent:demo --pass $(key agent:demo) BALANCE M1
  redis-cli -h $host -p $port --user member:M1 --pass 1234 MEMBER M1
  printf 'PING\r\n' | nc -q1 $host $port
Admin: DATABASE_URL='$DATABASE_URL' $bin/loyaltyctl --help
The program in force: ... loyaltyctl program show; change it with program export/apply (docs/program.md)
Stop with Ctrl-C; \`make stop\` stops the embedded PostgreSQL.

MSG
exec "$bin/loyaltyd"
