# Shared shell functions for the Makefile's scripts. Sourced, not run.
# shellcheck shell=bash

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
		die "need root to run: $* (install it by hand or rerun as root)"
	fi
}

apt_updated=""
apt_install() {
	command -v apt-get >/dev/null || die "cannot install $* automatically: no apt-get on this machine"
	if [ -z "$apt_updated" ]; then
		say "apt-get update"
		as_root apt-get update -qq >/dev/null
		apt_updated=1
	fi
	say "installing $*"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# pg_bin prints the directory of PostgreSQL's server binaries, installing
# PostgreSQL when none is found.
pg_bin() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
		apt_install postgresql >&2
		d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	fi
	[ -x "$d/initdb" ] || die "PostgreSQL's initdb not found after installing postgresql"
	echo "$d"
}

# run_pg runs a PostgreSQL server binary; initdb refuses root, so as root it
# runs as the postgres user.
run_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start_private_pg DIR PORT starts (creating when needed) a private cluster
# that listens on 127.0.0.1:PORT only, with trust authentication.
start_private_pg() {
	local dir=$1 port=$2 bin
	bin=$(pg_bin)
	mkdir -p "$(dirname "$dir")"
	if [ ! -s "$dir/PG_VERSION" ]; then
		say "creating a private PostgreSQL cluster in $dir"
		mkdir -p "$dir"
		[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
		chmod 700 "$dir"
		run_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
	fi
	if run_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
		return 0
	fi
	say "starting PostgreSQL on 127.0.0.1:$port"
	run_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -o "-c listen_addresses=127.0.0.1 -p $port -k $dir" start >/dev/null ||
		die "PostgreSQL did not start; see $dir/server.log"
}

stop_private_pg() {
	local dir=$1 bin
	bin=$(pg_bin)
	run_pg "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
}

# pg_answers URL reports whether a PostgreSQL server answers at URL.
pg_answers() {
	command -v pg_isready >/dev/null || return 1
	pg_isready -q -d "$1" -t 3
}

# ensure_chromium installs Debian's Chromium for the browser tests.
ensure_chromium() {
	[ -x /usr/bin/chromium ] || apt_install chromium
}

# vault_bin builds, once per machine, a Vault dev server from the Go module
# proxy (no other source of Vault reaches this machine) and prints its path.
vault_bin() {
	local cache="${XDG_CACHE_HOME:-$HOME/.cache}/sangam/bin"
	if [ ! -x "$cache/vault" ]; then
		say "building a Vault dev server from the Go module proxy (once per machine, several minutes)"
		mkdir -p "$cache"
		(cd tools/vaultsrv && go build -ldflags='-s -w' -o "$cache/vault.tmp" . && mv "$cache/vault.tmp" "$cache/vault") >&2 ||
			die "building Vault failed"
	fi
	echo "$cache/vault"
}
