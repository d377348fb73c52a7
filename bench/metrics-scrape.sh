#!/usr/bin/env bash
# How long one /metrics scrape takes with 10,000 simulated workers: an orchestrator (`orchestrator serve`, Release) on a
# fresh database of the local PostgreSQL (deploy/local/postgres.sh), filled with worker rows (busy, idle and lost, CPU
# and CUDA), jobs in every state (the running ones with progress and reported metrics) and evaluations; then curl scrapes
# /metrics over loopback with a bearer key, as Prometheus does. Prints min, median and max of the scrapes, the
# orchestrator's own database read time (sd_metrics_database_read_seconds), the CPU model, and the median against the
# goal of 100 ms, with the machine's load average (the figures mean little on a machine busy with other work).
# Usage: bench/metrics-scrape.sh [--workers 10000] [--jobs 5000] [--running 500] [--scrapes 30] [--port 5390] [--no-build]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
workers=10000 jobs=5000 running=500 scrapes=30 port=5390 build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) workers="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --running) running="$2"; shift 2 ;;
    --scrapes) scrapes="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "unknown option $1 (see the usage line at the top of $0)" >&2; exit 2 ;;
  esac
done
key="bench-metrics-read-key"
state="$(mktemp -d)"
dashboard="http://127.0.0.1:$((port + 1))"

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores"
[ "$build" = 1 ] && dotnet build "$repo/src/Orchestrator" -c Release -nologo -v q >/dev/null
started_postgres=0
"$repo/deploy/local/postgres.sh" status >/dev/null 2>&1 || started_postgres=1
connection="$("$repo/deploy/local/postgres.sh" start)"
name="spectral_bench_metrics"
"$repo/deploy/local/postgres.sh" reset-db "$name"
pg_port="$(sed -n 's/.*Port=\([0-9]*\).*/\1/p' <<<"$connection")"
pg_user="$(sed -n 's/.*Username=\([^;]*\).*/\1/p' <<<"$connection")"
psql_run() { psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U "$pg_user" -d "$name" "$@"; }

pid=""
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ "$started_postgres" = 1 ] && "$repo/deploy/local/postgres.sh" stop >/dev/null || true
  rm -rf "$state"
}
trap cleanup EXIT

dotnet "$repo/src/Orchestrator/bin/Release/net10.0/orchestrator.dll" serve --Orchestrator:Database="${connection%Database=*}Database=$name" \
  --Orchestrator:Port="$port" --Orchestrator:ArtifactRoot="$state/artifacts" --Orchestrator:WorkerToken="bench-metrics-worker-token" \
  --Orchestrator:ApiKeys:0:Key="$key" --Orchestrator:ApiKeys:0:Role=read --Serilog:MinimumLevel:Default=Warning >"$state/orchestrator.log" 2>&1 &
pid=$!
scrape() { curl -s -o "${1:-/dev/null}" -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $key" "$dashboard/metrics"; }
for _ in $(seq 1 60); do [ "$(scrape | cut -d' ' -f1)" = 200 ] && break; sleep 1; done
[ "$(scrape | cut -d' ' -f1)" = 200 ] || { tail -n 30 "$state/orchestrator.log"; exit 1; }

echo "filling the database: $workers workers, $jobs jobs ($running running), evaluations"
psql_run <<SQL
INSERT INTO workers (id, name, node, device, device_index, state, lease_expires_at, last_heartbeat_at)
SELECT gen_random_uuid(), 'sim-' || i, 'node-' || (i / 8), CASE WHEN i % 4 = 0 THEN 'cuda' ELSE 'cpu' END, i % 8,
       CASE WHEN i % 10 < 6 THEN 'busy' WHEN i % 10 < 9 THEN 'idle' ELSE 'lost' END, now() + interval '1 day', now()
FROM generate_series(1, $workers) i;
INSERT INTO jobs (id, name, type, state, spec, spec_json, preset, device, world_size, max_restarts,
                  progress_step, progress_total, steps_per_second, progress_metrics)
SELECT gen_random_uuid(), 'sim-job-' || i, 'TRAIN',
       CASE WHEN i <= $running THEN 'RUNNING' WHEN i % 5 = 0 THEN 'QUEUED' WHEN i % 5 = 1 THEN 'FAILED' ELSE 'SUCCEEDED' END,
       '\x'::bytea, '{}', 'tiny-sd', CASE WHEN i % 3 = 0 THEN 'cuda' ELSE 'cpu' END, 8, 0, i % 1000, 1000, 4.5,
       jsonb_build_object('loss', 1.0 / i, 'loss_ddpm', 0.7 / i, 'loss_freq', 0.2 / i, 'lr', 1e-4, 'grad_norm', 0.5, 'allreduce_seconds', 0.02)
FROM generate_series(1, $jobs) i;
INSERT INTO evaluations (job_id, attempt, preset, num_samples, fid, low_frequency_error, high_frequency_error, extra)
SELECT id, 1, 'tiny-sd', 1000, 30 + random(), 0.1, 0.3, '{"params": 410000, "macs": 52000000}'
FROM jobs WHERE state = 'SUCCEEDED' ORDER BY seq LIMIT 200;
ANALYZE;
SQL

for _ in $(seq 1 40); do scrape >/dev/null; done   # warm-up: tiered JIT (a method is recompiled optimised after 30 calls), connection pool
times=()
load_before="$(cut -d' ' -f1 /proc/loadavg)"
for _ in $(seq 1 "$scrapes"); do times+=("$(scrape | cut -d' ' -f2)"); done
echo "load average (1 min) before and after the scrapes: $load_before, $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores"
scrape "$state/metrics.txt" >/dev/null
read_seconds="$(sed -n 's/^sd_metrics_database_read_seconds \(.*\)/\1/p' "$state/metrics.txt")"
series="$(grep -vc '^#' "$state/metrics.txt")"
printf '%s\n' "${times[@]}" | sort -g | awk -v n="$scrapes" -v read="$read_seconds" -v series="$series" -v workers="$workers" '
  { t[NR] = $1 * 1000 }
  END {
    median = (n % 2) ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2
    printf "scrapes: %d of /metrics with %d workers in the database (%d samples per scrape)\n", n, workers, series
    printf "time per scrape (curl, loopback): min %.1f ms, median %.1f ms, max %.1f ms\n", t[1], median, t[n]
    printf "database read inside the last scrape: %.1f ms\n", read * 1000
    printf "goal: median under 100 ms: %s (median/goal %.2f)\n", (median < 100 ? "met" : "NOT met"), median / 100
  }'
