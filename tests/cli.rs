//! End-to-end tests of the `rampart` binary, each in a fresh temp directory.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn write(root: &Path, path: &str, content: impl AsRef<[u8]>) {
    let path = root.join(path);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(path, content).expect("write");
}

fn rampart(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("rampart").expect("binary");
    cmd.current_dir(dir);
    cmd
}

/// Runs `cmd` and returns what it printed on stdout, whatever its exit code.
fn stdout_of(cmd: &mut Command) -> String {
    let output = cmd.output().expect("runs");
    String::from_utf8(output.stdout).expect("utf-8")
}

/// Runs `cmd` and parses its stdout as one JSON document.
fn json_of(cmd: &mut Command) -> Value {
    let output = cmd.output().expect("runs");
    serde_json::from_slice(&output.stdout).expect("json")
}

/// Runs `rampart inspect --format json ARGS` in `dir` and returns the report.
fn inspect_json(dir: &Path, args: &[&str]) -> Value {
    let output = rampart(dir)
        .arg("inspect")
        .args(["--format", "json"])
        .args(args)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("json")
}

fn files(report: &Value) -> Vec<String> {
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["platform"].as_str().unwrap_or("?"),
                f["file"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

fn diagnostics(report: &Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            format!(
                "{}:{}:{} {} {}",
                d["file"].as_str().unwrap_or("?"),
                d["line"],
                d["column"],
                d["level"].as_str().unwrap_or("?"),
                d["message"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx\n";

#[test]
fn discovery_honours_ignore_files_and_skips_what_is_not_iac() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, ".gitignore", "generated/\n");
    write(root, "generated/main.tf", "resource \"a_b\" \"c\" {}\n");
    write(root, ".git/config.tf", "resource \"a_b\" \"c\" {}\n");
    write(
        root,
        "infra/.terraform/modules/m/main.tf",
        "resource \"a_b\" \"c\" {}\n",
    );
    write(
        root,
        "infra/main.tf",
        "resource \"aws_s3_bucket\" \"b\" {}\n",
    );
    write(root, "k8s/pod.yaml", POD);
    write(root, "vendor/pod.yaml", POD);
    write(
        root,
        ".github/workflows/ci.yml",
        "name: ci\non: push\njobs: {}\n",
    );
    write(
        root,
        "docker-compose.yml",
        "services:\n  web:\n    image: nginx\n",
    );
    write(root, "package.json", "{\"name\": \"x\"}\n");
    write(root, "Dockerfile", "FROM alpine:3.20\n");

    let report = inspect_json(root, &["--exclude", "vendor"]);
    assert_eq!(
        files(&report),
        vec![
            "dockerfile Dockerfile",
            "terraform infra/main.tf",
            "kubernetes k8s/pod.yaml"
        ]
    );
    assert_eq!(diagnostics(&report), Vec::<String>::new());
    assert_eq!(report["stats"]["files"]["terraform"], 1);
    assert_eq!(report["stats"]["entities"], 1 + 1 + 3 + 2);

    // A file named on the command line is read even when ignored.
    let report = inspect_json(root, &["generated/main.tf", "vendor/pod.yaml"]);
    assert_eq!(
        files(&report),
        vec!["terraform generated/main.tf", "kubernetes vendor/pod.yaml"]
    );
}

#[test]
fn a_helm_chart_is_rendered_and_each_template_error_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "chart/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    );
    write(root, "chart/values.yaml", "image: nginx\n");
    for name in ["deployment", "service", "ingress"] {
        write(
            root,
            &format!("chart/templates/{name}.yaml"),
            "apiVersion: v1\nkind: {{ .Values.kind }}\nmetadata:\n  name: {{ include \"x\" . }}\n",
        );
    }
    let report = inspect_json(root, &[]);
    // The templates are rendered, never read alone as YAML.
    assert_eq!(files(&report), Vec::<String>::new());
    let diagnostics = diagnostics(&report);
    let (notices, errors): (Vec<&String>, Vec<&String>) =
        diagnostics.iter().partition(|d| d.contains(" notice "));
    assert_eq!(
        errors,
        ["deployment", "ingress", "service"]
            .iter()
            .map(|n| format!("chart/templates/{n}.yaml:4:0 error helm template failed: execution error: error calling include \"x\": undefined template: x"))
            .collect::<Vec<_>>()
            .iter()
            .collect::<Vec<_>>()
    );
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].starts_with(
            "chart:0:0 notice Helm chart rendered with values from chart/values.yaml in "
        ),
        "{notices:?}"
    );
}

