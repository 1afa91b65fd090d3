#!/usr/bin/env bash
# Opens a compliance report in a real headless browser (Debian's chromium):
# checks the DOM, after its script ran, for the numbers the JSON holds, and
# takes a screenshot of each view into OUT_DIR.
#
# usage: scripts/compliance-browser.sh RAMPART_BIN OUT_DIR
# Needs chromium (apt-get install chromium); makes its own small results.
set -euo pipefail
bin=$(realpath "$1")
out=$(realpath -m "$2")
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chrome=(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --user-data-dir="$work/profile")

# Three repositories, two scans each: one fixed, one excepted, one failing.
mkdir -p "$work/trees/payments" "$work/trees/web" "$work/trees/agents" "$work/results"
bucket='resource "aws_s3_bucket" "b" {
  bucket = "b"
  acl    = "public-read"
}'
printf '%s\n' "$bucket" > "$work/trees/payments/main.tf"
printf '%s\n' "$bucket" > "$work/trees/web/main.tf"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: a\n      image: nginx\n      securityContext: {privileged: true}\n' > "$work/trees/agents/pod.yaml"
printf 'exceptions:\n  - query: k8s-privileged-container\n    reason: node agent\n    approved_by: platform@example.com\n    expires: 2026-12-20\n' > "$work/exceptions.yaml"
scan() { SOURCE_DATE_EPOCH=$3 "$bin" scan "$work/trees/$1" --project "$1" --no-config --fail-on none -o "json:$work/results/$2" "${@:4}" >/dev/null; }
for p in payments web agents; do scan "$p" "$p-1.json" 1793534400; done
printf 'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n' > "$work/trees/web/main.tf"
scan payments payments-2.json 1796126400
scan web web-2.json 1796126400
scan agents agents-2.json 1796126400 --exceptions "$work/exceptions.yaml"
SOURCE_DATE_EPOCH=1796299200 "$bin" report "$work/results" -o "html:$out/compliance.html" -o "json:$work/compliance.json" || true

# The DOM after the page's script ran.
"${chrome[@]}" --virtual-time-budget=2000 --dump-dom "file://$out/compliance.html" > "$work/dom.html" 2>/dev/null
python3 - "$work/dom.html" "$work/compliance.json" <<'PY'
import json, re, sys
dom = open(sys.argv[1]).read()
data = json.load(open(sys.argv[2]))
def card(id):
    m = re.search(r'id="%s"><b>(\d+)</b>' % id, dom)
    return int(m.group(1)) if m else None
want = {
    "repositories-count": len(data["repositories"]),
    "failing-count": sum(r["status"] == "fail" for r in data["repositories"]),
    "expired-count": sum(e["status"] == "expired" for e in data["exceptions"]),
    "expiring-count": sum(e["status"] == "expiring" for e in data["exceptions"]),
}
bad = {k: (card(k), v) for k, v in want.items() if card(k) != v}
rows = len(re.findall(r'<tr data-project=', dom))
if rows != len(data["repositories"]):
    bad["repository rows"] = (rows, len(data["repositories"]))
# The script ran: filter inputs are shown only by JavaScript.
if 'class="filter"' in dom and re.search(r'<input class="filter"[^>]*hidden', dom):
    bad["script"] = ("filters still hidden", "shown")
if bad:
    print("DOM does not match the JSON:", bad); sys.exit(1)
print("DOM matches the JSON:", want, "repository rows", rows)
PY

# One screenshot per view: a copy of the page showing only that section
# (headless chromium paints nothing when scrolled to a fragment far down).
for view in overview repositories controls exceptions trend; do
  sed "s|</head>|<style>section{display:none}section#$view{display:block}</style></head>|" \
    "$out/compliance.html" > "$work/$view.html"
  rm -rf "$work/profile"
  "${chrome[@]}" --window-size=1280,900 --virtual-time-budget=1000 \
    --screenshot="$out/$view.png" "file://$work/$view.html" >/dev/null 2>&1
done
ls -la "$out"
