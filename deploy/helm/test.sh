#!/usr/bin/env bash
# The chart test: lint, render and validate deploy/helm/remediator, and check that the
# committed plain manifests (deploy/kubernetes/remediator.yaml) are its current render.
#
#   deploy/helm/test.sh            run every check; exit non-zero on any failure
#   deploy/helm/test.sh --render   rewrite deploy/kubernetes/remediator.yaml, then check
#
# Needs: Helm (deploy/tools/helm.sh fetches it), kubernetes-validate and PyYAML/jsonschema
# (the image-test extra: pip install -e '.[image-test]').
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
chart=deploy/helm/remediator
plain=deploy/kubernetes
helm="$(deploy/tools/helm.sh)"
python="$root/.venv/bin/python"
[[ -x "$python" ]] || python="$(command -v python3)"
validate="$root/.venv/bin/kubernetes-validate"
[[ -x "$validate" ]] || validate="$(command -v kubernetes-validate)" || {
  echo "test.sh: kubernetes-validate not found: pip install -e '.[image-test]'" >&2
  exit 1
}
out="$root/var/chart-test"
rm -rf "$out"
mkdir -p "$out"

# The oldest Kubernetes the chart claims (Chart.yaml kubeVersion ">=X.Y.Z-0") and the
# newest whose schemas the installed kubernetes-validate carries.
oldest="$(sed -n 's/^kubeVersion: *">=\([0-9.]*\)-0".*/\1/p' "$chart/Chart.yaml")"
newest="$("$python" -c '
import importlib.resources as r
names = [p.name for p in (r.files("kubernetes_validate") / "kubernetes-json-schema").iterdir()]
versions = {tuple(int(x) for x in n[1:].split("-")[0].split(".")) for n in names if n.startswith("v")}
print(".".join(map(str, max(versions))))')"
[[ -n "$oldest" && -n "$newest" ]] || { echo "test.sh: no Kubernetes versions" >&2; exit 1; }

render_plain() {
  {
    echo "# Rendered from the Helm chart deploy/helm/remediator with deploy/kubernetes/values.yaml;"
    echo "# do not edit: change the chart or the values and run deploy/helm/test.sh --render."
    echo "# Apply: kubectl create namespace remediator, the remediator-env Secret (values.yaml),"
    echo "# then kubectl apply -f remediator.yaml (docs/kubernetes.md, \"Without Helm\")."
    "$helm" template remediator "$chart" --namespace remediator \
      --kube-version "$oldest" --values "$plain/values.yaml"
  }
}

if [[ "${1:-}" == "--render" ]]; then
  render_plain >"$plain/remediator.yaml"
  echo "wrote $plain/remediator.yaml"
fi

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# --- Value sets that must lint, render and validate: the chart's defaults, the
# `helm install` commands docs/kubernetes.md and README.md show (each also run as written, with
# --dry-run=client), every optional part on, settings from an existing Secret, and the
# values of the plain manifests.
sets=("default|")
index=0
while IFS= read -r flags; do
  index=$((index + 1))
  sets+=("docs-$index|$flags")
