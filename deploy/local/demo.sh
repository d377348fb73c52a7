#!/usr/bin/env bash
# README command 1: the main job, locally on CPU.
# Builds, starts a local PostgreSQL (deploy/local/postgres.sh), the orchestrator and two CPU worker agents, then
# submits the pipeline in examples/pipeline/: a tiny teacher (train), an SD student distilled from the teacher's
# model (distill), and an evaluation of the student (evaluate), each on 2 ranks. Shows live progress, prints the
# results table and where the sample grids and plots are, and stops everything it started.
#
# Environment: SD_DEMO_PORT (orchestrator port, default 5080), SD_INCEPTION_WEIGHTS (FID weights file, optional;
# see docs/fid-weights.md), SD_DEMO_STEPS (override the training steps of teacher and student, e.g. 60 for a quick look).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
state="$repo/.local/demo"
port="${SD_DEMO_PORT:-5080}"
address="http://127.0.0.1:$port"
token="demo-worker-token"
export SD_ORCHESTRATOR="$address" SD_API_KEY="demo-submit-key" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# --- prerequisites ---------------------------------------------------------------------------------------
if ! command -v dotnet >/dev/null || ! dotnet --list-sdks | grep -q '^10\.'; then
  echo "The .NET 10 SDK is required (https://dot.net, or the dotnet-install script); then rerun this command." >&2
  exit 1
fi
if ! fc-list 2>/dev/null | grep -qi dejavu; then
  say "installing fonts for plot labels (fontconfig, fonts-dejavu-core)"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get install -y -qq --no-install-recommends fontconfig fonts-dejavu-core >/dev/null || echo "(plots will have no text)"
fi

say "building (Release)"
dotnet build Orchestrator.sln -c Release -nologo -v q
orchestrator=(dotnet "$repo/src/Orchestrator/bin/Release/net10.0/orchestrator.dll")
worker=(dotnet "$repo/src/Worker/bin/Release/net10.0/worker.dll")

# --- services --------------------------------------------------------------------------------------------
pids=()
started_postgres=0
cleanup() {
  say "stopping what this script started"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$started_postgres" = 1 ]; then deploy/local/postgres.sh stop || true; fi
}
trap cleanup EXIT

say "starting PostgreSQL"
deploy/local/postgres.sh status >/dev/null 2>&1 || started_postgres=1
database="$(deploy/local/postgres.sh start)"
echo "$database"

rm -rf "$state"
mkdir -p "$state"
say "starting the orchestrator on $address (log: $state/orchestrator.log)"
"${orchestrator[@]}" serve --Orchestrator:Database="$database" --Orchestrator:Port="$port" \
  --Orchestrator:ArtifactRoot="$state/artifacts" --Orchestrator:WorkerToken="$token" \
  --Orchestrator:ApiKeys:0:Key="$SD_API_KEY" --Orchestrator:ApiKeys:0:Role=submit >"$state/orchestrator.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do "${orchestrator[@]}" health >/dev/null 2>&1 && break; sleep 1; done
"${orchestrator[@]}" health >/dev/null || { tail -n 30 "$state/orchestrator.log"; exit 1; }

say "starting two CPU workers (1 torch thread each; logs: $state/worker-*.log)"
for n in 1 2; do
  "${worker[@]}" agent --orchestrator "$address" --token "$token" --device cpu --name "cpu-worker-$n" \
    --threads 1 --work-dir "$state/worker-$n" >"$state/worker-$n.log" 2>&1 &
  pids+=($!)
done
for _ in $(seq 1 60); do
  [ "$("${orchestrator[@]}" workers --json 2>/dev/null | grep -o '"idle"' | wc -l)" -ge 2 ] && break; sleep 1
done
"${orchestrator[@]}" workers

# --- the pipeline ----------------------------------------------------------------------------------------
steps=()
[ -n "${SD_DEMO_STEPS:-}" ] && steps=(--set "schedule.steps=$SD_DEMO_STEPS" --set "schedule.checkpoint_every=$(( (SD_DEMO_STEPS + 2) / 3 ))")
submit() {
  "${orchestrator[@]}" submit --json "$@" | sed -n 's/^{ *"id": *"\([^"]*\)".*/\1/p' | head -n 1
}
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
