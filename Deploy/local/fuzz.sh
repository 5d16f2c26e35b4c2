#!/usr/bin/env bash
# make fuzz: libFuzzer over the protocol codec for SECONDS (default 300); crashes are kept in
# .build/fuzz/artifacts and fail the run. The seed corpus is Tests/LineProtocolFuzz/corpus.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-300}
out=.build/fuzz
mkdir -p "$out/corpus" "$out/artifacts"
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name LineProtocolFuzz \
  Sources/LineProtocol/*.swift Tests/LineProtocolFuzz/FuzzTarget.swift -o "$out/line-protocol"
cp -n Tests/LineProtocolFuzz/corpus/* "$out/corpus/" 2>/dev/null || true
log="$out/last-run.log"
if ! "$out/line-protocol" -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=1024 \
     -artifact_prefix="$out/artifacts/" "$out/corpus" >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "fuzz: FAILED; the crashing input is in $out/artifacts/" >&2
  exit 1
fi
runs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' || echo 0)
echo "fuzz: $runs inputs in ${seconds} s, no crash, no limit broken"
