#!/usr/bin/env bash
# Compiles policies/ to WebAssembly with the real OPA CLI into dist/policy/
# (policy.wasm + data.json), the bundle kubegate loads and hot-reloads.
# Usage: policy-build.sh [OUT_DIR] [SOURCE_DIR]   (defaults: dist/policy, policies)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
opa="${KUBEGATE_BIN:-${KUBEGATE_CACHE:-$HOME/.cache/kubegate}/bin}/opa"
out="${1:-dist/policy}"
src="${2:-policies}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$opa" build -t wasm -e kubegate/decision "$src" -o "$tmp/bundle.tar.gz" --ignore '*_test.rego'
tar -xzf "$tmp/bundle.tar.gz" -C "$tmp" --no-same-owner 2>/dev/null
test -f "$tmp/policy.wasm" && test -f "$tmp/data.json"
mkdir -p "$out"
# data first, wasm last: the wasm's change is what triggers a reload
cp "$tmp/data.json" "$out/data.json.tmp" && mv "$out/data.json.tmp" "$out/data.json"
cp "$tmp/policy.wasm" "$out/policy.wasm.tmp" && mv "$out/policy.wasm.tmp" "$out/policy.wasm"
echo "policy bundle: $out/policy.wasm ($(sha256sum "$out/policy.wasm" | cut -c1-12))"
