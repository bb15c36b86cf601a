# HRSS back office. `make` lists the targets.

SHELL := /bin/bash
GO ?= go

.DEFAULT_GOAL := help

.PHONY: help run cluster test test-cluster build tools clean

help: ## List the targets
	@echo "Targets:"
	@grep -E '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "} {printf "  make %-13s %s\n", $$1, $$2}'

run: ## Run PostgreSQL, Temporal, worker and API locally on .data/ (Ctrl-C stops)
	@scripts/dev.sh

cluster: ## Like run, on the production engine: Temporal server on PostgreSQL, 2 workers, 2 APIs (.data/cluster/)
	@HRSS_ENGINE=cluster scripts/dev.sh

test: ## gofmt, go vet and go test against throwaway PostgreSQL and Temporal (TEST_ARGS=...)
	@scripts/test.sh

test-cluster: ## The registration, cases, terms and deregistration e2e tests on the Temporal cluster (TEST_ARGS=...)
	@HRSS_TEST_ENGINE=cluster scripts/test.sh

build: ## Build bin/hrss
	$(GO) build -o bin/hrss ./cmd/hrss

tools: ## Install the pinned Temporal CLI into .tools/bin (and PostgreSQL 15 if missing)
	@bash -c 'source scripts/lib.sh && ensure_temporal_cli && ensure_postgres_binaries && echo "Temporal CLI $$TEMPORAL_CLI_VERSION: $$TEMPORAL_BIN; PostgreSQL: $$PG_BIN_DIR"'

clean: ## Remove build output (bin/); keeps .data/ and .tools/
	rm -rf bin
