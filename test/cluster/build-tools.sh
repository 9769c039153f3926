#!/usr/bin/env bash
# Builds the tools that sit beside the control plane — KWOK (simulated nodes and
# kubelets), Helm, and the client-go informer test client — into their own cache
# directory, keyed by their own content so the control plane is never rebuilt.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
informer="$here/../clients/informer"
# shellcheck source=tools.env
source "$here/tools.env"

cache="${KUBEGATE_CACHE:-$HOME/.cache/kubegate}"
key="$(cat "$here/tools.env" "$here/build-tools.sh" "$informer/main.go" "$informer/go.mod" | sha256sum | cut -c1-12)"
out="$cache/tools-$key"
mkdir -p "$cache"

if [[ -f "$out/.complete" ]]; then
  ln -sfn "$out" "$cache/tools"
  echo "tools up to date in $out"
  exit 0
fi

export CGO_ENABLED=0 GOFLAGS=-mod=mod
export GOMODCACHE="${GOMODCACHE:-$cache/gomod}" GOCACHE="${GOCACHE:-$cache/gobuild}"
mkdir -p "$out.tmp"
log() { echo "[build-tools $(date +%H:%M:%S)] $*"; }

# Neither module has replace directives: a plain go install works.
log "kwok $KWOK_VERSION"
GOBIN="$out.tmp" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
log "helm $HELM_VERSION"
GOBIN="$out.tmp" go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"

# The informer is built from a copy so go.sum is written outside the clone.
log "informer test client"
src="$cache/tools-src-$key"
rm -rf "$src" && mkdir -p "$src" && cp "$informer/main.go" "$informer/go.mod" "$src/"
(cd "$src" && go mod tidy && go build -trimpath -ldflags "-s -w" -o "$out.tmp/informer" .)

touch "$out.tmp/.complete"
rm -rf "$out" && mv "$out.tmp" "$out"
ln -sfn "$out" "$cache/tools"
log "done: $out"
