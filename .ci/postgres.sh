#!/usr/bin/env bash
# Install (from Debian's packages) and start a throwaway PostgreSQL server on
# 127.0.0.1 for the service's storage tests; print the variable to export.
#
#   eval "$(.ci/postgres.sh)"     # as root, on a fresh Debian machine
#
# Everything but the final `export` line goes to stderr. Idempotent: a server
# already running in the data directory is reused. Settings (environment):
#   TIPLINK_PG_DIR   data directory   (default /tmp/tiplink-pg)
#   TIPLINK_PG_PORT  TCP port         (default 54329)
set -euo pipefail
dir="${TIPLINK_PG_DIR:-/tmp/tiplink-pg}"
port="${TIPLINK_PG_PORT:-54329}"
log() { echo "postgres.sh: $*" >&2; }

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  log "installing postgresql from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
as_pg() { runuser -u postgres -- "$@"; }

mkdir -p "$dir"
chown postgres:postgres "$dir"
chmod 700 "$dir"
password_file="$dir/.tiplink-password"
if [ ! -s "$dir/data/PG_VERSION" ]; then
  log "initialising a cluster in $dir/data"
  as_pg "$bin/initdb" -D "$dir/data" --auth-local=trust --auth-host=scram-sha-256 \
    -U postgres >&2
  head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$password_file"
  chown postgres:postgres "$password_file"
  chmod 600 "$password_file"
fi
if ! as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  log "starting PostgreSQL on 127.0.0.1:$port"
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir" start >&2
fi
password="$(cat "$password_file")"
# The test user may create databases: each test run makes its own and drops it.
as_pg "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q >&2 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tiplink') THEN
    CREATE ROLE tiplink LOGIN CREATEDB PASSWORD '$password';
  ELSE
    ALTER ROLE tiplink LOGIN CREATEDB PASSWORD '$password';
  END IF;
END \$\$;
SQL
if ! as_pg "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -tAq \
    -c "SELECT 1 FROM pg_database WHERE datname = 'tiplink_test'" | grep -q 1; then
  as_pg "$bin/createdb" -h "$dir" -p "$port" -U postgres -O tiplink tiplink_test >&2
fi
echo "export TIPLINK_TEST_POSTGRES_URL=postgresql://tiplink:${password}@127.0.0.1:${port}/tiplink_test"
