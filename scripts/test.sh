#!/usr/bin/env bash
# The whole test suite: type check + lint, unit tests, Rego tests, end-to-end tests
# against a real kube-apiserver with real kubectl.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
opa="${KUBEGATE_BIN:-${KUBEGATE_CACHE:-$HOME/.cache/kubegate}/bin}/opa"

echo "== type check and lint"
npx tsc -p tsconfig.json --noEmit
npx biome check .

echo "== rego: format and tests"
unformatted="$("$opa" fmt --list policies/)"
if [[ -n "$unformatted" ]]; then echo "not opa fmt clean: $unformatted"; exit 1; fi
"$opa" test policies/ -v | tail -n 3

echo "== unit tests"
npx vitest run

echo "== end-to-end tests (real kubectl -> kubegate -> real kube-apiserver)"
bash scripts/e2e.sh
