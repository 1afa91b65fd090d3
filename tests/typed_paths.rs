//! Findings carry typed paths (keys and indices), never text parsed back:
//! a key holding `]`, `[`, `.` or `"` once made the unit panic when the
//! file also held a suppression comment, and its finding was lost with the
//! scan exiting 0. Each platform's form of that key keeps its finding, and
//! a suppression above the key still finds its line through the path.

mod common;

use common::{code, json, rampart, run_limited, write};
use serde_json::Value;

/// (query id, line, column, path) of each unsuppressed finding, and the
/// number of suppressed ones.
fn findings(report: &Value) -> (Vec<(String, u64, u64, String)>, usize) {
    let all = report["findings"].as_array().expect("findings");
    let live = all
        .iter()
        .filter(|f| f["suppressed"].is_null())
        .map(|f| {
            (
                f["query_id"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["column"].as_u64().unwrap_or_default(),
                f["path"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let suppressed = all.iter().filter(|f| !f["suppressed"].is_null()).count();
    (live, suppressed)
}

fn scan(dir: &std::path::Path, extra: &[&str]) -> Value {
    let out = run_limited(
        rampart(dir)
            .args(["scan", ".", "--format", "json", "--fail-on", "none"])
            .args(extra),
    );
    assert_eq!(code(&out), 0, "{}", common::stderr(&out));
    let report = json(&out);
    let errors: Vec<&Value> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["level"] == "error")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    report
}

const TEAM_QUERY: &str = "
title: A map entry holds a secret
severity: high
category: secrets
cwe: [798]
description: A secret-looking value in a map.
remediation: Move it to a secret store.
message: \"{path} is {value}\"
";

#[test]
fn dockerfile_env_key_with_brackets_keeps_its_finding() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "Dockerfile",
        "FROM alpine:3.19\n# rampart:ignore docker-no-healthcheck\nENV TOKEN_[0]]=abc123\nUSER app\n",
    );
    let (live, _) = findings(&scan(
        dir.path(),
        &["--only", "docker-secret-in-env-or-arg"],
    ));
    assert_eq!(
        live,
        vec![(
            "docker-secret-in-env-or-arg".to_string(),
            3,
            5,
            "pairs.\"TOKEN_[0]]\"".to_string()
        )]
    );
    // The suppression above the instruction covers it.
    write(
        dir.path(),
        "Dockerfile",
        "FROM alpine:3.19\n# rampart:ignore docker-secret-in-env-or-arg\nENV TOKEN_[0]]=abc123\nUSER app\n",
    );
    let (live, suppressed) = findings(&scan(
        dir.path(),
        &["--only", "docker-secret-in-env-or-arg"],
    ));
    assert_eq!((live.len(), suppressed), (0, 1));
}

#[test]
fn kubernetes_annotation_key_with_brackets_keeps_its_finding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pod = |comment: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n    {comment}\n    container.apparmor.security.beta.kubernetes.io/web]]: unconfined\nspec:\n  containers:\n    - name: web\n      image: nginx:1.25\n"
        )
    };
    write(dir.path(), "pod.yaml", pod("# rampart:ignore k8s-other"));
    let (live, _) = findings(&scan(dir.path(), &["--only", "k8s-apparmor-unconfined"]));
    assert_eq!(
        live,
        vec![(
            "k8s-apparmor-unconfined".to_string(),
            7,
            5,
            "$parent.metadata.annotations.\"container.apparmor.security.beta.kubernetes.io/web]]\""
                .to_string()
        )]
    );
    write(
        dir.path(),
        "pod.yaml",
        pod("# rampart:ignore k8s-apparmor-unconfined"),
    );
    let (live, suppressed) = findings(&scan(dir.path(), &["--only", "k8s-apparmor-unconfined"]));
    assert_eq!((live.len(), suppressed), (0, 1), "{live:?}");
}

#[test]
fn terraform_map_key_with_brackets_keeps_its_finding() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "team/queries/tf-team-secret-tag.yaml",
        format!(
            "id: tf-team-secret-tag\nselect: terraform resource.aws_s3_bucket\nflag:\n  any_entry: tags\n  where: {{ path: ., matches: '^secret' }}\n{TEAM_QUERY}"
        ),
    );
    let bucket = |comment: &str| {
        format!(
            "resource \"aws_s3_bucket\" \"b\" {{\n  bucket = \"b\"\n  tags = {{\n    {comment}\n    \"TOKEN_[0]]\" = \"secret-1\"\n    \"a.\\\"b\" = \"x\"\n  }}\n}}\n"
        )
    };
    write(dir.path(), "main.tf", bucket("# rampart:ignore tf-other"));
    let args = ["--queries", "team/queries", "--only", "tf-team-secret-tag"];
    let (live, _) = findings(&scan(dir.path(), &args));
    assert_eq!(
        live,
        vec![(
            "tf-team-secret-tag".to_string(),
            5,
            20,
            "tags.\"TOKEN_[0]]\"".to_string()
        )]
    );
    write(
        dir.path(),
        "main.tf",
        bucket("# rampart:ignore tf-team-secret-tag"),
    );
    let (live, suppressed) = findings(&scan(dir.path(), &args));
    assert_eq!((live.len(), suppressed), (0, 1));
}

#[test]
fn cloudformation_map_key_with_brackets_keeps_its_finding() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "team/queries/cfn-team-secret-variable.yaml",
        format!(
            "id: cfn-team-secret-variable\nselect: cloudformation resource.AWS::Lambda::Function\nflag:\n  any_entry: Properties.Environment.Variables\n  where: {{ path: ., matches: '^secret' }}\n{TEAM_QUERY}"
        ),
    );
    let template = |comment: &str| {
        format!(
            "AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Environment:\n        Variables:\n          {comment}\n          \"TOKEN_[0]]\": secret-1\n"
        )
    };
    write(
        dir.path(),
        "template.yaml",
        template("# rampart:ignore cfn-other"),
    );
    let args = [
        "--queries",
        "team/queries",
        "--only",
        "cfn-team-secret-variable",
    ];
    let (live, _) = findings(&scan(dir.path(), &args));
    assert_eq!(
        live,
        vec![(
            "cfn-team-secret-variable".to_string(),
            9,
            25,
            "Properties.Environment.Variables.\"TOKEN_[0]]\"".to_string()
        )]
    );
    write(
        dir.path(),
        "template.yaml",
        template("# rampart:ignore cfn-team-secret-variable"),
    );
    let (live, suppressed) = findings(&scan(dir.path(), &args));
    assert_eq!((live.len(), suppressed), (0, 1));
}
