#!/usr/bin/env bash
# Makes sure a Trino server and a JDK that runs it exist for the tests (test/support/trino-server.ts
# starts throwaway single-node servers from them). Idempotent; prints two lines on stdout:
#
#   line 1: the Trino install dir (holds bin/launcher, lib/, plugin/)
#   line 2: the JAVA_HOME to run it with (Trino 476 needs Java >= 24)
#
#   { read -r trino_home; read -r java_home; } < <(bash scripts/ensure-trino.sh)
#
# Trino: the io.trino:trino-server tarball from Maven Central (LARDER_TRINO_VERSION, default 476,
# 821 MB), checked against Maven's published .sha1 before it is unpacked, cached outside the checkout
# at ${LARDER_CACHE:-$HOME/.cache/larder}/trino-server-<version>. It is downloaded and unpacked under
# temporary names, moved into place whole, and a stamp (the tarball's sha1) is written last, so an
# interrupted run never leaves a half install that a later run trusts. Concurrent runs wait for each
# other (flock). LARDER_MAVEN_REPO replaces https://repo1.maven.org/maven2 (a mirror or proxy with
# the same layout; the tests point it at a local server).
#
# JDK: LARDER_TRINO_JAVA_HOME if set; else /usr/lib/jvm/temurin-25-jdk-amd64; else any
# /usr/lib/jvm/* whose java is >= 24; else Debian's openjdk-25-jdk-headless if apt knows it;
# otherwise it fails saying what to install.
set -euo pipefail

VERSION="${LARDER_TRINO_VERSION:-476}"
MIN_JAVA=24
cache="${LARDER_CACHE:-$HOME/.cache/larder}"
home="$cache/trino-server-$VERSION"
repo="${LARDER_MAVEN_REPO:-https://repo1.maven.org/maven2}"
url="$repo/io/trino/trino-server/$VERSION/trino-server-$VERSION.tar.gz"
stamp="$home/.larder-trino.sha1"

die() { echo "ensure-trino: $*" >&2; exit 1; }

# --- JDK -----------------------------------------------------------------------------------------
# Prints the feature version of the java in $1 (a JAVA_HOME), or nothing when it does not run.
java_major() {
  [[ -x "$1/bin/java" ]] || return 0
  "$1/bin/java" -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p'
}
java_ok() { local v; v="$(java_major "$1")"; [[ -n "$v" && "$v" -ge "$MIN_JAVA" ]]; }

find_java() {
  local candidate
  if [[ -n "${LARDER_TRINO_JAVA_HOME:-}" ]]; then
    java_ok "$LARDER_TRINO_JAVA_HOME" \
      || die "LARDER_TRINO_JAVA_HOME=$LARDER_TRINO_JAVA_HOME has no java >= $MIN_JAVA in bin/"
    echo "$LARDER_TRINO_JAVA_HOME"
    return
  fi
  for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
    if java_ok "$candidate"; then echo "$candidate"; return; fi
  done
}

java_home="$(find_java)"
if [[ -z "$java_home" ]]; then
  sudo_cmd=()
  [[ "$(id -u)" -eq 0 ]] || sudo_cmd=(sudo)
  pkg=openjdk-25-jdk-headless
  echo "ensure-trino: no Java >= $MIN_JAVA under /usr/lib/jvm, trying Debian's $pkg" >&2
  "${sudo_cmd[@]}" apt-get update -qq || true
  if apt-cache policy "$pkg" 2>/dev/null | grep -qE 'Candidate: [0-9]'; then
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
      "$pkg" >/dev/null || die "apt-get install $pkg failed"
    java_home="$(find_java)"
  fi
  [[ -n "$java_home" ]] || die "Trino $VERSION needs Java >= $MIN_JAVA: install a JDK 24+ (e.g. Temurin 25 \
from https://adoptium.net, or Debian's $pkg) under /usr/lib/jvm, or set LARDER_TRINO_JAVA_HOME"
fi

# --- Trino server --------------------------------------------------------------------------------
installed() { [[ -f "$stamp" && -x "$home/bin/launcher" ]]; }
if ! installed; then
  mkdir -p "$cache"
  # One installer at a time per version; whoever waited finds the install done.
  exec 9>"$cache/trino-server-$VERSION.lock"
  flock 9
fi
if ! installed; then
  work="$(mktemp -d "$cache/trino-server-$VERSION.build.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  echo "ensure-trino: downloading $url ..." >&2
  want="$(curl -fsSL --retry 3 "$url.sha1" | tr -d '[:space:]' | cut -c1-40)" \
    || die "cannot fetch $url.sha1"
  [[ "$want" =~ ^[0-9a-f]{40}$ ]] || die "unexpected checksum '$want' from $url.sha1"
  start=$SECONDS
  progress=(-sS)
  [[ -t 2 ]] && progress=(--progress-bar)
  curl -fL --retry 3 "${progress[@]}" -o "$work/trino.tar.gz" "$url" >&2 || die "download of $url failed"
  got="$(sha1sum "$work/trino.tar.gz" | cut -d' ' -f1)"
  [[ "$got" == "$want" ]] || die "sha1 of $url is $got but $url.sha1 says $want; not installing"
  echo "ensure-trino: downloaded in $((SECONDS - start)) s, sha1 ok, unpacking" >&2
  tar -xzf "$work/trino.tar.gz" -C "$work"
  rm -f "$work/trino.tar.gz"
  [[ -x "$work/trino-server-$VERSION/bin/launcher" ]] || die "the tarball has no trino-server-$VERSION/bin/launcher"
  rm -rf "$home"
  mv "$work/trino-server-$VERSION" "$home"
  echo "$want" >"$stamp.partial" && mv "$stamp.partial" "$stamp"
fi

echo "$home"
echo "$java_home"
