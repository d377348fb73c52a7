# Shared by deploy/local/demo.sh and bench/distill-scaling.sh (source it): starts the local PostgreSQL, an orchestrator
# and N CPU worker agents from the Release build, and stops what it started on exit.
# Needs: repo (repository root), state (a scratch folder), port (orchestrator port). Sets: orchestrator, worker (commands).

stack_pids=()
# Benchmarks set stack_worker_prefix=(setsid): a worker in its own session is its own scheduling group under Linux's
# autogroup, so on a loaded machine two workers get two shares of the CPU, as two workers on two nodes would.
stack_worker_prefix=("${stack_worker_prefix[@]}")
# Extra arguments of `orchestrator serve`, and the orchestrator address the workers use (bench/cross-node-distill.sh
# sets both: the orchestrator listens on every interface, the workers on simulated nodes reach it over their bridge).
stack_orchestrator_args=("${stack_orchestrator_args[@]}")
stack_worker_orchestrator="${stack_worker_orchestrator:-}"
# A command stack_stop runs last (bench/cross-node-distill.sh removes its simulated nodes).
stack_cleanup="${stack_cleanup:-}"
stack_started_postgres=0
stack_token="local-worker-token"
export SD_API_KEY="${SD_API_KEY:-local-submit-key}" SD_ORCHESTRATOR="http://127.0.0.1:$port"

# stack_worker_launch N CMD...: starts worker agent N. A script may define its own after sourcing this file, e.g. to
# start each agent on a simulated node.
stack_worker_launch() { shift; "${stack_worker_prefix[@]}" "$@"; }

stack_say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

stack_build() {
  if ! command -v dotnet >/dev/null || ! dotnet --list-sdks | grep -q '^10\.'; then
    echo "The .NET 10 SDK is required (https://dot.net, or the dotnet-install script); then rerun this command." >&2
    exit 1
  fi
  stack_say "building (Release)"
  dotnet build "$repo/Orchestrator.sln" -c Release -nologo -v q
  orchestrator=(dotnet "$repo/src/Orchestrator/bin/Release/net10.0/orchestrator.dll")
  worker=(dotnet "$repo/src/Worker/bin/Release/net10.0/worker.dll")
}

stack_stop() {
  stack_say "stopping what this script started"
  for pid in "${stack_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${stack_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$stack_started_postgres" = 1 ]; then "$repo/deploy/local/postgres.sh" stop || true; fi
  if [ -n "${stack_cleanup:-}" ]; then eval "$stack_cleanup"; fi
}

# stack_keep: leave what was started running after the script ends, and write $state/stop.sh, which stops it.
stack_keep() {
  trap - EXIT
  {
    echo '#!/usr/bin/env bash'
    echo "# Stops the stack deploy/local/demo.sh left running (SD_DEMO_KEEP=1)."
    echo "for pid in ${stack_pids[*]}; do kill -TERM \"\$pid\" 2>/dev/null || true; done"
    echo "for pid in ${stack_pids[*]}; do while kill -0 \"\$pid\" 2>/dev/null; do sleep 0.5; done; done"
    [ "$stack_started_postgres" = 1 ] && echo "'$repo/deploy/local/postgres.sh' stop"
    echo "echo stopped"
  } >"$state/stop.sh"
  chmod +x "$state/stop.sh"
  stack_say "left running (SD_DEMO_KEEP=1); stop it with: $state/stop.sh"
}

# stack_dashboard: where the dashboard of the stack is, and the key that signs in.
stack_dashboard() {
  echo "dashboard: http://127.0.0.1:$((port + 1))/ui   (sign in with the API key: $SD_API_KEY)"
}

