#!/usr/bin/env bash
# Installs a rampart release binary: picks the asset for this OS and
# architecture, verifies its SHA-256 sum, and unpacks it into a directory.
# Used by the GitHub Action; works anywhere with bash, tar and sha256sum
# (or shasum).
#
# usage: scripts/install.sh VERSION INSTALL_DIR
#
# Environment:
#   RAMPART_RELEASES  where releases live: a URL
#                     (default https://github.com/rampart-iac/rampart/releases/download)
#                     or a local directory laid out the same way
#                     (DIR/vVERSION/rampart-VERSION-TARGET.tar.gz and .sha256)
#   RAMPART_TARGET    the target triple, instead of guessing it from uname
#   RAMPART_SOURCE    a rampart source tree to build with `cargo install
#                     --locked` when no binary exists for this target or
#                     version; without it, a missing binary is an error
#
# Exit: 0 installed; 1 checksum mismatch or download failure (never falls
# back to building: a bad checksum is an attack or a broken release);
# 2 usage error.
set -euo pipefail

die() { echo "rampart install: $1" >&2; exit "${2:-1}"; }

[ $# -eq 2 ] || die "usage: install.sh VERSION INSTALL_DIR" 2
version=${1#v}
dest=$2
releases=${RAMPART_RELEASES:-https://github.com/rampart-iac/rampart/releases/download}

target=${RAMPART_TARGET:-}
if [ -z "$target" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) target=x86_64-unknown-linux-musl ;;
    Linux-aarch64 | Linux-arm64) target=aarch64-unknown-linux-musl ;;
    Darwin-x86_64) target=x86_64-apple-darwin ;;
    Darwin-arm64) target=aarch64-apple-darwin ;;
    MINGW* | MSYS* | CYGWIN* | Windows*) target=x86_64-pc-windows-msvc ;;
    *) target="" ;;
  esac
fi

name="rampart-${version}-${target}"
case "$target" in
  *windows*) archive="$name.zip" exe=rampart.exe ;;
  *) archive="$name.tar.gz" exe=rampart ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fetch NAME: copies or downloads one release file into $work; 0 found,
# 3 not found, 1 other failure.
fetch() {
  local file=$1
  if [ -d "$releases" ]; then
    [ -f "$releases/v$version/$file" ] || return 3
    cp "$releases/v$version/$file" "$work/$file"
  else
    local code
    code=$(curl -sSL --proto '=https' --tlsv1.2 -o "$work/$file" -w '%{http_code}' \
      "$releases/v$version/$file") || return 1
    [ "$code" = 404 ] && return 3
    [ "$code" = 200 ] || return 1
  fi
}

build_from_source() {
  [ -n "${RAMPART_SOURCE:-}" ] || die "no rampart $version binary for ${target:-this platform} ($1), and no source to build from"
  echo "rampart install: no binary for ${target:-this platform} ($1); building from $RAMPART_SOURCE with cargo" >&2
  command -v cargo >/dev/null 2>&1 || die "cargo is needed to build rampart from source"
  cargo install --locked --quiet --path "$RAMPART_SOURCE" --root "$work/build"
  mkdir -p "$dest"
  cp "$work/build/bin/$exe" "$dest/$exe"
  echo "$dest/$exe"
  exit 0
}

[ -n "$target" ] || build_from_source "unsupported platform $(uname -s) $(uname -m)"

status=0
fetch "$archive" || status=$?
case $status in
  0) ;;
  3) build_from_source "$archive not in the release" ;;
  *) die "cannot download $releases/v$version/$archive" ;;
esac
fetch "$archive.sha256" || die "the release has $archive but no $archive.sha256; not installing an unverified binary"

expected=$(awk '{print $1; exit}' "$work/$archive.sha256")
if command -v sha256sum >/dev/null 2>&1; then
  actual=$(sha256sum "$work/$archive" | awk '{print $1}')
else
  actual=$(shasum -a 256 "$work/$archive" | awk '{print $1}')
fi
[ -n "$expected" ] && [ "$expected" = "$actual" ] ||
  die "checksum mismatch for $archive: expected ${expected:-nothing}, got $actual; not installed"

case "$archive" in
  *.zip) (cd "$work" && unzip -q "$archive") ;;
  *) tar -C "$work" -xzf "$work/$archive" ;;
esac
[ -f "$work/$name/$exe" ] || die "$archive does not hold $name/$exe"
mkdir -p "$dest"
cp "$work/$name/$exe" "$dest/$exe"
chmod +x "$dest/$exe"
echo "$dest/$exe"
