//! `rampart report` over real scan results: three repositories scanned
//! twice each (a fix between the scans), with an exceptions file holding an
//! expired and an expiring exception and an inline suppression without a
//! reason. The roll-up is snapshotted; the HTML is checked for its numbers.

use std::path::Path;
use std::process::Command;

fn rampart() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
}

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

const PUBLIC_BUCKET: &str =
    "resource \"aws_s3_bucket\" \"site\" {\n  bucket = \"site\"\n  acl    = \"public-read\"\n}\n";
const PRIVILEGED_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000\n      securityContext:\n        privileged: true\n";

/// Scans `tree` as `project` at `epoch` (seconds), writing JSON to `out`.
fn scan(tree: &Path, project: &str, epoch: u64, exceptions: Option<&Path>, out: &Path) {
    let mut cmd = rampart();
    cmd.arg("scan")
        .arg(tree)
        .args(["--project", project, "--no-config", "--fail-on", "none"])
        .arg("-o")
        .arg(format!("json:{}", out.display()))
        .env("SOURCE_DATE_EPOCH", epoch.to_string());
    if let Some(e) = exceptions {
        cmd.arg("--exceptions").arg(e);
    }
    let output = cmd.output().expect("runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// 2026-11-01 and 2026-12-01, 12:00 UTC.
const FIRST: u64 = 1_793_534_400;
const SECOND: u64 = 1_796_126_400;
/// The day the report judges expiry by: 2026-12-03.
const TODAY: u64 = 1_796_299_200;

fn results(dir: &Path) -> std::path::PathBuf {
    let trees = dir.join("trees");
    let results = dir.join("results");
    std::fs::create_dir_all(&results).expect("mkdir");
    // payments: a public bucket, excepted (expired) in the second scan.
    write(&trees, "payments/main.tf", PUBLIC_BUCKET);
    scan(
        &trees.join("payments"),
        "payments",
        FIRST,
        None,
        &results.join("payments-1.json"),
    );
    write(
        &trees,
        "policy/exceptions.yaml",
        "exceptions:\n  - query: aws-s3-public-acl\n    reason: static website\n    approved_by: security@example.com\n    expires: 2026-11-30\n  - query: k8s-privileged-container\n    reason: node agent needs the host\n    approved_by: platform@example.com\n    expires: 2026-12-20\n",
    );
    let exceptions = trees.join("policy/exceptions.yaml");
    scan(
        &trees.join("payments"),
        "payments",
        SECOND,
        Some(&exceptions),
        &results.join("payments-2.json"),
    );
    // agents: a privileged pod, excepted (expiring) in the second scan.
    write(&trees, "agents/pod.yaml", PRIVILEGED_POD);
    scan(
        &trees.join("agents"),
        "agents",
        FIRST,
        None,
        &results.join("agents-1.json"),
    );
    scan(
        &trees.join("agents"),
        "agents",
        SECOND,
        Some(&exceptions),
        &results.join("agents-2.json"),
    );
    // web: fixed between scans, then an inline suppression with no reason.
    write(&trees, "web/main.tf", PUBLIC_BUCKET);
    scan(
        &trees.join("web"),
        "web",
        FIRST,
        None,
        &results.join("web-1.json"),
    );
    write(
        &trees,
        "web/main.tf",
        "resource \"aws_s3_bucket\" \"site\" {\n  bucket = \"site\"\n  # rampart:ignore aws-s3-public-acl\n  acl    = \"public-read\"\n}\n",
    );
    scan(
        &trees.join("web"),
        "web",
        SECOND,
        None,
        &results.join("web-2.json"),
    );
    // A cluster's admission audit log (the lines `rampart admission`
    // writes, with a server event between them).
    write(
        &results,
        "prod-cluster.jsonl",
        concat!(
            r#"{"time":"2026-12-02T09:00:00Z","event":"server.start","listen":"0.0.0.0:8443"}"#,
            "\n",
            r#"{"time":"2026-12-02T10:00:00Z","event":"admission.decision","uid":"a","user":"ci","namespace":"prod","kind":"Pod","name":"web","operation":"CREATE","dry_run":false,"mode":"enforce","decision":"deny","enforced":true,"findings":[{"query":"k8s-privileged-container","severity":"high","entity":"container web in Pod/prod/web","field":"securityContext.privileged","suppressed":null}],"exceptions":[],"error":null,"duration_us":210}"#,
            "\n",
            r#"{"time":"2026-12-02T10:05:00Z","event":"admission.decision","uid":"b","user":"dev","namespace":"prod","kind":"Pod","name":"web","operation":"CREATE","dry_run":true,"mode":"enforce","decision":"deny","enforced":false,"findings":[{"query":"k8s-privileged-container","severity":"high","entity":"container web in Pod/prod/web","field":"securityContext.privileged","suppressed":null}],"exceptions":[],"error":null,"duration_us":190}"#,
            "\n",
            r#"{"time":"2026-12-02T11:00:00Z","event":"admission.decision","uid":"c","user":"ci","namespace":"agents","kind":"DaemonSet","name":"agent","operation":"CREATE","dry_run":false,"mode":"enforce","decision":"allow","enforced":false,"findings":[{"query":"k8s-privileged-container","severity":"high","entity":"container agent in DaemonSet/agents/agent","field":"securityContext.privileged","suppressed":"exception"}],"exceptions":[{"query":"k8s-privileged-container","origin":"exceptions.yaml:6","expires":"2026-12-20"}],"error":null,"duration_us":250}"#,
            "\n",
        ),
    );
    // Something else kept beside the results.
    write(&results, "notes.json", "{\"hello\": 1}");
    results
}

fn report(results: &Path, args: &[&str]) -> std::process::Output {
    rampart()
        .arg("report")
        .arg(results)
        .args(args)
        .env("SOURCE_DATE_EPOCH", TODAY.to_string())
        .output()
        .expect("runs")
}

#[test]
fn results_roll_up_by_repository_with_the_exceptions_register() {
    let dir = tempfile::tempdir().expect("tempdir");
    let results = results(dir.path());
    let output = report(&results, &["-o", "json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // payments' exception expired, so its public bucket counts again: it
    // fails at the default threshold (high).
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("notes.json"), "{stderr}");
    let text = String::from_utf8(output.stdout).expect("utf-8");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let status: Vec<(String, String)> = json["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .map(|r| {
            (
                r["project"].as_str().unwrap_or_default().to_string(),
                r["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        status,
        [
            ("agents".to_string(), "pass".to_string()),
            ("payments".to_string(), "fail".to_string()),
            ("web".to_string(), "pass".to_string())
        ]
    );
    // The register: an expired exception, an expiring one, an inline
    // suppression without a reason.
    let register: Vec<(String, String, String)> = json["exceptions"]
        .as_array()
        .expect("exceptions")
        .iter()
        .map(|e| {
            (
                e["projects"]
                    .as_array()
                    .map(|p| {
                        p.iter()
                            .filter_map(|x| x.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default(),
                e["query"].as_str().unwrap_or_default().to_string(),
                e["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    // One exceptions file served two repositories: each entry once.
    assert!(register.contains(&(
        "agents,payments".into(),
        "aws-s3-public-acl".into(),
        "expired".into()
    )));
    assert!(register.contains(&(
        "agents,payments".into(),
        "k8s-privileged-container".into(),
        "expiring".into()
    )));
    assert!(register.contains(&("web".into(), "aws-s3-public-acl".into(), "no-reason".into())));
    // The cluster column: one enforced denial, a dry run that is not one,
    // an exception used.
    let cluster = &json["clusters"][0];
    assert_eq!(cluster["cluster"], "prod-cluster");
    assert_eq!(cluster["decisions"], 3);
    assert_eq!(cluster["denied"], 1);
    assert_eq!(cluster["dry_runs"], 1);
    assert_eq!(cluster["denials_by_query"]["k8s-privileged-container"], 1);
    assert_eq!(cluster["exceptions_used"]["exceptions.yaml:6"], 1);
    let redacted = regex::Regex::new(r#""(commit|branch|repository)": ("[^"]*"|null)"#)
        .expect("regex")
        .replace_all(&text, "\"${1}\": \"[GIT]\"")
        .replace(
            &format!("\"{}\"", env!("CARGO_PKG_VERSION")),
            "\"[VERSION]\"",
        );
    let redacted = regex::Regex::new(r#""(source|file)": "[^"]*/results/"#)
        .expect("regex")
        .replace_all(&redacted, "\"${1}\": \"[RESULTS]/");
    let redacted = regex::Regex::new(r#""[^"]*/trees/"#)
        .expect("regex")
        .replace_all(&redacted, "\"[TREES]/");
    insta::assert_snapshot!(redacted);
}

#[test]
fn the_html_page_is_self_contained_and_carries_the_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let results = results(dir.path());
    let page = dir.path().join("compliance.html");
    let output = report(&results, &["-o", &format!("html:{}", page.display())]);
    assert_eq!(output.status.code(), Some(1));
    let html = std::fs::read_to_string(&page).expect("written");
    for needle in [
        "<div class=\"card\" id=\"repositories-count\"><b>3</b>",
        "<div class=\"card\" id=\"failing-count\"><b>1</b>",
        "<div class=\"card\" id=\"expired-count\"><b>1</b>",
        "<div class=\"card\" id=\"expiring-count\"><b>1</b>",
        "<td class=\"fail\">fail</td>",
        "<svg id=\"overview-chart\"",
        "<tr data-cluster=\"prod-cluster\"><td>prod-cluster</td><td class=\"n\">3</td><td class=\"n\">1</td>",
    ] {
        assert!(html.contains(needle), "{needle} not in the page");
    }
    // Nothing loaded from anywhere.
    for forbidden in ["http://", "https://", "<link", "src="] {
        assert!(!html.contains(forbidden), "{forbidden} in the page");
    }
}

#[test]
fn a_report_of_nothing_usable_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "x.json", "[1, 2]");
    let output = report(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no rampart JSON result or admission audit log"),
        "{stderr}"
    );
}
