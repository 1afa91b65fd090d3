#!/usr/bin/env python3
"""Catalogue coverage: which concepts of ../shared/catalog/concepts.tsv rampart
implements (a query for that platform whose aliases name one of the concept's
KICS, Checkov or Trivy ids), which are written off (docs/written-off/*.tsv),
and which are neither.

Needs ../shared (beside the repository); not used by `cargo test`.

usage: scripts/coverage.py [--rampart BIN] [--catalog TSV] [--area terraform/aws]
                           [--missing] [--single-high]
"""
import argparse
import csv
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def norm(tool, ident):
    ident = ident.strip()
    if tool == "trivy" and not ident.startswith("AVD-"):
        ident = "AVD-" + ident
    return (tool, ident)


def ids_of(aliases):
    out = set()
    for tool, ids in (aliases or {}).items():
        if tool == "rampart":
            continue
        for i in ids if isinstance(ids, list) else [ids]:
            out.add(norm(tool, str(i)))
    return out


def written_off():
    """Every written-off entry: docs/written-off/*.tsv, `concept<TAB>reason`."""
    entries = []
    folder = os.path.join(ROOT, "docs", "written-off")
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if not name.endswith(".tsv"):
            continue
        with open(os.path.join(folder, name)) as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    concept, _, reason = line.rstrip("\n").partition("\t")
                    entries.append({"concept": concept, "reason": reason})
    return entries


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rampart", default=os.path.join(ROOT, "target/debug/rampart"))
    ap.add_argument("--catalog", default=os.path.join(ROOT, "../shared/catalog/concepts.tsv"))
    ap.add_argument("--area", action="append", help="platform/provider, e.g. terraform/aws")
    ap.add_argument("--missing", action="store_true", help="list concepts neither done nor written off")
    ap.add_argument("--single-high", action="store_true", help="also single-peer high/critical concepts")
    args = ap.parse_args()

    queries = json.loads(subprocess.check_output([args.rampart, "queries", "--format", "json"]))
    implemented = {}  # platform -> set of (tool, id)
    for q in queries:
        for p in q["platforms"]:
            implemented.setdefault(p, set()).update(ids_of(q.get("aliases")))
    off_concepts = {e["concept"] for e in written_off()}

    rows = list(csv.DictReader(open(args.catalog), delimiter="\t"))
    areas = {}
    for r in rows:
        area = f"{r['platform']}/{r['provider']}".rstrip("/")
        if args.area and area not in args.area:
            continue
        multi = int(r["tools"] or 0) >= 2
        severe = r["severity"] in ("high", "critical")
        if not multi and not (args.single_high and severe):
            continue
        ids = set()
        for tool in ("kics", "checkov", "trivy"):
            for i in (r[tool] or "").split(","):
                if i.strip():
                    ids.add(norm(tool, i))
        done = bool(ids & implemented.get(r["platform"], set()))
        off = r["concept"] in off_concepts
        a = areas.setdefault(area, {"rows": 0, "done": 0, "off": 0, "missing": []})
        a["rows"] += 1
        if done:
            a["done"] += 1
        elif off:
            a["off"] += 1
        else:
            a["missing"].append(r)
    print(f"{'area':24} {'rows':>5} {'done':>5} {'off':>5} {'missing':>8}")
    for area, a in sorted(areas.items()):
        print(f"{area:24} {a['rows']:5} {a['done']:5} {a['off']:5} {len(a['missing']):8}")
    if args.missing:
        for area, a in sorted(areas.items()):
            for r in a["missing"]:
                print("\t".join([area, r["concept"], r["severity"], r["resource"], r["condition"],
                                 r["kics"], r["checkov"], r["trivy"], r["tools"]]))
    counts = {}
    for q in queries:
        for sel in q["select"]:
            platform, _, kind = sel.partition(" ")
            provider = ""
            if platform == "terraform":
                t = kind.split(".")[1] if kind.startswith("resource.") and "." in kind else ""
                provider = t.split("_")[0] if t else ""
            elif platform == "cloudformation":
                provider = "aws"
            counts.setdefault(f"{platform}/{provider}".rstrip("/"), set()).add(q["id"])
    print("\nqueries per area (by select):")
    for area, ids in sorted(counts.items()):
        print(f"  {area:24} {len(ids)}")


if __name__ == "__main__":
    sys.exit(main())
