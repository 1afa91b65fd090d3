#!/usr/bin/env bash
# Checks that two rampart binaries report the same findings, byte for byte,
# on a corpus (default ../shared/bench40, the team's reference data): the
# JSON reports minus what differs by design between runs (timings, the
# tool's own version).
#
#   scripts/bench-compare.sh OLD_BINARY NEW_BINARY [CORPUS]
set -euo pipefail
declare -A bins
bins=([old]=$1 [new]=$2)
corpus=${3:-$(dirname "$0")/../../shared/bench40}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for which in old new; do
  bin=${bins[$which]}
  SOURCE_DATE_EPOCH=0 "$bin" scan "$corpus" --no-config --fail-on none \
    --format json -o "json:$work/$which.json" >/dev/null 2>&1 || true
  python3 - "$work/$which.json" > "$work/$which.txt" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
report.get("stats", {}).pop("seconds", None)
report.pop("tool", None)
report.get("scan", {}).pop("rampart_version", None)
print(json.dumps(report, indent=1, sort_keys=True))
PY
done
if cmp -s "$work/old.txt" "$work/new.txt"; then
  echo "same: $(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['findings']))" "$work/new.json") findings, identical reports"
else
  diff "$work/old.txt" "$work/new.txt" | head -40
  echo "DIFFERENT" >&2
  exit 1
fi
