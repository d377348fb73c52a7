#!/usr/bin/env bash
# A 2-node tiny-sd distillation across simulated nodes (deploy/local/cluster-sim.sh): one worker agent (one torch
# thread) on each of 2 nodes, their links shaped with tc tbf to each rate in turn; PostgreSQL and the orchestrator run in
# this machine's own namespace, reached by the nodes over the cluster's bridge. The two ranks all-reduce over the TCP
# ring between the nodes. For each rate it runs --runs jobs of 2 ranks at --batch per rank and prints the steady-state
# step time (median of the last 10% of steps, slower rank) and each rank's per-phase split, the rates side by side.
# Needs root (namespaces, tc). Compare with bench/distill-scaling.sh, where the same 2 ranks share one node's memory.
# Usage: bench/cross-node-distill.sh [--rates 1gbit,10gbit] [--runs 1] [--steps 40] [--batch 16]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
state="$repo/.local/cross-node-distill"
port="${SD_XDISTILL_PORT:-5095}"
rates=1gbit,10gbit runs=1 steps=40 batch=16
while [ "$#" -gt 0 ]; do
  case "$1" in
    --rates) rates="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    *) echo "unknown option $1 (--rates, --runs, --steps, --batch)" >&2; exit 2 ;;
  esac
done
[ "$steps" -ge 20 ] || { echo "--steps must be at least 20 (the steady state is the last 10% of steps)" >&2; exit 2; }

sim="$repo/deploy/local/cluster-sim.sh"
cluster=xdistill
"$sim" down "$cluster" >/dev/null 2>&1 || true
"$sim" up "$cluster" 2 "${rates%%,*}"
trap '"$sim" down "$cluster" >/dev/null 2>&1 || true' EXIT
node_address() { "$sim" address "$cluster" "$1"; }
bridge="$(node_address n1)"; bridge="${bridge%.*}.1"

stack_orchestrator_args=(--Orchestrator:Host=0.0.0.0)
stack_worker_orchestrator="http://$bridge:$port"
stack_cleanup='"$sim" down "$cluster" >/dev/null 2>&1 || true'
source "$repo/deploy/local/stack.sh"
# Worker agent N runs on node nN and advertises that node's address to its peer.
# setsid: each agent its own scheduling group, as on its own machine (see deploy/local/stack.sh).
stack_worker_launch() { local n="$1"; shift; setsid "$sim" exec "$cluster" "n$n" "$@" --advertise "$(node_address "n$n")"; }
stack_build
stack_start 2
teacher="$(stack_distill_teacher)"

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
columns=()
for rate in ${rates//,/ }; do
  for node in n1 n2; do "$sim" rate "$cluster" "$node" "$rate"; done
  stack_say "2-node distillation, links at $rate: $runs run(s) of $steps steps, batch $batch per rank"
  for run in $(seq 1 "$runs"); do
    stack_distill_job "$teacher" 2 "$batch" "$steps"
    stack_collect_phases "$rate" "run $run: "
  done
  columns+=("$rate rank 0=$rate:0" "$rate rank 1=$rate:1")
done
grep -h "Gradient overlap" "$state"/worker-*.log | sed 's/^.*\(Gradient overlap[^{]*\) .*$/\1/' | sort | uniq -c || true

echo
echo "2-node tiny-sd distillation across simulated nodes (TCP ring, 1 rank and 1 torch thread per node), batch $batch per rank, $steps steps"
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/step-phases.py --state "$state" --steady "$rates" "${columns[@]}"
echo "all-reduce: each step's gradient sync over the shaped link, including the wait for the slower rank."
