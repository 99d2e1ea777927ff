# Sourced by scripts that need a PostgreSQL of their own: `start_postgres PORT DATABASE` installs PostgreSQL with
# apt-get where it is missing, starts a server on its own data directory and port (as the postgres user when run as
# root: PostgreSQL refuses root), creates DATABASE, stops and removes everything at exit, and sets PG_CONNECTION.
start_postgres() {
  local port=$1 database=$2
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "installing postgresql with apt-get" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  PG_DIR=$(mktemp -d /tmp/poolai-pg.XXXXXX)
  AS_PG=()
  if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR"; AS_PG=(runuser -u postgres --); fi
  trap stop_postgres EXIT
  "${AS_PG[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres >/dev/null
  "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300" -l "$PG_DIR/log" -w start >/dev/null
  "${AS_PG[@]}" "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE $database" >/dev/null
  PG_CONNECTION="Host=127.0.0.1;Port=$port;Username=postgres;Database=$database;Maximum Pool Size=200"
}

stop_postgres() {
  "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
