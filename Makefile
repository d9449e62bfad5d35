# kubelark build and test entry points. CI runs `make test` (.ci/run).
# Suites are separate targets so `test` can grow into `test: unit golden e2e`.

GO      ?= go
BIN     ?= bin/kubelark
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build test vet unit lint bench golden clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/kubelark

# test is what CI runs.
test: vet unit

vet:
	$(GO) vet ./...

# unit runs every package's tests of the root module (e2e/ is its own
# module and its own target).
unit:
	$(GO) test ./...

lint: vet
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt -l: these files need gofmt -w:"; echo "$$out"; exit 1; fi

bench:
	$(GO) test -bench . -run '^$$' ./...

# golden regenerates golden plans; placeholder until the golden suite lands
# (point it at the package holding the golden tests and their -update flag).
golden:
	$(GO) test ./testdata/... -update

clean:
	rm -rf bin
