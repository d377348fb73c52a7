#!/usr/bin/env bash
# Runs every test: builds the solution, starts the local PostgreSQL if none is configured
# (SD_TEST_DATABASE), runs all test projects, prints one summary line and stops what it started.
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Wavelet").
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

started_postgres=0
cleanup() {
  if [ "$started_postgres" = 1 ]; then deploy/local/postgres.sh stop || true; fi
}
trap cleanup EXIT

if [ -z "${SD_TEST_DATABASE:-}" ]; then
  if ! deploy/local/postgres.sh status >/dev/null 2>&1; then started_postgres=1; fi
  SD_TEST_DATABASE="$(deploy/local/postgres.sh start)"
  export SD_TEST_DATABASE
  # The fault test that restarts PostgreSQL needs this cluster's data folder (it is skipped without it).
  SD_TEST_PG_DATA_DIR="$(deploy/local/postgres.sh data-dir)"
  export SD_TEST_PG_DATA_DIR
fi
echo "tests use PostgreSQL: $SD_TEST_DATABASE"

# PyTorch cross-check tests run when Debian's python3-torch is installed (.ci/run installs it).
export SD_PYTHON="${SD_PYTHON:-/usr/bin/python3}"

dotnet build Orchestrator.sln -c Release -nologo -v q
log="$(mktemp)"
status=0
# -m:1: one test project at a time (the PostgreSQL-restart test must not pull the database from under the others).
dotnet test Orchestrator.sln -c Release --no-build -nologo -m:1 "$@" 2>&1 | tee "$log" || status=$?

# One closing line over all projects: "N passed, N failed, N skipped".
read -r passed failed skipped < <(awk '
  /Passed!|Failed!/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:")  f += $(i+1) + 0
      if ($i == "Passed:")  p += $(i+1) + 0
      if ($i == "Skipped:") s += $(i+1) + 0
    }
  }
  END { print p + 0, f + 0, s + 0 }' "$log")
rm -f "$log"
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$status" != 0 ] || [ "$failed" != 0 ]; then exit 1; fi
if [ "$passed" = 0 ]; then echo "no test ran" >&2; exit 1; fi

# The deployment files for real: the Kubernetes manifests rendered and validated, the compose stack started in podman
# (each skips itself, saying why, when its tools are missing). Not with a --filter run of a few tests.
if [ "$#" = 0 ]; then
  deploy/k8s/check.sh
  deploy/local/compose-test.sh
fi
