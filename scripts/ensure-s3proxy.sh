#!/usr/bin/env bash
# Makes sure the S3Proxy jar the tests start as their S3-compatible server exists
# (test/support/s3-server.ts runs it with the filesystem backend). Idempotent; prints one line on
# stdout, the jar's path:
#
#   jar="$(bash scripts/ensure-s3proxy.sh)"
#
# S3Proxy: org.gaul:s3proxy jar-with-dependencies from Maven Central (LARDER_S3PROXY_VERSION,
# default 4.1.0, ~55 MB), checked against Maven's published .sha1, cached outside the checkout at
# ${LARDER_CACHE:-$HOME/.cache/larder}/s3proxy-<version>/. It is downloaded under a temporary name
# and moved into place only after the checksum matches, and a stamp (the sha1) is written last, so
# an interrupted run never leaves a jar that a later run trusts. Concurrent runs wait for each other
# (flock). LARDER_MAVEN_REPO replaces https://repo.maven.apache.org/maven2 (a mirror or proxy with
# the same layout). S3Proxy 4.x needs Java >= 17 on the PATH (or LARDER_S3PROXY_JAVA); this script
# checks that too, and fails saying what to install.
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
java="${LARDER_S3PROXY_JAVA:-java}"
major="$("$java" -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p' || true)"
[[ -n "$major" && "$major" -ge "$MIN_JAVA" ]] \
  || die "S3Proxy $VERSION needs Java >= $MIN_JAVA; '$java' is ${major:-missing}. Install a JDK/JRE 17+ \
(e.g. Debian's openjdk-17-jre-headless) or set LARDER_S3PROXY_JAVA to its java binary"

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