#[test]
fn bad_input_is_reported_and_the_rest_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "a_ok.tf", "resource \"aws_s3_bucket\" \"b\" {}\n");
    write(root, "binary/main.tf", b"\x00\x01\x02resource".as_slice());
    write(
        root,
        "latin1/main.tf",
        b"# caf\xe9\nresource \"a_b\" \"c\" {}\n".as_slice(),
    );
    write(
        root,
        "syntax/main.tf",
        "resource \"a_b\" \"c\" {\n  x = [1, 2\n}\n",
    );
    write(
        root,
        "stream.yaml",
        format!(
            "{POD}---\n{}---\napiVersion: v1\nkind: Pod\nmetadata: [unclosed\n",
            POD.replace("name: p", "name: q")
        ),
    );
    write(root, "big/main.tf", "# padding\n".repeat(200));
    write(
        root,
        "bom.tf",
        "\u{feff}resource \"aws_s3_bucket\" \"bom\" {}\r\n",
    );

    let report = inspect_json(root, &["--max-file-size", "1000"]);
    assert_eq!(
        files(&report),
        vec![
            "terraform a_ok.tf",
            "terraform bom.tf",
            "kubernetes stream.yaml"
        ]
    );
    let diags = diagnostics(&report);
    assert_eq!(diags.len(), 5, "{diags:#?}");
    assert_eq!(
        diags[0],
        "big/main.tf:0:0 error file is 2000 bytes, over the 1000-byte limit (raise it with --max-file-size)"
    );
    assert_eq!(
        diags[1],
        "binary/main.tf:0:0 error binary file (contains NUL bytes)"
    );
    assert_eq!(
        diags[2],
        "latin1/main.tf:1:6 error invalid UTF-8 at line 1, column 6"
    );
    assert_eq!(
        diags[3],
        "stream.yaml:22:1 error while parsing a flow sequence, expected ',' or ']' (the document at lines 18\u{2013}21 is skipped)"
    );
    assert!(
        diags[4].starts_with("syntax/main.tf:3:1 error invalid HCL syntax"),
        "{}",
        diags[4]
    );
    // The two good documents before the broken one are kept.
    let stream = &report["files"][2];
    assert_eq!(stream["documents"], 2);
    // A BOM does not shift columns; byte offsets still index the file.
    let bom = &report["files"][1]["entities"][0]["header"];
    assert_eq!(
        (bom["start_line"].as_u64(), bom["start_col"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(bom["start"].as_u64(), Some(3));
}

#[test]
fn missing_path_is_a_usage_error_not_a_crash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = rampart(dir.path())
        .args(["inspect", "--format", "json", "nope"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "rampart: error: nope: no such file or directory (a path to read must exist and be readable)\n"
    );
}

#[test]
fn text_output_lists_entities_and_a_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "k8s/pod.yaml", POD);
    let output = rampart(dir.path())
        .args(["inspect", "k8s"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "k8s/pod.yaml (kubernetes, 1 document, 3 entities)"
    );
    assert_eq!(
        lines[1],
        "  2:1       object.Pod                               Pod/p"
    );
    assert_eq!(
        lines[2],
        "  5:1       pod_spec                                 pod spec in Pod/p"
    );
    assert_eq!(
        lines[3],
        "  7:7       container                                container c in Pod/p"
    );
    assert!(
        lines[5].starts_with("1 file (kubernetes 1), 1 document, 3 entities, 0 errors; 0.0 MB in "),
        "{}",
        lines[5]
    );
}

#[test]
fn tree_shows_nodes_with_spans() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "main.tf",
        "resource \"aws_s3_bucket\" \"b\" {\n  acl = var.acl\n}\n",
    );
    let report = inspect_json(dir.path(), &["--tree"]);
    let doc = &report["files"][0]["tree"][0];
    assert_eq!(doc["type"], "object");
    let resource = &doc["entries"][0];
    assert_eq!(resource["key"], "resource");
    let acl = &resource["value"]["entries"][0]["value"]["entries"][0]["value"]["entries"][0];
    assert_eq!(acl["key"], "acl");
    assert_eq!(acl["value"]["type"], "expression");
    assert_eq!(acl["value"]["source"], "var.acl");
    assert_eq!(acl["value"]["references"][0], "var.acl");
    assert_eq!(acl["value"]["span"]["start_line"], 2);
    assert_eq!(acl["value"]["span"]["start_col"], 9);
}

