# The two commands: `make dev` runs the app, `make test` checks everything.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/end2end/node_modules/.bin:$(PATH)

.PHONY: dev test setup build release release-front lint unit e2e bundle-budget e2e-release durability bench fuzz

# Development builds carry the dev tools (fake Wix, /dev, sign-webhook, the dev key pair);
# `make release` builds without them (see README, "Dev and prod").
DEV_FEATURES := --bin-features ssr,dev-tools

# Every build splits the wasm per route (`--split`, see src/pages/routes.rs). The production
# frontend is built by a pinned nightly that rebuilds std to abort on a panic without formatting
# its message (`-Cpanic=immediate-abort`, no panic locations): about 25 KiB gzip less for every
# page, and a panic in the browser was already fatal (panic = "abort"). The server stays on stable.
# scripts/setup.sh installs the toolchain (with rust-src, which -Zbuild-std needs).
NIGHTLY := nightly-2026-05-20
# Its file names carry a hash of their content (`wix-app.<hash>.wasm`; the hashes of the entry
# points in target/site/hash.txt), so browsers may cache them for good: src/server/static_assets.rs.
# cargo-leptos names three of them (the core JS and wasm, the split manifest) by what they held
# before it rewrote them; scripts/rehash-site.mjs renames them so a name never stands for two contents.
RELEASE_WASM_ENV := RUSTUP_TOOLCHAIN=$(NIGHTLY) CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
	RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" \
	LEPTOS_HASH_FILES=true LEPTOS_HASH_FILE_NAME=$(CURDIR)/target/site/hash.txt
# The most a framed page (dashboard, widget, settings) may download in wasm + JS, gzip, KiB.
BUNDLE_BUDGET_KIB := 200

## Install what is missing, then run the app with live reload on http://127.0.0.1:3000 (open /dev).
dev:
	scripts/setup.sh
	rm -f target/site/pkg/*.br target/site/pkg/*.gz  # live rebuilds have no compressed copies
	cargo leptos watch --split $(DEV_FEATURES)

## Install what is missing, then formatting, lints, Rust tests, interop and browser tests.
test:
	scripts/setup.sh --test
	$(MAKE) lint unit e2e e2e-release

setup:
	scripts/setup.sh

build:
	cargo leptos build --split $(DEV_FEATURES)
	scripts/precompress.sh

## The production build: no dev tools. Checks the binary holds neither the dev private key nor
## the fake Wix's control routes.
release: setup release-front
	cargo leptos build --release --server-only
	scripts/precompress.sh
	scripts/check-bundle.sh --budget $(BUNDLE_BUDGET_KIB)
	scripts/check-release.sh target/release/wix-app

lint:
	cargo fmt --check
	cargo clippy --features ssr,dev-tools --all-targets -- -D warnings
	cargo clippy --features ssr -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features hydrate -- -D warnings

## Rust tests on SQLite, then the integration tests again on a throwaway PostgreSQL (installed from
## Debian when missing; scripts/with-postgres.sh), including the replica suite (3 apps, one database).
unit:
	cargo test --features ssr,dev-tools -- --skip replicas::
	TEST_DATABASE=postgres scripts/with-postgres.sh cargo test --features ssr,dev-tools --test it

e2e: build
	scripts/check-bundle.sh
	scripts/with-postgres.sh scripts/replicas-smoke.sh
	node --test scripts/
	cd end2end && node --test interop/
	cd end2end && npx playwright test

## The production frontend, built as `make release` builds it, against the size budget. It
## replaces the debug frontend in target/site (the next `make build` puts it back).
bundle-budget: release-front
	scripts/check-bundle.sh --budget $(BUNDLE_BUDGET_KIB)

## The browser tests again on what ships: the release server (with the dev tools, for /dev) and
## the production frontend (split, nightly-built). Last in `make test`, after the size budget.
e2e-release: bundle-budget
	cargo leptos build --release --server-only $(DEV_FEATURES)
	scripts/precompress.sh
	cd end2end && E2E_BIN=target/release/wix-app npx playwright test

## The production frontend alone (wasm split per route, built by $(NIGHTLY); see above).
release-front:
	$(RELEASE_WASM_ENV) cargo leptos build --release --frontend-only --split
	node scripts/rehash-site.mjs

## kill -9 mid-burst, restart, check every acknowledged submission is stored.
durability: build
	scripts/durability.sh

## Benchmarks (not part of `test`): installs and builds what is missing, runs everything, prints one table.
bench:
	bench/run.sh

## Run each cargo-fuzz target for FUZZ_SECONDS (nightly toolchain; not part of `make test`).
## `make fuzz FUZZ_TARGETS=webhook FUZZ_SECONDS=600` runs one target longer.
FUZZ_SECONDS ?= 120
FUZZ_TARGETS ?= instance authorization_header webhook token_info cursor
fuzz:
	rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	cd fuzz && for t in $(FUZZ_TARGETS); do \
		mkdir -p corpus/$$t && \
		cargo +nightly fuzz run --sanitizer none $$t corpus/$$t seeds/$$t -- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done
