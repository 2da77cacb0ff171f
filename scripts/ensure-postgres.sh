#!/usr/bin/env bash
# Makes sure PostgreSQL server binaries exist for the tests (test/support/postgres-server.ts starts
# a throwaway cluster from them). A no-op when initdb is already there; otherwise installs Debian's
# `postgresql` package (the tests never use the machine's own cluster, which stays stopped).
set -euo pipefail

if [[ -n "${LARDER_PG_BIN:-}" && -x "$LARDER_PG_BIN/initdb" ]]; then exit 0; fi
if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then exit 0; fi
if command -v pg_config >/dev/null 2>&1 && [[ -x "$(pg_config --bindir)/initdb" ]]; then exit 0; fi

echo "ensure-postgres: no PostgreSQL server binaries, installing Debian's postgresql" >&2
sudo_cmd=()
[[ "$(id -u)" -eq 0 ]] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends postgresql >/dev/null
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || { echo "ensure-postgres: install failed" >&2; exit 1; }
