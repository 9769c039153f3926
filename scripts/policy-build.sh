#!/usr/bin/env bash
# Compiles a folder of Rego policies to WebAssembly with the real OPA CLI into a bundle
# (policy.wasm + data.json), the one kubegate loads and hot-reloads.
# Usage: policy-build.sh [SOURCE_DIR] [--out OUT_DIR]   (defaults: policies, dist/policy)
#        npm run policy:build -- my-policies --out /tmp/bundle
# (also, as before: policy-build.sh OUT_DIR [SOURCE_DIR])
# It prints the bundle's version: the sha256 kubegate logs ("policy loaded") and stamps on every record.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
opa="${KUBEGATE_BIN:-${KUBEGATE_CACHE:-$HOME/.cache/kubegate}/bin}/opa"
src="policies"
out="dist/policy"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="${2:?--out needs a directory}"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ ${#args[@]} -ge 1 ]; then
  if compgen -G "${args[0]}/*.rego" >/dev/null; then
    src="${args[0]}"
    [ ${#args[@]} -ge 2 ] && out="${args[1]}"
  else
    out="${args[0]}"
    [ ${#args[@]} -ge 2 ] && src="${args[1]}"
  fi
fi
[ -d "$src" ] || { echo "policy-build: no policy folder $src" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$opa" build -t wasm -e kubegate/decision "$src" -o "$tmp/bundle.tar.gz" --ignore '*_test.rego'
tar -xzf "$tmp/bundle.tar.gz" -C "$tmp" --no-same-owner 2>/dev/null
test -f "$tmp/policy.wasm" && test -f "$tmp/data.json"
mkdir -p "$out"
# data first, wasm last: the wasm's change is what triggers a reload
cp "$tmp/data.json" "$out/data.json.tmp" && mv "$out/data.json.tmp" "$out/data.json"
cp "$tmp/policy.wasm" "$out/policy.wasm.tmp" && mv "$out/policy.wasm.tmp" "$out/policy.wasm"
# the version kubegate computes: sha256 over policy.wasm then data.json
version="$(cat "$tmp/policy.wasm" "$tmp/data.json" | sha256sum | cut -c1-64)"
echo "policy bundle: $out from $src, version $version"
