//! Helm charts rendered in-process, standard input and OpenTofu, end to end
//! through the `rampart` binary. The fixture chart `tests/charts/web`
//! covers the template functions and constructs: `include`/`define`/
//! `template`, `tpl`, `toYaml`/`nindent`, `default`, `required`, `lookup`,
//! `.Files.Get`/`Glob`/`AsConfig`, `.Capabilities`, `semverCompare`, a
//! subchart directory (`db`, with `global`), a `.tgz` subchart aliased
//! (`redis`), a library chart (`common`), `crds/`, `NOTES.txt` and
//! `values.schema.json`.

mod common;

use std::path::{Path, PathBuf};

use common::{json, rampart, run_limited, stderr, write};
use serde_json::Value;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/charts")
}

/// (query id, file, line) of each finding, sorted.
fn findings(report: &Value) -> Vec<(String, String, u64)> {
    let mut out: Vec<(String, String, u64)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["query_id"].as_str().unwrap_or("").to_string(),
                f["file"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    out.sort();
    out
}

fn has(list: &[(String, String, u64)], id: &str, file: &str, line: u64) -> bool {
    list.iter()
        .any(|(i, f, l)| i == id && f == file && *l == line)
}

fn render(dir: &Path, args: &[&str]) -> (String, String, Option<i32>) {
    let output = rampart(dir)
        .arg("render")
        .args(args)
        .output()
        .expect("runs");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr(&output),
        output.status.code(),
    )
}

#[test]
fn the_fixture_chart_renders_as_helm_template_would() {
    let (out, err, code) = render(&fixture(), &["web"]);
    assert_eq!(code, Some(0), "{err}");
    insta::assert_snapshot!("helm_web_render", out);
}

#[test]
fn findings_point_at_template_lines_and_values_file_lines() {
    let output = rampart(&fixture())
        .args(["scan", "web", "--format", "json"])
        .output()
        .expect("runs");
    let report = json(&output);
    let found = findings(&report);
    // Written literally in the template: its line there.
    assert!(
        has(&found, "k8s-rbac-wildcard", "web/templates/rbac.yaml", 6),
        "{found:?}"
    );
    // From values.yaml through `toYaml .Values.securityContext`: the values line.
    assert!(
        has(&found, "k8s-privileged-container", "web/values.yaml", 6),
        "{found:?}"
    );
    assert!(
        has(&found, "k8s-run-as-root", "web/values.yaml", 7),
        "{found:?}"
    );
    // The chart's templates are never read alone as plain YAML.
    assert!(found.iter().all(|(_, f, _)| !f.ends_with("_helpers.tpl")));
    let notes: Vec<&str> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["message"].as_str())
        .collect();
    assert!(
        notes
            .iter()
            .any(|m| m.starts_with("Helm chart rendered with values from web/values.yaml in ")),
        "{notes:?}"
    );
}

