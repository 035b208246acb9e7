# Rowtrail — developer and CI entry points. Plain GNU make.
#
#   make setup   install the system packages the build and tests need (.ci/install-deps)
#   make build   build the workspace
#   make test    build everything, then run all tests against a throwaway PostgreSQL cluster
#   make run     open the built-in demo: the desktop app (release) where there is a display,
#                else `rowtrail serve --demo`, which prints the address to open (scripts/run.sh)
#   make bench   run the benchmarks (tests/bench/run.sh; BENCH_N=… for a quick run; see BENCHMARKS.md)
#   make clean   remove build output
#
# The desktop app (src-tauri: Tauri 2 over WebKitGTK) is left out of `build` and of `test`'s
# cargo runs, which stay quick; these build it, bundle it and smoke-test it (`test` ends
# with test-desktop):
#   make desktop       build the UI it embeds (ui/dist), then the app: target/debug/rowtrail-desktop
#   make desktop-run   build it and open the window (the last workspace; the demo the first time)
#   make desktop-deb   the .deb bundle, with the Tauri CLI (release build: minutes on two cores):
#                      rowtrail-desktop, and the rowtrail CLI with its man pages and completions
#                      (src-tauri/scripts/package-files.sh, run by Tauri before bundling)
#   make test-desktop  its tests and the smoke test: the app under Xvfb via tauri-driver
#
#   make test-e2e      the browser face end to end: `rowtrail serve --demo` driven by Debian's
#                      Chromium through playwright-core (tests/e2e; needs chromium and sqlite3)

CARGO ?= cargo

.PHONY: all setup build test test-core-deps test-ui test-e2e run bench clean desktop-ui desktop desktop-run desktop-deb test-desktop test-e2e

all: build

setup:
	.ci/install-deps

build:
	$(CARGO) build --workspace --exclude rowtrail-desktop

# The tests start their own PostgreSQL (wal_level=logical) via tests/pg-cluster.sh, which
# exports ROWTRAIL_TEST_PG_URL and removes the cluster afterwards; the machine's server is not used.
test: setup
	$(CARGO) build --workspace --exclude rowtrail-desktop --all-targets
	tests/pg-cluster.sh run $(CARGO) test --workspace --exclude rowtrail-desktop
	$(MAKE) test-core-deps
	$(MAKE) test-ui
	$(MAKE) test-e2e
	$(MAKE) test-desktop

# The engine stays free of any UI or HTTP stack: no tauri, wry or axum in its dependency tree.
test-core-deps:
	@if $(CARGO) tree -p rowtrail-core -e normal,build --prefix none | grep -E '^(tauri|wry|axum)[ -]'; then \
		echo "rowtrail-core must not depend on tauri, wry or axum" >&2; exit 1; \
	else echo "rowtrail-core: no tauri, wry or axum in its dependencies"; fi

# The UI's unit tests (Vitest) and type check.
test-ui:
	cd ui && npm ci --no-audit --no-fund && npm run build && npm test

# A fresh demo in its own workspace, target/demo-workspace; see scripts/run.sh.
run: setup
	CARGO="$(CARGO)" scripts/run.sh

# Not part of `test`: release builds, a throwaway cluster, 15-30 minutes; prints a markdown table.
bench:
	bash tests/bench/run.sh

clean:
	$(CARGO) clean

desktop-ui:
	cd ui && npm ci --no-audit --no-fund && npm run build

desktop: setup desktop-ui
	$(CARGO) build -p rowtrail-desktop

desktop-run: desktop
	target/debug/rowtrail-desktop

desktop-deb: setup desktop-ui
	cd src-tauri && npm ci --no-audit --no-fund && npx tauri build --bundles deb

# `cargo test` builds the app for the smoke test itself; building it first with `cargo build`
# would compile Tauri twice (the test's dev-dependencies change shared crates' features).
test-desktop: setup desktop-ui
	src-tauri/scripts/install-tauri-driver.sh
	$(CARGO) test -p rowtrail-desktop -- --include-ignored

test-e2e:
	$(CARGO) build -p rowtrail-cli
	cd ui && npm ci --no-audit --no-fund && npm run build
	cd tests/e2e && npm ci --no-audit --no-fund && node --test run.mjs
