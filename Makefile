# Narrate — the two commands: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/narrate-target
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export LEPTOS_SITE_ROOT ?= target/site

CARGO_LEPTOS_VERSION := 0.3.11
WASM_BINDGEN_VERSION := 0.2.130

.PHONY: run build site test-bins serve test check fmt lint unit e2e contract screens bench tools node-tools py-tools clean

## Build in release mode and serve on http://127.0.0.1:3000 with the demo tenant.
run: build
	NARRATE_DEMO=$${NARRATE_DEMO:-1} $(CARGO_TARGET_DIR)/release/narrate serve

## The release build alone (server binary + wasm site under target/site).
build: tools
	cargo leptos build --release
	@ls -l $(LEPTOS_SITE_ROOT)/pkg

## Formatting, clippy (native and wasm), unit + integration tests, end-to-end tests in Chromium,
## and the API contract (schemathesis against a live server, one API key per role). Ordered to fail
## fast: the seconds-long checks first, the browser last.
##
## The end-to-end tests and the contract run the server binary the integration tests already built
## (`debug/narrate`: the same code, built once with the same features as the tests, so its
## dependencies are compiled once instead of a second time at opt-level 3) against the release wasm
## (`make site`). `make build` / `make run` remain the release server.
test: tools fmt lint unit e2e contract

TEST_BIN := $(CARGO_TARGET_DIR)/debug/narrate

fmt:
	cargo fmt --all -- --check

# One clippy invocation for app and server: their dependencies are checked once, with one feature set.
lint:
	cargo clippy -p app -p server --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

# One test invocation for both crates (app builds with `ssr` because server asks for it): one
# feature unification, so no dependency is compiled twice, and it builds `debug/narrate` as well.
unit:
	cargo test -p app -p server

# The debug server binary exactly as `make unit` builds it (a no-op after it).
test-bins: tools
	cargo test -p app -p server --no-run

# The release site alone: wasm (wasm-release profile, wasm-opt), JS glue, CSS and assets.
site: tools
	cargo leptos build --release --frontend-only
	@ls -l $(LEPTOS_SITE_ROOT)/pkg

e2e: test-bins site node-tools
	cd end2end && NARRATE_BIN=$(TEST_BIN) npx playwright test

## Screenshots of every page at 1440×900 and 390×844 into end2end/screens/out/, to look at.
screens: build node-tools
	cd end2end && npx playwright test --config screens.config.ts

contract: test-bins site py-tools
	NARRATE_BIN=$(TEST_BIN) ./scripts/api-contract.sh

bench: tools
	./scripts/bench.sh

## Install the toolchain pieces that are missing (idempotent, no downloads outside registries).
tools:
	@rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@rustup component list --installed | grep -q rustfmt || rustup component add rustfmt
	@rustup component list --installed | grep -q clippy || rustup component add clippy
	@cargo leptos --version 2>/dev/null | grep -q "$(CARGO_LEPTOS_VERSION)" || \
		cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked --ignore-rust-version --features no_downloads
	@wasm-bindgen --version 2>/dev/null | grep -q "$(WASM_BINDGEN_VERSION)" || \
		cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)
	@test -x node_modules/.bin/wasm-opt || npm ci --no-audit --no-fund
	@test -e /usr/libexec/mold/ld || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q mold) \
		|| echo "mold not installed: linking with the system linker (slower, same result)"

node-tools:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	@command -v pdftoppm >/dev/null || (apt-get update && apt-get install -y poppler-utils)
	@test -d end2end/node_modules/smtp-server && test -d end2end/node_modules/exceljs && test -d end2end/node_modules/@axe-core/playwright || (cd end2end && npm ci --no-audit --no-fund)

## Python judges (schemathesis) in a virtualenv outside the clone, pinned by end2end/contract.
PY_VENV ?= $(HOME)/.cache/narrate-py
py-tools:
	@test -x $(PY_VENV)/bin/python || python3 -m venv $(PY_VENV)
	@$(PY_VENV)/bin/pip install -q --disable-pip-version-check -r end2end/contract/requirements.txt

clean:
	rm -rf target/site data
