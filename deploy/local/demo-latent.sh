#!/usr/bin/env bash
# The latent pipeline, locally on CPU: a tiny KL first stage trained with `worker autoencoder train` (L1 + KL; no GAN,
# no LPIPS), then, through the orchestrator and two CPU worker agents, a latent teacher (examples/latent/teacher.yaml),
# an SD student distilled on the same latents and evaluated on decoded samples (examples/latent/student.yaml).
# The first job encodes the dataset once into each worker's latent cache; the student reads it from there.
#
# Environment: SD_DEMO_PORT (default 5080), SD_DEMO_STEPS (training steps of teacher and student),
# SD_DEMO_AE_STEPS (first-stage steps, default 200).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
state="$repo/.local/demo-latent"
port="${SD_DEMO_PORT:-5080}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
source "$repo/deploy/local/stack.sh"
say() { stack_say "$@"; }

stack_build
stack_start 2   # (re)creates $state
first_stage="$state/first-stage.safetensors"
say "1/3 training the tiny KL first stage ($first_stage)"
"${worker[@]}" autoencoder train --config tiny-kl --out "$first_stage" --image-size 64 --steps "${SD_DEMO_AE_STEPS:-200}" --batch 16
relative="${first_stage#"$repo"/}"   # workers read it under their data root (the repository)

steps=()
[ -n "${SD_DEMO_STEPS:-}" ] && steps=(--set "schedule.steps=$SD_DEMO_STEPS" --set "schedule.checkpoint_every=$(( (SD_DEMO_STEPS + 2) / 3 ))")
say "2/3 training the latent teacher (examples/latent/teacher.yaml)"
teacher="$(stack_submit examples/latent/teacher.yaml --set "first_stage.checkpoint=$relative" --set world_size=2 "${steps[@]}")"
"${orchestrator[@]}" watch "$teacher"

say "3/3 distilling and evaluating the SD student on decoded samples (examples/latent/student.yaml)"
student="$(stack_submit examples/latent/student.yaml --set "first_stage.checkpoint=$relative" --set "teacher.checkpoint=job:$teacher" --set world_size=2 "${steps[@]}")"
"${orchestrator[@]}" watch "$student"

say "results"
"${orchestrator[@]}" runs
echo "decoded sample grid and spectra (rank 0 of the student):"
find "$state" -path "*$student*" -name "*.png" | sort