#[test]
fn bad_exclude_glob_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = rampart(dir.path())
        .args(["inspect", "--exclude", "a["])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    assert!(
        stderr.starts_with("rampart: error: invalid --exclude glob \"a[\""),
        "{stderr}"
    );
}

const TEAM_QUERY: &str = r#"id: tf-team-bucket-needs-owner-tag
title: Bucket has no owner tag
severity: low
category: best-practice
cwe: []
description: Every bucket names its owning team.
remediation: |
  Add the tag:
    tags = { owner = "team" }
aliases: {}
select: terraform resource.aws_s3_bucket
flag:
  path: tags.owner
  missing: true
message: "{entity} has no owner tag"
"#;

const PUBLIC_BUCKET: &str = "resource \"aws_s3_bucket\" \"b\" {\n  acl = \"public-read\"\n}\n";

#[test]
fn scan_reports_findings_and_exits_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "infra/main.tf", PUBLIC_BUCKET);
    let output = rampart(dir.path())
        .args([
            "scan",
            "infra",
            "--format",
            "json",
            "--only",
            "aws-s3-public-acl",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["version"], 1);
    let f = &report["findings"][0];
    assert_eq!(f["query_id"], "aws-s3-public-acl");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["file"], "infra/main.tf");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(2), Some(9))
    );
    assert_eq!(
        (f["end_line"].as_u64(), f["end_column"].as_u64()),
        (Some(2), Some(22))
    );
    assert_eq!(f["entity"], "aws_s3_bucket.b");
    assert!(
        f["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("acl is \"public-read\"")
    );
    assert_eq!(f["fingerprint"].as_str().map(str::len), Some(16));
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(1));

    // Compact output: one line per finding, the form editors read.
    let text = stdout_of(rampart(dir.path()).args([
        "scan",
        "infra",
        "--only",
        "aws-s3-public-acl",
        "--format",
        "compact",
    ]));
    assert!(
        text.starts_with("infra/main.tf:2:9: high aws-s3-public-acl acl is \"public-read\""),
        "{text}"
    );
}

#[test]
fn fingerprints_survive_moving_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fingerprint = |content: &str| {
        write(dir.path(), "main.tf", content);
        let report = json_of(rampart(dir.path()).args([
            "scan",
            ".",
            "--format",
            "json",
            "--only",
            "aws-s3-public-acl",
        ]));
        report["findings"][0]["fingerprint"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let before = fingerprint(PUBLIC_BUCKET);
    let after = fingerprint(&format!("# a comment\n\nlocals {{}}\n\n{PUBLIC_BUCKET}"));
    assert_eq!(before, after);
    assert!(!before.is_empty());
}

#[test]
fn selection_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "main.tf", PUBLIC_BUCKET);
    write(dir.path(), "team/owner.yaml", TEAM_QUERY);
    let ids = |args: &[&str]| -> Vec<String> {
        let report = json_of(
            rampart(dir.path())
                .args(["scan", "main.tf", "--format", "json", "--queries", "team"])
                .args(args),
        );
        let mut ids: Vec<String> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["query_id"].as_str().map(str::to_string))
            .collect();
        ids.dedup();
        ids
    };
    let all = ids(&[]);
    assert!(all.contains(&"aws-s3-public-acl".to_string()));
    assert!(all.contains(&"tf-team-bucket-needs-owner-tag".to_string()));
    assert_eq!(
        ids(&["--only", "tf-team-bucket-needs-owner-tag"]),
        vec!["tf-team-bucket-needs-owner-tag"]
    );
    assert!(
        !ids(&["--skip", "tf-team-bucket-needs-owner-tag"])
            .contains(&"tf-team-bucket-needs-owner-tag".to_string())
    );
    assert!(
        !ids(&["--severity", "medium"]).contains(&"tf-team-bucket-needs-owner-tag".to_string())
    );
    let output = rampart(dir.path())
        .args(["scan", "--only", "nope"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown query id \"nope\""));
}

