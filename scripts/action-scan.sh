#!/usr/bin/env bash
# The GitHub Action's scan step. Paths and extra arguments come one a line
# (INPUT_PATH, INPUT_ARGS) and are passed as written: no word splitting, no
# quote removal, no globbing, so `--exclude=test/**` excludes test/.
set -euo pipefail

lines() { printf '%s\n' "$1" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' | grep -v '^$' || true; }

mapfile -t paths < <(lines "${INPUT_PATH:-.}")
mapfile -t extra < <(lines "${INPUT_ARGS:-}")
[ ${#paths[@]} -gt 0 ] || paths=(.)
category=()
if [ -n "${INPUT_CATEGORY:-}" ]; then category=(--sarif-category "$INPUT_CATEGORY"); fi
sarif=${INPUT_SARIF:-rampart.sarif}
echo "sarif-file=$sarif" >> "${GITHUB_OUTPUT:-/dev/null}"
exec rampart scan -o human -o "sarif:$sarif" --fail-on "${INPUT_FAIL_ON:-low}" \
  ${category[@]+"${category[@]}"} ${extra[@]+"${extra[@]}"} -- "${paths[@]}"
