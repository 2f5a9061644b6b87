#!/usr/bin/env bash
# Durability check: every submission the server acknowledged survives `kill -9`.
#
# Starts the server (release build if present, else debug) on a fresh database, fires a few
# thousand concurrent submissions, kills the server with SIGKILL mid-burst, restarts it, and
# checks that every submission that got a 2xx is in the database. Prints the counts; exits 1 if
# anything acknowledged is missing.  Usage: scripts/durability.sh [count] [concurrency]
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-4000}"
concurrency="${2:-64}"
bin="${WIX_APP_BIN:-}"
if [[ -z "$bin" ]]; then
  if [[ -x target/release/wix-app ]]; then bin=target/release/wix-app; else bin=target/debug/wix-app; fi
fi
[[ -x "$bin" ]] || { echo "durability: build the server first (make build or make release)" >&2; exit 1; }

dir=$(mktemp -d)
trap 'kill -9 ${pid:-0} 2>/dev/null || true; rm -rf "$dir"' EXIT
port=3400
export APP_ENV=dev DATABASE_URL="sqlite://$dir/app.db" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
  LEPTOS_SITE_ROOT=target/site LEPTOS_OUTPUT_NAME=wix-app RUST_LOG=error \
  SUBMIT_RATE_PER_MINUTE=1000000 SUBMIT_BURST=1000000 MAX_CONCURRENT_REQUESTS=4096 \
  SUBMIT_RATE_PER_ADDRESS_PER_MINUTE=1000000 SUBMIT_BURST_PER_ADDRESS=1000000 \
  FREE_MONTHLY_SUBMISSIONS=100000000
unset WIX_APP_ID WIX_APP_SECRET
base="http://127.0.0.1:$port"

start() {
  "$bin" >"$dir/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do
    curl -fs "$base/healthz" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "durability: server did not start" >&2; cat "$dir/server.log" >&2; exit 1
}

site=durability-site
visitor=$("$bin" sign-instance --instance-id "$site" --role visitor)
owner=$("$bin" sign-instance --instance-id "$site" --role owner)

start
: >"$dir/acked.txt"
node scripts/durability-load.mjs "$base" "$visitor" "$count" "$concurrency" "$dir/acked.txt" >"$dir/load.json" &
load=$!
# Let the burst get going, then pull the plug.
for _ in $(seq 1 400); do
  [[ $(wc -l <"$dir/acked.txt" 2>/dev/null || echo 0) -ge $((count / 4)) ]] && break
  sleep 0.01
done
kill -9 "$pid"
echo "durability: killed the server (SIGKILL) after $(wc -l <"$dir/acked.txt") acknowledged submissions"
wait "$load" || true

start
stored="$dir/stored.txt"; : >"$stored"
cursor=""
while :; do
  body=$(node -e 'const c=process.argv[1]; console.log(JSON.stringify(c?{status:"all",limit:100,cursor:c}:{status:"all",limit:100}))' "$cursor")
  page=$(curl -fs "$base/api/feedback/list" -H "authorization: $owner" -H 'content-type: application/json' -d "$body")
  node -e 'const p=JSON.parse(process.argv[1]); for (const i of p.items) console.log(i.id)' "$page" >>"$stored"
  cursor=$(node -e 'const p=JSON.parse(process.argv[1]); console.log(p.next_cursor ?? "")' "$page")
  [[ -z "$cursor" ]] && break
done

acked=$(sort -u "$dir/acked.txt" | wc -l)
kept=$(sort -u "$stored" | wc -l)
missing=$(comm -23 <(sort -u "$dir/acked.txt") <(sort -u "$stored") | wc -l)
echo "durability: load $(cat "$dir/load.json")"
echo "durability: acknowledged=$acked stored_after_restart=$kept acknowledged_but_missing=$missing"
[[ "$missing" -eq 0 ]] || { echo "durability: FAILED: acknowledged submissions were lost" >&2; exit 1; }
echo "durability: OK: every acknowledged submission survived kill -9"
