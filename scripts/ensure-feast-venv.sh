#!/usr/bin/env bash
# Creates (or reuses) the Python venv that the Feast-client conformance suite runs in.
#
#   scripts/ensure-feast-venv.sh          # venv at ${LARDER_FEAST_VENV:-$HOME/.cache/larder/venv-feast}
#
# LARDER_VENV_REQUIREMENTS names another requirements file (default test/conformance/requirements.txt);
# with LARDER_FEAST_VENV it builds a second venv the same way (scripts/ensure-bench-venv.sh does).
# Idempotent: the venv holds a stamp with the sha256 of the requirements file and the
# interpreter version; when both match, this is a no-op, otherwise the venv is rebuilt from scratch.
# The stamp is written last, so an interrupted build is never trusted by a later run. A venv cannot
# be moved after creation (its scripts hard-code their interpreter path), so it is built in place
# while the previous one waits aside, and is put back if the new build fails.
# LARDER_PYTHON picks the interpreter (default: python3; feast 0.67 needs >= 3.10).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
req="${LARDER_VENV_REQUIREMENTS:-$here/test/conformance/requirements.txt}"
venv="${LARDER_FEAST_VENV:-$HOME/.cache/larder/venv-feast}"
python="${LARDER_PYTHON:-python3}"

die() { echo "ensure-feast-venv: $*" >&2; exit 1; }

[[ -f "$req" ]] || die "missing $req"
command -v "$python" >/dev/null 2>&1 || die "no Python interpreter '$python' (set LARDER_PYTHON)"
pyver="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')" \
  || die "'$python' does not run"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || die "feast 0.67 needs Python >= 3.10, '$python' is $pyver (set LARDER_PYTHON)"

want="$(sha256sum "$req" | cut -d' ' -f1) python-$pyver"
stamp="$venv/.larder-requirements.sha256"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/feast" ]]; then
  exit 0
fi

echo "ensure-feast-venv: building $venv (python $pyver) ..." >&2
mkdir -p "$(dirname "$venv")"
tmp="$(mktemp -d "${venv}.build.XXXXXX")"
log="$tmp.log"
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

old=""
if [[ -e "$venv" ]]; then
  old="$tmp/old"
  mv "$venv" "$old"
fi
restore() {
  rm -rf "$venv"
  if [[ -n "$old" ]]; then mv "$old" "$venv"; fi
}

if ! "$python" -m venv "$venv" >"$log" 2>&1 \
  || ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >>"$log" 2>&1 \
  || ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >>"$log" 2>&1 \
  || ! "$venv/bin/python" -c 'import feast, pyarrow.flight, pandas' >>"$log" 2>&1; then
  tail -n 30 "$log" >&2 || true
  restore
  rm -f "$log"
  die "failed to install $req into $venv (log tail above)"
fi
rm -f "$log"
echo "$want" >"$stamp"
echo "ensure-feast-venv: ready (feast $("$venv/bin/python" -c "import feast; print(feast.__version__)"))" >&2
