#!/usr/bin/env bash
# The one benchmark command (`make bench` calls it): installs what is missing, builds the release
# server + wasm and the criterion bench, runs every benchmark and prints one table.
# Idempotent: installs and builds are skipped or incremental on later runs.
# Not part of `make test`: benchmarks are measurements, not pass/fail tests.
#
# bench.py runs under scripts/with-postgres.sh (a throwaway PostgreSQL cluster; installs PostgreSQL
# if missing) so that it also measures PostgreSQL with 1 and 3 replicas.
#
# Knobs (environment): BENCH_DURATION=10 (s per load run), BENCH_CONNECTIONS=32,
# BENCH_THREADS=2 (wrk), BENCH_RUNS=7 (cold-start and TTI repetitions), BENCH_SKIP_BUILD=1,
# BENCH_ONLY=postgres (only the SQLite list/submit load and the PostgreSQL rows; skips criterion
# and its Node side, bench/verify-node),
# BENCH_POSTGRES=0 (no PostgreSQL rows: bench.py runs without the cluster),
# BENCH_PG_DURABLE=0 (keep the throwaway cluster's fsync=off instead of restarting it durable).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
export PATH="$HOME/.cargo/bin:$PWD/end2end/node_modules/.bin:$PATH"
SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"

# Toolchain, cargo-leptos, wasm-bindgen, end2end npm packages (wasm-opt, playwright-core), chromium.
scripts/setup.sh --test >&2

# Debian: load generator and compressors.
missing=()
for pair in wrk:wrk brotli:brotli gzip:gzip; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
if ((${#missing[@]})); then
  step "installing ${missing[*]} from Debian"
  $SUDO apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}" >&2
fi

# npm: the Express peer (better-sqlite3 12 builds from source when no prebuilt binary is reachable).
if [[ ! -f bench/peer-express/node_modules/better-sqlite3/build/Release/better_sqlite3.node \
      || bench/peer-express/package-lock.json -nt bench/peer-express/node_modules/.package-lock.json ]]; then
  step "installing the Express peer's npm packages"
  (cd bench/peer-express && npm ci --no-audit --no-fund >&2)
fi

if [[ "${BENCH_SKIP_BUILD:-}" != 1 ]]; then
  # With the dev tools: the time-to-interactive run uses dev mode's in-process fake Wix.
  step "release build of wasm (make release-front) + server (--bin-features ssr,dev-tools)"
  nice make --no-print-directory release-front >&2
  nice cargo leptos build --release --server-only --bin-features ssr,dev-tools >&2
  scripts/precompress.sh >&2
fi

# Criterion, in its own cargo project and target dir so it never touches `cargo test` or target/.
export CARGO_TARGET_DIR_BENCH="$PWD/target-bench"
if [[ -z "${BENCH_ONLY:-}" ]]; then
  step "criterion: instance verification"
  (cd bench/verify && CARGO_TARGET_DIR="$CARGO_TARGET_DIR_BENCH" nice cargo bench --bench verify -- --noplot >&2)
fi
step "bare axum server (the per-request floor)"
(cd bench/bare-axum && CARGO_TARGET_DIR="$CARGO_TARGET_DIR_BENCH" nice cargo build --release >&2)

if [[ "${BENCH_POSTGRES:-1}" == 0 ]]; then
  step "HTTP load, cold start, page weight, time to interactive"
  exec python3 bench/bench.py
fi
step "HTTP load, cold start, page weight, time to interactive; PostgreSQL with 1 and 3 replicas"
exec scripts/with-postgres.sh python3 bench/bench.py
