#!/usr/bin/env bash
# The compose stack for real, with podman and podman-compose (Debian packages): builds the images from the project's
# Dockerfiles (the .NET build published self-contained on this host, the runtime stage FROM a Debian base image made
# by deploy/images/base-image.sh, no outside registry), starts PostgreSQL, the orchestrator and two CPU workers from
# docker-compose.yml, runs the example pipeline from inside the stack (the ops service) until its three jobs succeed,
# checks the dashboard, stops the stack (workers recorded gone, every container exiting 0), starts it again and checks
# that the history is still there. Prints where its time went. Exit 0 on success, 1 on failure; skipped (exit 0, says
# why) without podman or podman-compose, or with SD_SKIP_COMPOSE_TEST=1.
# Environment: SD_COMPOSE_GRPC_PORT / SD_COMPOSE_DASHBOARD_PORT (host ports, default 55480/55481), SD_IMAGE_CACHE
# (base image cache, default /var/cache/spectral-ci), SD_COMPOSE_KEEP=1 (leave the stack running at the end).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

if [ "${SD_SKIP_COMPOSE_TEST:-0}" = 1 ]; then echo "compose test: SKIPPED (SD_SKIP_COMPOSE_TEST=1)"; exit 0; fi
for tool in podman podman-compose; do
  command -v "$tool" >/dev/null || { echo "compose test: SKIPPED ($tool is not installed; .ci/run installs it)"; exit 0; }
done

export CONTAINERS_CONF="${CONTAINERS_CONF:-$repo/deploy/images/containers.conf}"
export SD_REGISTRY=localhost SD_TAG=ci
export SD_GRPC_PORT="${SD_COMPOSE_GRPC_PORT:-55480}" SD_DASHBOARD_PORT="${SD_COMPOSE_DASHBOARD_PORT:-55481}"
export SD_API_KEY=ci-submit-api-key SD_WORKER_TOKEN=ci-worker-reg-token SD_DB_PASSWORD=ci-db-password
export SD_PIPELINE_STEPS="${SD_PIPELINE_STEPS:-12}" SD_PIPELINE_BATCH="${SD_PIPELINE_BATCH:-8}" SD_PIPELINE_SAMPLES="${SD_PIPELINE_SAMPLES:-16}"
project=sd-compose-test
compose=(podman-compose -p "$project" -f docker-compose.yml)
services=(postgres orchestrator worker-1 worker-2)
base=localhost/spectral-base:bookworm
publish="$repo/.local/publish"

started=$(date +%s)
phase_name="" phase_start=$started
timings=()
phase() {
  local now; now=$(date +%s)
  [ -n "$phase_name" ] && timings+=("$(printf '%4d s  %s' $((now - phase_start)) "$phase_name")")
  phase_name="$1" phase_start=$now
  [ -n "$1" ] && printf '\n\033[1m== compose test: %s\033[0m\n' "$1"
  return 0
}
report() {
  phase ""
  echo
  echo "compose test: where the time went"
  printf '  %s\n' "${timings[@]}"
  printf '  %4d s  total\n' $(( $(date +%s) - started ))
}
fail() {
  echo "compose test FAILED: $*" >&2
  echo "----- podman-compose (last 30 lines) -----" >&2
  tail -n 30 "$compose_log" >&2
  for service in "${services[@]}"; do
    echo "----- $service (last 40 lines) -----" >&2
    podman logs --tail 40 "${project}_${service}_1" >&2 2>&1 || true
  done
  report
  exit 1
}
# podman-compose's own output (its commands, and errors about the services not started) goes here, shown on failure.
compose_log="$repo/.local/compose-test.log"
mkdir -p "$repo/.local"
: >"$compose_log"
quiet() { "$@" >>"$compose_log" 2>&1; }
# Removes this project's containers and volumes (faster than `podman-compose down -v`, which stops every service in turn).
down() {
  podman ps -aq --filter "label=io.podman.compose.project=$project" | xargs -r podman rm -f -t 0 >/dev/null
  podman volume ls -q --filter "label=io.podman.compose.project=$project" | xargs -r podman volume rm -f >/dev/null
}
ops() { "${compose[@]}" run --rm --no-deps ops "$@" 2>>"$compose_log"; }
# psql inside the PostgreSQL container (local connections are trusted there).
sql() { podman exec "${project}_postgres_1" psql -U spectral -d spectral -Atc "$1"; }
exit_code() { podman inspect -f '{{.State.ExitCode}}' "${project}_$1_1"; }

