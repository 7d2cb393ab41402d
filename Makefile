# Sangam's front door. `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

.PHONY: help run test bench generate lint build

help: ## list the targets
	@grep -hE '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

run: ## set up and run Sangam with the sandbox and the demo hospital group
	@scripts/run.sh

test: ## run every test against real PostgreSQL, Vault and Chromium
	@scripts/test.sh

bench: ## run the benchmarks (speed and throughput targets) and print their figures
	@scripts/bench.sh

generate: ## regenerate templ components
	go tool templ generate

lint: ## formatting and vet
	gofmt -l $$(git ls-files '*.go' | grep -v '^tools/')
	go vet ./...

build: ## build the sangam binary into .cache/bin
	go build -o .cache/bin/sangam ./cmd/sangam
