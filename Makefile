# kubelark build and test entry points. CI runs `make test` (.ci/run).

GO      ?= go
BIN     ?= bin/kubelark
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build test vet unit lint fuzz bench golden clean

all: build

# e2e-binaries, e2e, e2e-clean, parity (after `all`, which stays the default).
include e2e/e2e.mk

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/kubelark

# test is what CI runs: static checks, unit tests with a fake host and the
# golden dry-run plans (both in `unit`, which includes the security
# suite), the fuzz targets for a bounded time (`fuzz`), then the end-to-end
# suite on real test nodes and the kubeadm parity suite (`e2e`, needs root;
# it installs containerd/runc and builds the pinned Kubernetes binaries
# when missing).
test: lint unit fuzz e2e

vet:
	$(GO) vet ./...

# unit runs every package's tests of the root module (e2e/ is its own
# module and its own target). The recipes package runs every workflow on
# fake hosts many times over and takes minutes on two busy cores: go
# test's default 10-minute limit per package is raised so a slow machine
# is not mistaken for a hung test.
unit:
	$(GO) test -timeout 30m ./...

## fuzz: each Go fuzz target for FUZZTIME (seeds: testdata/fuzz/<corpus>/,
## added with f.Add by internal/fuzzseed; inputs found failing land in the
## package's testdata/fuzz/FuzzX/ as Go writes them). `go test -fuzz` takes
## one target per run, hence the list of package:target pairs.
FUZZTIME    ?= 20s
FUZZ_TARGETS = \
	./runtime/kubeadmconfig:FuzzLoad \
	./runtime:FuzzSetParser \
	./runtime:FuzzYAMLDecode \
	./runtime:FuzzJSONDecode \
	./runtime/host:FuzzSandboxResolve \
	./runtime/host:FuzzIptablesPlan \
	./runtime/host:FuzzParseMountInfo

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$fn ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

lint: vet
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt -l: these files need gofmt -w:"; echo "$$out"; exit 1; fi

## bench: kubelark vs kubeadm v1.36.3 side by side (needs root: private mount
## namespaces and test nodes bn1..bn14 on 10.79.0.0/24; about 20 minutes),
## after the root module's micro-benchmarks; prints the ratio table. It
## reports and never fails on a timing; not part of `make test`. The raw
## output is kept in $(BENCH_OUT) for benchstat (`benchstat -col /tool
## bin/bench.txt`, or two runs' files to compare commits). BENCH_TIME=Nx sets
## the repetitions (also the API-phase and worker-join rounds), BENCH_NODES
## the fresh nodes per tool of the init-to-ready benchmark, BENCH_CONCURRENT
## the batch sizes of the concurrent joins, BENCH_CP_ROUNDS the control-plane
## join rounds, BENCH_RUN selects e2e benchmarks by regexp (e.g. BENCH_RUN=Join).
BENCH_TIME       ?= 5x
BENCH_NODES      ?= 2
BENCH_CONCURRENT ?= 1,5,10
BENCH_CP_ROUNDS  ?= 1
BENCH_RUN        ?= .
BENCH_OUT        ?= bin/bench.txt

bench: e2e-binaries
	@mkdir -p $(dir $(BENCH_OUT))
	$(GO) test -run '^$$' -bench . -benchmem ./... 2>&1 | tee $(BENCH_OUT)
	cd $(E2E_DIR) && KUBELARK_BENCH_NODES=$(BENCH_NODES) KUBELARK_BENCH_CONCURRENT=$(BENCH_CONCURRENT) KUBELARK_BENCH_CP_ROUNDS=$(BENCH_CP_ROUNDS) $(GO) test -run '^$$' -bench '$(BENCH_RUN)' -benchtime $(BENCH_TIME) -timeout $(E2E_TIMEOUT) ./bench/ 2>&1 | tee -a $(abspath $(BENCH_OUT))
	cd $(E2E_DIR) && $(GO) run ./cmd/bench-report $(abspath $(BENCH_OUT))

# golden regenerates the golden dry-run plans in testdata/golden after an
# intended change; review the diff before committing it.
golden:
	$(GO) test ./recipes -run Golden -update

clean:
	rm -rf bin
