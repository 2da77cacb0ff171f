#!/usr/bin/env bash
# Makes sure the DuckDB extensions the duckdb store loads (httpfs, for s3:// sources) exist on disk,
# so DuckDB never downloads one at run time. Idempotent; prints one line on stdout, the directory to
# give the store as `offline_store.extension_directory`:
#
#   ext_dir="$(bash scripts/ensure-duckdb-extensions.sh)"
#
# Layout (what DuckDB's extension_directory expects):
#   <dir>/v<duckdb version>/<duckdb platform>/<name>.duckdb_extension
#
# Where the extensions come from: DuckDB's extensions are republished on PyPI as wheels
# (`duckdb-extension-<name>`, one per DuckDB release and platform). The wheel is fetched with
# `python3 -m pip download` (so pip's index settings, mirrors and hash checks apply), unpacked with
# Python's zipfile, and the extension's own footer is checked to be built for exactly this DuckDB
# version and platform. DuckDB checks the extension's signature itself when it loads it; the store
# never turns that check off.
#
# Which DuckDB: the version and platform that the installed @duckdb/node-api reports (ask node from
# plugins/duckdb), unless LARDER_DUCKDB_VERSION (e.g. 1.5.5) and LARDER_DUCKDB_PLATFORM (e.g.
# linux_amd64, linux_arm64, osx_arm64, osx_amd64, windows_amd64) are set: then node is not needed,
# which is how to prepare the directory for an air-gapped machine on one that can reach PyPI:
#
#   LARDER_DUCKDB_VERSION=1.5.5 LARDER_DUCKDB_PLATFORM=linux_amd64 \
#     LARDER_DUCKDB_EXTENSION_DIR=./duckdb-extensions bash scripts/ensure-duckdb-extensions.sh
#
# and copy ./duckdb-extensions to the server (an image layer, a volume).
#
# Where: LARDER_DUCKDB_EXTENSION_DIR if set; else ${LARDER_CACHE:-$HOME/.cache/larder}/duckdb-extensions.
# Wheels are kept in ${LARDER_CACHE:-$HOME/.cache/larder}/duckdb-extension-wheels/<version>/<platform>/.
# LARDER_DUCKDB_EXTENSIONS names the extensions (space-separated; default "httpfs").
# An extension is unpacked under a temporary name and moved into place whole, so an interrupted run
# never leaves a half file that a later run trusts. Concurrent runs wait for each other (flock).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${LARDER_CACHE:-$HOME/.cache/larder}"
extensions="${LARDER_DUCKDB_EXTENSIONS:-httpfs}"

die() { echo "ensure-duckdb-extensions: $*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is needed (to run pip and unpack the wheels)"

# --- Which DuckDB --------------------------------------------------------------------------------
version="${LARDER_DUCKDB_VERSION:-}"
platform="${LARDER_DUCKDB_PLATFORM:-}"
if [[ -z "$version" || -z "$platform" ]]; then
  command -v node >/dev/null || die "node is needed to ask @duckdb/node-api for its DuckDB version; \
or set LARDER_DUCKDB_VERSION and LARDER_DUCKDB_PLATFORM"
  # One in-memory instance answers both: the library's version and the platform it was built for.
  probe="$(cd "$here/../plugins/duckdb" && node --input-type=module -e "
    const { DuckDBInstance, version } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const rows = (await c.runAndReadAll('PRAGMA platform')).getRows();
    console.log(version(), rows[0][0]);
    c.disconnectSync(); db.closeSync();
  " 2>&1)" || die "cannot load @duckdb/node-api from plugins/duckdb (run npm install first):
$probe"
  read -r probe_version probe_platform <<<"$probe"
  version="${version:-$probe_version}"
  platform="${platform:-$probe_platform}"
fi
version="${version#v}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "unexpected DuckDB version '$version' (want e.g. 1.5.5)"

# DuckDB's platform names against the wheels' platform tags on PyPI. pip takes a macOS tag as "this
# macOS or older", so the newest one listed matches a wheel built for any earlier macOS.
case "$platform" in
  linux_amd64) wheel_platform=manylinux2014_x86_64 ;;
  linux_arm64) wheel_platform=manylinux2014_aarch64 ;;
  osx_amd64) wheel_platform=macosx_15_0_x86_64 ;;
  osx_arm64) wheel_platform=macosx_15_0_arm64 ;;
  windows_amd64) wheel_platform=win_amd64 ;;
  *) die "no PyPI wheels of DuckDB extensions are known for DuckDB platform '$platform' \
(known: linux_amd64 linux_arm64 osx_amd64 osx_arm64 windows_amd64); put <name>.duckdb_extension \
files for DuckDB v$version by hand in <dir>/v$version/$platform/" ;;
esac

