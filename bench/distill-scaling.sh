#!/usr/bin/env bash
# Time per distillation step on 1 worker against 2 workers (real processes, all-reduce through shared memory on one machine, through the orchestrator), in
# one run: the same tiny-sd distillation with the same global batch, once with world size 1 (batch B) and once with
# world size 2 (batch B/2 per rank). Each worker has one torch thread, so 2 workers use 2 cores. A third run, 1 worker at
# batch B/2, gives the ceiling that the batch size alone sets: a rank at half the batch is not twice as fast when a step
# has costs that do not shrink with the batch, so 2 workers can gain at most t(1 worker, B) / t(1 worker, B/2).
# SD_SHM_REGISTERED_MB=0 runs the workers with the copying shared-memory all-reduce (docs/collectives.md).
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
  local world="$1" per_rank="${2:-$(( batch / $1 ))}" id tag="${3:-$1}"
  id="$(stack_submit examples/pipeline/student.yaml --set "teacher.checkpoint=$teacher" --set "world_size=$world" \
        --set "schedule.batch_size=$per_rank" --set "schedule.steps=$steps" --set "schedule.log_every=$steps" \
        --set schedule.checkpoint_every=0 --set optimizer.warmup_steps=0)"
  "${orchestrator[@]}" watch "$id" >/dev/null
  # Each rank logs where its step time went (data, teacher, forward, backward, all-reduce, optimizer, gc, reports).
  grep -h "step phases" "$state"/worker-*.log | grep -v -F -x -f "$state/phases-seen" >>"$state/phases-$tag" || true
  grep -h "step phases" "$state"/worker-*.log >"$state/phases-seen" || true
  # Rank 0 reports the mean steps/s over the last log_every steps (here: all of them, after the first).
  "${orchestrator[@]}" show "$id" --json | sed -n 's/.*"stepsPerSecond": *\([0-9.eE+-]*\).*/\1/p' | head -n 1
}

stack_say "distillation, global batch $batch, $steps steps"
: >"$state/phases-seen"
one="$(measure 1)"
two="$(measure 2)"
half="$(measure 1 $(( batch / 2 )) half)"
stack_say "per-rank step phases, ms/step (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
for tag in 1 2 half; do
  sed "s/^.*\(Rank [0-9]*\/[0-9]*\) step phases (ms\/step): /[$tag] \1: /; s/ {.*//" "$state/phases-$tag"
done
python3 - "$one" "$two" "$half" "$batch" "$state" <<'PY'
import re, sys
one, two, half, batch, state = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def last_tenth(tag):
    """The slowest rank's median step time over its last 10% of steps (warm-up excluded)."""
    values = [float(m) for m in re.findall(r"last 10% +([0-9.]+) ms", open(f"{state}/phases-{tag}").read())]
    return max(values) if values else float("nan")
print(f"1 worker  (batch {batch}):           {1000/one:8.1f} ms/step  {one*batch:7.1f} samples/s")
print(f"2 workers (batch {batch//2} per rank):   {1000/two:8.1f} ms/step  {two*batch:7.1f} samples/s")
print(f"1 worker  (batch {batch//2}):           {1000/half:8.1f} ms/step  (the ceiling's reference)")
print(f"speed-up 2 vs 1 workers: {two/one:.2f}x (ideal 2.00x on 2 cores)")
ceiling = half / one
print(f"ceiling set by the batch size: {ceiling:.2f}x (1 worker at batch {batch} vs at {batch//2}); "
      f"2 workers reach {two/one/ceiling:.2f} of it")
a, b, c = last_tenth(1), last_tenth(2), last_tenth("half")
print(f"steady state (median of the last 10% of steps, slowest rank): 1 worker {a:.1f} ms, 2 workers {b:.1f} ms, "
      f"1 worker at batch {batch//2} {c:.1f} ms: speed-up {a/b:.2f}x, ceiling {a/c:.2f}x")
PY