#[test]
fn a_broken_query_stops_everything() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "main.tf", PUBLIC_BUCKET);
    write(
        dir.path(),
        "team/a.yaml",
        TEAM_QUERY.replace("severity: low", "severity: lowish"),
    );
    write(dir.path(), "team/b.yaml", TEAM_QUERY);
    let output = rampart(dir.path())
        .args(["scan", "main.tf", "--queries", "team"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "nothing is scanned");
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    assert!(
        stderr.contains("team/a.yaml:3:11: field \"severity\": invalid severity \"lowish\""),
        "{stderr}"
    );

    // The same id twice is an error too.
    write(dir.path(), "team/a.yaml", TEAM_QUERY);
    let output = rampart(dir.path())
        .args(["scan", "main.tf", "--queries", "team"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    assert!(
        stderr.contains("duplicate query id \"tf-team-bucket-needs-owner-tag\""),
        "{stderr}"
    );
}

#[test]
fn queries_and_explain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = rampart(dir.path())
        .args(["queries", "--format", "json"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let list: Value = serde_json::from_slice(&output.stdout).expect("json");
    let acl = list
        .as_array()
        .expect("array")
        .iter()
        .find(|q| q["id"] == "aws-s3-public-acl")
        .expect("listed");
    assert_eq!(
        acl["platforms"],
        serde_json::json!(["terraform", "cloudformation"])
    );
    assert_eq!(acl["severity"], "high");
    assert_eq!(acl["category"], "access-control");
    assert_eq!(
        acl["aliases"]["checkov"],
        serde_json::json!(["CKV_AWS_20", "CKV_AWS_57", "CKV2_AWS_43"])
    );
    assert_eq!(
        acl["aliases"]["rampart"],
        serde_json::json!([
            "tf-aws-s3-public-acl",
            "cfn-aws-s3-public-acl",
            "cfn-aws-s3-bucket-acl-read-users",
            "tf-aws-s3-acl-authenticated-users",
            "cfn-aws-s3-acl-authenticated-users",
            "tf-aws-s3-bucket-public-acl-overridden-public"
        ])
    );
    // The former ids are not listed as queries of their own.
    assert!(
        list.as_array()
            .expect("array")
            .iter()
            .all(|q| q["id"] != "tf-aws-s3-public-acl" && q["id"] != "cfn-aws-s3-public-acl")
    );

    let output = rampart(dir.path())
        .args(["explain", "TF-AWS-S3-PUBLIC-ACL"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).expect("utf-8");
    // A former id answers, and says what it became.
    assert!(
        text.starts_with(
            "TF-AWS-S3-PUBLIC-ACL is now aws-s3-public-acl\naws-s3-public-acl: S3 bucket ACL grants access to everyone\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("selects terraform resource.aws_s3_bucket, resource.aws_s3_bucket_acl; cloudformation resource.AWS::S3::Bucket"),
        "{text}"
    );
    for part in [
        "How to fix:",
        "Bad examples (flagged):",
        "--- bad-",
        "Good examples (not flagged):",
        "# rampart-expect",
    ] {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }
}

#[test]
fn test_command_runs_a_pack() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "pack/queries/aws/tf-team-bucket-needs-owner-tag.yaml",
        TEAM_QUERY,
    );
    write(
        root,
        "pack/fixtures/aws/tf-team-bucket-needs-owner-tag/bad.tf",
        "# rampart-expect: tf-team-bucket-needs-owner-tag\nresource \"aws_s3_bucket\" \"b\" {}\n",
    );
    write(
        root,
        "pack/fixtures/aws/tf-team-bucket-needs-owner-tag/good.tf",
        "resource \"aws_s3_bucket\" \"b\" {\n  tags = { owner = \"x\" }\n}\n",
    );
    let output = rampart(root).args(["test", "pack"]).output().expect("runs");
    let text = String::from_utf8(output.stdout).expect("utf-8");
    assert!(output.status.success(), "{text}");
    assert_eq!(text.trim(), "2 passed, 0 failed (2 cases of 1 queries)");

    // A wrong expectation fails with the line that was expected.
    write(
        root,
        "pack/fixtures/aws/tf-team-bucket-needs-owner-tag/bad.tf",
        "resource \"aws_s3_bucket\" \"b\" {} # rampart-expect: tf-team-bucket-needs-owner-tag\n\n# rampart-expect: tf-team-bucket-needs-owner-tag\nlocals {}\n",
    );
    let output = rampart(root).args(["test", "pack"]).output().expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).expect("utf-8");
    assert!(
        text.contains("FAIL tf-team-bucket-needs-owner-tag"),
        "{text}"
    );
    assert!(text.contains("missing: expected a finding at"), "{text}");
    assert!(text.contains("bad.tf:4"), "{text}");
    assert!(
        text.ends_with("1 passed, 1 failed (2 cases of 1 queries)\n"),
        "{text}"
    );
}

#[test]
fn exit_policy_follows_fail_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "main.tf", PUBLIC_BUCKET);
    let code = |args: &[&str]| {
        rampart(dir.path())
            .args([
                "scan",
                "main.tf",
                "--only",
                "aws-s3-public-acl",
                "--format",
                "compact",
            ])
            .args(args)
            .output()
            .expect("runs")
            .status
            .code()
    };
    assert_eq!(code(&[]), Some(1));
    assert_eq!(code(&["--fail-on", "high"]), Some(1));
    assert_eq!(code(&["--fail-on", "critical"]), Some(0));
    assert_eq!(code(&["--fail-on", "none"]), Some(0));
    assert_eq!(code(&["--fail-on", "hgh"]), Some(2));

    // Parse errors fail the run only when asked.
    write(dir.path(), "broken.tf", "resource \"a\" {\n");
    let code = |args: &[&str]| {
        rampart(dir.path())
            .args(["scan", "broken.tf", "--format", "compact"])
            .args(args)
            .output()
            .expect("runs")
            .status
            .code()
    };
    assert_eq!(code(&[]), Some(0));
    assert_eq!(code(&["--fail-on-parse-error"]), Some(1));
}

