#!/usr/bin/env bash
# Postgres and Redis for running and testing Boss Raid.
#
#   scripts/services.sh up      use the servers DATABASE_URL / REDIS_URL point at when they answer,
#                               otherwise start project-local ones (installing Debian packages if needed)
#   scripts/services.sh env     print `export ...` lines for the servers in use
#   scripts/services.sh status  show what is in use and who started it
#   scripts/services.sh down    stop only what this script started
#
# Servers it starts live in a state directory of their own (BOSSRAID_STATE_DIR, default
# /var/tmp/bossraid-<hash of the repo path>, a place the postgres user can enter), listen on
# 127.0.0.1 only (BOSSRAID_PG_PORT, default 55432; BOSSRAID_REDIS_PORT, default 56379; the next
# free port is taken when that one is busy) and keep nothing worth keeping (fsync off, no Redis
# persistence). A server this script did not start is never stopped or changed, beyond creating
# the app database when it is missing.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
hash=$(printf '%s' "$repo" | sha1sum | cut -c1-12)
state=${BOSSRAID_STATE_DIR:-/var/tmp/bossraid-$hash}
app_db=${BOSSRAID_DB_NAME:-bossraid}

default_pg_url="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
default_redis_url="redis://127.0.0.1:6379/0"

pg_dir=$state/pg          # data directory of the local cluster
pg_sock=$state/pgsock     # its unix socket directory
pg_mark=$state/pg.started # exists while the local cluster is ours to stop
redis_pidfile=$state/redis.pid
redis_mark=$state/redis.started

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"
	elif command -v sudo >/dev/null; then sudo "$@"
	else die "need root to run: $*"
	fi
}

# Runs a Postgres server binary as the postgres user when we are root (initdb refuses root).
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

