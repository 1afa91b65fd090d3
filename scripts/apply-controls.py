#!/usr/bin/env python3
"""Write the `controls:` field of every built-in query from docs/controls.tsv.

The TSV (one row a query: query_id, comma-separated controls, source note;
`#` lines are comments) is the single place the mapping is kept, so queries
written on other branches can be mapped before they are merged: run this
after merging and the library test (`cargo test --test library`) proves every
mapped query still loads (the compiler rejects a malformed control).

For each query file (queries/**/*.yaml, found by its top-level `id:`), the
script writes one line `controls: [A, B, ...]`:
  - replacing an existing top-level `controls:` field (flow or block list)
    where it stands;
  - otherwise right after the `aliases:` block, or after the `cwe:` field
    when the query has no aliases.
Everything else in the file is kept byte for byte, and a second run changes
nothing. A row with no controls leaves its query untouched.

It reports the ids in the TSV that no query file has (queries still on
other branches) and the queries that have no row (new queries to map).
Exit status: 0 when every query has a row, 1 when some have none, 2 on a
malformed TSV or query file.

Usage: scripts/apply-controls.py [--check] [--tsv docs/controls.tsv] [--queries queries]
  --check   change nothing; exit 1 when a file would change or a query has no row
"""

import argparse
import os
import re
import signal
import sys

# A top-level key starts a line with a letter; its block runs until the next one.
TOP_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*):")
CONTROL = re.compile(r"^[A-Z0-9][A-Z0-9-]*-[A-Za-z0-9.()-]+$")


def read_tsv(path):
    """Map query id -> list of controls, in the order the TSV gives them."""
    rows = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cells = line.split("\t")
            if len(cells) < 2 or not cells[0].strip():
                sys.exit(f"{path}:{number}: expected query_id<TAB>controls<TAB>note")
            qid = cells[0].strip()
            if qid in rows:
                sys.exit(f"{path}:{number}: {qid} has a second row")
            controls = [c.strip() for c in cells[1].split(",") if c.strip()]
            for c in controls:
                if not CONTROL.match(c):
                    sys.exit(f"{path}:{number}: {c!r} is not shaped like FRAMEWORK-ID")
            rows[qid] = controls
    return rows


def blocks(lines):
    """Top-level fields as (key, first line index, end index exclusive)."""
    starts = [(m.group(1), i) for i, l in enumerate(lines) if (m := TOP_KEY.match(l))]
    out = []
    for n, (key, start) in enumerate(starts):
        end = starts[n + 1][1] if n + 1 < len(starts) else len(lines)
        # Blank lines and comments before the next key belong to no field.
        while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
            end -= 1
        out.append((key, start, end))
    return out


def query_id(lines):
    for l in lines:
        m = re.match(r"^id:\s*(\S+)\s*$", l)
        if m:
            return m.group(1).strip("'\"")
    return None


def apply(text, controls):
    """The file text with its controls field set to `controls`."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    field = "controls: [" + ", ".join(controls) + "]"
    fields = {key: (start, end) for key, start, end in blocks(lines)}
    if "controls" in fields:
        start, end = fields["controls"]
        lines[start:end] = [field]
    else:
        anchor = fields.get("aliases") or fields.get("cwe")
        if anchor is None:
            raise ValueError("has neither aliases: nor cwe: to place controls: after")
        lines.insert(anchor[1], field)
    return newline.join(lines)


def main():
    # Piped into head: stop quietly rather than with a traceback.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tsv", default="docs/controls.tsv")
    p.add_argument("--queries", default="queries")
    p.add_argument("--check", action="store_true")
    a = p.parse_args()
    rows = read_tsv(a.tsv)
    seen, unmapped, changed = set(), [], []
    for root, dirs, files in os.walk(a.queries):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith((".yaml", ".yml")):
                continue
            path = os.path.join(root, name)
            with open(path, encoding="utf-8", newline="") as f:
                text = f.read()
            qid = query_id(text.splitlines())
            if qid is None:
                print(f"{path}: no top-level id:", file=sys.stderr)
                sys.exit(2)
            seen.add(qid)
            if qid not in rows:
                unmapped.append(qid)
                continue
            if not rows[qid]:
                continue
            try:
                new = apply(text, rows[qid])
            except ValueError as e:
                print(f"{path}: {e}", file=sys.stderr)
                sys.exit(2)
            if new != text:
                changed.append(path)
                if not a.check:
                    with open(path, "w", encoding="utf-8", newline="") as f:
                        f.write(new)
    missing = sorted(set(rows) - seen)
    mapped = sum(1 for q in seen if rows.get(q))
    verb = "would change" if a.check else "changed"
    print(f"{len(seen)} queries: {mapped} with controls, "
          f"{sum(1 for q in seen if q in rows and not rows[q])} with none applying, {len(unmapped)} with no row; {len(changed)} files {verb}")
    if missing:
        print(f"{len(missing)} TSV ids have no query file here (other branches?): " + " ".join(missing))
    if unmapped:
        print(f"{len(unmapped)} queries have no row in {a.tsv}: " + " ".join(sorted(unmapped)))
    if unmapped or (a.check and changed):
        sys.exit(1)


if __name__ == "__main__":
    main()