#[test]
fn several_outputs_in_one_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "main.tf", PUBLIC_BUCKET);
    let output = rampart(dir.path())
        .args([
            "scan",
            "main.tf",
            "--only",
            "aws-s3-public-acl",
            "-o",
            "compact",
            "-o",
            "json:out/report.json",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert!(
        stdout.starts_with("main.tf:2:9: high aws-s3-public-acl"),
        "{stdout}"
    );
    let json: Value =
        serde_json::from_slice(&fs::read(dir.path().join("out/report.json")).expect("written"))
            .expect("json");
    assert_eq!(json["findings"][0]["query_id"], "aws-s3-public-acl");
    let leftovers: Vec<_> = fs::read_dir(dir.path().join("out"))
        .expect("dir")
        .flatten()
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");

    let output = rampart(dir.path())
        .args(["scan", "main.tf", "-o", "yaml"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("\"yaml\" is not a known format"));
}

#[test]
fn config_file_settings_and_precedence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    fs::create_dir_all(root.join(".git")).expect("git dir");
    write(
        root,
        ".rampart.yaml",
        "fail_on: critical\nexclude: [\"vendor/**\"]\nonly: [aws-s3-public-acl]\n",
    );
    write(root, "infra/main.tf", PUBLIC_BUCKET);
    write(root, "vendor/main.tf", PUBLIC_BUCKET);
    let run = |args: &[&str]| {
        let output = rampart(root)
            .args(["scan", "--format", "json"])
            .args(args)
            .output()
            .expect("runs");
        let report: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
        (
            output.status.code(),
            report["findings"].as_array().map_or(0, Vec::len),
        )
    };
    // The file's fail_on (critical) makes a high finding pass; vendor is excluded.
    assert_eq!(run(&[]), (Some(0), 1));
    // A flag overrides the file.
    assert_eq!(run(&["--fail-on", "high"]), (Some(1), 1));
    // So does the environment.
    let output = rampart(root)
        .env("RAMPART_FAIL_ON", "high")
        .args(["scan", "--format", "compact"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    // A scan of a subdirectory finds the file up to the repository root.
    let output = rampart(&root.join("infra"))
        .args(["scan", "--format", "compact"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));

    write(root, ".rampart.yaml", "fail_on: high\nexclud: []\n");
    let output = rampart(root).args(["scan"]).output().expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    assert!(
        stderr.contains(".rampart.yaml:2:1: unknown key \"exclud\""),
        "{stderr}"
    );
}

#[test]
fn completions_print_a_script() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = rampart(dir.path())
        .args(["completions", "bash"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("_rampart()"));
}

/// Without the `admission` feature the subcommand exists and says how to
/// get it (with the feature, tests/admission.rs runs the server).
#[cfg(not(feature = "admission"))]
#[test]
fn admission_without_the_feature_says_how_to_build_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = rampart(dir.path())
        .args(["admission", "--tls-self-signed"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "rampart: error: this rampart was built without the admission webhook; build it with `cargo build --release --features admission` (or use the rampart-admission image)\n"
    );
}

#[test]
fn junit_has_a_suite_per_platform_and_a_case_per_failing_entity() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "main.tf", PUBLIC_BUCKET);
    write(dir.path(), "broken.tf", "resource \"a\" {\n");
    let xml = stdout_of(rampart(dir.path()).args([
        "scan",
        ".",
        "--format",
        "junit",
        "--only",
        "aws-s3-public-acl,k8s-privileged-container",
    ]));
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"rampart\" tests=\"4\" failures=\"1\" errors=\"1\""), "{xml}");
    // The concept has a CloudFormation rule too: a passing case there.
    assert!(
        xml.contains("<testsuite name=\"cloudformation\" tests=\"1\" failures=\"0\""),
        "{xml}"
    );
    assert!(
        xml.contains("<testsuite name=\"terraform\" tests=\"1\" failures=\"1\""),
        "{xml}"
    );
    assert!(xml.contains(
        "<testcase classname=\"terraform.aws-s3-public-acl\" name=\"main.tf: aws_s3_bucket.b\" file=\"main.tf\" line=\"2\">"
    ));
    assert!(xml.contains(
        "<failure message=\"S3 bucket ACL grants access to everyone: acl is &quot;public-read&quot;"
    ));
    assert!(
        xml.contains("<testsuite name=\"kubernetes\" tests=\"1\" failures=\"0\""),
        "{xml}"
    );
    assert!(
        xml.contains("<testsuite name=\"parse\" tests=\"1\" failures=\"0\" errors=\"1\""),
        "{xml}"
    );
    assert!(xml.ends_with("</testsuites>\n"));
}

