#!/usr/bin/env bash
# Memory and step time of long-lived worker agents across many jobs: README command 1's teacher
# (examples/pipeline/teacher.yaml: tiny-ldm, 2 workers with one torch thread each, through the orchestrator) run
# SD_AGENT_JOBS times in a row by the same two agent processes. After each job it prints each agent's resident memory
# (VmRSS) and each rank's mean step time, then the last/first ratios (1.00 = flat). A steady rise in memory from job to
# job is something an agent keeps per job; a rise that stops after the first jobs is the allocators' caches filling.
# Options (environment): SD_AGENT_JOBS (default 6), SD_AGENT_STEPS (default 60), SD_AGENT_PORT (default 5092).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
state="$repo/.local/agent-memory"
port="${SD_AGENT_PORT:-5092}"
jobs="${SD_AGENT_JOBS:-6}"
steps="${SD_AGENT_STEPS:-60}"
stack_worker_prefix=(setsid)   # each worker its own scheduling group (see deploy/local/stack.sh)
source "$repo/deploy/local/stack.sh"
stack_build
stack_start 2

rss_mb() {  # the resident memory of agent N in MB
  local pid
  for pid in $(pgrep -f -- "--work-dir $state/worker-$1 "); do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dotnet ] || continue   # not a setsid wrapper
    awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status"
    return
  done
  echo nan
}

stack_say "teacher, 2 workers x 1 thread, $jobs jobs of $steps steps in the same agents; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
: >"$state/rows"
: >"$state/phases-seen"
echo "before any job: agent 1 $(rss_mb 1) MB, agent 2 $(rss_mb 2) MB"
for job in $(seq 1 "$jobs"); do
  id="$(stack_submit examples/pipeline/teacher.yaml --set "schedule.steps=$steps" --set schedule.checkpoint_every=0)"
  "${orchestrator[@]}" watch "$id" >/dev/null
  # Each rank's "step phases" line of this job ends with its mean step time ("total N ms/step").
  step_ms="$(grep -h "step phases" "$state"/worker-*.log | grep -v -F -x -f "$state/phases-seen" \
    | sed -n 's/.*total \([0-9.]*\) ms\/step.*/\1/p' | sort -n | tail -n 1 || true)"
  grep -h "step phases" "$state"/worker-*.log >"$state/phases-seen" || true
  row="$job $(rss_mb 1) $(rss_mb 2) ${step_ms:-nan}"
  echo "$row" >>"$state/rows"
  echo "job $job: agent 1 $(echo "$row" | cut -d' ' -f2) MB, agent 2 $(echo "$row" | cut -d' ' -f3) MB, slower rank ${step_ms:-?} ms/step (load average $(cut -d' ' -f1-3 /proc/loadavg))"
done
python3 - "$state/rows" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
first, last = rows[0], rows[-1]
for agent in (1, 2):
    growth = [float(rows[i][agent]) - float(rows[i - 1][agent]) for i in range(1, len(rows))]
    print(f"agent {agent}: {first[agent]} MB after job 1, {last[agent]} MB after job {last[0]} (last/first {float(last[agent]) / float(first[agent]):.3f}); "
          f"per job after the first: {', '.join(f'{g:+.0f}' for g in growth)} MB")
print(f"step time: {first[3]} ms after job 1, {last[3]} ms in job {last[0]} (last/first {float(last[3]) / float(first[3]):.3f})")
PY
