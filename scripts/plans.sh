#!/usr/bin/env bash
# Scans every Terraform plan JSON under ../shared/plans (or $1) one file at
# a time and reports, per file, whether rampart read it as a plan and any
# read or parse error it gave. Needs /work/shared (not part of cargo test).
#
#   scripts/plans.sh [PLANS_DIR] [RAMPART_BINARY]
set -u
dir=${1:-/work/shared/plans}
bin=${2:-target/release/rampart}
[ -x "$bin" ] || bin=target/debug/rampart
total=0; plans=0; errors=0; notplans=0
while IFS= read -r -d '' f; do
  total=$((total + 1))
  out=$("$bin" scan "$f" --format json --fail-on none 2>/dev/null)
  code=$?
  summary=$(printf '%s' "$out" | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception as e:
    print("no-json", 0, 0, str(e)); sys.exit()
errs = [x for x in d["diagnostics"] if x["level"] == "error"]
print("ok", d["stats"]["files"]["terraform"], len(d["findings"]),
      " | ".join("%s:%s %s" % (x["file"], x["line"], x["message"]) for x in errs))
')
  read -r status files findings rest <<<"$summary"
  if [ "$status" != ok ] || [ "$code" -ge 2 ] || [ -n "$rest" ]; then
    errors=$((errors + 1))
    echo "ERROR  $f (exit $code): $rest"
  elif [ "$files" = 0 ]; then
    notplans=$((notplans + 1))
    echo "SKIP   $f (not read as a plan)"
  else
    plans=$((plans + 1))
    echo "OK     $f ($findings findings)"
  fi
done < <(find "$dir" -name '*.json' -print0 | sort -z)
echo "files: $total, read as plans: $plans, with errors: $errors, not plans: $notplans"
