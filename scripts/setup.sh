#!/usr/bin/env bash
# Everything a fresh clone needs: node modules, the Go-built control plane and OPA, the
# simulated nodes (KWOK), Helm and the informer test client, Debian's chromium
# (cached outside the clone), the TypeScript build and the policy bundle.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
bash test/cluster/build.sh
bash test/cluster/build-tools.sh
# Debian's chromium for the console's browser tests
bash scripts/browser.sh
npm run --silent build
bash scripts/policy-build.sh
