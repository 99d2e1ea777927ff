#!/usr/bin/env bash
# Scenario 1 of the multi-machine pool, outside the test runner: starts its own PostgreSQL (own data directory and
# port), a coordinator and two miners (the real Silo executable), submits 300 jobs, starts a third miner mid-run,
# kills one miner with SIGKILL while it runs jobs, and waits for every job to end. Prints progress on stderr and, as
# its last line, {"submitted":..,"succeeded":..,"failed":..,"duplicates":..,"lost":..,"requeue_seconds":..,...}.
# Usage: bash scripts/failover-demo.sh [--jobs 300] [--tokens 40]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "installing postgresql with apt-get" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PG_DIR=$(mktemp -d /tmp/poolai-failover-pg.XXXXXX)
PG_PORT=${POOLAI_DEMO_PG_PORT:-55434}
AS_PG=()
if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR"; AS_PG=(runuser -u postgres --); fi
stop_pg() {
  "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap stop_pg EXIT
"${AS_PG[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres >/dev/null
"${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" -l "$PG_DIR/log" -w start >/dev/null
"${AS_PG[@]}" "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE poolai_failover" >/dev/null

dotnet build -c Release Benchmarks -v quiet -nologo >&2
dotnet Benchmarks/bin/Release/net10.0/PoolAI.Benchmarks.dll failover \
  --database "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=poolai_failover" "$@"
