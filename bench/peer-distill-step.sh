#!/usr/bin/env bash
# One tiny-sd distillation step in TorchSharp vs the same networks, weights and loss in PyTorch (Debian python3-torch),
# alternating rounds, with the ratio TorchSharp/PyTorch. Options: --batch 32 --threads N --steps 3 --rounds 6 --warmup 2
# --interop-threads N --phases --python /usr/bin/python3
set -euo pipefail
cd "$(dirname "$0")/.."
exec dotnet run -c Release --project bench/Benchmarks -- peer-distill-step "$@"
