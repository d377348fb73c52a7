#!/usr/bin/env bash
# Ring all-reduce bus bandwidth on loopback (tcp backend, 2 ranks) against memcpy, and gradient-sync overlap off/on.
# Usage: bench/allreduce.sh [--sizes-mb 1,4,16,64,256] [--grad-params-m 22.4]
set -euo pipefail
cd "$(dirname "$0")/.."
exec dotnet run -c Release --project bench/Benchmarks -- allreduce "$@"
