#!/usr/bin/env bash
# A PostgreSQL cluster of the project's own.
#   Deploy/local/pg.sh start DIR PORT   create (once) and start; prints the conninfo URL on stdout
#   Deploy/local/pg.sh stop DIR         stop it (fast shutdown)
# As root the cluster runs as an unprivileged user, since PostgreSQL refuses to run as root.
set -euo pipefail
cmd=${1:?usage: pg.sh start DIR PORT | stop DIR}
dir=${2:?data directory}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$pg_bin/pg_ctl" ] || { echo "pg.sh: PostgreSQL server binaries not found (run Deploy/local/deps.sh)" >&2; exit 1; }
run_as=""
if [ "$(id -u)" -eq 0 ]; then
  id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  run_as="runuser -u postgres --"
fi
mkdir -p "$(dirname "$dir")"
data="$dir"
if [ -n "$run_as" ]; then
  # runuser keeps root's working directory, from which a relative path may be reachable when
  # the absolute one initdb is given is not (a checkout under a 0700 directory): resolve the
  # path first and run everything from /.
  dir=$(realpath -m "$dir")
  cd /
  # The unprivileged user may not be able to reach the checkout: keep the data outside then,
  # and leave a link where it is expected. An empty directory left by a failed start counts as new.
  if [ ! -L "$dir" ] && { [ ! -e "$dir" ] || [ -z "$(ls -A "$dir")" ]; }; then
    mkdir -p "$dir" && chown postgres: "$dir"
    if ! $run_as test -w "$dir" -a -x "$dir"; then
      rmdir "$dir"
      outside=$(mktemp -d /var/tmp/loyalty-pg.XXXXXX)
      chown postgres: "$outside"
      ln -s "$outside" "$dir"
    fi
  fi
  data=$(readlink -f "$dir")
fi
ctl() { $run_as "$pg_bin/pg_ctl" -D "$data" "$@"; }
case "$cmd" in
  start)
    port=${3:?port}
    if [ ! -f "$data/PG_VERSION" ]; then
      mkdir -p "$data"; [ -z "$run_as" ] || chown postgres: "$data"
      $run_as "$pg_bin/initdb" -D "$data" -U loyalty --auth=trust -E UTF8 --locale=C.UTF-8 >"$data.initdb.log" 2>&1 \
        || { cat "$data.initdb.log" >&2; exit 1; }
      cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 200
shared_buffers = 256MB
log_min_messages = warning
CONF
    fi
    sed -i "s/^port = .*//" "$data/postgresql.conf"
    echo "port = $port" >>"$data/postgresql.conf"
    # A throwaway cluster (the test suite's) trades crash safety of the machine for speed:
    # the tests create a database per test, which is mostly fsync and WAL otherwise.
    options=""
    [ "${LOYALTY_PG_EPHEMERAL:-0}" = 1 ] && options="-c fsync=off -c full_page_writes=off"
    if ! ctl status >/dev/null 2>&1; then
      ctl -l "$data/server.log" -w -t 60 ${options:+-o "$options"} start >/dev/null || { tail -n 20 "$data/server.log" >&2; exit 1; }
    fi
    for db in loyalty; do
      "$pg_bin/psql" -h 127.0.0.1 -p "$port" -U loyalty -d postgres -qtAc "select 1 from pg_database where datname='$db'" | grep -q 1 \
        || "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U loyalty "$db"
    done
    echo "postgresql://loyalty@127.0.0.1:$port/loyalty"
    ;;
  stop)
    if [ -f "$data/PG_VERSION" ] && ctl status >/dev/null 2>&1; then ctl -m fast -w stop >/dev/null; fi
    ;;
  *) echo "pg.sh: unknown command $cmd" >&2; exit 2 ;;
esac