# stack_start WORKERS: PostgreSQL, the orchestrator on $port, WORKERS agents with one torch thread each.
stack_start() {
  local workers="$1" database n
  trap stack_stop EXIT
  stack_say "starting PostgreSQL"
  "$repo/deploy/local/postgres.sh" status >/dev/null 2>&1 || stack_started_postgres=1
  database="$("$repo/deploy/local/postgres.sh" start)"
  echo "$database"
  rm -rf "$state"
  mkdir -p "$state"
  stack_say "starting the orchestrator on $SD_ORCHESTRATOR (log: $state/orchestrator.log)"
  # A fresh database per run keeps this run's history apart from earlier ones (the orchestrator creates it).
  local name="spectral_$(basename "$state" | tr -c 'a-z0-9\n' '_')"
  "$repo/deploy/local/postgres.sh" reset-db "$name"
  # Specs may name absolute paths under the repository (e.g. a teacher file in .local/) and beside SD_INCEPTION_WEIGHTS.
  local roots=(--Orchestrator:DataRoots:0="$repo")
  [ -n "${SD_INCEPTION_WEIGHTS:-}" ] && roots+=(--Orchestrator:DataRoots:1="$(cd "$(dirname "$SD_INCEPTION_WEIGHTS")" && pwd)")
  "${orchestrator[@]}" serve --Orchestrator:Database="${database%Database=*}Database=$name" \
    --Orchestrator:Port="$port" --Orchestrator:ArtifactRoot="$state/artifacts" --Orchestrator:WorkerToken="$stack_token" \
    --Orchestrator:ApiKeys:0:Key="$SD_API_KEY" --Orchestrator:ApiKeys:0:Role=submit "${roots[@]}" "${stack_orchestrator_args[@]}" >"$state/orchestrator.log" 2>&1 &
  stack_pids+=($!)
  for _ in $(seq 1 60); do "${orchestrator[@]}" health >/dev/null 2>&1 && break; sleep 1; done
  "${orchestrator[@]}" health >/dev/null || { tail -n 30 "$state/orchestrator.log"; exit 1; }

  stack_say "starting $workers CPU workers (1 torch thread each, so ranks sharing this machine do not oversubscribe it; logs: $state/worker-*.log)"
  for n in $(seq 1 "$workers"); do
    stack_worker_launch "$n" "${worker[@]}" agent --orchestrator "${stack_worker_orchestrator:-$SD_ORCHESTRATOR}" --token "$stack_token" --device cpu --name "cpu-worker-$n" \
      --threads 1 --work-dir "$state/worker-$n" --data-root "$repo" >"$state/worker-$n.log" 2>&1 &
    stack_pids+=($!)
  done
  for _ in $(seq 1 60); do
    [ "$("${orchestrator[@]}" workers --json 2>/dev/null | grep -o '"idle"' | wc -l)" -ge "$workers" ] && break; sleep 1
  done
  "${orchestrator[@]}" workers
}

# stack_submit SPEC [--set k=v ...]: prints the new job's id.
stack_submit() {
  "${orchestrator[@]}" submit --json "$@" | sed -n 's/^{ *"id": *"\([^"]*\)".*/\1/p' | head -n 1
}

# stack_distill_teacher: README command 1's teacher trained for one step (enough to distill from in a benchmark); prints
# the path of its EMA weights.
stack_distill_teacher() {
  "${worker[@]}" train examples/pipeline/teacher.yaml --set schedule.steps=1 --set optimizer.warmup_steps=0 --out "$state/teacher-run" >/dev/null
  cp "$state/teacher-run/model-ema.safetensors" "$state/teacher.safetensors"
  echo "$state/teacher.safetensors"
}

# stack_distill_job TEACHER WORLD PER_RANK STEPS: runs the tiny-sd student's distillation (examples/pipeline/student.yaml)
# with that world size, per-rank batch and steps, no checkpoints and one progress report, and waits until it ends.
stack_distill_job() {
  local id
  id="$(stack_submit examples/pipeline/student.yaml --set "teacher.checkpoint=$1" --set "world_size=$2" \
        --set "schedule.batch_size=$3" --set "schedule.steps=$4" --set "schedule.log_every=$4" \
        --set schedule.checkpoint_every=0 --set optimizer.warmup_steps=0)"
  "${orchestrator[@]}" watch "$id" >/dev/null
}

# stack_collect_phases TAG PREFIX: appends the "step phases" lines the workers logged since the last call to
# $state/phases-TAG, each prefixed with PREFIX (bench/step-phases.py reads them).
stack_collect_phases() {
  touch "$state/phases-seen"
  grep -h "step phases" "$state"/worker-*.log | grep -v -F -x -f "$state/phases-seen" | sed "s/^/$2/" >>"$state/phases-$1" || true
  grep -h "step phases" "$state"/worker-*.log >"$state/phases-seen" || true
}

