#!/usr/bin/env bash
# Local PostgreSQL for development, demos and tests: a cluster of its own, apart from any system cluster.
#
#   deploy/local/postgres.sh start    install (apt) if missing, init once, start, create the database, print the connection string
#   deploy/local/postgres.sh stop     stop the cluster (data is kept)
#   deploy/local/postgres.sh status   say whether it runs
#   deploy/local/postgres.sh url      print the connection string
#   deploy/local/postgres.sh destroy  stop and delete the cluster's folder
#   deploy/local/postgres.sh reset-db NAME   drop database NAME if it exists (the orchestrator recreates it)
#   deploy/local/postgres.sh data-dir print the cluster's data folder (tests that restart PostgreSQL need it)
#
# Configuration (environment): SD_PG_PORT (default 55432), SD_PG_DIR (the cluster's folder: data, socket and log),
# SD_PG_DATABASE (default spectral). Idempotent.
#
# As a normal user the cluster belongs to that user, lives in <repo>/.local/postgres, and sudo is used only to install
# the package. As root (CI) it belongs to the `postgres` user, because PostgreSQL refuses to run as root; that user
# must be able to enter the cluster's folder. So as root the folder is <repo>/.local/postgres when the `postgres` user
# can reach the clone, and otherwise (a clone in /root or another private folder) a folder in the `postgres` user's
# home named after the clone's path, e.g. /var/lib/postgresql/spectral-local/<clone>-<hash of its path>.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
port="${SD_PG_PORT:-55432}"
database="${SD_PG_DATABASE:-spectral}"

say() { printf '%s\n' "$*" >&2; }
die() { say "postgres.sh: $*"; exit 1; }

as_root() { [ "$(id -u)" = 0 ]; }

# Run as the cluster's owner, from / (the `postgres` user may not be allowed into the current folder).
as_owner() {
  if as_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# The `postgres` user's home (Debian: /var/lib/postgresql), which that user owns.
postgres_home() {
  local home; home="$(getent passwd postgres | cut -d: -f6)"
  echo "${home:-/var/lib/postgresql}"
}

# Can the `postgres` user get into <repo>/.local (or into the clone, before .local exists)?
clone_reachable() {
  if [ -e "$repo/.local" ]; then as_owner test -x "$repo/.local"; else as_owner test -x "$repo"; fi
}

cluster_dir() {
  if [ -n "${SD_PG_DIR:-}" ]; then echo "$SD_PG_DIR"; return; fi
  if ! as_root || ! id postgres >/dev/null 2>&1 || clone_reachable; then echo "$repo/.local/postgres"; return; fi
  local name hash
  name="$(basename "$repo" | tr -c 'A-Za-z0-9._\n-' '_' | cut -c1-32)"
  hash="$(printf '%s' "$repo" | sha256sum | cut -c1-12)"
  echo "$(postgres_home)/spectral-local/$name-$hash"
}

locate() {
  dir="$(cluster_dir)"
  data="$dir/data"
  log="$dir/postgres.log"
}
locate

find_bin() {
  local candidate
  for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/pg_ctl" ] && { echo "$candidate"; return 0; }
  done
  return 1
}

install_if_missing() {
  find_bin >/dev/null && return 0
  say "PostgreSQL server not found; installing Debian's postgresql package..."
  local sudo=""
  as_root || sudo="sudo"
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
  locate  # again: installing the package may just have created the `postgres` user
  local bin; bin="$(find_bin)"
  if as_root; then
    id postgres >/dev/null 2>&1 || die "user 'postgres' is missing; reinstall the postgresql package"
    # The folder (and any parent this creates) must be enterable by the `postgres` user, whatever root's umask.
    local parent; parent="$(dirname "$dir")"
    [ -d "$parent" ] || { mkdir -p "$parent"; chmod 755 "$parent"; }
    if [ "$parent" = "$(postgres_home)/spectral-local" ]; then chown postgres:postgres "$parent"; fi
    mkdir -p "$dir"
    chown postgres:postgres "$dir"
    as_owner test -w "$dir" -a -x "$dir" \
      || die "the postgres user cannot enter $dir (a parent folder is private); unset SD_PG_DIR or point it at a folder that user can reach"
  else
    mkdir -p "$dir"
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
  data-dir) echo "$data" ;;
  destroy) stop; rm -rf "$dir" ;;
  reset-db)
    [[ "${2:-}" =~ ^[a-z_][a-z0-9_]*$ ]] || die "reset-db needs a database name of lowercase letters, digits and _"
    running || die "PostgreSQL is not running; start it first"
    as_owner "$(find_bin)/psql" -h "$dir" -p "$port" -U postgres -d postgres -qc "DROP DATABASE IF EXISTS \"$2\" WITH (FORCE)" >/dev/null ;;
  *) die "unknown verb '$1' (start | stop | status | url | data-dir | destroy | reset-db NAME)" ;;
esac