target="${LARDER_DUCKDB_EXTENSION_DIR:-$cache/duckdb-extensions}"
mkdir -p "$target"
target="$(cd "$target" && pwd)"
dest="$target/v$version/$platform"
wheels="$cache/duckdb-extension-wheels/$version/$platform"

installed() { [[ -s "$dest/$1.duckdb_extension" ]]; }
missing=()
for name in $extensions; do installed "$name" || missing+=("$name"); done

if ((${#missing[@]})); then
  mkdir -p "$dest" "$wheels"
  # One installer at a time per DuckDB version and platform; whoever waited finds the files in
  # place. The lock lives with the wheels, so the extension directory holds only extensions.
  exec 9>"$wheels/.lock"
  flock 9
  for name in "${missing[@]}"; do
    installed "$name" && continue
    package="duckdb-extension-$name"
    wheel="$(find "$wheels" -maxdepth 1 -name "duckdb_extension_${name}-${version}-*.whl" -print -quit)"
    if [[ -z "$wheel" ]]; then
      echo "ensure-duckdb-extensions: pip download $package==$version ($wheel_platform) ..." >&2
      python3 -m pip --version >/dev/null 2>&1 || die "pip is needed: install python3-pip (or python3 -m ensurepip)"
      python3 -m pip download --quiet --no-deps --only-binary=:all: --platform "$wheel_platform" \
        --dest "$wheels" "$package==$version" >&2 \
        || die "pip could not fetch $package==$version for $wheel_platform; the extension must be built \
for exactly DuckDB v$version (pin @duckdb/node-api to a release whose DuckDB has a wheel on PyPI)"
      wheel="$(find "$wheels" -maxdepth 1 -name "duckdb_extension_${name}-${version}-*.whl" -print -quit)"
      [[ -n "$wheel" ]] || die "pip reported success but left no duckdb_extension_${name}-${version}-*.whl in $wheels"
    fi
    tmp="$(mktemp "$dest/.$name.XXXXXX")"
    trap 'rm -f "$tmp"' EXIT
    # Unpack the one .duckdb_extension file and check the metadata DuckDB writes into its last
    # 512 bytes (eight 32-byte fields, then the signature): field 5 the DuckDB version, 6 the platform.
    python3 - "$wheel" "$name" "v$version" "$platform" "$tmp" <<'PY' || die "$wheel is not the $name extension for DuckDB v$version on $platform"
import sys, zipfile
wheel, name, version, platform, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    members = [m for m in z.namelist() if m.endswith(f"/{name}.duckdb_extension")]
    if len(members) != 1:
        sys.exit(f"{wheel}: expected one {name}.duckdb_extension, found {members}")
    data = z.read(members[0])
fields = [data[-512 + 32 * i : -512 + 32 * (i + 1)].rstrip(b"\0").decode("ascii", "replace") for i in range(8)]
if fields[5] != version or fields[6] != platform:
    sys.exit(f"{members[0]} is built for DuckDB {fields[5]} on {fields[6]}, not {version} on {platform}")
with open(out, "wb") as f:
    f.write(data)
PY
    chmod 0644 "$tmp"
    mv "$tmp" "$dest/$name.duckdb_extension"
    trap - EXIT
    echo "ensure-duckdb-extensions: $dest/$name.duckdb_extension" >&2
  done
fi

echo "$target"
