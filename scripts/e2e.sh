#!/usr/bin/env bash
# The end-to-end and security suites in parallel shards. Each shard starts its own `kubegate dev`
# (its own etcd + kube-apiserver + kubegate, under .work/e2e-N), so shards share no state: held
# requests, the freeze switch and the audit log stay predictable inside each one.
# Usage: scripts/e2e.sh [SHARDS] (default KG_E2E_SHARDS or 3); extra args go to vitest.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
shards="${1:-${KG_E2E_SHARDS:-3}}"
shift || true
logs=.work/e2e-logs
rm -rf "$logs" && mkdir -p "$logs"
pids=()
for i in $(seq 1 "$shards"); do
  KG_E2E_DIR="$PWD/.work/e2e-$i" npx vitest run --config vitest.e2e.config.ts --shard="$i/$shards" "$@" \
    > "$logs/shard-$i.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in $(seq 1 "$shards"); do
  if wait "${pids[$((i - 1))]}"; then status=passed; else status=FAILED; failed=1; fi
  echo "== e2e shard $i/$shards: $status (log: $logs/shard-$i.log)"
  # the summary always; the whole log when the shard failed
  if [[ $status == FAILED ]]; then cat "$logs/shard-$i.log"; else grep -E "Test Files|Tests |Duration" "$logs/shard-$i.log"; fi
done
exit "$failed"
