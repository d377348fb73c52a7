#!/usr/bin/env bash
# README command 1: the main job, locally on CPU.
# Builds, starts a local PostgreSQL (deploy/local/postgres.sh), the orchestrator and two CPU worker agents, then
# submits the pipeline in examples/pipeline/: a tiny teacher (train), an SD student distilled from the teacher's
# model (distill), and an evaluation of the student (evaluate), each on 2 ranks. Shows live progress, prints the
# results table and where the sample grids and plots are, and stops everything it started.
#
# Environment: SD_DEMO_PORT (orchestrator port, default 5080), SD_INCEPTION_WEIGHTS (FID weights file, optional;
# see docs/fid-weights.md), SD_DEMO_STEPS (override the training steps of teacher and student, e.g. 60 for a quick look),
# SD_DEMO_KEEP=1 (leave PostgreSQL, the orchestrator and the workers running for browsing the dashboard; the script
# prints the command that stops them).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
state="$repo/.local/demo"
port="${SD_DEMO_PORT:-5080}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
source "$repo/deploy/local/stack.sh"
say() { stack_say "$@"; }

if ! fc-list 2>/dev/null | grep -qi dejavu; then
  say "installing fonts for plot labels (fontconfig, fonts-dejavu-core)"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get install -y -qq --no-install-recommends fontconfig fonts-dejavu-core >/dev/null || echo "(plots will have no text)"
fi
stack_build
stack_start 2
stack_dashboard

# --- the pipeline ----------------------------------------------------------------------------------------
steps=()
[ -n "${SD_DEMO_STEPS:-}" ] && steps=(--set "schedule.steps=$SD_DEMO_STEPS" --set "schedule.checkpoint_every=$(( (SD_DEMO_STEPS + 2) / 3 ))")
submit() { stack_submit "$@"; }
run() {
  local id="$1"
  "${orchestrator[@]}" watch "$id"
}

say "1/3 training the tiny teacher (examples/pipeline/teacher.yaml)"
teacher="$(submit examples/pipeline/teacher.yaml "${steps[@]}")"
run "$teacher"

say "2/3 distilling the SD student from teacher $teacher (examples/pipeline/student.yaml)"
student="$(submit examples/pipeline/student.yaml --set "teacher.checkpoint=job:$teacher" "${steps[@]}")"
run "$student"

say "3/3 evaluating the student (examples/pipeline/evaluate.yaml)"
fid=()
[ -n "${SD_INCEPTION_WEIGHTS:-}" ] && fid=(--set "evaluation.inception_weights=$SD_INCEPTION_WEIGHTS")
evaluation="$(submit examples/pipeline/evaluate.yaml --set "model.checkpoint=job:$student" "${fid[@]}")"
run "$evaluation"

say "results"
"${orchestrator[@]}" runs
echo
echo "sample grid and plots (rank 0 of the evaluation):"
find "$state" -path "*$evaluation*" -name "*.png" | sort
echo "teacher and student models: $state/artifacts (job ids $teacher, $student)"
echo "everything this run wrote: $state"
stack_dashboard
[ "${SD_DEMO_KEEP:-0}" = 1 ] && stack_keep
exit 0