#[test]
fn named_terraform_files_are_read_with_their_module_but_reported_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The ACL comes from a variable declared in another file of the module.
    write(
        dir.path(),
        "infra/main.tf",
        "resource \"aws_s3_bucket\" \"b\" {\n  acl = \"public-read\"\n}\n",
    );
    write(
        dir.path(),
        "infra/other.tf",
        "resource \"aws_s3_bucket\" \"c\" {\n  acl = \"public-read\"\n}\n",
    );
    write(
        dir.path(),
        "infra/pab.tf",
        "resource \"aws_s3_bucket_public_access_block\" \"b\" {\n  bucket = aws_s3_bucket.b.id\n}\n",
    );
    let findings = |args: &[&str]| -> Vec<String> {
        let report = json_of(
            rampart(dir.path())
                .args([
                    "scan",
                    "--format",
                    "json",
                    "--only",
                    "aws-s3-public-acl,tf-aws-s3-no-public-access-block",
                ])
                .args(args),
        );
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    f["file"].as_str().unwrap_or(""),
                    f["query_id"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    // Only main.tf is reported; the block in pab.tf (context) still covers bucket b.
    assert_eq!(
        findings(&["infra/main.tf"]),
        vec!["infra/main.tf aws-s3-public-acl"]
    );
    // The whole directory: both ACLs, and bucket c without a block.
    assert_eq!(findings(&["infra"]).len(), 3);
}

#[test]
fn var_files_and_vars_override_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "infra/main.tf",
        "variable \"acl\" {\n  default = \"private\"\n}\n\nresource \"aws_s3_bucket\" \"b\" {\n  acl = var.acl\n}\n",
    );
    write(dir.path(), "prod.tfvars", "acl = \"public-read\"\n");
    let compact = |args: &[&str]| -> String {
        let output = rampart(dir.path())
            .args(["scan", "infra", "--only", "aws-s3-public-acl", "--compact"])
            .args(args)
            .output()
            .expect("runs");
        String::from_utf8(output.stdout).expect("utf-8")
    };
    assert_eq!(compact(&[]), "");
    assert_eq!(
        compact(&["--var-file", "prod.tfvars"]),
        "infra/main.tf:6:9: high aws-s3-public-acl acl is \"public-read\"; anyone can read this bucket's objects [aws_s3_bucket.b]\n"
    );
    // --var comes last; terraform.tfvars in the module applies before both.
    assert_eq!(
        compact(&["--var-file", "prod.tfvars", "--var", "acl=private"]),
        ""
    );
    write(
        dir.path(),
        "infra/terraform.tfvars",
        "acl = \"authenticated-read\"\n",
    );
    assert!(compact(&[]).contains("acl is \"authenticated-read\""));
}

