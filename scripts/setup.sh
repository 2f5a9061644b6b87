#!/usr/bin/env bash
# Installs what `make dev` (and, with --test, `make test`) needs. Idempotent: every step checks
# first and skips what is already there, so running it again costs a few seconds.
#
# GitHub is not reachable from our machines and cargo-leptos downloads whatever it does not find
# on PATH, so everything it needs is installed from crates.io / npm / Debian up front.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=false
[[ "${1:-}" == "--test" ]] && want_test=true

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PWD/end2end/node_modules/.bin:$PATH"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if $want_test; then
  for component in rustfmt clippy; do
    if ! rustup component list --installed | grep -q "^$component"; then
      step "adding rustup component $component"
      rustup component add "$component"
    fi
  done
fi

# The production wasm's toolchain (Makefile, NIGHTLY): rust-src lets it rebuild std to abort on
# a panic without formatting (-Zbuild-std). std is compiled from source, so no wasm target needed.
NIGHTLY=$(awk -F' *:= *' '$1 == "NIGHTLY" { print $2 }' Makefile)
if ! rustup component list --toolchain "$NIGHTLY" --installed 2>/dev/null | grep -q '^rust-src'; then
  step "installing the $NIGHTLY toolchain with rust-src (for the release wasm)"
  rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src
fi

CARGO_LEPTOS_VERSION=0.3.10   # 0.3.11 needs rustc 1.96
if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  step "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 16 minutes, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

# The CLI must match the wasm-bindgen crate in Cargo.lock exactly (it is pinned in Cargo.toml).
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lock file pins a crate version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# npm packages: Playwright's test runner and binaryen (wasm-opt for release builds).
if [[ ! -x end2end/node_modules/.bin/wasm-opt || ! -x end2end/node_modules/.bin/playwright \
      || end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]]; then
  step "installing npm packages in end2end/"
  (cd end2end && npm ci --no-audit --no-fund)
fi

# Debian's brotli: `make build`/`make release` precompress the frontend (scripts/precompress.sh).
if ! command -v brotli >/dev/null; then
  step "installing Debian's brotli"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q brotli
fi

if $want_test && [[ ! -x /usr/bin/chromium ]]; then
  step "installing Debian's chromium for the browser tests"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium
fi

step "tools ready: $(cargo leptos --version), $(wasm-bindgen --version), wasm-opt $(wasm-opt --version | awk '{print $3}')"
