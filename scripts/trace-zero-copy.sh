#!/usr/bin/env bash
# Shows that a binary fetch is zero copy: starts Sluice on loopback with a temp data dir, produces
# about 64 MiB, then fetches it with format=binary while strace watches the server's sendfile, read,
# write and pread64 calls, and prints how many of the response's bytes sendfile(2) carried.
#
#   bash scripts/trace-zero-copy.sh            # RESULT line last; exit 0 when sendfile carried >= 99%
#
# Bounded: every wait has a deadline; only processes this script started are stopped, by PID.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUN="$ROOT/node_modules/.bin/bun"
TOPIC="zero-copy"
REQUESTS=64                  # produce requests of RECORDS_PER_REQUEST records each
RECORDS_PER_REQUEST=1024
VALUE_BYTES=1000             # 64 * 1024 * ~1 KiB = about 64 MiB of batches
FETCH_MAX_BYTES=$((64 * 1024 * 1024))

if ! command -v strace >/dev/null 2>&1; then
  echo "strace is missing; installing it with apt-get" >&2
  apt-get install -y strace >/dev/null
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sluice-zero-copy-XXXXXX")"
SERVER_PID=""
STRACE_PID=""
cleanup() {
  if [[ -n "$STRACE_PID" ]] && kill -0 "$STRACE_PID" 2>/dev/null; then kill "$STRACE_PID" 2>/dev/null || true; fi
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Port 0: the kernel picks a free one; the server logs the URL it got.
"$BUN" "$ROOT/main.ts" --data-dir "$WORK/data" --host 127.0.0.1 --port 0 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
URL=""
for _ in $(seq 100); do
  URL="$(grep -o '"url":"http://127.0.0.1:[0-9]*"' "$WORK/server.log" | head -1 | cut -d'"' -f4 || true)"
  [[ -n "$URL" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$URL" ]] || { echo "Sluice did not start within 10 s" >&2; cat "$WORK/server.log" >&2; exit 1; }
API="$URL/api/v1"
echo "sluice pid $SERVER_PID at $URL, data in $WORK/data"

curl -sS --max-time 10 -o /dev/null -X POST -H 'content-type: application/json' \
  -d "{\"name\":\"$TOPIC\",\"config\":{\"max.message.bytes\":4194304}}" "$API/topics"

# One ~1 MiB batch per request, as a batching producer would send them.
"$BUN" -e '
  const [url, requests, perRequest, valueBytes] = process.argv.slice(1);
  const body = JSON.stringify({
    valueFormat: "text",
    records: Array.from({ length: Number(perRequest) }, (_, i) => ({ value: String(i % 10).repeat(Number(valueBytes)) })),
  });
  for (let i = 0; i < Number(requests); i++) {
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
    if (response.status !== 200) throw new Error(`produce answered ${response.status}: ${await response.text()}`);
  }
' "$API/topics/$TOPIC/records" "$REQUESTS" "$RECORDS_PER_REQUEST" "$VALUE_BYTES"
echo "produced $((REQUESTS * RECORDS_PER_REQUEST)) records"

# Trace only the fetch: attach to every thread of the running server.
strace -f -qq -p "$SERVER_PID" -e trace=sendfile,read,write,pread64 -o "$WORK/strace.log" &
STRACE_PID=$!
sleep 1 # strace attaches asynchronously; give it a moment before the fetch starts

DOWNLOADED="$(curl -sS --max-time 60 -o /dev/null -w '%{size_download}' \
  "$API/topics/$TOPIC/partitions/0/records?format=binary&offset=0&max_bytes=$FETCH_MAX_BYTES")"
sleep 0.5
kill "$STRACE_PID" 2>/dev/null || true
wait "$STRACE_PID" 2>/dev/null || true
STRACE_PID=""

# Sum the bytes each call moved (completed calls end "= <bytes>"; failed ones "= -1 EAGAIN ...").
calls_of() {
  awk -v call="$1" '$0 ~ ("(^|[ >])" call "(\\(| resumed>)")' "$WORK/strace.log"
}
sum_bytes() {
  calls_of "$1" | awk 'match($0, /= [0-9]+$/) { s += substr($0, RSTART + 2) } END { print s + 0 }'
}
count_calls() {
  calls_of "$1" | awk 'match($0, /= [0-9]+$/) { n++ } END { print n + 0 }'
}
SENDFILE_BYTES="$(sum_bytes sendfile)"
WRITE_BYTES="$(sum_bytes write)"
READ_BYTES="$(sum_bytes read)"
PREAD_BYTES="$(sum_bytes pread64)"

echo "response bytes:   $DOWNLOADED"
echo "sendfile:         $SENDFILE_BYTES bytes in $(count_calls sendfile) calls"
echo "write:            $WRITE_BYTES bytes in $(count_calls write) calls"
echo "read:             $READ_BYTES bytes in $(count_calls read) calls"
echo "pread64:          $PREAD_BYTES bytes in $(count_calls pread64) calls (the log walking batch headers to find where the slice ends)"

PERCENT="$(awk -v s="$SENDFILE_BYTES" -v t="$DOWNLOADED" 'BEGIN { printf "%.1f", (t > 0 ? 100 * s / t : 0) }')"
if awk -v p="$PERCENT" 'BEGIN { exit !(p >= 99) }'; then VERDICT="zero-copy"; else VERDICT="copied"; fi
echo "sendfile carried $SENDFILE_BYTES of $DOWNLOADED response bytes ($PERCENT%): $VERDICT"
echo "RESULT response_bytes=$DOWNLOADED sendfile_bytes=$SENDFILE_BYTES write_bytes=$WRITE_BYTES read_bytes=$READ_BYTES pread64_bytes=$PREAD_BYTES sendfile_percent=$PERCENT"
[[ "$VERDICT" == "zero-copy" ]]
