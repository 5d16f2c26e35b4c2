#!/usr/bin/env bash
# Step 1 of `make test-deploy`: the deploy files are valid as written.
#   Deploy/test/files.sh WORK   (WORK holds tls.pem, a throwaway certificate)
# - the systemd units pass `systemd-analyze verify` (against a root with stand-ins for the
#   binaries, which a real install puts in /usr/local/bin), and their exposure score is printed;
# - HAProxy accepts haproxy.cfg (`haproxy -c`) with the test's addresses;
# - every variable the programs read is documented in loyaltyd.env.example.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$1
say() { printf '%s\n' "test-deploy: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

units=(loyaltyd.service loyalty-daily.service loyalty-daily.timer)
if command -v systemd-analyze >/dev/null 2>&1; then
  root="$work/systemd-root"
  mkdir -p "$root/usr/local/bin" "$root/etc/systemd/system" "$root/usr/lib/systemd"
  cp -a /lib/systemd/system "$root/usr/lib/systemd/"
  for program in loyaltyd loyaltyctl; do printf '#!/bin/sh\n' >"$root/usr/local/bin/$program"; chmod 755 "$root/usr/local/bin/$program"; done
  for unit in "${units[@]}"; do cp "Deploy/systemd/$unit" "$root/etc/systemd/system/"; done
  systemd-analyze verify --root="$root" "${units[@]/#/$root/etc/systemd/system/}" >"$work/systemd-verify.log" 2>&1 \
    || fail "systemd-analyze verify: $(cat "$work/systemd-verify.log")"
  for unit in loyaltyd.service loyalty-daily.service; do
    exposure=$(systemd-analyze security --offline=yes --root="$root" "$root/etc/systemd/system/$unit" 2>/dev/null | tail -n 1)
    say "systemd-analyze verify: $unit ok; security: ${exposure#→ }"
  done
else
  say "systemd-analyze is not installed: the units were not verified"
fi

LOYALTY_TLS_CERT="$work/tls.pem" LOYALTY_STATS_SOCKET="$work/haproxy-check.sock" LOYALTY_HAPROXY_USER=$(id -un) \
  LOYALTY_HAPROXY_GROUP=$(id -gn) LOYALTY_HAPROXY_MAXCONN=2000 haproxy -c -q -f Deploy/haproxy/haproxy.cfg || fail "haproxy -c refuses Deploy/haproxy/haproxy.cfg"
say "haproxy -c: Deploy/haproxy/haproxy.cfg is valid"

read_variables=$(grep -rhoE '"(DATABASE|LOYALTY)_[A-Z_]+"' Sources --exclude-dir=LoyaltyTesting | tr -d '"' | sort -u)
for variable in $read_variables; do
  grep -qE "^#?$variable=" Deploy/loyaltyd.env.example || fail "$variable is read by the programs but not in Deploy/loyaltyd.env.example"
done
say "loyaltyd.env.example documents all $(wc -w <<<"$read_variables") variables the programs read"
