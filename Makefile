# The two commands: `make dev` runs the app, `make test` checks everything.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/end2end/node_modules/.bin:$(PATH)

.PHONY: dev test setup build release lint unit e2e durability bench fuzz

# Development builds carry the dev tools (fake Wix, /dev, sign-webhook, the dev key pair);
# `make release` builds without them (see README, "Dev and prod").
DEV_FEATURES := --bin-features ssr,dev-tools

## Install what is missing, then run the app with live reload on http://127.0.0.1:3000 (open /dev).
dev:
	scripts/setup.sh
	rm -f target/site/pkg/*.br target/site/pkg/*.gz  # live rebuilds have no compressed copies
	cargo leptos watch $(DEV_FEATURES)

## Install what is missing, then formatting, lints, Rust tests, interop and browser tests.
test:
	scripts/setup.sh --test
	$(MAKE) lint unit e2e

setup:
	scripts/setup.sh

build:
	cargo leptos build $(DEV_FEATURES)
	scripts/precompress.sh

## The production build: no dev tools. Checks the binary holds neither the dev private key nor
## the fake Wix's control routes.
release:
	cargo leptos build --release
	scripts/precompress.sh
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
	cd end2end && node --test interop/
	cd end2end && npx playwright test

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
