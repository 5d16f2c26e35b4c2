#!/usr/bin/env bash
# One client of `make test-deploy`: a persistent connection (through HAProxy) that sends COUNT
# requests one at a time and carries on when the server behind it dies.
#   Deploy/test/client.sh accrue  HOST PORT PRINCIPAL SECRET PREFIX COUNT OUT
#   Deploy/test/client.sh balance HOST PORT PRINCIPAL SECRET MEMBER COUNT OUT
# accrue: ACCRUE PREFIX-1 .. PREFIX-COUNT for members M1..M3, today, varying amounts; OUT gets
#         "txn-id points" for every acknowledged accrual.
# balance: BALANCE MEMBER, COUNT times; OUT gets one line per answer.
# When the connection breaks or a reply does not come, the outcome is unknown: reconnect, sign in
# again and resend the SAME request. With the same txn-id the server applies an accrual at most
# once and answers a resend with the first reply, so nothing is lost and nothing is doubled.
# At the end prints "reconnects=N" (each one resent a request whose outcome was unknown); exits 1
# on an unexpected reply or when a bound below is exhausted.
set -uo pipefail
trap '' PIPE # a write to a dead socket must fail, not kill the client

mode=$1 host=$2 port=$3 principal=$4 secret=$5 subject=$6 count=$7 out=$8
readonly reply_timeout_seconds=10
# Per request: connections tried (50 ms apart) and UNAVAILABLE/LIMIT answers waited out.
readonly connect_attempts_max=400
readonly busy_retries_max=100
today=$(date -u +%F)
fd=""
reconnects=0

# Reads one reply into reply_kind (+ - : $ *) and reply=(values); flat arrays only, which is all
# ACCRUE and BALANCE answer. Returns 1 when the connection ends or the reply is late.
read_reply() {
  local line n k
  IFS= read -r -t "$reply_timeout_seconds" -u "$fd" line || return 1
  line=${line%$'\r'}
  reply_kind=${line:0:1}
  reply=()
  case "$reply_kind" in
    '+'|'-'|':') reply=("${line:1}") ;;
    '$') read_bulk "${line:1}" || return 1; reply=("$bulk") ;;
    '*')
      n=${line:1}
      for ((k = 0; k < n; k++)); do
        IFS= read -r -t "$reply_timeout_seconds" -u "$fd" line || return 1
        line=${line%$'\r'}
        case "${line:0:1}" in
          '$') read_bulk "${line:1}" || return 1; reply+=("$bulk") ;;
          *) reply+=("${line:1}") ;;
        esac
      done ;;
    *) echo "client: unexpected reply line: $line" >&2; exit 1 ;;
  esac
}

# The text of a bulk reply whose length line said $1 (values here hold no line breaks).
read_bulk() {
  bulk=""
  [ "$1" -ge 0 ] || return 0
  IFS= read -r -t "$reply_timeout_seconds" -u "$fd" bulk || return 1
  bulk=${bulk%$'\r'}
}

# Opens a connection and signs in; gives up after connect_attempts_max tries.
connect() {
  local attempt
  for ((attempt = 1; attempt <= connect_attempts_max; attempt++)); do
    if [ -n "$fd" ]; then exec {fd}>&-; fd=""; fi
    if exec {fd}<>"/dev/tcp/$host/$port"; then
      if printf 'AUTH %s %s\r\n' "$principal" "$secret" >&"$fd" && read_reply && [ "$reply_kind" = "+" ]; then
        return 0
      fi
    fi 2>/dev/null
    sleep 0.05
  done
  echo "client: no connection to $host:$port after $connect_attempts_max attempts" >&2
  exit 1
}

# Sends $1 until a reply comes, reconnecting and resending as needed, then waits out UNAVAILABLE
# and LIMIT answers (nothing was applied; safe to resend). Leaves the reply in reply_kind/reply.
request() {
  local busy=0
  while true; do
    if printf '%s\r\n' "$1" >&"$fd" 2>/dev/null && read_reply; then
      case "$reply_kind:${reply[0]}" in
        -:UNAVAILABLE*|-:LIMIT*)
          busy=$((busy + 1))
          [ "$busy" -le "$busy_retries_max" ] || { echo "client: still ${reply[0]} after $busy tries" >&2; exit 1; }
          sleep 0.1
          continue ;;
      esac
      return 0
    fi
    reconnects=$((reconnects + 1))
    connect
  done
}

exec {log}>>"$out"
connect
for ((i = 1; i <= count; i++)); do
  case "$mode" in
    accrue)
      txn="$subject-$i"
      request "ACCRUE $txn M$((i % 3 + 1)) $today amount=$((10 + i % 90)).$((i % 100 / 10))0 currency=USD"
      [ "$reply_kind" = "*" ] && [ "${reply[0]}" = "$txn" ] || { echo "client: ACCRUE $txn answered $reply_kind${reply[*]}" >&2; exit 1; }
      echo "$txn ${reply[1]}" >&"$log" ;;
    balance)
      request "BALANCE $subject"
      [ "$reply_kind" = ":" ] || { echo "client: BALANCE $subject answered $reply_kind${reply[*]}" >&2; exit 1; }
      echo "${reply[0]}" >&"$log" ;;
    *) echo "client: unknown mode $mode" >&2; exit 2 ;;
  esac
done
printf 'QUIT\r\n' >&"$fd" 2>/dev/null || true
echo "reconnects=$reconnects"
