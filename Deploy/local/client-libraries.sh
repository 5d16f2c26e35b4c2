#!/usr/bin/env bash
# Installs the Redis client libraries the tests drive (Tests/ClientLibraries), only where missing:
# hiredis, redis-rb and node-redis from Debian, redis-py from PyPI into .loyalty/client-libraries/venv.
# Never vendored; a missing library is installed here, never skipped by the tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
readonly redis_py_version=8.2.0
missing=()
[ -f /usr/include/hiredis/hiredis.h ] || missing+=(libhiredis-dev)
command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
[ -f /usr/share/nodejs/redis/package.json ] || missing+=(node-redis)
command -v ruby >/dev/null 2>&1 && ruby -e 'require "redis"' 2>/dev/null || missing+=(ruby-redis)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
Deploy/local/apt-install.sh client-libraries ${missing[@]+"${missing[@]}"}
venv=.loyalty/client-libraries/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/python" -c "import redis, sys; sys.exit(redis.__version__ != '$redis_py_version')" 2>/dev/null; then
  echo "client-libraries: pip install redis==$redis_py_version" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check "redis==$redis_py_version"
fi
