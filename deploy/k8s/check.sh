#!/usr/bin/env bash
# Renders the Kubernetes manifests offline (kubectl kustomize, no cluster needed) for the base and the TLS overlay,
# then validates every rendered object against the Kubernetes API schemas with the npm package kubernetes-models
# (installed under .local/k8s-validate on first use; skipped with a note when npm is not installed).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
out="$repo/.local/k8s-rendered"
mkdir -p "$out"

if command -v kubectl >/dev/null; then render=(kubectl kustomize)
elif command -v kustomize >/dev/null; then render=(kustomize build)
else echo "k8s check: SKIPPED (neither kubectl nor kustomize is installed)"; exit 0; fi
for overlay in base tls; do
  "${render[@]}" "deploy/k8s/$overlay" >"$out/$overlay.yaml"
  echo "rendered deploy/k8s/$overlay: $(grep -c '^kind:' "$out/$overlay.yaml") objects"
done

if ! command -v npm >/dev/null; then echo "k8s check: schema validation SKIPPED (npm is not installed)"; exit 0; fi
validator="$repo/.local/k8s-validate"
if ! cmp -s deploy/k8s/validate/package.json "$validator/package.json" 2>/dev/null; then
  rm -rf "$validator"
  mkdir -p "$validator"
  cp deploy/k8s/validate/package.json "$validator/"
  (cd "$validator" && npm install --no-audit --no-fund --silent >/dev/null)
fi
cp deploy/k8s/validate/validate.mjs "$validator/"
for overlay in base tls; do
  echo "validating deploy/k8s/$overlay against the Kubernetes API schemas"
  node "$validator/validate.mjs" <"$out/$overlay.yaml"
done
echo "validating deploy/k8s/base/secrets.example.yaml"
node "$validator/validate.mjs" <deploy/k8s/base/secrets.example.yaml
