#!/usr/bin/env bash
# make bench: Go benchmarks only (no tests), with a fixed run time so figures
# compare between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
if [ -z "${SANGAM_TEST_DATABASE_URL:-}" ] && ! pg_answers "postgres://postgres@127.0.0.1:5432/postgres"; then
	start_private_pg "$PWD/.data/pg-test" 55433
	trap 'stop_private_pg "$PWD/.data/pg-test"' EXIT
	export SANGAM_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:55433/postgres?sslmode=disable"
fi
go test -run '^$' -bench . -benchtime "${BENCHTIME:-2s}" -benchmem "$@" ./...
