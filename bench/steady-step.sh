#!/usr/bin/env bash
# Step time within one run: README command 1's teacher (examples/pipeline/teacher.yaml: tiny-ldm, 2 workers with one
# torch thread each, through the orchestrator, checkpoints every 100 steps) run SD_STEADY_RUNS times for
# SD_STEADY_STEPS steps. Each rank logs the median wall time of its first and last 10% of steps (a median, so one step
# slowed by a collection or the scheduler does not move it); this prints them, the last/first ratio per rank and run,
# and the ratio's min/median/max over all of them (1.00 = no slow-down).
# Options (environment): SD_STEADY_RUNS (default 3), SD_STEADY_STEPS (default 300), SD_STEADY_PORT (default 5091).
# The ranks log their split with the same line as bench/distill-scaling.sh ("step phases"), so each phase can be compared too.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
state="$repo/.local/steady"
port="${SD_STEADY_PORT:-5091}"
runs="${SD_STEADY_RUNS:-3}"
steps="${SD_STEADY_STEPS:-300}"
stack_worker_prefix=(setsid)   # each worker its own scheduling group (see deploy/local/stack.sh)
source "$repo/deploy/local/stack.sh"
stack_build
stack_start 2

stack_say "teacher (examples/pipeline/teacher.yaml), 2 workers x 1 thread, $steps steps, $runs runs; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
: >"$state/phases-seen"
: >"$state/phases"
for run in $(seq 1 "$runs"); do
  id="$(stack_submit examples/pipeline/teacher.yaml --set "schedule.steps=$steps")"
  "${orchestrator[@]}" watch "$id" >/dev/null
  grep -h "step phases" "$state"/worker-*.log | grep -v -F -x -f "$state/phases-seen" | sed "s/^/run $run: /" >>"$state/phases" || true
  grep -h "step phases" "$state"/worker-*.log >"$state/phases-seen" || true
  echo "run $run done (load average $(cut -d' ' -f1-3 /proc/loadavg))"
done
python3 - "$state/phases" <<'PY'
import re, statistics, sys
ratios = []
for line in open(sys.argv[1]):
    m = re.search(r"^(run \d+): .*?(Rank \d+/\d+) step phases.*median step time first 10% ([\d.]+) ms, last 10% ([\d.]+) ms", line)
    if not m: continue
    first, last = float(m.group(3)), float(m.group(4))
    ratios.append(last / first)
    print(f"{m.group(1)} {m.group(2)}: median step time first 10% {first:7.1f} ms, last 10% {last:7.1f} ms, last/first {last / first:.3f}")
if ratios:
    print(f"last/first over {len(ratios)} rank-runs: min {min(ratios):.3f}, median {statistics.median(ratios):.3f}, max {max(ratios):.3f} (goal <= 1.1)")
PY
