# Boss Raid. `make` (or `make help`) lists the targets. On a fresh Debian/Ubuntu machine with Go:
#   make run    starts Postgres and Redis if none answer, builds, migrates and serves on 127.0.0.1:8080
#   make test   every test, with the race detector, against real Postgres and Redis

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO        ?= go
BIN       := bin/bossraid
PKGS      ?= ./...
HTTP_ADDR ?= 127.0.0.1:8080
IMAGE     ?= bossraid:dev

# Every Go test runs with the race detector and without the test cache.
TEST_FLAGS ?= -race -count=1
# Packages that load the whole machine (the chaos soak: its own Postgres, Redis and two
# instances for CHAOS_DURATION, 60 s in its test) run by themselves after the rest, so their
# load does not starve the timing-sensitive tests of the package beside them.
TEST_ALONE ?= ./internal/chaos

SERVICES := scripts/services.sh
# Prefix for commands that need Postgres and Redis: exports DATABASE_URL, REDIS_URL and the
# TEST_ ones for whatever `services-up` is using.
WITH_SERVICES = eval "$$($(SERVICES) env)";

GOLANGCI_LINT := $(GO) tool -modfile=tools/go.mod golangci-lint

# templ runs over views/ so the file names inside *_templ.go read "page/lobby.templ"; generating
# from another folder would rewrite every file.
TEMPL := $(GO) tool templ generate -path views

# Fuzz targets as PACKAGE:FuzzName, e.g. ./core/users:FuzzCheckNickname; none yet.
FUZZ_TARGETS ?= ./core/users:FuzzSignUpForm ./core/raids:FuzzParseBossData ./core/raids:FuzzRank ./adapters/http/api:FuzzJSONRoutes
FUZZ_TIME    ?= 30s

BENCH       ?= .
BENCH_COUNT ?= 1

# Arguments for `bossraid loadgen` (see `bin/bossraid loadgen help`); it drives a server that
# is already running, e.g. `make run` in another terminal.
LOADGEN_ARGS ?=

# How long `make chaos` injects faults (the chaos package's test in `make test` uses 60s).
CHAOS_DURATION ?= 10m

# The test that renders the main pages in headless Chromium and writes PNGs to SCREENSHOTS_DIR
# (adapters/http/web/screenshots_test.go); keep these in step with it.
SCREENSHOTS_PKG  ?= ./adapters/http/web
SCREENSHOTS_TEST ?= TestScreenshots
SCREENSHOTS_ARGS ?= -screenshots
SCREENSHOTS_DIR  ?= docs/screenshots

##@ Everyday

.PHONY: help
help: ## show this list
	@if [ -t 1 ]; then c='\033[36m' r='\033[0m'; else c= r=; fi; \
	awk -v c="$$c" -v r="$$r" 'BEGIN { FS = ":.*## " } \
		/^##@/ { printf "\n%s\n", substr($$0, 5); next } \
		/^[a-zA-Z0-9_-]+:.*## / { printf "  %s%-16s%s %s\n", c, $$1, r, $$2 }' $(MAKEFILE_LIST)
	@echo

.PHONY: run
run: services-up build ## start Postgres+Redis if needed, build, migrate and serve on HTTP_ADDR (127.0.0.1:8080)
	@$(WITH_SERVICES) $(BIN) migrate up
	@echo "serving on http://$(HTTP_ADDR) (Ctrl-C stops; 'make services-down' stops the local databases)"
	@$(WITH_SERVICES) HTTP_ADDR=$(HTTP_ADDR) exec $(BIN) serve

.PHONY: test
test: services-up assets browser ## every test, -race -count=1, against real Postgres and Redis (installs Chromium if missing)
	@solo=$$($(GO) list $(TEST_ALONE)); pkgs=$$($(GO) list $(PKGS) | grep -vxF "$$solo" || true); \
	$(WITH_SERVICES) \
	if [ -n "$$pkgs" ]; then $(GO) test $(TEST_FLAGS) $$pkgs; fi; \
	alone=$$($(GO) list $(PKGS) | grep -xF "$$solo" || true); \
	if [ -n "$$alone" ]; then echo "== alone, after the rest: $$alone"; $(GO) test $(TEST_FLAGS) $$alone; fi

.PHONY: test-short
test-short: services-up assets browser ## the quick tests (go test -short), no race detector
	$(WITH_SERVICES) $(GO) test -short -count=1 $(PKGS)

.PHONY: lint
lint: ## gofmt -l (must be empty), go vet and golangci-lint (.golangci.yml)
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path './node_modules/*' -not -path './.git/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt: run 'gofmt -w' on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GOLANGCI_LINT) run $(PKGS)

##@ Building

.PHONY: build
build: generate assets ## build bin/bossraid
	$(GO) build -o $(BIN) ./cmd/bossraid

.PHONY: generate
generate: ## turn views/**/*.templ into *_templ.go (commit the result)
	$(TEMPL)

.PHONY: k8s-check
k8s-check: ## render deploy/kubernetes with kustomize, decode every object strictly into k8s.io/api, check it against the binary (offline)
	cd deploy/kubernetes/check && $(GO) vet ./... && $(GO) test -count=1 ./...

.PHONY: generate-check
generate-check: ## fail when a *_templ.go is stale (CI)
	$(TEMPL) -check

.PHONY: assets
assets: ## npm packages at their locked versions, copied into static/vendor/ (scripts/assets.sh)
	@scripts/assets.sh

.PHONY: browser
browser: ## install Debian's Chromium and a base font for the browser tests when missing (scripts/browser.sh)
	@scripts/browser.sh up