wait_healthy() {
  local deadline=$(( $(date +%s) + 180 ))
  until podman exec "${project}_orchestrator_1" /app/orchestrator health --address http://127.0.0.1:5080 >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "the orchestrator did not become healthy within 3 minutes"
    sleep 2
  done
}
wait_workers() {
  local deadline=$(( $(date +%s) + 180 ))
  until [ "$(sql "SELECT count(*) FROM workers WHERE state = 'idle' AND name IN ('cpu-worker-1', 'cpu-worker-2')" 2>/dev/null)" = 2 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "the two workers did not register within 3 minutes"
    sleep 2
  done
}
dashboard() {
  curl -fsS -o /dev/null -w '%{http_code}' -H "x-api-key: $SD_API_KEY" "http://127.0.0.1:$SD_DASHBOARD_PORT/ui" \
    || fail "the dashboard did not answer on port $SD_DASHBOARD_PORT"
}

phase "clean state (containers and volumes of an earlier run)"
down

phase "base image ($base, cached in ${SD_IMAGE_CACHE:-/var/cache/spectral-ci})"
deploy/images/base-image.sh "$base"

phase "dotnet publish (self-contained, linux-x64) on the host"
dotnet publish src/Orchestrator/Orchestrator.csproj -c Release -r linux-x64 --self-contained -nologo -v q -o "$publish/orchestrator"
dotnet publish src/Worker/Worker.csproj -c Release -r linux-x64 --self-contained -nologo -v q -o "$publish/worker-cpu"

phase "images (podman build from deploy/docker)"
build() {
  local name="$1" dockerfile="$2"; shift 2
  podman build -q --format docker -f "$dockerfile" --build-arg SDK_IMAGE="$base" --build-arg BASE_IMAGE="$base" "$@" \
    -t "$SD_REGISTRY/spectral/$name:$SD_TAG" . >/dev/null
  echo "built $SD_REGISTRY/spectral/$name:$SD_TAG"
}
build postgres deploy/docker/postgres.Dockerfile
build orchestrator deploy/docker/orchestrator.Dockerfile --build-arg PUBLISHED=.local/publish/orchestrator
build worker-cpu deploy/docker/worker-cpu.Dockerfile --build-arg PUBLISHED=.local/publish/worker-cpu

phase "compose up: PostgreSQL, the orchestrator, two workers"
quiet "${compose[@]}" up -d --no-build "${services[@]}"
wait_healthy
wait_workers
echo "orchestrator healthy, cpu-worker-1 and cpu-worker-2 registered"

phase "example pipeline from inside the stack (ops submit-pipeline, $SD_PIPELINE_STEPS steps)"
ops submit-pipeline || fail "the pipeline did not succeed"
succeeded="$(sql "SELECT count(*) FROM jobs WHERE state = 'SUCCEEDED'")"
[ "$succeeded" = 3 ] || fail "expected 3 succeeded jobs, found $succeeded ($(sql "SELECT string_agg(name || '=' || state, ', ') FROM jobs"))"
code="$(dashboard)"
echo "3 jobs succeeded; dashboard /ui answered $code"
# Attempts that did not succeed (a job may restart up to its max_restarts): shown, not failed on.
sql "SELECT j.name || ' attempt ' || a.attempt || ': ' || a.state || ' ' || a.end_reason FROM attempts a JOIN jobs j ON j.id = a.job_id
     WHERE a.state <> 'succeeded' ORDER BY a.started_at" | sed 's/^/restarted: /'


phase "compose stop (SIGTERM; workers deregister, the orchestrator shuts down)"
# podman-compose 1.0.3 ignores stop_grace_period; -t gives the same 130 s.
quiet "${compose[@]}" stop -t 130
for service in orchestrator worker-1 worker-2; do
  code="$(exit_code "$service")"
  [ "$code" = 0 ] || fail "$service exited with $code after SIGTERM"
done
podman logs "${project}_orchestrator_1" 2>&1 | grep -q "Application is shutting down" || fail "the orchestrator logged no shutdown"
podman start "${project}_postgres_1" >/dev/null
until sql "SELECT 1" >/dev/null 2>&1; do sleep 1; done
states="$(sql "SELECT string_agg(name || '=' || state, ' ' ORDER BY name) FROM workers")"
[ "$states" = "cpu-worker-1=gone cpu-worker-2=gone" ] || fail "workers after stop: $states (expected both gone)"
echo "orchestrator and workers exited 0; workers recorded: $states"

phase "compose up again (history intact)"
quiet "${compose[@]}" up -d --no-build "${services[@]}"
wait_healthy
wait_workers
succeeded="$(sql "SELECT count(*) FROM jobs WHERE state = 'SUCCEEDED'")"
[ "$succeeded" = 3 ] || fail "after the restart: $succeeded succeeded jobs, expected 3"
ops orchestrator list | tail -n 5
code="$(dashboard)"
echo "history intact (3 succeeded jobs); dashboard /ui answered $code"

if [ "${SD_COMPOSE_KEEP:-0}" = 1 ]; then
  echo "left running (SD_COMPOSE_KEEP=1): ${compose[*]} down -v"
else
  phase "compose stop and removal (containers and volumes; images kept)"
  quiet "${compose[@]}" stop -t 130
  down
  # Each run's publish makes new image layers; the untagged ones of runs more than an hour old are dropped.
  podman image prune -f --filter until=1h >/dev/null
fi
report
echo "compose test: PASSED"
