#!/usr/bin/env bash
# Cost and effect of the convolution channel alignment (oneDNN padding fault). Options: --batch N --steps N --threads N
set -euo pipefail
cd "$(dirname "$0")/.."
exec dotnet run -c Release --project bench/Benchmarks -- conv-alignment "$@"
