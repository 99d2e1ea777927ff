#!/usr/bin/env bash
# Runs every PoolAI benchmark in Release (Benchmarks project, "all"): no-op jobs in memory and on PostgreSQL, the same
# jobs through Hangfire on the same database, shakespeare-char generation at 1, 4 and 16 concurrent requests (with the
# native decoder called directly and the PyTorch eager reference, Benchmarks/reference/torch_decode.py, run by
# /usr/bin/python3 when it has torch), pool against direct, and the scale run (1,000 and 10 simulated miners, 100,000
# queued jobs). Starts its own PostgreSQL (port 55435, own data directory, removed at exit). Prints a table and writes
# artifacts/bench.json.
# Usage: bash scripts/bench.sh [--quick]      (--quick: smaller job counts, for a look in a few minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
start_postgres "${POOLAI_BENCH_PG_PORT:-55435}" poolai_bench
dotnet build -c Release Benchmarks -v quiet -nologo >&2
dotnet Benchmarks/bin/Release/net10.0/PoolAI.Benchmarks.dll all --database "$PG_CONNECTION" "$@"
