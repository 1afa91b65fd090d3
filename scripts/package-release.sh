#!/usr/bin/env bash
# Packs a built rampart binary as a release asset, as `cargo binstall` and
# the GitHub Action expect: DEST/rampart-VERSION-TARGET.tar.gz (.zip on
# Windows) holding rampart-VERSION-TARGET/rampart, plus a .sha256 beside it.
#
# usage: scripts/package-release.sh VERSION TARGET DEST
# (run from the repository root after `cargo build --profile dist --target TARGET`)
set -euo pipefail
version=$1 target=$2 dest=$3
name="rampart-${version}-${target}"
exe=rampart
case "$target" in *windows*) exe=rampart.exe ;; esac
built="target/${target}/dist/${exe}"
[ -f "$built" ] || { echo "package-release: no binary at $built" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name" "$dest"
cp "$built" "$stage/$name/$exe"
cp README.md LICENSE CHANGELOG.md "$stage/$name/"
case "$target" in
  *windows*) ;;
  *) strip "$stage/$name/$exe" 2>/dev/null || true ;;
esac

case "$target" in
  *windows*)
    archive="$name.zip"
    (cd "$stage" && 7z a -tzip "$archive" "$name" >/dev/null)
    ;;
  *)
    archive="$name.tar.gz"
    tar -C "$stage" -czf "$stage/$archive" "$name"
    ;;
esac
mv "$stage/$archive" "$dest/"
(cd "$dest" && { sha256sum "$archive" 2>/dev/null || shasum -a 256 "$archive"; } > "$archive.sha256")
echo "$dest/$archive"
