#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager,
# kubectl) and the OPA CLI from the Go module proxy into a cache outside the clone.
# Re-running is cheap: binaries are keyed by the pinned versions in versions.env.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache="${KUBEGATE_CACHE:-$HOME/.cache/kubegate}"
key="$(cat "$here/versions.env" "$here/build.sh" "$here/etcd/main.go" | sha256sum | cut -c1-12)"
bin="$cache/bin-$key"
mkdir -p "$cache"

if [[ -f "$bin/.complete" ]]; then
  ln -sfn "$bin" "$cache/bin"
  echo "control plane binaries up to date in $bin"
  exit 0
fi

export CGO_ENABLED=0 GOFLAGS=-mod=mod
export GOMODCACHE="${GOMODCACHE:-$cache/gomod}" GOCACHE="${GOCACHE:-$cache/gobuild}"
mkdir -p "$bin.tmp"

log() { echo "[build $(date +%H:%M:%S)] $*"; }

# OPA has no replace directives: a plain go install works.
if [[ ! -x "$bin.tmp/opa" ]]; then
  log "opa $OPA_VERSION"
  GOBIN="$bin.tmp" go install -trimpath -ldflags "-s -w" "github.com/open-policy-agent/opa@$OPA_VERSION"
fi

# kubernetes' go.mod replaces every staging module with a local path; a wrapper
# module must pin each to its published v0.N.M instead. Generate that list from
# the served go.mod rather than typing it.
src="$cache/src-$key"
rm -rf "$src" && mkdir -p "$src/etcd"
cp "$here/etcd/main.go" "$src/etcd/"
minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
staging="v0.${K8S_VERSION#v1.}"
modfile="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
{
  echo "module kubegate.local/controlplane"
  echo
  echo "go $(sed -n 's/^go //p' "$modfile")"
  echo
  echo "require ("
  echo "	k8s.io/kubernetes $K8S_VERSION"
  echo "	go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  echo ")"
  echo
  echo "replace ("
  grep -E '^\s+k8s\.io/[a-z0-9-]+ => \./staging/' "$modfile" | awk -v v="$staging" '{print "\t" $1 " => " $1 " " v}'
  echo ")"
} > "$src/go.mod"
log "generated $(grep -c ' => ' "$src/go.mod") staging replaces for kubernetes $K8S_VERSION"

ver="k8s.io/component-base/version"
cver="k8s.io/client-go/pkg/version"
ldflags="-s -w"
for p in "$ver" "$cver"; do
  ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done

cd "$src"
log "etcd $ETCD_VERSION, kube-apiserver, kube-controller-manager, kubectl $K8S_VERSION (long on first run)"
go build -trimpath -ldflags "$ldflags" -o "$bin.tmp/" \
  ./etcd \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kubectl

touch "$bin.tmp/.complete"
rm -rf "$bin" && mv "$bin.tmp" "$bin"
ln -sfn "$bin" "$cache/bin"
log "done: $bin"
