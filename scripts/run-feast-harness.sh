#!/usr/bin/env bash
# Runs Feast's own integration harness for the remote offline store against larder: the tests of
# sdk/python/tests/integration/offline_store marked rbac_remote_integration_test, with the two
# creators that need no container, RemoteOfflineStoreDataSourceCreator (its client stays on the
# file store; the server is only started) and RemoteOfflineTlsStoreDataSourceCreator (the client
# uses `type: remote` over TLS, so every read goes through the server). The Keycloak creator
# (RemoteOfflineOidcAuthStoreDataSourceCreator) needs Docker and is left out.
#
# A manual tool, not part of CI (it needs a Feast source checkout and PyPI):
#
#   scripts/run-feast-harness.sh FEAST_CHECKOUT [extra pytest arguments]
#
# FEAST_CHECKOUT is a clone of feast-dev/feast (a work tree or a bare repository: its HEAD is
# read). Feast's tests are copied into a temporary directory, never into this repository, and
# changed in one way only: the server's feature_store.yaml that the creators write gets
# `larder: {data_roots: [<temp dir>]}`, so larder may read the harness's parquet files there.
# `feast` on PATH is a shim that runs larder's Feast-compatible entry (cli/bin/feast.js, the
# built code: run `npm run build` first); Python Feast's `feast apply` runs in-process.
#
# Environment:
#   LARDER_HARNESS_SERVER=feast      run Feast's own `feast serve_offline` instead (to compare)
#   LARDER_HARNESS_ODFV_PYTHON=PATH  start larder with --odfv-python PATH (not needed: through the
#                                    feast entry larder computes ODFVs with the venv's python3 on PATH)
#   LARDER_HARNESS_VENV=DIR          the venv (default ~/.cache/larder/venv-feast-harness; created
#                                    from test/conformance/requirements.txt plus Feast's test pins)
#   LARDER_HARNESS_WORKERS=N         pytest-xdist workers (default 2)
#   LARDER_HARNESS_KEEP=1            keep the temporary directory (printed at the end)
set -euo pipefail

