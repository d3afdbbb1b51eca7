# pgraft: `make run` starts a single node on 127.0.0.1:5433 (data in ./data);
# `make test` runs every test (CI runs it through .ci/run).
GO      ?= go
BIN     := bin/pgraft
DATA    ?= ./data

.PHONY: build run cluster test test-short vet lint-deploy lint-bench bench bench-quick bench-go chaos fuzz clients clean

build:
	$(GO) build -o $(BIN) ./cmd/pgraft

run: build
	./$(BIN) serve --data-dir $(DATA)

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

test: vet lint-deploy lint-bench
	$(GO) test -count=1 -timeout 30m ./...

# The Dockerfile, deploy/compose.yaml and deploy/pgraft.service, linted
# (Docker itself cannot run here).
lint-deploy:
	bash deploy/lint.sh

test-short:
	$(GO) test -short ./...

# `make bench` compares pgraft (3 nodes and 1) with PostgreSQL 15 (quorum
# cluster and single) on this machine with pgbench and COPY (bench/bench.sh;
# about 35 minutes); `make bench-quick` is 1 run x 5 s at 1 and 8 clients
# (about 5 minutes). The tables go to stdout, every run to bench-results.csv.
# Options: BENCH_FLAGS="--profile prof --clients 8" or the BENCH_*
# variables listed by `bench/bench.sh --help`.
BENCH_FLAGS ?=
bench:
	@bash bench/bench.sh $(BENCH_FLAGS)

bench-quick:
	@bash bench/bench.sh --quick $(BENCH_FLAGS)

# The Go micro-benchmarks of the engine and the server.
bench-go:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./sqlengine ./server

# bench/bench.sh parses, and answers --help (the full run is make bench).
lint-bench:
	bash -n bench/bench.sh
	bash bench/bench.sh --help >/dev/null

clean:
	rm -rf bin

# `make cluster` starts three nodes on this machine (PostgreSQL 5433-5435).
cluster: build
	./$(BIN) dev --data-dir ./data-dev

# `make chaos` runs PGRAFT_CHAOS_RUNS seeds (default 10) on both backends (an
# in-process cluster, and pgraft processes in network namespaces: 20 runs) under
# crashes, pauses, partitions, disk full and clock jumps; a failing run prints
# its seed and replay command. Network namespaces and tmpfs need root; without
# them the summary says which faults did not run. PGRAFT_CHAOS_NODES=5 adds
# majority/minority partitions.
chaos:
	PGRAFT_CHAOS_RUNS=$${PGRAFT_CHAOS_RUNS:-10} PGRAFT_CHAOS_BACKEND=$${PGRAFT_CHAOS_BACKEND:-both} PGRAFT_CHAOS_NODES=$${PGRAFT_CHAOS_NODES:-3} $(GO) test ./test/chaos -run '^TestChaos$$' -v -count=1 -timeout 90m

# `make fuzz` runs every fuzz target for FUZZTIME each (go test -fuzz); the
# default is exactly 1,000,000 executions on one worker per target (the final
# "execs:" line is the total), a few minutes each. Then the poison fuzzer
# sends PGRAFT_POISON_STATEMENTS (1,000,000) hostile statements to a
# three-node cluster (server/poisonfuzz_test.go), and the DDL fuzzer
# PGRAFT_DDL_STATEMENTS (1,000,000) random schema changes with writes
# (server/ddlfuzz_test.go); each one's last line has the figures.
FUZZTIME  ?= 1000000x
FUZZFLAGS ?= -parallel 1 -timeout 30m
fuzz:
	$(GO) test ./pgwire -run '^$$' -fuzz '^FuzzConn$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS)
	$(GO) test ./sqlengine/translate -run '^$$' -fuzz '^FuzzTranslate$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS)
	$(GO) test ./sqlengine/translate -run '^$$' -fuzz '^FuzzShape$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS)
	$(GO) test ./sqlengine -run '^$$' -fuzz '^FuzzDecodePayload$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS)
	$(GO) test ./replica -run '^$$' -fuzz '^FuzzDecodeEntry$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS)
	$(GO) test ./replica -run '^$$' -fuzz '^FuzzReadFrame$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS)
	PGRAFT_POISON_STATEMENTS=$${PGRAFT_POISON_STATEMENTS:-1000000} $(GO) test ./server -run '^TestPoisonFuzz$$' -v -count=1 -timeout 180m
	PGRAFT_DDL_STATEMENTS=$${PGRAFT_DDL_STATEMENTS:-1000000} $(GO) test ./server -run '^TestDDLFuzz$$' -v -count=1 -timeout 180m
