# Rowtrail — developer and CI entry points. Plain GNU make.
#
#   make setup   install the system packages the build and tests need (.ci/install-deps)
#   make build   build the workspace
#   make test    build everything, then run all tests against a throwaway PostgreSQL cluster
#   make run     build and start the demo (rowtrail demo)
#   make bench   run the benchmarks (tests/bench/run.sh), when there are any
#   make clean   remove build output

CARGO ?= cargo

.PHONY: all setup build test run bench clean

all: build

setup:
	.ci/install-deps

build:
	$(CARGO) build --workspace

# The tests start their own PostgreSQL (wal_level=logical) via tests/pg-cluster.sh, which
# exports ROWTRAIL_TEST_PG_URL and removes the cluster afterwards; the machine's server is not used.
test: setup
	$(CARGO) build --workspace --all-targets
	tests/pg-cluster.sh run $(CARGO) test --workspace

run: setup
	$(CARGO) run -p rowtrail-cli --release -- demo

bench:
	@if [ -x tests/bench/run.sh ]; then tests/bench/run.sh; \
	elif [ -f tests/bench/run.sh ]; then bash tests/bench/run.sh; \
	else echo "no benchmarks yet (tests/bench/run.sh does not exist)"; fi

clean:
	$(CARGO) clean