if [[ $# -lt 1 ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit 2
fi
FEAST_SRC=$1
shift
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${LARDER_HARNESS_VENV:-$HOME/.cache/larder/venv-feast-harness}
SERVER=${LARDER_HARNESS_SERVER:-larder}
WORKERS=${LARDER_HARNESS_WORKERS:-2}

if [[ $SERVER == larder && ! -f $ROOT/core/dist/cli.js ]]; then
  echo "run-feast-harness: larder is not built (no core/dist/cli.js); run 'npm run build' first" >&2
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/larder-feast-harness.XXXXXX")
if [[ -z ${LARDER_HARNESS_KEEP:-} ]]; then trap 'rm -rf "$WORK"' EXIT; fi

# 1. Feast's tests, from the checkout's HEAD (or its files, if it is not a git repository).
if git -C "$FEAST_SRC" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$FEAST_SRC" archive HEAD sdk/python/tests sdk/python/pytest.ini | tar -x -C "$WORK"
  echo "Feast tests from $(git -C "$FEAST_SRC" describe --tags --always HEAD 2>/dev/null || echo HEAD)"
else
  mkdir -p "$WORK/sdk/python"
  cp -R "$FEAST_SRC/sdk/python/tests" "$FEAST_SRC/sdk/python/pytest.ini" "$WORK/sdk/python/"
fi

# 2. The one change: larder.data_roots in the server's feature_store.yaml.
python3 - "$WORK/sdk/python/tests/universal/feature_repos/universal/data_sources/file.py" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
old = "yaml.dump(config.model_dump(by_alias=True), outfile)"
new = 'yaml.dump({**config.model_dump(by_alias=True), "larder": {"data_roots": [tempfile.gettempdir()]}}, outfile)'
if text.count(old) < 2:
    sys.exit(f"run-feast-harness: {path} no longer writes the server yaml as expected; update this script")
open(path, "w").write(text.replace(old, new))
PY

# 3. Only the two creators that need no container (Feast's FULL_REPO_CONFIGS_MODULE mechanism).
mkdir -p "$WORK/py" "$WORK/bin"
cat >"$WORK/py/larder_repo_configs.py" <<'PY'
from tests.universal.feature_repos.universal.data_sources.file import (
    RemoteOfflineStoreDataSourceCreator,
    RemoteOfflineTlsStoreDataSourceCreator,
)

AVAILABLE_ONLINE_STORES = {"sqlite": ({"type": "sqlite"}, None)}
AVAILABLE_OFFLINE_STORES = [
    ("local", RemoteOfflineStoreDataSourceCreator),
    ("local", RemoteOfflineTlsStoreDataSourceCreator),
]
PY

# 4. The venv: the Feast client the conformance suite pins, and what Feast's tests import.
if [[ ! -x $VENV/bin/python ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$ROOT/test/conformance/requirements.txt" \
    "pytest>=6.0.0,<8" "pytest-xdist>=3.8.0" "pytest-timeout==1.4.2" pytest-env "pytest-asyncio<=0.24.0" \
    "testcontainers>=4.15.0rc2" "minio==7.2.11" "python-keycloak==4.2.2"
  "$VENV/bin/pip" install -q "great_expectations>=0.15.41,<1" -c <(grep -v '^#' "$ROOT/test/conformance/requirements.txt")
fi

# 5. `feast` on PATH: larder's entry, or Feast's own CLI to compare.
if [[ $SERVER == feast ]]; then
  printf '#!/bin/sh\nexec %q "$@"\n' "$VENV/bin/feast" >"$WORK/bin/feast"
else
  extra=""
  [[ -n ${LARDER_HARNESS_ODFV_PYTHON:-} ]] && extra=" --odfv-python $(printf %q "$LARDER_HARNESS_ODFV_PYTHON")"
  printf '#!/bin/sh\nexec node %q "$@"%s\n' "$ROOT/cli/bin/feast.js" "$extra" >"$WORK/bin/feast"
fi
chmod +x "$WORK/bin/feast"
echo "feast on PATH: $(tail -1 "$WORK/bin/feast")"

# 6. The Makefile's test-python-integration-rbac-remote, on the offline-store tests. The venv's
# bin follows the shim on PATH, as under `uv run`.
cd "$WORK/sdk/python"
set +e
PATH="$WORK/bin:$VENV/bin:$PATH" IS_TEST=True FEAST_IS_LOCAL_TEST=True FEAST_USAGE=False \
  FULL_REPO_CONFIGS_MODULE=larder_repo_configs PYTHONPATH="$WORK/py:." \
  "$VENV/bin/python" -m pytest --integration -n "$WORKERS" --dist loadgroup --timeout=1200 --timeout_method=thread \
  -k "not test_lambda_materialization and not test_snowflake_materialization" \
  -m "rbac_remote_integration_test and not ray_offline_stores_only" \
  -p no:warnings -rfEs --junitxml="$WORK/junit.xml" "$@" tests/integration/offline_store
status=$?
set -e

# 7. Counts per creator.
"$VENV/bin/python" - "$WORK/junit.xml" <<'PY'
import collections, re, sys, xml.etree.ElementTree as ET
counts = collections.defaultdict(collections.Counter)
for case in ET.parse(sys.argv[1]).iter("testcase"):
    creator = (re.search(r"LOCAL:(\w+):", case.get("name", "")) or [None, "?"])[1]
    kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
    counts[creator][kinds[0] if kinds else "passed"] += 1
for creator, c in sorted(counts.items()):
    print(f"{creator}: {c['passed']} passed, {c['failure']} failed, {c['error']} errors, {c['skipped']} skipped")
PY
[[ -n ${LARDER_HARNESS_KEEP:-} ]] && echo "kept: $WORK"
exit $status