#[test]
fn instances_of_count_and_for_each_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "main.tf",
        "resource \"aws_s3_bucket\" \"b\" {\n  for_each = { logs = \"private\", assets = \"public-read\" }\n  acl      = each.value\n}\n\nresource \"aws_ebs_volume\" \"v\" {\n  count             = 2\n  availability_zone = \"eu-west-1a\"\n  encrypted         = count.index == 0\n}\n",
    );
    let text = stdout_of(rampart(dir.path()).args([
        "scan",
        "main.tf",
        "--compact",
        "--only",
        "aws-s3-public-acl,aws-ebs-volume-not-encrypted",
    ]));
    let entities: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once(" [").and_then(|(_, e)| e.strip_suffix(']')))
        .collect();
    assert_eq!(
        entities,
        vec!["aws_s3_bucket.b[\"assets\"]", "aws_ebs_volume.v[1]"],
        "{text}"
    );
}

#[test]
fn local_modules_are_instantiated_and_cycles_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "main.tf",
        "module \"site\" {\n  source = \"./modules/bucket\"\n  acl    = \"public-read\"\n}\n\nmodule \"private\" {\n  source = \"./modules/bucket\"\n}\n\nmodule \"a\" {\n  source = \"./modules/a\"\n}\n",
    );
    write(
        root,
        "modules/bucket/main.tf",
        "variable \"acl\" {\n  default = \"private\"\n}\n\nresource \"aws_s3_bucket\" \"this\" {\n  acl = var.acl\n}\n",
    );
    // Two modules that call each other.
    write(
        root,
        "modules/a/main.tf",
        "module \"b\" {\n  source = \"../b\"\n}\n",
    );
    write(
        root,
        "modules/b/main.tf",
        "module \"a\" {\n  source = \"../a\"\n}\n",
    );
    let report = json_of(rampart(root).args([
        "scan",
        "main.tf",
        "--only",
        "aws-s3-public-acl",
        "--format",
        "json",
    ]));
    let findings: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{}:{} {}",
                f["file"].as_str().unwrap_or(""),
                f["line"],
                f["entity"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        findings,
        vec!["modules/bucket/main.tf:6 module.site.aws_s3_bucket.this"]
    );
    let diagnostics: Vec<String> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            format!(
                "{}:{} {}",
                d["file"].as_str().unwrap_or(""),
                d["line"],
                d["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        diagnostics,
        vec![
            "modules/b/main.tf:1 module.a.module.b.module.a calls a module that is already on its call chain (a cycle); not instantiated"
        ]
    );
}

