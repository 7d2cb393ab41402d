#!/usr/bin/env bash
# make test: every unit, integration and browser test against real
# PostgreSQL, a real Vault dev server and real headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

cleanup=()
on_exit() { for c in "${cleanup[@]}"; do eval "$c" || true; done; }
trap on_exit EXIT

ensure_chromium

# PostgreSQL: the one on 127.0.0.1:5432 when it answers, else a private one.
if [ -z "${SANGAM_TEST_DATABASE_URL:-}" ]; then
	if pg_answers "postgres://postgres@127.0.0.1:5432/postgres"; then
		export SANGAM_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	else
		start_private_pg "$PWD/.data/pg-test" 55433
		cleanup+=("stop_private_pg '$PWD/.data/pg-test'")
		export SANGAM_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:55433/postgres?sslmode=disable"
	fi
fi

# Vault dev server for the key store's Vault tests.
if [ -z "${SANGAM_TEST_VAULT_ADDR:-}" ] && [ -d tools/vaultsrv ]; then
	vault=$(vault_bin)
	port=18200
	token="sangam-test-root-$$"
	"$vault" server -dev -dev-listen-address="127.0.0.1:$port" -dev-root-token-id="$token" -dev-no-store-token \
		>"${TMPDIR:-/tmp}/sangam-vault-$$.log" 2>&1 &
	vpid=$!
	cleanup+=("kill $vpid")
	for _ in $(seq 1 100); do
		curl -fsS "http://127.0.0.1:$port/v1/sys/health" >/dev/null 2>&1 && break
		kill -0 "$vpid" 2>/dev/null || die "Vault dev server exited; see ${TMPDIR:-/tmp}/sangam-vault-$$.log"
		sleep 0.1
	done
	export SANGAM_TEST_VAULT_ADDR="http://127.0.0.1:$port" SANGAM_TEST_VAULT_TOKEN="$token"
fi

say "checking generated code, formatting and vet"
go tool templ generate >/dev/null 2>&1
if ! git diff --quiet -- '*_templ.go' 2>/dev/null; then
	git --no-pager diff --stat -- '*_templ.go'
	die "generated templ files are out of date: run 'make generate' and commit the result"
fi
unformatted=$(gofmt -l $(git ls-files '*.go' | grep -v '^tools/') 2>/dev/null || true)
[ -z "$unformatted" ] || die "gofmt needed on: $unformatted"
dups=$(ls migrations/*.sql | sed 's#.*/##; s/_.*//' | sort | uniq -d)
[ -z "$dups" ] || die "duplicate migration numbers: $dups"
go vet ./...

say "running tests"
go test -count=1 -timeout 20m "$@" ./...
