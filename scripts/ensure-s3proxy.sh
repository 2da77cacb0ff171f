#!/usr/bin/env bash
# Makes sure the S3Proxy jar the tests start as their S3-compatible server exists, and a Java to
# run it (test/support/s3-server.ts runs it with the filesystem backend). Idempotent; prints two
# lines on stdout:
#
#   line 1: the jar's path
#   line 2: the java binary to run it with (Java >= 17)
#
#   { read -r jar; read -r java; } < <(bash scripts/ensure-s3proxy.sh)
#
# S3Proxy: org.gaul:s3proxy jar-with-dependencies from Maven Central (LARDER_S3PROXY_VERSION,
# default 4.1.0, ~55 MB), checked against Maven's published .sha1, cached outside the checkout at
# ${LARDER_CACHE:-$HOME/.cache/larder}/s3proxy-<version>/. It is downloaded under a temporary name
# and moved into place only after the checksum matches, and a stamp (the sha1) is written last, so
# an interrupted run never leaves a jar that a later run trusts. Concurrent runs wait for each other
# (flock). LARDER_MAVEN_REPO replaces https://repo.maven.apache.org/maven2 (a mirror or proxy with
# the same layout).
#
# Java: LARDER_S3PROXY_JAVA if set; else `java` on the PATH if it is >= 17; else any
# /usr/lib/jvm/*/bin/java >= 17 (scripts/ensure-trino.sh's JDK 25 qualifies); else Debian's
# openjdk-17-jre-headless if apt knows it; otherwise it fails saying what to install.
set -euo pipefail

VERSION="${LARDER_S3PROXY_VERSION:-4.1.0}"
MIN_JAVA=17
cache="${LARDER_CACHE:-$HOME/.cache/larder}"
home="$cache/s3proxy-$VERSION"
jar="$home/s3proxy-$VERSION-jar-with-dependencies.jar"
stamp="$home/.larder-s3proxy.sha1"
repo="${LARDER_MAVEN_REPO:-https://repo.maven.apache.org/maven2}"
url="$repo/org/gaul/s3proxy/$VERSION/s3proxy-$VERSION-jar-with-dependencies.jar"

die() { echo "ensure-s3proxy: $*" >&2; exit 1; }

# --- Java ----------------------------------------------------------------------------------------
# Prints the feature version of the java binary $1, or nothing when it does not run.
java_major() { "$1" -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p' || true; }
java_ok() { local v; v="$(java_major "$1")"; [[ -n "$v" && "$v" -ge "$MIN_JAVA" ]]; }

find_java() {
  local candidate
  if [[ -n "${LARDER_S3PROXY_JAVA:-}" ]]; then
    java_ok "$LARDER_S3PROXY_JAVA" || die "LARDER_S3PROXY_JAVA=$LARDER_S3PROXY_JAVA is not a java >= $MIN_JAVA"
    echo "$LARDER_S3PROXY_JAVA"
    return
  fi
  if command -v java >/dev/null && java_ok java; then command -v java; return; fi
  for candidate in /usr/lib/jvm/*/bin/java; do
    if [[ -x "$candidate" ]] && java_ok "$candidate"; then echo "$candidate"; return; fi
  done
}

java="$(find_java)"
if [[ -z "$java" ]]; then
  sudo_cmd=()
  [[ "$(id -u)" -eq 0 ]] || sudo_cmd=(sudo)
  pkg=openjdk-17-jre-headless
  echo "ensure-s3proxy: no Java >= $MIN_JAVA found, trying Debian's $pkg" >&2
  "${sudo_cmd[@]}" apt-get update -qq || true
  if apt-cache policy "$pkg" 2>/dev/null | grep -qE 'Candidate: [0-9]'; then
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
      "$pkg" >/dev/null || die "apt-get install $pkg failed"
    java="$(find_java)"
  fi
  [[ -n "$java" ]] || die "S3Proxy $VERSION needs Java >= $MIN_JAVA: install a JRE/JDK 17+ (e.g. Debian's $pkg) \
or set LARDER_S3PROXY_JAVA to its java binary"
fi

# --- S3Proxy jar ---------------------------------------------------------------------------------
installed() { [[ -f "$stamp" && -f "$jar" && "$(cat "$stamp")" == "$(sha1sum "$jar" | cut -d' ' -f1)" ]]; }
if ! installed; then
  mkdir -p "$home"
  # One installer at a time per version; whoever waited finds the jar in place.
  exec 9>"$home/.lock"
  flock 9
fi
if ! installed; then
  tmp="$(mktemp "$home/download.XXXXXX")"
  trap 'rm -f "$tmp"' EXIT
  echo "ensure-s3proxy: downloading $url ..." >&2
  want="$(curl -fsSL --retry 3 "$url.sha1" | tr -d '[:space:]' | cut -c1-40)" \
    || die "cannot fetch $url.sha1"
  [[ "$want" =~ ^[0-9a-f]{40}$ ]] || die "unexpected checksum '$want' from $url.sha1"
  progress=(-sS)
  [[ -t 2 ]] && progress=(--progress-bar)
  curl -fL --retry 3 "${progress[@]}" -o "$tmp" "$url" >&2 || die "download of $url failed"
  got="$(sha1sum "$tmp" | cut -d' ' -f1)"
  [[ "$got" == "$want" ]] || die "sha1 of $url is $got but $url.sha1 says $want; not installing"
  chmod 0644 "$tmp"
  mv "$tmp" "$jar"
  echo "$want" >"$stamp.partial" && mv "$stamp.partial" "$stamp"
fi

echo "$jar"
echo "$java"