#[test]
fn file_and_templatefile_read_inside_the_scanned_tree_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "infra/main.tf",
        "resource \"aws_iam_policy\" \"from_file\" {\n  policy = file(\"${path.module}/admin.json\")\n}\n\nresource \"aws_iam_policy\" \"from_template\" {\n  policy = templatefile(\"${path.module}/policy.tpl\", { action = \"*\" })\n}\n\nresource \"aws_iam_policy\" \"outside\" {\n  policy = file(\"${path.module}/../secret.json\")\n}\n",
    );
    let admin =
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}]}";
    write(root, "infra/admin.json", admin);
    write(
        root,
        "infra/policy.tpl",
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"${action}\", \"Resource\": \"*\"}]}",
    );
    // Outside the scanned directory: never read.
    write(root, "secret.json", admin);
    let text = stdout_of(rampart(root).args([
        "scan",
        "infra",
        "--only",
        "aws-iam-policy-wildcard-admin",
        "--compact",
    ]));
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.split(": high").next().unwrap_or(""))
        .collect();
    assert_eq!(
        lines,
        vec!["infra/main.tf:2:12", "infra/main.tf:6:12"],
        "{text}"
    );
}

#[test]
fn downloaded_modules_are_found_through_the_init_manifest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "main.tf",
        "module \"assets\" {\n  source  = \"example/bucket/aws\"\n  version = \"1.0.0\"\n  acl     = \"public-read\"\n}\n",
    );
    write(
        root,
        ".terraform/modules/modules.json",
        "{\"Modules\":[{\"Key\":\"\",\"Source\":\"\",\"Dir\":\".\"},{\"Key\":\"assets\",\"Source\":\"registry.terraform.io/example/bucket/aws\",\"Version\":\"1.0.0\",\"Dir\":\".terraform/modules/assets\"}]}",
    );
    write(
        root,
        ".terraform/modules/assets/main.tf",
        "variable \"acl\" {\n  default = \"private\"\n}\n\nresource \"aws_s3_bucket\" \"this\" {\n  acl = var.acl\n}\n",
    );
    let text =
        stdout_of(rampart(root).args(["scan", ".", "--only", "aws-s3-public-acl", "--compact"]));
    assert_eq!(
        text,
        ".terraform/modules/assets/main.tf:6:9: high aws-s3-public-acl acl is \"public-read\"; anyone can read this bucket's objects [module.assets.aws_s3_bucket.this via main.tf:1]\n"
    );
}

#[test]
fn render_without_a_chart_or_kustomization_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
    );
    let output = rampart(dir.path())
        .args(["render", "."])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no Helm chart (Chart.yaml) or kustomization"),
        "{stderr}"
    );
}

#[test]
fn an_overlay_named_alone_reads_its_base_inside_the_repository_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("repo");
    write(&repo, ".git/HEAD", "ref: refs/heads/main\n");
    write(
        &repo,
        "base/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: nginx\n",
    );
    write(&repo, "base/kustomization.yaml", "resources: [pod.yaml]\n");
    write(
        &repo,
        "overlays/prod/kustomization.yaml",
        "resources: [../../base]\nnamePrefix: prod-\n",
    );
    let output = rampart(&repo)
        .args(["render", "overlays/prod"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("name: prod-web"), "{stdout}");
    // A base outside the repository is never read.
    write(
        dir.path(),
        "outside/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n",
    );
    write(
        dir.path(),
        "outside/kustomization.yaml",
        "resources: [pod.yaml]\n",
    );
    write(
        &repo,
        "overlays/escape/kustomization.yaml",
        "resources: [../../../outside]\n",
    );
    let escape = rampart(&repo)
        .args(["render", "overlays/escape"])
        .output()
        .expect("runs");
    assert_eq!(escape.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&escape.stdout).contains("name: x"));
}
