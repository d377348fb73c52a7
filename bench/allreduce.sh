#!/usr/bin/env bash
# CPU all-reduce bus bandwidth, ranks as separate processes: same-host shared memory (copying, and in place in registered
# regions), the TCP ring on loopback and PyTorch gloo (Debian python3-torch), interleaved rounds, against memcpy; then
# gradient-sync overlap off/on, and what overlap: auto chooses on this machine.
# Usage: bench/allreduce.sh [--sizes-mb 1,4,16,64,256] [--rounds 3] [--world 2] [--grad-params-m 22.4] [--python /usr/bin/python3]
set -euo pipefail
cd "$(dirname "$0")/.."
exec dotnet run -c Release --project bench/Benchmarks -- allreduce "$@"
