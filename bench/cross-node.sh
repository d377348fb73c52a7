#!/usr/bin/env bash
# All-reduce bus bandwidth across simulated nodes (deploy/local/cluster-sim.sh): 2 nodes, one rank on each, links shaped
# with tc tbf to each rate. The project's TCP ring (bench/Benchmarks allreduce, --transport tcp) against the link's rate
# and against PyTorch's gloo (bench/peer/allreduce_gloo.py) between the same namespaces, rounds interleaved (the order
# alternates). Each round takes the best of N iterations per size; the table shows the median over rounds.
# Bus bandwidth as nccl-tests: bytes x 2(W-1)/W / time, which for W = 2 is bytes / time; the link's rate is its
# one-direction byte rate (Gbit/s / 8). Needs root (namespaces); gloo is skipped, saying why, without python3-torch.
# Usage: bench/cross-node.sh [--rates 1gbit,10gbit] [--sizes-mb 1,16,64] [--rounds 3] [--python /usr/bin/python3]
set -euo pipefail
cd "$(dirname "$0")/.."

rates=1gbit,10gbit sizes=1,16,64 rounds=3 python=/usr/bin/python3
while [ "$#" -gt 0 ]; do
  case "$1" in
    --rates) rates="$2"; shift 2 ;;
    --sizes-mb) sizes="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --python) python="$2"; shift 2 ;;
    *) echo "unknown option $1 (--rates, --sizes-mb, --rounds, --python)" >&2; exit 2 ;;
  esac
done

sim=deploy/local/cluster-sim.sh
name=xbench
work="$(mktemp -d)"
trap '"$sim" down "$name" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

dotnet build bench/Benchmarks -c Release -nologo -v q >/dev/null
dll="$PWD/bench/Benchmarks/bin/Release/net10.0/benchmarks.dll"
[ -f "$dll" ] || { echo "bench/Benchmarks did not build $dll" >&2; exit 1; }
gloo=1
if ! why="$("$python" -c 'import torch.distributed as d; assert d.is_available()' 2>&1)"; then
  gloo=0; echo "gloo skipped: $python cannot import torch.distributed: ${why##*$'\n'}"
fi
echo "all-reduce across 2 simulated nodes, 1 rank each, float32, 1 torch thread per rank"
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# One group of the TCP ring; prints rank 0's "BYTES SECONDS" lines.
run_tcp() {
  local rendezvous="$work/rv-$RANDOM$RANDOM"
  "$sim" exec "$name" n2 dotnet "$dll" allreduce --child-rank 1 --world 2 --rendezvous "$rendezvous" --transport tcp \
    --sizes-mb "$sizes" --advertise "$("$sim" address "$name" n2)" >/dev/null &
  local peer=$!
  "$sim" exec "$name" n1 dotnet "$dll" allreduce --child-rank 0 --world 2 --rendezvous "$rendezvous" --transport tcp \
    --sizes-mb "$sizes" --advertise "$("$sim" address "$name" n1)"
  wait "$peer"
}

run_gloo() {
  local port=$((29500 + RANDOM % 1000)) master; master="$("$sim" address "$name" n1)"
  GLOO_SOCKET_IFNAME=eth0 OMP_NUM_THREADS=1 "$sim" exec "$name" n2 "$python" bench/peer/allreduce_gloo.py --rank 1 --world 2 \
    --port "$port" --master-addr "$master" --sizes-mb "$sizes" >/dev/null &
  local peer=$!
  GLOO_SOCKET_IFNAME=eth0 OMP_NUM_THREADS=1 "$sim" exec "$name" n1 "$python" bench/peer/allreduce_gloo.py --rank 0 --world 2 \
    --port "$port" --master-addr "$master" --sizes-mb "$sizes"
  wait "$peer"
}

results="$work/results"
for rate in ${rates//,/ }; do
  "$sim" up "$name" 2 "$rate" 2>/dev/null
  for round in $(seq 1 "$rounds"); do
    transports="tcp"; [ "$gloo" = 1 ] && transports="tcp gloo"
    [ $((round % 2)) = 0 ] && [ "$gloo" = 1 ] && transports="gloo tcp"
    for transport in $transports; do
      "run_$transport" | awk -v rate="$rate" -v t="$transport" 'NF == 2 && $1 ~ /^[0-9]+$/ { print rate, t, $1, $2 }' >>"$results"
    done
  done
  "$sim" down "$name"
done

echo
printf '%-7s %6s %12s %12s %10s %10s %9s\n' link size "tcp GB/s" "gloo GB/s" tcp/link gloo/link tcp/gloo
awk '
  function rate_bytes(r,   n) { n = r + 0; if (r ~ /gbit$/) return n * 1e9 / 8; if (r ~ /mbit$/) return n * 1e6 / 8; return n / 8 }
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { bw[$1 " " $3 " " $2] = bw[$1 " " $3 " " $2] " " ($3 / $4 / 1e9); if (!(($1 " " $3) in seen)) { seen[$1 " " $3] = 1; order[++count] = $1 " " $3 } }
  END {
    for (k = 1; k <= count; k++) {
      split(order[k], key, " "); link = rate_bytes(key[1]) / 1e9
      tcp = median(bw[order[k] " tcp"]); gloo = (order[k] " gloo") in bw ? median(bw[order[k] " gloo"]) : 0
      printf "%-7s %3d MB %12.3f %12s %10.2f %10s %9s\n", key[1], key[2] / 1048576, tcp, gloo ? sprintf("%.3f", gloo) : "-",
        tcp / link, gloo ? sprintf("%.2f", gloo / link) : "-", gloo ? sprintf("%.2f", tcp / gloo) : "-"
    }
  }' "$results"
echo "busbw in GB/s (median over $rounds rounds of each round's best); link = the tbf rate in bytes/s, each direction."
