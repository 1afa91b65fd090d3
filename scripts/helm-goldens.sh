#!/usr/bin/env bash
# Compares `rampart render` with Helm's own `helm template` goldens
# (../shared/render/helm-goldens: helm/helm pkg/cmd/testdata), as parsed
# documents (a multiset of objects; order and formatting do not count).
#
# Each case below is a golden of Helm's template_test.go with the flags it
# was made with. Flags rampart does not have are emulated around the render,
# and say so: --show-only and --skip-tests filter documents by their
# `# Source:`, CRDs (which rampart always renders, to scan them) are dropped
# unless the case used --include-crds, --set-file becomes --helm-set, and
# --name-template becomes the release name it evaluates to. Helm's tests
# run with Kubernetes v1.20.0, so every case without --kube-version gets
# `--kube-version 1.20.0` (rampart's own default is newer). A golden that is
# an error matches when rampart's render fails too, or renders YAML that
# does not parse (which a scan reports as a parse error).
#
# Needs python3 with PyYAML. Usage: scripts/helm-goldens.sh [RAMPART]
set -euo pipefail
cd "$(dirname "$0")/.."
rampart=${1:-${RAMPART:-target/release/rampart}}
goldens=${HELM_GOLDENS:-../shared/render/helm-goldens/pkg/cmd/testdata}
[ -x "$rampart" ] || { echo "no rampart binary at $rampart (cargo build --release)" >&2; exit 2; }
[ -d "$goldens" ] || { echo "no goldens at $goldens" >&2; exit 2; }
python3 -c 'import yaml' 2>/dev/null || { echo "needs python3 with PyYAML" >&2; exit 2; }

RAMPART=$rampart GOLDENS=$goldens python3 - <<'PY'
import json, os, subprocess, sys, tempfile, fnmatch
import yaml

rampart, root = os.environ["RAMPART"], os.environ["GOLDENS"]
sub = "testcharts/subchart"
# (golden, chart, rampart flags, emulation: show-only globs, skip tests, include crds)
cases = [
    ("template.txt", sub, [], None, False, False),
    ("template-set.txt", sub, ["--helm-set", "service.name=apache"], None, False, False),
    ("template-values-files.txt", sub, ["--helm-values", f"{root}/{sub}/charts/subchartA/values.yaml"], None, False, False),
    ("template-name-template.txt", sub, ["--helm-release-name", "foobar-ywjj-baz"], None, False, False),
    ("template-with-kube-version.txt", sub, ["--kube-version", "1.16.0"], None, False, False),
    ("template-with-api-version.txt", sub, ["--helm-api-versions", "helm.k8s.io/test", "--helm-api-versions", "helm.k8s.io/test2"], None, False, False),
    ("template-with-crds.txt", sub, [], None, False, True),
    ("template-show-only-one.txt", sub, [], ["templates/service.yaml"], False, False),
    ("template-show-only-multiple.txt", sub, [], ["templates/service.yaml", "charts/subcharta/templates/service.yaml"], False, False),
    ("template-show-only-glob.txt", sub, [], ["templates/subdir/role*"], False, False),
    ("template-skip-tests.txt", sub, [], None, True, False),
    ("template-subchart-cm.txt", sub, ["--helm-set", "configmap.enabled=true"], None, False, False),
    ("template-subchart-cm-set.txt", sub, ["--helm-set", "configmap.enabled=true", "--helm-set", "configmap.value=baz"], None, False, False),
    ("template-subchart-cm-set-file.txt", sub, ["--helm-set", "configmap.enabled=true", "--helm-set", "configmap.value=qux"], None, False, False),
    ("template-chart-with-template-lib-dep.txt", "testcharts/chart-with-template-lib-dep", [], None, False, False),
    ("template-chart-with-template-lib-archive-dep.txt", "testcharts/chart-with-template-lib-archive-dep", [], None, False, False),
    ("template-lib-chart.txt", "testcharts/lib-chart", [], None, False, False),
    ("template-chart-bad-type.txt", "testcharts/chart-bad-type", [], None, False, False),
    ("template-with-invalid-yaml.txt", "testcharts/chart-with-template-with-invalid-yaml", [], None, False, False),
    ("template-with-invalid-yaml-debug.txt", "testcharts/chart-with-template-with-invalid-yaml", [], None, False, False),
    ("template-with-invalid-template-expr-debug-show-only.txt", "testcharts/chart-with-template-with-invalid-template-expr", [], None, False, False),
]
not_rendering = {"template-no-args.txt": "a usage error of `helm template` with no chart, nothing rendered"}

def documents(text):
    """(source, object) for each document, by the `# Source:` line before it."""
    out = []
    for chunk in text.split("\n---"):
        source = None
        for line in chunk.splitlines():
            if line.startswith("# Source: "):
                source = line[len("# Source: "):].strip()
        obj = yaml.safe_load(chunk)
        if obj is not None:
            out.append((source, obj))
    return out

def chart_relative(source):
    return source.split("/", 1)[1] if source and "/" in source else source

matched, total, report = 0, 0, []
for golden, chart, flags, show_only, skip_tests, crds in cases:
    total += 1
    expected_text = open(f"{root}/output/{golden}").read()
    expects_error = expected_text.startswith("Error:") or "\nError:" in expected_text
    if "--kube-version" not in flags:
        flags = [*flags, "--kube-version", "1.20.0"]
    proc = subprocess.run([rampart, "render", f"{root}/{chart}", *flags], capture_output=True, text=True)
    text = proc.stdout
    if expects_error:
        try:
            documents(text)
            parses = True
        except yaml.YAMLError:
            parses = False
        ok = proc.returncode != 0 or not parses
        why = "" if ok else "Helm fails (" + expected_text.strip().splitlines()[-1][:120] + "); rampart renders it"
    else:
        try:
            got = documents(text)
        except yaml.YAMLError as e:
            ok, why = False, f"rampart's render does not parse: {e}"
        else:
            if show_only:
                # --show-only paths are relative to the chart; subchart paths
                # are matched lower-cased, as Helm's golden names them.
                got = [(s, o) for s, o in got if any(fnmatch.fnmatch((chart_relative(s) or "").lower(), g.lower()) for g in show_only)]
            if skip_tests:
                got = [(s, o) for s, o in got if "/tests/" not in (s or "")]
            if not crds:
                got = [(s, o) for s, o in got if "/crds/" not in (s or "")]
            want = sorted(json.dumps(o, sort_keys=True) for _, o in documents(expected_text))
            have = sorted(json.dumps(o, sort_keys=True) for _, o in got)
            ok = want == have and proc.returncode == 0
            why = ""
            if not ok:
                missing = [w for w in want if w not in have]
                extra = [h for h in have if h not in want]
                why = f"exit {proc.returncode}; {len(missing)} golden object(s) not rendered, {len(extra)} rendered object(s) not in the golden"
                if missing:
                    why += f"; first missing: {missing[0][:300]}"
                if extra:
                    why += f"; first extra: {extra[0][:300]}"
                if proc.stderr.strip():
                    why += f"; stderr: {proc.stderr.strip().splitlines()[0][:200]}"
    matched += ok
    report.append(f"{'match' if ok else 'DIFF '}  {golden}" + ("" if ok else f"\n        {why}"))
for golden, why in not_rendering.items():
    report.append(f"n/a    {golden}: {why}")
print("\n".join(report))
print(f"\ngoldens matched: {matched}/{total} (plus {len(not_rendering)} not about rendering)")
sys.exit(0 if matched == total else 1)
PY
