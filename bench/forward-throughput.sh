#!/usr/bin/env bash
# Denoiser evaluations per second of the tiny, Lite and SD presets, with the SD/Lite ratio. Options: --batch N --ffhq-batch N --seconds N
set -euo pipefail
cd "$(dirname "$0")/.."
exec dotnet run -c Release --project bench/Benchmarks -- forward-throughput "$@"
