#!/usr/bin/env bash
# What shipping job logs costs a training step (real processes, through the orchestrator), in one run: the same 2-worker
# tiny-sd distillation with the agents' log shipping off (SD_SHIP_LOGS=0) and on, in interleaved rounds (off, on, on,
# off, ...), with schedule.log_every=1 so that every step writes a progress line for the shipper (the most a job ships
# at the default level). A step's time is rank 0's it/s series (one value per step, warm-up steps dropped); the ratio is
# the median step time with shipping on over the median with it off, per round pair, and their median. Jobs differ in
# step time by several percent from run to run, more than shipping can cost, so the figure judged against the 1% goal is
# measured directly: each agent logs, when it stops, the time it spent rendering and queuing lines and in its shipping
# calls (wall time, so an upper bound of the CPU), and the script divides the busier agent's by its steps' time.
# Options (environment): SD_LOGS_STEPS (default 40), SD_LOGS_BATCH (per rank, default 8), SD_LOGS_ROUNDS (pairs, default 2),
# SD_LOGS_PORT (5094).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
state="$repo/.local/logs-bench"
port="${SD_LOGS_PORT:-5094}"
steps="${SD_LOGS_STEPS:-40}"
batch="${SD_LOGS_BATCH:-8}"
rounds="${SD_LOGS_ROUNDS:-2}"
stack_worker_prefix=(setsid)
source "$repo/deploy/local/stack.sh"
# The two executables only (stack_build builds the whole solution, tests included).
stack_say "building the orchestrator and the worker (Release)"
dotnet build "$repo/src/Orchestrator" -c Release -nologo -v q && dotnet build "$repo/src/Worker" -c Release -nologo -v q
orchestrator=(dotnet "$repo/src/Orchestrator/bin/Release/net10.0/orchestrator.dll")
worker=(dotnet "$repo/src/Worker/bin/Release/net10.0/worker.dll")
stack_start 0
database="$("$repo/deploy/local/postgres.sh" start)"
database="${database%Database=*}Database=spectral_logs_bench"
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores"

teacher="$state/teacher.safetensors"
"${worker[@]}" train examples/pipeline/teacher.yaml --set schedule.steps=1 --set optimizer.warmup_steps=0 --out "$state/teacher-run" >/dev/null
cp "$state/teacher-run/model-ema.safetensors" "$teacher"

# psql from a libpq connection string made of the Npgsql one (Host, Port, Username, Database).
sql() {
  local host port user db
  host="$(sed -n 's/.*Host=\([^;]*\).*/\1/p' <<<"$database")"; port="$(sed -n 's/.*Port=\([^;]*\).*/\1/p' <<<"$database")"
  user="$(sed -n 's/.*Username=\([^;]*\).*/\1/p' <<<"$database")"; db="$(sed -n 's/.*Database=\([^;]*\).*/\1/p' <<<"$database")"
  psql -h "$host" -p "$port" -U "$user" -d "$db" -At -c "$1"
}

# measure SHIP ROUND: two agents with SD_SHIP_LOGS=SHIP run one job; prints "<median ms/step> <lines stored> <lines received>
# <shipping ms of the busier agent>", the last from the line each agent logs when it stops (time rendering and queuing
# lines plus the wall time of its shipping calls: an upper bound of the CPU that shipping took from the agent).
measure() {
  local ship="$1" round="$2" pids=() id n
  for n in 1 2; do
    SD_SHIP_LOGS="$ship" "${stack_worker_prefix[@]}" "${worker[@]}" agent --orchestrator "$SD_ORCHESTRATOR" --token "$stack_token" --device cpu \
      --name "logs-$ship-$round-$n" --threads 1 --work-dir "$state/worker-$ship-$round-$n" --data-root "$repo" >"$state/worker-$ship-$round-$n.log" 2>&1 &
    pids+=($!)
  done
  id="$(stack_submit examples/pipeline/student.yaml --set "teacher.checkpoint=$teacher" --set world_size=2 \
        --set "schedule.batch_size=$batch" --set "schedule.steps=$steps" --set schedule.log_every=1 \
        --set schedule.checkpoint_every=0 --set optimizer.warmup_steps=0)"
  "${orchestrator[@]}" watch "$id" >/dev/null
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  sql "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY 1000 / value) FROM metrics
       WHERE job_id = '$id' AND name = 'it_per_s' AND value > 0 AND step > 5" | tr '\n' ' '
  sql "SELECT count(*) FROM job_log_lines WHERE job_id = '$id'" | tr '\n' ' '
  sql "SELECT coalesce(sum(received), 0) FROM job_log_streams WHERE job_id = '$id'" | tr '\n' ' '
  cat "$state/worker-$ship-$round-1.log" "$state/worker-$ship-$round-2.log" | python3 -c '
import re, sys
costs = [float(a) + float(b) for a, b in re.findall(r"Log shipping this session: .*?([0-9.]+) ms rendering and queuing lines, ([0-9.]+) ms in shipping calls", sys.stdin.read())]
print(f"{max(costs, default=0):.1f}")'
}

stack_say "tiny-sd distillation, 2 workers, batch $batch per rank, $steps steps, $rounds rounds of off/on"
results="$state/results"
: >"$results"
for round in $(seq 1 "$rounds"); do
  if (( round % 2 )); then order=(0 1); else order=(1 0); fi
  for ship in "${order[@]}"; do
    echo "$round $ship $(measure "$ship" "$round")" | tee -a "$results"
  done
done
python3 - "$results" "$steps" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
off = {r[0]: float(r[2]) for r in rows if r[1] == "0"}
on = {r[0]: (float(r[2]), int(r[3]), int(r[4]), float(r[5])) for r in rows if r[1] == "1"}
steps = int(sys.argv[2])
ratios = [on[k][0] / off[k] for k in off if k in on]
shares = [on[k][3] / (steps * on[k][0]) for k in on]
for k in sorted(off):
    print(f"round {k}: off {off[k]:7.1f} ms/step, on {on[k][0]:7.1f} ms/step ({on[k][2]} lines shipped, {on[k][1]} stored): on/off {on[k][0]/off[k]:.4f}; "
          f"the busier agent spent {on[k][3]:.1f} ms queuing and shipping over {steps} steps = {100 * on[k][3] / (steps * on[k][0]):.3f}% of its step time")
print(f"median ratio on/off: {statistics.median(ratios):.4f} (min {min(ratios):.4f}, max {max(ratios):.4f}): step-time noise between jobs, "
      f"not the cost of shipping, which is measured directly:")
print(f"shipping's own time (queuing + shipping calls, wall) per step time: median {100 * statistics.median(shares):.3f}%, "
      f"max {100 * max(shares):.3f}% (goal: under 1%)")
PY