#[test]
fn helm_flags_change_the_render() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "prod.yaml",
        "replicaCount: 4\nimage:\n  tag: \"9.9\"\n",
    );
    write(dir.path(), "extra.yaml", "replicaCount: 6\n");
    let chart = fixture().join("web");
    let chart = chart.to_str().expect("utf-8");
    let (out, err, code) = render(
        dir.path(),
        &[
            chart,
            "--helm-values",
            "prod.yaml",
            "--helm-values",
            "extra.yaml",
            "--helm-set",
            "global.env=staging,extraLabels.team=ops",
            "--kube-version",
            "1.22",
            "--helm-release-name",
            "shop",
            "--helm-namespace",
            "retail",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    for want in [
        "  replicas: 6\n",
        "image: \"nginx:9.9\"",
        "value: \"staging\"",
        "    team: ops\n",
        "value: \"v1.22.0\"",
        "  name: shop-web\n",
        "  namespace: retail\n",
        "  name: shop-db\n",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // Kubernetes 1.22 is below the chart's `semverCompare ">=1.25-0"`.
    assert!(!out.contains("MODERN"));
    // `--helm-api-versions` adds to what `.Capabilities.APIVersions.Has` knows.
    write(
        dir.path(),
        "caps/Chart.yaml",
        "apiVersion: v2\nname: caps\nversion: 1.0.0\n",
    );
    write(
        dir.path(),
        "caps/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caps\ndata:\n  monitoring: {{ .Capabilities.APIVersions.Has \"monitoring.coreos.com/v1\" | quote }}\n",
    );
    let (out, _, _) = render(
        dir.path(),
        &["caps", "--helm-api-versions", "monitoring.coreos.com/v1"],
    );
    assert!(out.contains("monitoring: \"true\""), "{out}");
    let (out, _, _) = render(dir.path(), &["caps"]);
    assert!(out.contains("monitoring: \"false\""), "{out}");
}

#[test]
fn bad_helm_flags_are_usage_errors() {
    let chart = fixture().join("web");
    let chart = chart.to_str().expect("utf-8");
    for args in [
        vec![chart, "--kube-version", "banana"],
        vec![chart, "--helm-set", "novalue"],
        vec![chart, "--helm-values", "/nonexistent/values.yaml"],
    ] {
        let (_, err, code) = render(&fixture(), &args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
    }
}

#[test]
fn a_failed_required_is_a_parse_error_naming_template_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "c/Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 1.0.0\n",
    );
    write(dir.path(), "c/values.yaml", "image: \"\"\n");
    write(
        dir.path(),
        "c/templates/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: a\n      image: {{ required \"image is required\" .Values.image }}\n",
    );
    let output = rampart(dir.path())
        .args(["scan", ".", "--format", "json", "--fail-on-parse-error"])
        .output()
        .expect("runs");
    let report = json(&output);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let errors: Vec<(String, u64, String)> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["level"] == "error")
        .map(|d| {
            (
                d["file"].as_str().unwrap_or("").to_string(),
                d["line"].as_u64().unwrap_or(0),
                d["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].0.as_str(), errors[0].1),
        ("c/templates/pod.yaml", 8)
    );
    assert!(errors[0].2.contains("image is required"), "{errors:?}");
    // `rampart render` fails too, and says why on stderr.
    let (_, err, code) = render(dir.path(), &["c"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("c/templates/pod.yaml:8:0: error: helm template failed"),
        "{err}"
    );
}

#[test]
fn a_values_schema_violation_fails_the_render() {
    let (_, err, code) = render(&fixture(), &["web", "--helm-set", "replicaCount=0"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("web/values.schema.json: error: values do not match the chart's schema: replicaCount: must be >= 1"), "{err}");
}

#[test]
fn value_sets_from_the_config_are_each_rendered_and_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "charts/app/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 1.0.0\n",
    );
    write(dir.path(), "charts/app/values.yaml", "privileged: false\n");
    write(
        dir.path(),
        "charts/app/values-dev.yaml",
        "privileged: true\n",
    );
    write(
        dir.path(),
        "charts/app/templates/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n    - name: app\n      image: app:1.0\n      securityContext:\n        privileged: {{ .Values.privileged }}\n",
    );
    write(
        dir.path(),
        ".rampart.yaml",
        "helm:\n  charts:\n    charts/app:\n      value_sets:\n        dev: [values-dev.yaml]\n        prod:\n          set: [privileged=false]\n",
    );
    let output = rampart(dir.path())
        .args([
            "scan",
            ".",
            "--format",
            "json",
            "--only",
            "k8s-privileged-container",
        ])
        .output()
        .expect("runs");
    let report = json(&output);
    let hits: Vec<(String, u64, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["entity"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    // Only the dev set is privileged; the finding names the set and points
    // at the values file line that made it so.
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(
        (hits[0].0.as_str(), hits[0].1),
        ("charts/app/values-dev.yaml", 1)
    );
    assert!(hits[0].2.ends_with("[dev]"), "{hits:?}");
    // `rampart render` renders each set too, named.
    let (out, err, code) = render(dir.path(), &["."]);
    assert_eq!(code, Some(0), "{err}");
    let dev = out
        .find("# rampart render: charts/app [dev]\n")
        .expect("dev set");
    let prod = out
        .find("# rampart render: charts/app [prod]\n")
        .expect("prod set");
    assert!(out[dev..prod].contains("privileged: true"), "{out}");
    assert!(out[prod..].contains("privileged: false"), "{out}");
}

#[test]
fn recursion_and_output_are_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "loop/Chart.yaml",
        "apiVersion: v2\nname: loop\nversion: 1.0.0\n",
    );
    write(
        dir.path(),
        "loop/templates/_h.tpl",
        "{{- define \"self\" -}}{{ include \"self\" . }}{{ include \"self\" . }}{{- end -}}\n",
    );
    write(
        dir.path(),
        "loop/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: {{ include \"self\" . }}\n",
    );
    write(
        dir.path(),
        "big/Chart.yaml",
        "apiVersion: v2\nname: big\nversion: 1.0.0\n",
    );
    write(
        dir.path(),
        "big/templates/cm.yaml",
        "{{- $s := repeat 1000000 \"x\" }}{{ range until 1000 }}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: {{ $s }}\n{{ end }}",
    );
    write(
        dir.path(),
        "deep/Chart.yaml",
        "apiVersion: v2\nname: deep\nversion: 1.0.0\n",
    );
    write(
        dir.path(),
        "deep/templates/cm.yaml",
        "{{- $x := dict }}{{ range until 200000 }}{{ $x = dict \"a\" $x }}{{ end }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    );
    write(
        dir.path(),
        "grow/Chart.yaml",
        "apiVersion: v2\nname: grow\nversion: 1.0.0\n",
    );
    write(
        dir.path(),
        "grow/templates/cm.yaml",
        "{{- $d := dict }}{{ range $i := until 1000000 }}{{ $_ := set $d (toString $i) $i }}{{ end }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    );
    let output = run_limited(rampart(dir.path()).args(["scan", ".", "--format", "json"]));
    let report = json(&output);
    let messages: Vec<String> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["level"] == "error")
        .map(|d| {
            format!(
                "{}:{}: {}",
                d["file"].as_str().unwrap_or(""),
                d["line"],
                d["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("loop/templates/cm.yaml:6: ")
                && m.contains("nested deeper than 64 calls")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("big/templates/cm.yaml") && m.contains("output larger than 32 MiB")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("deep/templates/cm.yaml:1: ")
                && m.contains("nested deeper than 512 levels")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("grow/templates/cm.yaml:1: ")
                && m.contains("built more than 5000000 map and list elements")),
        "{messages:?}"
    );
}

#[test]
fn stdin_gives_the_same_findings_as_the_file() {
    let (rendered, _, _) = render(&fixture(), &["web"]);
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "rendered.yaml", &rendered);
    let from_file = rampart(dir.path())
        .args(["scan", "rendered.yaml", "--format", "json"])
        .output()
        .expect("runs");
    let mut cmd = rampart(dir.path());
    cmd.args(["scan", "-", "--format", "json"]);
    let from_stdin = assert_cmd::Command::from_std(cmd)
        .write_stdin(rendered.clone())
        .output()
        .expect("runs");
    let file_findings = findings(&json(&from_file));
    let stdin_findings = findings(&json(&from_stdin));
    assert!(!file_findings.is_empty());
    let relabel = |list: Vec<(String, String, u64)>, name: &str| -> Vec<(String, String, u64)> {
        list.into_iter()
            .map(|(i, _, l)| (i, name.to_string(), l))
            .collect()
    };
    assert!(
        stdin_findings.iter().all(|(_, f, _)| f == "<stdin>"),
        "{stdin_findings:?}"
    );
    assert_eq!(relabel(file_findings, "x"), relabel(stdin_findings, "x"));
    assert_eq!(from_file.status.code(), from_stdin.status.code());

    // --stdin-name, other formats, and a Dockerfile by --stdin-platform.
    let mut cmd = rampart(dir.path());
    cmd.args([
        "scan",
        "-",
        "--stdin-platform",
        "dockerfile",
        "--stdin-name",
        "build/Dockerfile",
        "--format",
        "sarif",
    ]);
    let sarif = assert_cmd::Command::from_std(cmd)
        .write_stdin("FROM ubuntu:latest\nUSER root\n")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&sarif.stdout);
    assert!(text.contains("\"uri\": \"build/Dockerfile\""), "{text}");

    // Flags for stdin without `-` are a usage error.
    let output = rampart(dir.path())
        .args(["scan", "rendered.yaml", "--stdin-name", "x"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn tofu_files_are_terraform_and_win_over_their_tf_twins() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "main.tf",
        "resource \"aws_s3_bucket\" \"a\" {\n  bucket = \"from-tf\"\n}\n",
    );
    write(
        dir.path(),
        "main.tofu",
        "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"from-tofu\"\n}\n",
    );
    write(
        dir.path(),
        "extra.tofu.json",
        "{\"resource\": {\"aws_s3_bucket\": {\"c\": {\"bucket\": \"json\"}}}}\n",
    );
    let output = rampart(dir.path())
        .args(["inspect", ".", "--format", "json"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("main.tofu") && text.contains("extra.tofu.json"),
        "{text}"
    );
    assert!(!text.contains("\"main.tf\""), "{text}");
    assert!(text.contains("aws_s3_bucket.b") && text.contains("aws_s3_bucket.c"));
    assert!(!text.contains("aws_s3_bucket.a"), "{text}");
}
