#!/usr/bin/env bash
# make run: set up what is missing, then run the sandbox and Sangam with the
# demo hospital group. Ctrl-C stops everything this script started; the next
# run reuses the data in .data/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

SANGAM_ADDR=${SANGAM_ADDR:-127.0.0.1:8080}
SANDBOX_ADDR=${SANDBOX_ADDR:-127.0.0.1:8081}
sangam_port=${SANGAM_ADDR##*:}
sandbox_port=${SANDBOX_ADDR##*:}
export SANGAM_PUBLIC_URL=${SANGAM_PUBLIC_URL:-http://localhost:$sangam_port}
export SANDBOX_PUBLIC_URL=${SANDBOX_PUBLIC_URL:-http://localhost:$sandbox_port}
export OIDC_ISSUER=${OIDC_ISSUER:-$SANDBOX_PUBLIC_URL/oidc}
export OIDC_CLIENT_ID=${OIDC_CLIENT_ID:-sangam}
export OIDC_CLIENT_SECRET=${OIDC_CLIENT_SECRET:-sangam-demo-secret}
export SANGAM_MASTER_KEY_FILE=${SANGAM_MASTER_KEY_FILE:-$PWD/.data/master.key}

pids=()
started_pg=""
on_exit() {
	trap - INT TERM EXIT
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "$started_pg" ] && stop_private_pg "$started_pg"
	say "stopped"
}
trap on_exit INT TERM EXIT

if [ -z "${DATABASE_URL:-}" ]; then
	start_private_pg "$PWD/.data/pg" 55432
	started_pg="$PWD/.data/pg"
	if ! psql -h 127.0.0.1 -p 55432 -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'sangam'" | grep -q 1; then
		psql -h 127.0.0.1 -p 55432 -U postgres -qc "CREATE DATABASE sangam" >/dev/null
	fi
	export DATABASE_URL="postgres://postgres@127.0.0.1:55432/sangam?sslmode=disable"
fi

say "building sangam"
mkdir -p .cache/bin
go build -o .cache/bin/sangam ./cmd/sangam
bin=.cache/bin/sangam

$bin migrate
$bin demo

# wait_for NAME PID URL: until URL answers, or fail when the process died.
wait_for() {
	for _ in $(seq 1 300); do
		curl -fsS "$3" >/dev/null 2>&1 && return 0
		kill -0 "$2" 2>/dev/null || die "$1 stopped during start-up; its error is above"
		sleep 0.1
	done
	die "$1 did not answer at $3 within 30 s"
}

$bin sandbox --addr "$SANDBOX_ADDR" --public-url "$SANDBOX_PUBLIC_URL" --sangam-url "$SANGAM_PUBLIC_URL" &
pids+=($!)
wait_for sandbox "$!" "$OIDC_ISSUER/.well-known/openid-configuration"

# Store the demo tenant's sandbox ABDM credentials (checked against the
# gateway first) and register its bridge URL; serve then keeps the
# registration checked on its own.
export ABDM_GATEWAY_URL=${ABDM_GATEWAY_URL:-$SANDBOX_PUBLIC_URL}
export ABDM_AUTO_REGISTER=${ABDM_AUTO_REGISTER:-true}
export ABHA_URL=${ABHA_URL:-$SANDBOX_PUBLIC_URL/abha/api}
# The demo's vendor systems push no events, so poll them often.
export SOURCE_POLL_INTERVAL=${SOURCE_POLL_INTERVAL:-30s}
# Link OTPs go to the sandbox's phones, shown on its PHR page.
export SMS_WEBHOOK_URL=${SMS_WEBHOOK_URL:-$SANDBOX_PUBLIC_URL/_sandbox/phr/sms}
printf '%s' "${ABDM_CLIENT_SECRET:-kaveri-demo-secret}" |
	$bin onboard --tenant kaveri --client-id "${ABDM_CLIENT_ID:-kaveri-demo}" --client-secret-stdin

# Make each facility an NHCX participant of the sandbox switch (its key in
# the key store, its certificate and endpoint URL in the switch's registry).
export NHCX_URL=${NHCX_URL:-$SANDBOX_PUBLIC_URL/hcx}
export NHCX_REGISTRY_URL=${NHCX_REGISTRY_URL:-$SANDBOX_PUBLIC_URL/pmjay/sbxhcx/participanthcxservice}
for participant in IN2910000231:1000012231@hcx IN2910000587:1000012587@hcx IN2910000944:1000012944@hcx; do
	$bin nhcx register --tenant kaveri --facility "${participant%%:*}" --participant-code "${participant#*:}" \
		--sandbox-url "$SANDBOX_PUBLIC_URL" --sandbox-client-id "${ABDM_CLIENT_ID:-kaveri-demo}" --certificate-out /dev/null
done

$bin serve --addr "$SANGAM_ADDR" &
pids+=($!)
wait_for sangam "$!" "http://$SANGAM_ADDR/readyz"

cat >&2 <<MSG

  Sangam   $SANGAM_PUBLIC_URL
  Sandbox  $SANDBOX_PUBLIC_URL  (ABDM gateway simulator and demo sign-in)

  Demo sign-in (password for all: sangam-demo):
    frontdesk   front desk, Kaveri City Hospital
    doctor      doctor, Kaveri City and Women and Child
    billing     billing, Kaveri City and Women and Child
    admin       hospital IT, all facilities

  Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
