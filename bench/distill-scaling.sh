#!/usr/bin/env bash
# Time per distillation step on 1 worker against 2 workers (real processes, all-reduce through shared memory on one machine, through the orchestrator), in
# one run: the same tiny-sd distillation with the same global batch, once with world size 1 (batch B) and once with
# world size 2 (batch B/2 per rank). Each worker has one torch thread, so 2 workers use 2 cores.
# Options (environment): SD_SCALING_STEPS (default 40), SD_SCALING_BATCH (global batch, default 32), SD_SCALING_PORT (5090).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
state="$repo/.local/scaling"
port="${SD_SCALING_PORT:-5090}"
steps="${SD_SCALING_STEPS:-40}"
batch="${SD_SCALING_BATCH:-32}"
stack_worker_prefix=(setsid)   # each worker its own scheduling group (see deploy/local/stack.sh)
source "$repo/deploy/local/stack.sh"
stack_build
stack_start 2

teacher="$state/teacher.safetensors"
"${worker[@]}" train examples/pipeline/teacher.yaml --set schedule.steps=1 --set optimizer.warmup_steps=0 --out "$state/teacher-run" >/dev/null
cp "$state/teacher-run/model-ema.safetensors" "$teacher"

measure() {
  local world="$1" per_rank=$(( batch / $1 )) id
  id="$(stack_submit examples/pipeline/student.yaml --set "teacher.checkpoint=$teacher" --set "world_size=$world" \
        --set "schedule.batch_size=$per_rank" --set "schedule.steps=$steps" --set "schedule.log_every=$steps" \
        --set schedule.checkpoint_every=0 --set optimizer.warmup_steps=0)"
  "${orchestrator[@]}" watch "$id" >/dev/null
  # Each rank logs where its step time went (data, teacher, forward, backward, all-reduce, optimizer, gc, reports).
  grep -h "step phases" "$state"/worker-*.log | grep -v -F -x -f "$state/phases-seen" >>"$state/phases-$world" || true
  grep -h "step phases" "$state"/worker-*.log >"$state/phases-seen" || true
  # Rank 0 reports the mean steps/s over the last log_every steps (here: all of them, after the first).
  "${orchestrator[@]}" show "$id" --json | sed -n 's/.*"stepsPerSecond": *\([0-9.eE+-]*\).*/\1/p' | head -n 1
}

stack_say "distillation, global batch $batch, $steps steps"
: >"$state/phases-seen"
one="$(measure 1)"
two="$(measure 2)"
stack_say "per-rank step phases, ms/step (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
sed 's/^.*\(Rank [0-9]*\/[0-9]*\) step phases (ms\/step): /\1: /' "$state/phases-1" "$state/phases-2"
python3 - "$one" "$two" "$batch" <<'PY'
import sys
one, two, batch = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
print(f"1 worker  (batch {batch}):           {1000/one:8.1f} ms/step  {one*batch:7.1f} samples/s")
print(f"2 workers (batch {batch//2} per rank):   {1000/two:8.1f} ms/step  {two*batch:7.1f} samples/s")
print(f"speed-up 2 vs 1 workers: {two/one:.2f}x (ideal 2.00x on 2 cores)")
PY
