#!/usr/bin/env bash
# Runs a HashiCorp Vault v1.19.0 dev server (in memory, loopback only) for
# Sangam's key store tests, building it from the Go module proxy on first use
# (several minutes, ~4.4 GB RAM; see ../../../shared/reference/tooling.md §2).
#
#   eval "$(tools/vaultsrv/dev.sh)"   # start (or reuse) and export the settings
#   go test ./keys/...
#   tools/vaultsrv/dev.sh stop
#
# Settings: VAULT_BIN (default <repo>/.cache/bin/vault), VAULT_DEV_ADDR
# (127.0.0.1:18200), VAULT_DEV_TOKEN (the dev root token). Only the export
# line goes to stdout; progress goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${VAULT_BIN:-$root/.cache/bin/vault}
addr=${VAULT_DEV_ADDR:-127.0.0.1:18200}
token=${VAULT_DEV_TOKEN:-sangam-dev-root}
state=$root/.cache/vault-dev
pidfile=$state/vault.pid
log=$state/vault.log

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
healthy() { curl -fsS -o /dev/null "http://$addr/v1/sys/health" 2>/dev/null; }
running_pid() { [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && cat "$pidfile"; }

if [ "${1:-}" = stop ]; then
	if pid=$(running_pid); then
		kill "$pid"
		say "stopped Vault dev server (pid $pid)"
	fi
	rm -f "$pidfile"
	exit 0
fi

command -v curl >/dev/null || die "curl is needed to wait for Vault"

if [ ! -x "$bin" ]; then
	say "building Vault v1.19.0 into $bin (once per machine: ~7 minutes, ~4.4 GB RAM)"
	mkdir -p "$(dirname "$bin")"
	(cd "$here" && GOWORK=off go build -ldflags='-s -w' -o "$bin.tmp" . && mv "$bin.tmp" "$bin") >&2 ||
		die "building Vault failed"
fi

mkdir -p "$state"
if pid=$(running_pid) && healthy; then
	say "reusing Vault dev server (pid $pid) at http://$addr"
else
	healthy && die "something else already answers at http://$addr; set VAULT_DEV_ADDR to another address"
	"$bin" server -dev -dev-listen-address="$addr" -dev-root-token-id="$token" -dev-no-store-token >"$log" 2>&1 &
	echo $! >"$pidfile"
	for _ in $(seq 1 150); do
		healthy && break
		kill -0 "$(cat "$pidfile")" 2>/dev/null || die "Vault dev server exited; see $log"
		sleep 0.1
	done
	healthy || die "Vault dev server did not become ready in 15 s; see $log"
	say "started Vault dev server (pid $(cat "$pidfile")) at http://$addr; log in $log"
fi

echo "export VAULT_ADDR=http://$addr VAULT_TOKEN=$token SANGAM_TEST_VAULT_ADDR=http://$addr SANGAM_TEST_VAULT_TOKEN=$token"
