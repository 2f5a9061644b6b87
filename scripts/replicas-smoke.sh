#!/usr/bin/env bash
# Smoke test of a deployment of 3 real server processes on one PostgreSQL database (run inside
# scripts/with-postgres.sh, which provides TEST_POSTGRES_URL). Starts them at the same moment on an
# empty database (they must all come up: migrations once), then checks through plain HTTP that a
# submission made on one replica is listed by the others, and that an AppRemoved delivered to one
# replica is honoured by the others within a second. Uses the dev build's binary (make build).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-target/debug/wix-app}
: "${TEST_POSTGRES_URL:?run inside scripts/with-postgres.sh}"
step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
fail() { printf 'replicas-smoke: %s\n' "$*" >&2; exit 1; }

DB="smoke_$$"
psql_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql
"$psql_bin" -q "$TEST_POSTGRES_URL" -c "CREATE DATABASE $DB" >/dev/null
DATABASE_URL="${TEST_POSTGRES_URL%/*}/$DB"

SITE=smoke-site-0000-4000-8000-000000000001
SECRET=smoke-secret
APP_ID=5a0c2d1e-0000-4000-8000-0000000000ab
LOGS=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$LOGS"
}
trap cleanup EXIT

common_env=(APP_ENV=dev WIX_APP_ID=$APP_ID WIX_APP_SECRET=$SECRET DATABASE_URL="$DATABASE_URL"
            DATABASE_POOL_SIZE=4 REPLICAS=3 WIX_API_BASE=http://127.0.0.1:9 LOG_FORMAT=json
            SUBMIT_RATE_PER_MINUTE=1000 SUBMIT_BURST=1000 FREE_MONTHLY_SUBMISSIONS=1000000)
PORTS=()
for i in 0 1 2; do
  port=$((38100 + RANDOM % 2000 + i * 2000))
  PORTS+=("$port")
  env "${common_env[@]}" LEPTOS_SITE_ADDR=127.0.0.1:$port LEPTOS_SITE_ROOT=target/site \
    "$BIN" >"$LOGS/r$i.log" 2>&1 &
  PIDS+=($!)
done
step "3 replicas starting together on ports ${PORTS[*]}"
for i in 0 1 2; do
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:${PORTS[$i]}/healthz" >/dev/null 2>&1 && break
    kill -0 "${PIDS[$i]}" 2>/dev/null || { cat "$LOGS/r$i.log" >&2; fail "replica $i exited"; }
    sleep 0.1
  done
  curl -fsS "http://127.0.0.1:${PORTS[$i]}/healthz" >/dev/null || fail "replica $i not healthy"
done

sign() { env "${common_env[@]}" "$BIN" sign-instance --instance-id "$SITE" --role "$1"; }
OWNER=$(sign owner)
VISITOR=$(sign visitor)
call() { # port path auth body -> prints "status body"
  curl -sS -o "$LOGS/body" -w '%{http_code}' -X POST "http://127.0.0.1:$1$2" \
    -H "Authorization: $3" -H 'Content-Type: application/json' -d "$4"
}

step "a submission on replica 0 is listed by replicas 1 and 2"
status=$(call "${PORTS[0]}" /api/feedback/submit "$VISITOR" '{"message":"from replica 0"}')
[[ $status == 200 ]] || fail "submit answered $status: $(cat "$LOGS/body")"
id=$(sed -E 's/.*"id":"([^"]+)".*/\1/' "$LOGS/body")
for i in 1 2; do
  status=$(call "${PORTS[$i]}" /api/feedback/list "$OWNER" '{"status":"all"}')
  [[ $status == 200 ]] || fail "list on replica $i answered $status"
  grep -q "$id" "$LOGS/body" || fail "replica $i does not list $id: $(cat "$LOGS/body")"
done

step "an AppRemoved on replica 0 is honoured by replicas 1 and 2 within 1 s"
body=$(env "${common_env[@]}" "$BIN" sign-webhook --event AppRemoved --instance-id "$SITE" \
       --key-file dev/webhook-dev-private.pem)
status=$(curl -sS -o "$LOGS/body" -w '%{http_code}' -X POST "http://127.0.0.1:${PORTS[0]}/webhooks/wix" \
         -H 'Content-Type: text/plain' --data-binary "$body")
[[ $status == 200 ]] || fail "webhook answered $status: $(cat "$LOGS/body")"
deadline=$(( $(date +%s%N) + 1000000000 ))
for i in 1 2; do
  while :; do
    status=$(call "${PORTS[$i]}" /api/feedback/list "$OWNER" '{}')
    [[ $status == 403 ]] && grep -q instance_removed "$LOGS/body" && break
    (( $(date +%s%N) < deadline )) || fail "replica $i still answers $status after 1 s"
    sleep 0.02
  done
done
step "replicas smoke test passed"
