#!/usr/bin/env bash
# Local PostgreSQL for development, demos and tests: a cluster in a project-local folder.
#
#   deploy/local/postgres.sh start    install (apt) if missing, init once, start, create the database, print the connection string
#   deploy/local/postgres.sh stop     stop the cluster (data is kept)
#   deploy/local/postgres.sh status   say whether it runs
#   deploy/local/postgres.sh url      print the connection string
#   deploy/local/postgres.sh destroy  stop and delete the cluster's folder
#   deploy/local/postgres.sh reset-db NAME   drop database NAME if it exists (the orchestrator recreates it)
#
# Configuration (environment): SD_PG_PORT (default 55432), SD_PG_DIR (default <repo>/.local/postgres),
# SD_PG_DATABASE (default spectral). Idempotent. As root (CI) the cluster belongs to the `postgres`
# user, because PostgreSQL refuses to run as root; as a normal user it belongs to that user and
# sudo is used only to install the package.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
port="${SD_PG_PORT:-55432}"
dir="${SD_PG_DIR:-$repo/.local/postgres}"
database="${SD_PG_DATABASE:-spectral}"
data="$dir/data"
log="$dir/postgres.log"

say() { printf '%s\n' "$*" >&2; }
die() { say "postgres.sh: $*"; exit 1; }

find_bin() {
  local candidate
  for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/pg_ctl" ] && { echo "$candidate"; return 0; }
  done
  return 1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_if_missing() {
  find_bin >/dev/null && return 0
  say "PostgreSQL server not found; installing Debian's postgresql package..."
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null \
    || die "apt-get install postgresql failed; install PostgreSQL 13+ and retry"
  # Debian's package starts a system cluster on 5432; ours is separate and needs nothing from it.
  find_bin >/dev/null || die "postgresql installed but pg_ctl not found under /usr/lib/postgresql/*/bin"
}

url() { echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=$database"; }

running() {
  local bin; bin="$(find_bin)" || return 1
  [ -f "$data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

start() {
  install_if_missing
  local bin; bin="$(find_bin)"
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "user 'postgres' is missing; reinstall the postgresql package"
    chown postgres:postgres "$dir"
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null \
      || die "initdb failed for $data"
  fi
  if ! running; then
    as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null \
      || { tail -n 20 "$log" >&2 || true; die "could not start PostgreSQL on 127.0.0.1:$port (log: $log)"; }
  fi
  local exists
  exists="$(as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -Atc \
    "SELECT 1 FROM pg_database WHERE datname = '$database'")"
  [ "$exists" = 1 ] || as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -qc "CREATE DATABASE \"$database\"" >/dev/null
  url
}

stop() {
  local bin; bin="$(find_bin)" || return 0
  if running; then as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null; say "stopped PostgreSQL on port $port"; fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running on 127.0.0.1:$port ($data)"; else echo "stopped"; exit 3; fi ;;
  url) url ;;
  destroy) stop; rm -rf "$dir" ;;
  reset-db)
    [[ "${2:-}" =~ ^[a-z_][a-z0-9_]*$ ]] || die "reset-db needs a database name of lowercase letters, digits and _"
    running || die "PostgreSQL is not running; start it first"
    as_owner "$(find_bin)/psql" -h "$dir" -p "$port" -U postgres -d postgres -qc "DROP DATABASE IF EXISTS \"$2\" WITH (FORCE)" >/dev/null ;;
  *) die "unknown verb '$1' (start | stop | status | url | destroy | reset-db NAME)" ;;
esac