.PHONY: docker
docker: ## build the container image IMAGE (needs a Docker engine; none runs on the dev machines)
	@docker info >/dev/null 2>&1 || { echo "docker: no Docker engine answers here; run this where one does"; exit 1; }
	docker build -t $(IMAGE) .

.PHONY: clean
clean: ## remove bin/, the copied static/vendor files and node_modules/ (services stay up)
	rm -rf bin node_modules
	find static/vendor -mindepth 1 ! -name .gitkeep -exec rm -rf {} +

##@ Databases

.PHONY: services-up
services-up: ## use Postgres/Redis from DATABASE_URL/REDIS_URL if they answer, else start local ones
	@$(SERVICES) up

.PHONY: services-down
services-down: ## stop the Postgres/Redis that services-up started (never the machine's own)
	@$(SERVICES) down

.PHONY: services-status
services-status: ## which Postgres/Redis are in use and who started them
	@$(SERVICES) status

.PHONY: migrate
migrate: services-up build ## apply the database migrations (bossraid migrate up)
	@$(WITH_SERVICES) $(BIN) migrate up

##@ Measuring

.PHONY: bench
bench: services-up assets ## Go benchmarks matching BENCH in PKGS (-benchmem, BENCH_COUNT runs)
	$(WITH_SERVICES) $(GO) test -run='^$$' -bench='$(BENCH)' -benchmem -count=$(BENCH_COUNT) $(PKGS)

.PHONY: fuzz
fuzz: services-up ## run each FUZZ_TARGETS entry (PACKAGE:FuzzName) for FUZZ_TIME
	@if [ -z "$(strip $(FUZZ_TARGETS))" ]; then echo "fuzz: FUZZ_TARGETS is empty, nothing to fuzz yet"; exit 0; fi
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t#*:}; \
		echo "== $$fn in $$pkg for $(FUZZ_TIME)"; \
		$(WITH_SERVICES) $(GO) test -run='^$$' -fuzz="^$$fn\$$" -fuzztime=$(FUZZ_TIME) "$$pkg"; \
	done

.PHONY: loadgen
loadgen: build ## drive a running server with bossraid loadgen LOADGEN_ARGS
	@$(WITH_SERVICES) $(BIN) loadgen $(LOADGEN_ARGS)

.PHONY: chaos
chaos: build ## chaos soak: own Postgres, Redis, 2 instances, killed and frozen for CHAOS_DURATION (10m)
	CHAOS_DURATION=$(CHAOS_DURATION) $(BIN) chaos

# `make bench-http`: a database of its own (made and seeded once, kept for the next run), the
# app on BENCH_ADDR in production mode, and `bossraid loadgen compare` beside it, which writes
# its table into docs/PERFORMANCE.md. BENCH_ARGS go to compare (e.g. -d 8s -rounds 3 -wrk none).
BENCH_DB      ?= bossraid_bench
BENCH_ADDR    ?= 127.0.0.1:18080
BENCH_PLAYERS ?= 1000000
BENCH_RAIDS   ?= 2000000
BENCH_HEAVY   ?= 10000
BENCH_ARGS    ?=

.PHONY: bench-http
bench-http: services-up build ## hello vs /healthz vs the JSON reads (wrk if installed), into docs/PERFORMANCE.md
	@$(WITH_SERVICES) \
	db_url="$${DATABASE_URL%/*}/$(BENCH_DB)?sslmode=disable"; admin_url="$${DATABASE_URL%/*}/postgres?sslmode=disable"; \
	psql "$$admin_url" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$(BENCH_DB)'" | grep -q 1 || \
		psql "$$admin_url" -qc 'CREATE DATABASE $(BENCH_DB)'; \
	DATABASE_URL="$$db_url" $(BIN) migrate up; \
	seeded=$$(psql "$$db_url" -Atqc "SELECT count(*) FROM users WHERE email LIKE 'seed%@loadgen.bossraid.test'"); \
	if [ "$$seeded" = 0 ]; then \
		DATABASE_URL="$$db_url" $(BIN) loadgen seed -players $(BENCH_PLAYERS) -raids $(BENCH_RAIDS) -heavy-raids $(BENCH_HEAVY); \
	fi; \
	export DATABASE_URL="$$db_url" HTTP_ADDR=$(BENCH_ADDR) APP_ENV=production LOG_LEVEL=warn COOKIE_SECURE=false \
		SECRET_KEY=$${SECRET_KEY:-bench-http-secret-key-of-at-least-32-chars}; \
	$(BIN) serve & pid=$$!; trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null' EXIT; \
	for i in $$(seq 100); do curl -fs http://$(BENCH_ADDR)/readyz >/dev/null && break; sleep 0.2; done; \
	$(BIN) loadgen compare -url http://$(BENCH_ADDR) -players $(BENCH_PLAYERS) -pid $$pid -write docs/PERFORMANCE.md $(BENCH_ARGS)

.PHONY: screenshots
screenshots: services-up assets browser ## render the pages in headless Chromium into SCREENSHOTS_DIR
	@grep -rqs 'func $(SCREENSHOTS_TEST)(' $(SCREENSHOTS_PKG) || \
		{ echo "screenshots: TODO: $(SCREENSHOTS_PKG) has no $(SCREENSHOTS_TEST) yet"; exit 1; }
	mkdir -p $(SCREENSHOTS_DIR)
	$(WITH_SERVICES) SCREENSHOTS_DIR=$(abspath $(SCREENSHOTS_DIR)) \
		$(GO) test -count=1 -run='^$(SCREENSHOTS_TEST)$$' $(SCREENSHOTS_PKG) -args $(SCREENSHOTS_ARGS)
