#!/usr/bin/env bash
# A 1 GiB model artifact taken out of an orchestrator with `orchestrator download` (gRPC stream, SHA-256 checked, temporary
# file renamed) against cp and dd of the same stored file, interleaved rounds: MB/s, ratios, peak RSS of the CLI and of the
# serving orchestrator, and the CPU model. Needs PostgreSQL: --database CS or SD_BENCH_DATABASE (deploy/local/postgres.sh
# start prints one) and GNU time.
# Usage: bench/download.sh [--size-mb 1024] [--rounds 3] [--database CS]
set -euo pipefail
cd "$(dirname "$0")/.."
exec dotnet run -c Release --project bench/Benchmarks -- download "$@"
