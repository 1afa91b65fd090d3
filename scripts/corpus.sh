#!/usr/bin/env bash
# Reads a whole corpus with `rampart inspect` (parse only) and `rampart scan`
# (parse + every query), each timed, and prints what a robustness run needs:
# files and entities per platform, every diagnostic, findings per query,
# wall time, throughput, peak memory, and the scan/parse-only time ratio.
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

# Warm the page cache so the timed runs measure rampart, not the disk.
"$bin" inspect "$corpus" --format json > /dev/null

timed() { # timed NAME ARGS...: runs rampart, writes $out/NAME.json and $out/NAME.time
  local name=$1; shift
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%e %M' -o "$out/$name.time" "$bin" "$@" > "$out/$name.json" || true
  else
    local start; start=$(date +%s.%N)
    "$bin" "$@" > "$out/$name.json" || true
    echo "$(echo "$(date +%s.%N) - $start" | bc) 0" > "$out/$name.time"
  fi
}
timed inspect inspect "$corpus" --format json
timed scan scan "$corpus" --format json

python3 - "$out" <<'PY'
import json, sys, collections
out = sys.argv[1]
report = json.load(open(f"{out}/inspect.json"))
# /usr/bin/time writes "Command exited with non-zero status 1" first when
# rampart found something; the figures are on the last line.
wall, rss_kb = open(f"{out}/inspect.time").read().splitlines()[-1].split()
wall, rss_kb = float(wall), int(rss_kb)
scan = json.load(open(f"{out}/scan.json"))
scan_wall, scan_rss = open(f"{out}/scan.time").read().splitlines()[-1].split()
scan_wall, scan_rss = float(scan_wall), int(scan_rss)
stats = report["stats"]
per = {}
for f in report["files"]:
    p = per.setdefault(f["platform"], [0, 0, 0])
    p[0] += 1
    p[1] += f["documents"]
    p[2] += len(f["entities"])
platform_of = {}
for f in report["files"]:
    platform_of[f["file"]] = f["platform"]
per_platform = collections.Counter(platform_of.get(f["file"], "?") for f in scan["findings"])
print(f"{'platform':<16}{'files':>8}{'documents':>11}{'entities':>10}{'findings':>10}")
for name, (files, docs, ents) in sorted(per.items()):
    print(f"{name:<16}{files:>8}{docs:>11}{ents:>10}{per_platform.get(name, 0):>10}")
diags = report["diagnostics"]
errors = [d for d in diags if d["level"] == "error"]
print(f"\ncandidates {stats['candidates']}, recognised {len(report['files'])}, "
      f"diagnostics {len(diags)} ({len(errors)} errors)")
mb = stats["bytes"] / 1e6
files = stats["candidates"]
print(f"inspect: {mb:.1f} MB, {wall:.2f} s wall: {mb / wall:.1f} MB/s, {files / wall:.0f} files/s, "
      f"peak RSS {rss_kb / 1024:.0f} MB")
print(f"scan:    {scan['stats']['queries']} queries, {len(scan['findings'])} findings, {scan_wall:.2f} s wall, "
      f"peak RSS {scan_rss / 1024:.0f} MB; scan / parse-only = {scan_wall / wall:.2f}")
print("\nfindings per query:")
for qid, n in collections.Counter(f["query_id"] for f in scan["findings"]).most_common():
    print(f"  {n:>6}  {qid}")
print("\ndiagnostics:")
for d in diags:
    where = f"{d['file']}:{d['line']}:{d['column']}" if d["line"] else d["file"]
    print(f"  {where}: {d['level']}: {d['message']}")
PY
