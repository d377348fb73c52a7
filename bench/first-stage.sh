#!/usr/bin/env bash
# Latent diffusion figures, as ratios within one run: the first-stage encoder's images/s at 256x256 in TorchSharp vs the
# CompVis modules in PyTorch (Debian python3-torch) on the same weights, alternating rounds; and the speed-up of a
# training epoch from the latent cache (tiny-ldm on tiny-kl latents). Options: --config vq-f4 --batch 2 --size 256
# --batches 2 --rounds 3 --threads N --epoch-images 32 --epoch-batch 8 --python /usr/bin/python3
set -euo pipefail
cd "$(dirname "$0")/.."
exec dotnet run -c Release --project bench/Benchmarks -- first-stage "$@"