done < <(for page in docs/kubernetes.md README.md; do
  "$python" deploy/helm/docs_commands.py "$page"
done)
((index >= 3)) || fail "docs/kubernetes.md, README.md: expected their install commands, found $index"
sets+=(
  "full|--values deploy/helm/ci/full.yaml"
  "existing-secret|--values deploy/helm/ci/existing-secret.yaml"
  "plain|--values $plain/values.yaml"
)
summary=()
for entry in "${sets[@]}"; do
  name="${entry%%|*}"
  eval "args=(${entry#*|})" # shell-quoted by docs_commands.py
  if [[ "$name" == docs-* ]]; then
    KUBECONFIG=/dev/null "$helm" install remediator "$chart" -n remediator --create-namespace \
      "${args[@]}" --dry-run=client >"$out/$name.install" 2>&1 ||
      { tail -5 "$out/$name.install" >&2; fail "helm install $name --dry-run=client"; }
  fi
  "$helm" lint --strict --quiet "$chart" "${args[@]}" >"$out/$name.lint" 2>&1 ||
    { cat "$out/$name.lint" >&2; fail "helm lint $name"; }
  kinds=""
  for version in "$oldest" "$newest"; do
    manifest="$out/$name-$version.yaml"
    if ! "$helm" template remediator "$chart" --namespace remediator \
      --kube-version "$version" "${args[@]}" >"$manifest" 2>"$out/$name.err"; then
      cat "$out/$name.err" >&2
      fail "helm template $name (Kubernetes $version)"
      continue
    fi
    # --strict refuses fields a built-in kind does not have; cert-manager kinds have no
    # built-in schema and are checked by check_rendered.py, any other unknown kind fails.
    if ! "$validate" --strict --kubernetes-version "$version" "$manifest" >"$manifest.log" 2>&1; then
      grep -v '^INFO' "$manifest.log" >&2 || true
      fail "kubernetes-validate --strict $name (Kubernetes $version)"
    fi
    if grep "Couldn't find schema" "$manifest.log" | grep -v "api version cert-manager.io/v1" >&2; then
      fail "$name: a kind with no schema"
    fi
    kinds="$("$python" deploy/helm/check_rendered.py "$manifest" deploy/helm/cert-manager.schema.json)" ||
      fail "check_rendered $name (Kubernetes $version)"
  done
  summary+=("$(printf '%-16s %s' "$name" "$kinds")")
done

# --- Values that must be refused (by values.schema.json at lint, or by the templates).
refused=0
refuse() {
  local why="$1"
  shift
  if "$helm" lint --quiet "$chart" "$@" >/dev/null 2>&1 &&
    "$helm" template remediator "$chart" --namespace remediator "$@" >/dev/null 2>&1; then
    fail "accepted: $why ($*)"
  else
    refused=$((refused + 1))
  fi
}
printf 'workers:\n  - {name: all, queues: "ingest,actions", replicas: 1, concurrency: 1, resources: {}}\n' \
  >"$out/uncovered-queue.yaml"
printf 'workers:\n  - {name: a, queues: "ingest,actions,housekeeping", replicas: 1, concurrency: 1, resources: {}}\n  - {name: a, queues: ingest, replicas: 1, concurrency: 1, resources: {}}\n' \
  >"$out/duplicate-worker.yaml"
refuse "a second beat" --set beat.replicas=2
refuse "an unknown failurePolicy" --set webhook.failurePolicy=Maybe
refuse "timeoutSeconds above the API server's 30" --set webhook.timeoutSeconds=31
refuse "no cert-manager and no CA" --set webhook.tls.certManager.enabled=false
refuse "a queue no worker consumes" --values "$out/uncovered-queue.yaml"
refuse "two workers of one name" --values "$out/duplicate-worker.yaml"
refuse "an unknown queue" --set 'workers[0].queues=bogus'
refuse "a secret among the plain settings" --set env.SECRET_KEY=x
refuse "an Ingress without hosts" --set ingress.enabled=true
refuse "a digest that is not one" --set image.digest=latest
refuse "an unknown top-level key" --set replicas=3
refuse "Kubernetes older than kubeVersion" --kube-version 1.28.0

# --- The committed plain manifests are the chart's current render.
if diff -u "$plain/remediator.yaml" <(render_plain) >"$out/plain.diff"; then
  plain_state="equal to a fresh render"
else
  head -40 "$out/plain.diff" >&2
  fail "$plain/remediator.yaml differs from a fresh render: run deploy/helm/test.sh --render"
  plain_state="DIFFERS from a fresh render"
fi

echo "chart test: $("$helm" version --short), $("$validate" --version | head -1 | sed 's/^/kubernetes-validate /')"
echo "Kubernetes versions validated (--strict): $oldest (oldest claimed), $newest (newest available)"
echo "resources per kind, per value set:"
printf '  %s\n' "${summary[@]}"
echo "refused value sets: $refused of 12"
echo "$plain/remediator.yaml: $plain_state"
if ((failures)); then
  echo "chart test: $failures failed" >&2
  exit 1
fi
echo "chart test: ok"
