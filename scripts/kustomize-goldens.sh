#!/usr/bin/env bash
# Builds each kustomization of ../shared/render/kustomize/ with rampart and
# compares the objects with what `kubectl kustomize` (v5.5.0) built
# (../shared/render/kustomize-goldens/), as parsed objects, order-insensitive.
#
# Needs /work/shared (not part of a user's clone) and python3 with PyYAML.
# Usage: scripts/kustomize-goldens.sh [BUILD-COMMAND...]
#   BUILD-COMMAND defaults to `target/release/rampart render`; it gets the
#   repository (so bases outside the overlay are inside the scanned paths)
#   and the kustomization directory as its last two arguments, prints YAML on
#   stdout and exits non-zero when the build failed.
set -euo pipefail
shared=${SHARED:-/work/shared/render}
if [ $# -gt 0 ]; then cmd=("$@"); else cmd=(target/release/rampart render); fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
start=$(date +%s.%N)
i=0
while IFS=$'\t' read -r dir status _; do
  i=$((i + 1))
  repo=$(echo "$dir" | cut -d/ -f1-2)
  "${cmd[@]}" "$shared/$repo" "$shared/$dir" >"$out/$i.yaml" 2>"$out/$i.err" && echo 0 >"$out/$i.rc" || echo $? >"$out/$i.rc"
  printf '%s\t%s\n' "$dir" "$status" >"$out/$i.dir"
done <"$shared/kustomize-goldens/INDEX.tsv"
end=$(date +%s.%N)
python3 - "$shared" "$out" "$i" "$start" "$end" <<'PY'
import json, sys, yaml, collections
shared, out, n, start, end = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])

def load(text):
    return [d for d in yaml.safe_load_all(text) if d is not None]

def key(o):
    m = o.get("metadata") or {}
    return (o.get("kind"), m.get("namespace"), m.get("name"))

def first_diff(a, b, path=""):
    if type(a) != type(b):
        return f"{path or '/'}: {json.dumps(a)[:80]} != {json.dumps(b)[:80]}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a: return f"{path}/{k}: missing in rampart"
            if k not in b: return f"{path}/{k}: extra in rampart"
            d = first_diff(a[k], b[k], f"{path}/{k}")
            if d: return d
        return None
    if isinstance(a, list):
        if len(a) != len(b): return f"{path}: {len(a)} items in rampart, {len(b)} in golden"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_diff(x, y, f"{path}/{i}")
            if d: return d
        return None
    return None if a == b else f"{path}: {json.dumps(a)[:80]} != {json.dumps(b)[:80]}"

ok = match = fail_ok = fail_missed = 0
reasons = []
for i in range(1, n + 1):
    d, status = open(f"{out}/{i}.dir").read().rstrip("\n").split("\t")
    rc = int(open(f"{out}/{i}.rc").read())
    err = open(f"{out}/{i}.err").read()
    failed = rc != 0
    if status != "ok":
        if failed: fail_ok += 1
        else:
            fail_missed += 1
            reasons.append((d, "golden fails, rampart built it without an error"))
        continue
    ok += 1
    try:
        mine = load(open(f"{out}/{i}.yaml").read())
    except Exception as e:
        reasons.append((d, f"rampart output does not parse: {e}"))
        continue
    gold = load(open(f"{shared}/kustomize-goldens/{d.removeprefix('kustomize/')}.yaml").read())
    A = collections.defaultdict(list); B = collections.defaultdict(list)
    for o in mine: A[key(o)].append(o)
    for o in gold: B[key(o)].append(o)
    why = []
    for k in sorted(set(A) | set(B), key=str):
        if k not in A: why.append(f"missing {k}")
        elif k not in B: why.append(f"extra {k}")
        elif sorted(json.dumps(x, sort_keys=True) for x in A[k]) != sorted(json.dumps(x, sort_keys=True) for x in B[k]):
            why.append(f"{k}: {first_diff(A[k][0], B[k][0])}")
    if why:
        reasons.append((d, "; ".join(why[:3]) + (f" (+{len(why)-3} more)" if len(why) > 3 else "") + (f" [diagnostics: {err.strip().splitlines()[0][:150]}]" if err.strip() else "")))
    else:
        match += 1
print(f"goldens ok: {ok}; rampart matches: {match} ({100*match/max(ok,1):.1f}%)")
print(f"goldens failing: {n-ok}; rampart also reports an error: {fail_ok}; builds without error: {fail_missed}")
print(f"build time for {n} kustomizations: {end-start:.2f}s")
for d, why in reasons:
    print(f"MISMATCH {d}: {why}")
PY
