# The two commands a fresh machine needs: `make run` and `make test`. Everything else is optional.
SHELL := /bin/bash
.DEFAULT_GOAL := help

help:
	@echo "make run     install what is missing, build, start PostgreSQL under .loyalty/ (unless DATABASE_URL), migrate, load the demo, serve"
	@echo "make test    the whole suite against a PostgreSQL the tests start themselves"
	@echo "make tsan    the server's tests with loyaltyd and the tests built under ThreadSanitizer (stops at the first race)"
	@echo "make build   debug build"
	@echo "make fuzz    libFuzzer over the protocol codec (FUZZ_SECONDS, default 300)"
	@echo "make test-deploy  primary + replica, two loyaltyd behind HAProxy on loopback; kills one mid-run, checks nothing was lost"
	@echo "make bench   release build against pgbench/COPY on its own durable PostgreSQL; prints ratios (BENCH_MEMBERS, default 1000000)"
	@echo "make stop    stop the embedded PostgreSQL of make run"
	@echo "make clean   remove build output (keeps .loyalty/)"

deps:
	@Deploy/local/deps.sh

build: deps
	swift build

run: deps
	@Deploy/local/run.sh

test: deps
	@Deploy/local/test.sh

# halt_on_error: a race stops loyaltyd, so the test that provoked it fails.
tsan: deps
	@LOYALTY_TEST_SANITIZE=thread TSAN_OPTIONS="halt_on_error=1 $${TSAN_OPTIONS:-}" Deploy/local/test.sh --filter LoyaltyServerTests

test-deploy: deps
	@Deploy/test-deploy.sh

FUZZ_SECONDS ?= 300
fuzz: deps
	@Deploy/local/fuzz.sh $(FUZZ_SECONDS)

bench: deps
	@Deploy/bench/run.sh

stop:
	@Deploy/local/pg.sh stop .loyalty/pg

clean:
	rm -rf .build

.PHONY: help deps build run test tsan test-deploy fuzz bench stop clean
