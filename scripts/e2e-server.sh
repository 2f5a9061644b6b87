#!/usr/bin/env bash
# Runs the server built by `cargo leptos build` for the browser tests: dev mode, fresh database.
# E2E_BIN picks another build (`make e2e-release` runs the tests on the production frontend).
set -euo pipefail
cd "$(dirname "$0")/.."
port="${E2E_PORT:-3100}"
dir="target/e2e"
rm -rf "$dir" && mkdir -p "$dir"
export APP_ENV=dev
export DATABASE_URL="sqlite://$dir/app.db"
export LEPTOS_SITE_ADDR="127.0.0.1:$port"
export LEPTOS_SITE_ROOT="target/site"
export LEPTOS_OUTPUT_NAME="wix-app"
export LEPTOS_RELOAD_PORT="$((port + 1))"
export RUST_LOG="${RUST_LOG:-warn}"
# Every browser test is one address playing many visitors of the same demo sites.
export SUBMIT_RATE_PER_ADDRESS_PER_MINUTE=10000 SUBMIT_BURST_PER_ADDRESS=10000
unset WIX_APP_ID WIX_APP_SECRET
exec "${E2E_BIN:-target/debug/wix-app}"
