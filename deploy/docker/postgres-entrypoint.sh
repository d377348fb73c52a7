#!/bin/sh
# First start: initdb with POSTGRES_USER (a superuser, password POSTGRES_PASSWORD) and the database POSTGRES_DB, then a
# login role for dashboards, SD_READER_USER (default grafana, password SD_READER_PASSWORD), member of spectral_reader,
# which the orchestrator's migration grants SELECT on the run-history views. Then runs postgres in the foreground.
set -eu
: "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  password_file="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$password_file"
  initdb --username="$POSTGRES_USER" --pwfile="$password_file" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
  rm -f "$password_file"
  echo "host all all 0.0.0.0/0 scram-sha-256" >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  psql -v ON_ERROR_STOP=1 --username="$POSTGRES_USER" --dbname=postgres -q \
    -v db="$POSTGRES_DB" -v reader="${SD_READER_USER:-grafana}" -v reader_password="${SD_READER_PASSWORD:-}" <<'SQL'
SELECT format('CREATE DATABASE %I', :'db') WHERE :'db' <> 'postgres' \gexec
CREATE ROLE spectral_reader NOLOGIN;
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE spectral_reader', :'reader', :'reader_password') WHERE :'reader_password' <> '' \gexec
SQL
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "initialised $PGDATA (database $POSTGRES_DB, owner $POSTGRES_USER)"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'
