#!/usr/bin/env python3
"""Generates N rampart JSON results with M findings each (synthetic, in the
shape `rampart scan --format json` writes), for timing `rampart report`.

usage: scripts/compliance-bench.py DIR [--results 1000] [--findings 1000]
then:  farm-bench / time: rampart report DIR -o json:/dev/null -o html:/dev/null
"""
import argparse
import json
import os
import random

SEVERITIES = ["critical", "high", "medium", "low", "info"]
QUERIES = [f"aws-q{i:03}" for i in range(120)] + [f"k8s-q{i:03}" for i in range(80)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--results", type=int, default=1000)
    ap.add_argument("--findings", type=int, default=1000)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    rng = random.Random(7)
    for r in range(args.results):
        project = f"repo-{r % 250:03}"
        scan = r // 250
        findings = []
        for f in range(args.findings):
            sup = None
            roll = rng.random()
            if roll < 0.02:
                sup = {"kind": "inline", "reason": None if roll < 0.005 else "accepted",
                       "origin": f"main.tf:{f}", "expires": None}
            elif roll < 0.04:
                sup = {"kind": "exception", "reason": "granted", "origin": "exceptions.yaml:2",
                       "expires": "2027-01-31", "approved_by": "sec@example.com"}
            findings.append({
                "query_id": rng.choice(QUERIES), "title": "t", "severity": rng.choice(SEVERITIES),
                "category": "c", "cwe": [], "file": f"dir{f % 40}/main.tf", "line": f + 1,
                "column": 3, "end_line": f + 1, "end_column": 9, "entity": "aws_s3_bucket.b",
                "path": "acl", "message": "m", "remediation": "r", "fingerprint": f"{r:04}{f:06}",
                "aliases": {}, "suppressed": sup, "called_from": None,
            })
        doc = {
            "version": 1,
            "tool": {"name": "rampart", "version": "0.2.0", "library_version": "2.0.0"},
            "scan": {"project": project, "repository": f"github.com/acme/{project}",
                     "commit": f"{r:040x}", "branch": "main",
                     "scanned_at": f"2026-{9 + scan:02}-01T12:00:00Z", "rampart_version": "0.2.0",
                     "library_version": "2.0.0", "exceptions": "exceptions.yaml", "paths": ["."]},
            "exceptions": [{"origin": "exceptions.yaml:2", "query": "aws-q001", "paths": [],
                            "entity": None, "reason": "granted", "approved_by": "sec@example.com",
                            "expires": "2027-01-31"}],
            "findings": findings, "diagnostics": [], "stats": {}, "config": {},
        }
        with open(os.path.join(args.dir, f"r{r:04}.json"), "w") as f:
            json.dump(doc, f)


if __name__ == "__main__":
    main()
