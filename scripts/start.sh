#!/usr/bin/env bash
# One command from a fresh clone to a running kubegate in front of a real local cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec node dist/cli/kubegate.js dev --dir "${KUBEGATE_DEV_DIR:-.work/dev}" --port "${KUBEGATE_PORT:-8443}"
