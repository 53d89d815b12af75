# Run `make` or `make help` for the list of targets.

GO        ?= go
BIN       ?= bin/lxcbot
PKG       := github.com/lxcbot/lxcbot
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -X $(PKG)/internal/cli.version=$(VERSION) -X $(PKG)/internal/cli.commit=$(COMMIT)
# staticcheck 2026.1.2 (module version v0.8.2) understands Go 1.26.
STATICCHECK_VERSION ?= v0.8.2
FUZZTIME  ?= 10s

.DEFAULT_GOAL := help
.PHONY: help build demo test lint fuzz tidy-check deps bench

help: ## Show this list of targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build bin/lxcbot with the version and commit stamped in
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/bot

demo: deps build ## Run the bot on its embedded default: console chat, simulated Proxmox, throwaway Postgres, embedded Redis
	./$(BIN) demo

deps: ## Install the Postgres and Redis server binaries the tests use, if missing
	@scripts/install-deps.sh

test: deps ## Run every test with the race detector (needs Postgres and Redis binaries; installs them when it can)
	$(GO) test -race -count=1 ./...

lint: ## Fail on unformatted files, then run go vet and staticcheck
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

fuzz: ## Fuzz each Fuzz target for FUZZTIME (default 10s); new failing inputs land in testdata/fuzz
	@set -e; for file in $$(grep -rl --include='*_test.go' '^func Fuzz' .); do \
		dir=$$(dirname $$file); \
		for target in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$file); do \
			echo "fuzz $$dir $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$dir; \
		done; \
	done

tidy-check: ## Fail if go.mod or go.sum are not tidy (changes nothing)
	$(GO) mod tidy -diff

# Benchmarks report numbers and never fail on timing; they are not part of test or CI.
BENCH_OUT ?= bench/results/latest.md
QUICK     ?=

bench: build ## Run the benchmarks (not in test/CI) and write bench/results/latest.md; QUICK=1 for a short smoke run
	QUICK=$(QUICK) $(GO) run ./bench/cmd/benchrun -lxcbot $(BIN) -out $(BENCH_OUT)
