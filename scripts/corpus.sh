#!/usr/bin/env bash
# Reads a whole corpus with `rampart inspect`, timed, and prints what a
# robustness run needs: files and entities per platform, every diagnostic,
# wall time, throughput and peak memory.
#
#   scripts/corpus.sh [DIR]   (default: ../shared/corpus, the team's corpus
#                              of real IaC; not part of a user's clone)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-../shared/corpus}
[ -d "$corpus" ] || { echo "no corpus at $corpus" >&2; exit 2; }

cargo build --release --quiet
bin=target/release/rampart
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Warm the page cache so the timed run measures rampart, not the disk.
"$bin" inspect "$corpus" --format json > /dev/null

if [ -x /usr/bin/time ]; then
  /usr/bin/time -f '%e %M' -o "$out/time" "$bin" inspect "$corpus" --format json > "$out/report.json"
  read -r wall rss_kb < "$out/time"
else
  start=$(date +%s.%N)
  "$bin" inspect "$corpus" --format json > "$out/report.json"
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  rss_kb=0
fi

python3 - "$out/report.json" "$wall" "$rss_kb" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
wall, rss_kb = float(sys.argv[2]), int(sys.argv[3])
stats = report["stats"]
per = {}
for f in report["files"]:
    p = per.setdefault(f["platform"], [0, 0, 0])
    p[0] += 1
    p[1] += f["documents"]
    p[2] += len(f["entities"])
print(f"{'platform':<16}{'files':>8}{'documents':>11}{'entities':>10}")
for name, (files, docs, ents) in sorted(per.items()):
    print(f"{name:<16}{files:>8}{docs:>11}{ents:>10}")
diags = report["diagnostics"]
errors = [d for d in diags if d["level"] == "error"]
print(f"\ncandidates {stats['candidates']}, recognised {len(report['files'])}, "
      f"diagnostics {len(diags)} ({len(errors)} errors)")
mb = stats["bytes"] / 1e6
files = stats["candidates"]
print(f"{mb:.1f} MB, {wall:.2f} s wall: {mb / wall:.1f} MB/s, {files / wall:.0f} files/s, "
      f"peak RSS {rss_kb / 1024:.0f} MB")
print("\ndiagnostics:")
for d in diags:
    where = f"{d['file']}:{d['line']}:{d['column']}" if d["line"] else d["file"]
    print(f"  {where}: {d['level']}: {d['message']}")
PY
