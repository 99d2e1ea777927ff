#!/usr/bin/env bash
# Runs PoolAI's benchmarks in Release and writes artifacts/bench.json.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project Benchmarks -- "$@"
