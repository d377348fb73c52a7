#!/usr/bin/env bash
# Data-parallel efficiency on one machine: the same tiny-sd distillation with 1 worker at batch B and with 2 workers at
# batch B each (real processes through the orchestrator, all-reduce through shared memory, one torch thread per worker,
# so 2 workers use 2 cores). Efficiency = step time of 1 worker / step time of the slower of 2 (1.0 is linear scaling),
# in the steady state: the median of each rank's last 10% of steps. Repeated --runs times, the order alternating; prints
# each run, min/median/max, and the per-phase split of both configurations side by side (which phase grows when two
# ranks share the machine). --with-double-batch adds 1 worker at batch 2B as a column (the old baseline: the same global
# batch, but not linear in the batch, since a step's fixed costs do not shrink with it).
# SD_SHM_REGISTERED_MB=0 runs the workers with the copying shared-memory all-reduce (docs/collectives.md).
# Usage: bench/distill-scaling.sh [--runs 3] [--steps 80] [--batch 16] [--with-double-batch]
# (environment defaults: SD_SCALING_RUNS, SD_SCALING_STEPS, SD_SCALING_BATCH per rank, SD_SCALING_PORT 5090)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
state="$repo/.local/scaling"
port="${SD_SCALING_PORT:-5090}"
runs="${SD_SCALING_RUNS:-3}" steps="${SD_SCALING_STEPS:-80}" batch="${SD_SCALING_BATCH:-16}" double=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --with-double-batch) double=1; shift ;;
    *) echo "unknown option $1 (--runs, --steps, --batch, --with-double-batch)" >&2; exit 2 ;;
  esac
done
[ "$steps" -ge 20 ] || { echo "--steps must be at least 20 (the steady state is the last 10% of steps)" >&2; exit 2; }
stack_worker_prefix=(setsid)   # each worker its own scheduling group (see deploy/local/stack.sh)
source "$repo/deploy/local/stack.sh"
stack_build
stack_start 2

teacher="$(stack_distill_teacher)"

# measure TAG WORLD PER_RANK: one job; appends its ranks' "step phases" lines to $state/phases-TAG, prefixed with the run.
measure() {
  local tag="$1" world="$2" per_rank="$3"
  stack_distill_job "$teacher" "$world" "$per_rank" "$steps"
  # Each rank logs where its step time went (data, teacher, forward, backward, all-reduce, optimizer, gc, reports).
  stack_collect_phases "$tag" "run $run: "
}

stack_say "data-parallel efficiency: tiny-sd distillation, batch $batch per rank, $steps steps, $runs runs"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq 1 "$runs"); do
  if [ $((run % 2)) = 1 ]; then measure one 1 "$batch"; measure two 2 "$batch"
  else measure two 2 "$batch"; measure one 1 "$batch"; fi
  if [ "$double" = 1 ]; then measure double 1 $((2 * batch)); fi
  echo "run $run of $runs done (load average $(cut -d' ' -f1-3 /proc/loadavg))"
done
grep -h "Gradient overlap" "$state"/worker-*.log | sed 's/^.*\(Gradient overlap[^{]*\) .*$/\1/' | sort | uniq -c || true

echo
echo "data-parallel efficiency: tiny-sd distillation, batch $batch per rank, $steps steps, $runs runs"
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg)"
columns=("1 worker=one:0" "2w rank 0=two:0" "2w rank 1=two:1")
if [ "$double" = 1 ]; then columns+=("1w batch $((2 * batch))=double:0"); fi
python3 bench/step-phases.py --state "$state" --efficiency one,two "${columns[@]}"
echo "Efficiency: 1 worker at batch $batch over each of 2 workers at batch $batch (1.0 = linear). A phase that grows with 2"
echo "ranks on the machine is shared compute (teacher, forward, backward: memory bandwidth, caches) or the all-reduce (which"
echo "includes waiting for the slower rank)."