chown_pg() { if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$@"; fi; }

apt_updated=
apt_install() {
	command -v apt-get >/dev/null || die "cannot install $* here: no apt-get; install it yourself"
	if [ -z "$apt_updated" ]; then
		log "apt-get update"
		as_root apt-get update -qq >&2
		apt_updated=1
	fi
	log "apt-get install -y $*"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

pg_bin() { # newest installed server binary named $1
	local f
	f=$(printf '%s\n' /usr/lib/postgresql/*/bin/"$1" | grep -v '\*' | sort -V | tail -n1 || true)
	[ -n "$f" ] || f=$(command -v "$1" || true)
	printf '%s' "$f"
}

need_pg_client() {
	if ! command -v pg_isready >/dev/null || ! command -v psql >/dev/null; then apt_install postgresql-client; fi
}
need_pg_server() {
	if [ -z "$(pg_bin initdb)" ] || [ -z "$(pg_bin pg_ctl)" ]; then apt_install postgresql; fi
	[ -n "$(pg_bin initdb)" ] || die "initdb not found after installing postgresql"
}
need_redis_client() { if ! command -v redis-cli >/dev/null; then apt_install redis-tools; fi; }
need_redis_server() { if ! command -v redis-server >/dev/null; then apt_install redis-server; fi; }

# url_with_db URL NAME: URL with its path (the database) replaced by NAME, query kept.
url_with_db() {
	local url=$1 db=$2 base query=
	case $url in *\?*) base=${url%%\?*} query="?${url#*\?}" ;; *) base=$url ;; esac
	local scheme=${base%%://*} rest=${base#*://}
	local hostpart=${rest%%/*}
	printf '%s://%s/%s%s' "$scheme" "$hostpart" "$db" "$query"
}
# url_db URL: the database named in URL's path ("" when none).
url_db() {
	local base=${1%%\?*}; base=${base#*://}
	case $base in */*) printf '%s' "${base#*/}" ;; esac
}

# detach CMD...: runs CMD with stdin from /dev/null and every descriptor above 2 closed, so the
# daemons it starts hold neither our lock nor a caller's pipe (make, CI, a terminal multiplexer).
detach() {
	(
		for fd in "/proc/$BASHPID/fd/"*; do
			fd=${fd##*/}
			if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
		done
		"$@" </dev/null
	)
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pg_answers() { # URL of any database on the server
	command -v pg_isready >/dev/null || return 1
	pg_isready -q -t 3 -d "$1" >/dev/null 2>&1
}
redis_answers() {
	command -v redis-cli >/dev/null || return 1
	[ "$(timeout 5 redis-cli --no-auth-warning -u "$1" ping 2>/dev/null)" = PONG ]
}

local_pg_running() {
	[ -f "$pg_mark" ] && [ -f "$pg_dir/PG_VERSION" ] || return 1
	as_pg "$(pg_bin pg_ctl)" -D "$pg_dir" status >/dev/null 2>&1
}
local_pg_port() { cat "$state/pg.port" 2>/dev/null || true; }
local_pg_url() { printf 'postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable' "$(local_pg_port)"; }

redis_pid() { cat "$redis_pidfile" 2>/dev/null || true; }
local_redis_running() {
	local pid; pid=$(redis_pid)
	[ -f "$redis_mark" ] && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q redis-server
}
local_redis_port() { cat "$state/redis.port" 2>/dev/null || true; }
local_redis_url() { printf 'redis://127.0.0.1:%s/0' "$(local_redis_port)"; }

# The server the caller asked for: the admin (postgres) database on DATABASE_URL's server.
wanted_pg_admin_url() {
	if [ -n "${DATABASE_URL:-}" ]; then url_with_db "$DATABASE_URL" postgres; else printf '%s' "$default_pg_url"; fi
}
# The app database name: DATABASE_URL's, unless it names none or the admin database.
wanted_app_db() {
	local db; db=$(url_db "${DATABASE_URL:-}")
	case $db in "" | postgres) printf '%s' "$app_db" ;; *) printf '%s' "$db" ;; esac
}
wanted_redis_url() { printf '%s' "${REDIS_URL:-$default_redis_url}"; }

free_port_from() {
	local p=$1 i
	for i in $(seq 0 20); do
		port_busy $((p + i)) || { printf '%s' $((p + i)); return; }
	done
	die "no free port in $p..$((p + 20))"
}

mkstate() {
	mkdir -p "$state"
	chmod 0755 "$state"
}

start_local_pg() {
	need_pg_server
	local initdb pg_ctl port
	initdb=$(pg_bin initdb) pg_ctl=$(pg_bin pg_ctl)
	mkstate
	if [ ! -f "$pg_dir/PG_VERSION" ]; then
		log "initdb $pg_dir"
		rm -rf "$pg_dir"
		mkdir -p "$pg_dir" "$pg_sock"
		chown_pg "$pg_dir" "$pg_sock"
		chmod 0700 "$pg_dir"
		as_pg "$initdb" -D "$pg_dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$state/initdb.log" 2>&1 ||
			{ cat "$state/initdb.log" >&2; die "initdb failed"; }
		cat >>"$pg_dir/postgresql.conf" <<-EOF

			# scripts/services.sh: a throwaway cluster for development and tests.
			listen_addresses = '127.0.0.1'
			unix_socket_directories = '$pg_sock'
			fsync = off
			synchronous_commit = off
			full_page_writes = off
			max_connections = 200
		EOF
	fi
	mkdir -p "$pg_sock"
	chown_pg "$pg_sock"
	port=$(local_pg_port)
	if [ -z "$port" ] || port_busy "$port"; then port=$(free_port_from "${BOSSRAID_PG_PORT:-55432}"); fi
	echo "$port" >"$state/pg.port"
	touch "$pg_mark"
	log "starting Postgres on 127.0.0.1:$port ($pg_dir)"
	touch "$state/pg.log"
	chown_pg "$state/pg.log"
	detach as_pg "$pg_ctl" -D "$pg_dir" -l "$state/pg.log" -o "-p $port" -w -t 60 start >/dev/null ||
		{ tail -n 20 "$state/pg.log" >&2; die "Postgres did not start"; }
}

start_local_redis() {
	need_redis_server
	mkstate
	local port; port=$(local_redis_port)
	if [ -z "$port" ] || port_busy "$port"; then port=$(free_port_from "${BOSSRAID_REDIS_PORT:-56379}"); fi
	echo "$port" >"$state/redis.port"
	log "starting Redis on 127.0.0.1:$port"
	rm -f "$redis_pidfile"
	detach redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
		--pidfile "$redis_pidfile" --logfile "$state/redis.log" --dir "$state" >/dev/null
	touch "$redis_mark"
	local i
	for i in $(seq 1 100); do
		redis_answers "$(local_redis_url)" && return 0
		sleep 0.1
	done
	tail -n 20 "$state/redis.log" >&2
	die "Redis did not start"
}

# resolve_pg sets pg_admin (admin URL in use) and pg_owner (external|local); starts nothing.
resolve_pg() {
	local want; want=$(wanted_pg_admin_url)
	if local_pg_running && [ "$want" = "$(local_pg_url)" ]; then pg_admin=$want pg_owner=local
	elif pg_answers "$want"; then pg_admin=$want pg_owner=external
	elif local_pg_running; then pg_admin=$(local_pg_url) pg_owner=local
	else pg_admin='' pg_owner=''
	fi
}
resolve_redis() {
	local want; want=$(wanted_redis_url)
	if local_redis_running && [ "$want" = "$(local_redis_url)" ]; then redis_url=$want redis_owner=local
	elif redis_answers "$want"; then redis_url=$want redis_owner=external
	elif local_redis_running; then redis_url=$(local_redis_url) redis_owner=local
	else redis_url='' redis_owner=''
	fi
}

ensure_app_db() {
	local db; db=$(wanted_app_db)
	[[ $db =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "database name '$db' is not a plain identifier"
	if [ "$(psql "$pg_admin" -XAtqc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
		log "creating database $db"
		psql "$pg_admin" -Xqc "CREATE DATABASE \"$db\"" >/dev/null
	fi
}

lock() {
	mkstate
	exec 9>"$state/lock"
	flock 9
}

cmd_up() {
	lock
	need_pg_client
	need_redis_client
	resolve_pg
	if [ -z "$pg_admin" ]; then
		[ -n "${DATABASE_URL:-}" ] && log "Postgres at DATABASE_URL does not answer; using a local one"
		start_local_pg
		resolve_pg
		[ "$pg_owner" = local ] || die "local Postgres started but does not answer"
	fi
	ensure_app_db
	resolve_redis
	if [ -z "$redis_url" ]; then
		[ -n "${REDIS_URL:-}" ] && log "Redis at REDIS_URL does not answer; using a local one"
		start_local_redis
		resolve_redis
		[ "$redis_owner" = local ] || die "local Redis started but does not answer"
	fi
	log "Postgres: $(redact "$pg_admin") ($pg_owner); Redis: $(redact "$redis_url") ($redis_owner)"
}

sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
redact() { printf '%s' "$1" | sed -E 's#(://[^:/@]*:)[^@]*@#\1***@#'; }

cmd_env() {
	resolve_pg
	resolve_redis
	if [ -z "$pg_admin" ]; then
		log "warning: no Postgres answers; run 'scripts/services.sh up'"
		pg_admin=$(wanted_pg_admin_url)
	fi
	if [ -z "$redis_url" ]; then
		log "warning: no Redis answers; run 'scripts/services.sh up'"
		redis_url=$(wanted_redis_url)
	fi
	printf 'export DATABASE_URL=%s\n' "$(sq "$(url_with_db "$pg_admin" "$(wanted_app_db)")")"
	printf 'export TEST_DATABASE_URL=%s\n' "$(sq "$pg_admin")"
	printf 'export REDIS_URL=%s\n' "$(sq "$redis_url")"
	printf 'export TEST_REDIS_URL=%s\n' "$(sq "$redis_url")"
}

cmd_status() {
	resolve_pg
	resolve_redis
	echo "state dir: $state"
	if [ -n "$pg_admin" ]; then
		echo "postgres: in use $(redact "$(url_with_db "$pg_admin" "$(wanted_app_db)")") — $(owner_text "$pg_owner")"
	else
		echo "postgres: none answers (wanted $(redact "$(wanted_pg_admin_url)"))"
	fi
	if [ "$pg_owner" != local ] && local_pg_running; then
		echo "postgres: local cluster on 127.0.0.1:$(local_pg_port) is running (started by services.sh, not in use)"
	fi
	if [ -n "$redis_url" ]; then
		echo "redis: in use $(redact "$redis_url") — $(owner_text "$redis_owner")"
	else
		echo "redis: none answers (wanted $(redact "$(wanted_redis_url)"))"
	fi
	if [ "$redis_owner" != local ] && local_redis_running; then
		echo "redis: local server on 127.0.0.1:$(local_redis_port) is running (started by services.sh, not in use)"
	fi
}
owner_text() {
	case $1 in
	local) echo "started by scripts/services.sh (state in $state; stopped by 'down')" ;;
	*) echo "not started by this script (left alone by 'down')" ;;
	esac
}

cmd_down() {
	lock
	if local_pg_running; then
		log "stopping local Postgres on 127.0.0.1:$(local_pg_port)"
		as_pg "$(pg_bin pg_ctl)" -D "$pg_dir" -m fast -w -t 60 stop >/dev/null
	fi
	rm -f "$pg_mark"
	if local_redis_running; then
		local pid i; pid=$(redis_pid)
		log "stopping local Redis on 127.0.0.1:$(local_redis_port) (pid $pid)"
		kill "$pid"
		for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && die "Redis (pid $pid) did not stop"
	fi
	rm -f "$redis_mark" "$redis_pidfile"
	log "stopped what services.sh had started; servers it did not start are untouched"
}

case ${1:-} in
up) cmd_up ;;
env) cmd_env ;;
status) cmd_status ;;
down) cmd_down ;;
*)
	echo "usage: $0 up|down|status|env" >&2
	exit 2
	;;
esac
