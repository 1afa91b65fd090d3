#!/usr/bin/env bash
# Renders every chart of ../shared/render/charts (real charts, default
# values) with one `rampart render` run and reports: charts rendered with no
# error, output documents that parse as YAML and as Kubernetes objects
# (apiVersion and kind), and the time. Each chart that fails is listed with
# its first error.
#
# Needs python3 with PyYAML. Usage: scripts/helm-charts.sh [RAMPART]
set -euo pipefail
cd "$(dirname "$0")/.."
rampart=${1:-${RAMPART:-target/release/rampart}}
charts=${HELM_CHARTS:-../shared/render/charts}
[ -x "$rampart" ] || { echo "no rampart binary at $rampart (cargo build --release)" >&2; exit 2; }
[ -d "$charts" ] || { echo "no charts at $charts" >&2; exit 2; }
python3 -c 'import yaml' 2>/dev/null || { echo "needs python3 with PyYAML" >&2; exit 2; }

out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
start=$(date +%s.%N)
"$rampart" render "$charts" >"$out" 2>"$err" || true
end=$(date +%s.%N)

OUT=$out ERR=$err START=$start END=$end python3 - <<'PY'
import os, re, yaml

text = open(os.environ["OUT"]).read()
streams = {}
current = None
for line in text.splitlines(keepends=True):
    m = re.match(r"# rampart render: (.*)$", line.rstrip("\n"))
    if m:
        current = m.group(1)
        streams[current] = ""
    elif current is not None:
        streams[current] += line
errors = {}
for line in open(os.environ["ERR"]):
    if ": error: " not in line:
        continue
    path = line.split(":", 1)[0]
    for chart in streams:
        if path == chart or path.startswith(chart + "/"):
            errors.setdefault(chart, line.strip())
docs = k8s = bad = 0
for chart, body in streams.items():
    try:
        for obj in yaml.safe_load_all(body):
            if obj is None:
                continue
            docs += 1
            if isinstance(obj, dict) and obj.get("apiVersion") and obj.get("kind"):
                k8s += 1
    except yaml.YAMLError as e:
        bad += 1
        errors.setdefault(chart, f"{chart}: output does not parse as YAML: {str(e).splitlines()[0]}")
ok = [c for c in streams if c not in errors]
print(f"charts rendered with no error: {len(ok)}/{len(streams)}")
print(f"documents: {docs}, Kubernetes objects (apiVersion and kind): {k8s}, charts whose output does not parse: {bad}")
seconds = float(os.environ["END"]) - float(os.environ["START"])
print(f"time: {seconds:.1f} s for one `rampart render` of all charts")
for chart in sorted(errors):
    print(f"  FAILED {chart}\n    {errors[chart][:300]}")
PY
