#!/usr/bin/env bash
# Creates (or reuses) the Python venv of bench/feast-vs-larder.ts: Feast 0.67 with its duckdb and
# postgres extras (bench/requirements.txt), so `feast serve_offline` can serve every store the
# bench compares. Kept apart from the test venv, whose pins must not grow ibis/duckdb.
#
#   scripts/ensure-bench-venv.sh          # venv at ${LARDER_BENCH_VENV:-$HOME/.cache/larder/venv-feast-bench}
#
# Same stamp and rebuild rules as the test venv: it is ensure-feast-venv.sh with another
# requirements file and path.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LARDER_VENV_REQUIREMENTS="$here/bench/requirements.txt" \
  LARDER_FEAST_VENV="${LARDER_BENCH_VENV:-$HOME/.cache/larder/venv-feast-bench}" \
  exec bash "$here/scripts/ensure-feast-venv.sh"
