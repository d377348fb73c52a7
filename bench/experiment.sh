#!/usr/bin/env bash
# The CPU-scale experiment as a sweep (design and reasoning: bench/results/experiment.md). Starts a local stack
# (PostgreSQL, the orchestrator, 2 CPU workers with 1 torch thread each: deploy/local/stack.sh), submits
# bench/experiment/sweep.yaml, follows it, then writes the sweep report (JSON and PNG curves) and fills the results
# section of $SD_EXPERIMENT_OUT/experiment.md (mean ± std over seeds, paired differences with 95% intervals, gate evidence).
# Options (environment):
#   SD_EXPERIMENT_OUT      where results go (default bench/results; a smoke run should use another folder)
#   SD_EXPERIMENT_STEPS    override every arm's schedule.steps (e.g. 20 for a smoke run)
#   SD_EXPERIMENT_SEEDS    override the seeds, e.g. "1 2"
#   SD_EXPERIMENT_SAMPLES  override evaluation.num_samples (num_real follows at twice as many)
#   SD_EXPERIMENT_DDIM     override evaluation.ddim_steps
#   SD_INCEPTION_WEIGHTS   FID weights file (docs/fid-weights.md); without it FID is n/a
#   SD_EXPERIMENT_PORT     orchestrator port (default 5091)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
out="${SD_EXPERIMENT_OUT:-$repo/bench/results}"
state="$repo/.local/experiment"
port="${SD_EXPERIMENT_PORT:-5091}"
source "$repo/deploy/local/stack.sh"
mkdir -p "$out"

sets=()
if [ -n "${SD_EXPERIMENT_STEPS:-}" ]; then
  sets+=(--set "schedule.steps=$SD_EXPERIMENT_STEPS" --set "schedule.checkpoint_every=0" --set "schedule.log_every=$(( (SD_EXPERIMENT_STEPS + 9) / 10 ))"
         --set "optimizer.warmup_steps=$(( SD_EXPERIMENT_STEPS / 10 ))")
fi
[ -n "${SD_EXPERIMENT_SAMPLES:-}" ] && sets+=(--set "evaluation.num_samples=$SD_EXPERIMENT_SAMPLES" --set "evaluation.num_real=$(( 2 * SD_EXPERIMENT_SAMPLES ))")
[ -n "${SD_EXPERIMENT_DDIM:-}" ] && sets+=(--set "evaluation.ddim_steps=$SD_EXPERIMENT_DDIM")
[ -n "${SD_INCEPTION_WEIGHTS:-}" ] && sets+=(--set "evaluation.inception_weights=$SD_INCEPTION_WEIGHTS")
seeds=()
[ -n "${SD_EXPERIMENT_SEEDS:-}" ] && seeds=(--seeds $SD_EXPERIMENT_SEEDS)

stack_build
stack_start 2
started=$(date +%s)
stack_say "submitting bench/experiment/sweep.yaml ${sets[*]} ${seeds[*]}"
sweep=$("${orchestrator[@]}" sweep submit bench/experiment/sweep.yaml --json "${sets[@]}" "${seeds[@]}" | sed -n 's/^{ *"id": *"\([^"]*\)".*/\1/p' | head -n 1)
[ -n "$sweep" ] || { echo "the sweep was not accepted" >&2; exit 1; }
"${orchestrator[@]}" sweep show "$sweep"

while :; do
  line=$("${orchestrator[@]}" sweep show "$sweep" --json | /usr/bin/env python3 -c '
import json, sys, collections
s = json.load(sys.stdin)
states = collections.Counter(j.get("state", "JOB_STATE_QUEUED").replace("JOB_STATE_", "").lower() for j in s["jobs"])
print(s.get("state", "").replace("SWEEP_STATE_", "").lower(), ", ".join(f"{n} {k}" for k, n in sorted(states.items())))')
  printf '%s  %4d min  %s\n' "$(date +%H:%M:%S)" $(( ($(date +%s) - started) / 60 )) "$line"
  case "$line" in active*) sleep 30 ;; *) break ;; esac
done
wall=$(( $(date +%s) - started ))

"${orchestrator[@]}" sweep report "$sweep" --json --plots "$out/experiment" > "$out/experiment-report.json"
"${orchestrator[@]}" sweep report "$sweep"
/usr/bin/env python3 "$repo/bench/experiment/render.py" "$out/experiment-report.json" "$out/experiment.md" "$wall" \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) ($(nproc) cores)" "${sets[*]} ${seeds[*]}"
echo "results: $out/experiment.md, $out/experiment-report.json, $out/experiment/*.png"
