#!/usr/bin/env bash
# kubegate's benchmark: a real local control plane, kubegate, a direct client and `kubectl proxy`
# side by side in one run; prints medians, ratios and PASS/MISS against the targets, and writes
# bench/results.json. Extra arguments go to bench/run.mjs (e.g. --only get,list --rounds 5).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
# 10,000 held requests need 10,000 sockets on each side
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node bench/run.mjs "$@"
