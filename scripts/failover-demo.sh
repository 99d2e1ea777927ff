#!/usr/bin/env bash
# Scenario 1 of the multi-machine pool, outside the test runner: starts its own PostgreSQL (own data directory and
# port), a coordinator and two miners (the real Silo executable), submits 300 jobs, starts a third miner mid-run,
# kills one miner with SIGKILL while it runs jobs, and waits for every job to end. Prints progress on stderr and, as
# its last line, {"submitted":..,"succeeded":..,"failed":..,"duplicates":..,"lost":..,"requeue_seconds":..,...}.
# Usage: bash scripts/failover-demo.sh [--jobs 300] [--tokens 600]
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/postgres.sh
start_postgres "${POOLAI_DEMO_PG_PORT:-55434}" poolai_failover

dotnet build -c Release Benchmarks -v quiet -nologo >&2
dotnet Benchmarks/bin/Release/net10.0/PoolAI.Benchmarks.dll failover \
  --database "$PG_CONNECTION" "$@"
