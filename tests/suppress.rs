//! Suppressions, exceptions and baselines, end to end through the binary:
//! every inline form on every platform, the peers' forms mapped through
//! aliases, expiry, the exceptions file, baselines that survive moved code,
//! and `--diff-base` on a scratch git repository.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn write(root: &Path, path: &str, content: &str) {
    let path = root.join(path);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(path, content).expect("write");
}

/// Runs `rampart scan ARGS --format json` in `dir`; returns (exit code,
/// findings as `line entity query suppressed-kind`).
fn scan(dir: &Path, args: &[&str]) -> (Option<i32>, Vec<String>, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("scan")
        .args(args)
        .args(["--format", "json"])
        .current_dir(dir)
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
    let findings = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{}:{} {} {}",
                f["file"].as_str().unwrap_or(""),
                f["line"],
                f["query_id"].as_str().unwrap_or(""),
                f["suppressed"]["kind"].as_str().unwrap_or("-")
            )
        })
        .collect();
    (output.status.code(), findings, report)
}

const TEAM_QUERIES: &[(&str, &str)] = &[
    (
        "team/module-source.yaml",
        "id: tf-team-module-unpinned\ntitle: t\nseverity: medium\ncategory: supply-chain\ncwe: []\ndescription: d\nremediation: r\nselect: terraform module\nflag: {path: version, missing: true}\nmessage: unpinned\n",
    ),
    (
        "team/dynamic-open.yaml",
        "id: tf-team-dynamic-open\ntitle: t\nseverity: high\ncategory: network\ncwe: []\ndescription: d\nremediation: r\nselect: terraform resource.aws_security_group\nflag: {path: ingress.cidr_blocks, cidr_open_to_world: true}\nmessage: open\n",
    ),
];

#[test]
fn terraform_inline_forms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for (path, text) in TEAM_QUERIES {
        write(root, path, text);
    }
    write(
        root,
        "main.tf",
        r#"# rampart:ignore aws-s3-public-acl public website, reviewed by security
resource "aws_s3_bucket" "above_block" {
  acl = "public-read"
}

resource "aws_s3_bucket" "end_of_line" {
  acl = "public-read" # rampart:ignore TF-AWS-S3-PUBLIC-ACL ids match case-insensitively
}

resource "aws_s3_bucket" "checkov" {
  #checkov:skip=CKV_AWS_20:legacy bucket
  acl = "public-read"
}

resource "aws_s3_bucket" "tfsec" {
  #tfsec:ignore:AVD-AWS-0092
  acl = "public-read"
}

resource "aws_s3_bucket" "trivy" {
  acl = "public-read" #trivy:ignore:AVD-AWS-0092
}

resource "aws_s3_bucket" "kics_line" {
  # kics-scan ignore-line
  acl = "public-read"
}

resource "aws_s3_bucket" "expired" {
  # rampart:ignore aws-s3-public-acl exp:2020-01-01 until the migration
  acl = "public-read"
}

resource "aws_s3_bucket" "open" {
  acl = "public-read"
}

# rampart:ignore tf-team-module-unpinned vendored module
module "vpc" {
  source = "terraform-aws-modules/vpc/aws"
}

resource "aws_security_group" "sg" {
  # rampart:ignore tf-team-dynamic-open load balancer
  dynamic "ingress" {
    for_each = [443]
    content {
      cidr_blocks = ["0.0.0.0/0"]
    }
  }
}
"#,
    );
    let (code, findings, report) = scan(
        root,
        &[
            "main.tf",
            "--queries",
            "team",
            "--only",
            "aws-s3-public-acl,tf-team-module-unpinned,tf-team-dynamic-open",
        ],
    );
    assert_eq!(code, Some(1));
    assert_eq!(
        findings,
        vec![
            "main.tf:3 aws-s3-public-acl inline",
            "main.tf:7 aws-s3-public-acl inline",
            "main.tf:12 aws-s3-public-acl inline",
            "main.tf:17 aws-s3-public-acl inline",
            "main.tf:21 aws-s3-public-acl inline",
            "main.tf:26 aws-s3-public-acl inline",
            "main.tf:31 aws-s3-public-acl -",
            "main.tf:35 aws-s3-public-acl -",
            "main.tf:39 tf-team-module-unpinned inline",
            "main.tf:48 tf-team-dynamic-open inline",
        ]
    );
    let first = &report["findings"][0]["suppressed"];
    assert_eq!(first["reason"], "public website, reviewed by security");
    assert_eq!(first["origin"], "main.tf:1");
    let notices: Vec<&str> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["message"].as_str())
        .collect();
    assert_eq!(
        notices,
        vec![
            "suppression of aws-s3-public-acl expired on 2020-01-01; the finding at line 31 counts again",
            // The registry module is not downloaded: named, not silent.
            "module source \"terraform-aws-modules/vpc/aws\" is not downloaded (not in .terraform/modules): 1 module call not checked inside; run `terraform init` or pass --module-dir",
        ]
    );
    // Audits see everything.
    let (_, findings, _) = scan(
        root,
        &[
            "main.tf",
            "--only",
            "aws-s3-public-acl",
            "--no-inline-suppressions",
        ],
    );
    assert!(findings.iter().all(|f| f.ends_with(" -")), "{findings:?}");
}

#[test]
fn file_wide_and_unused_suppressions() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "main.tf",
        "# rampart:ignore-file aws-s3-public-acl generated from the website repo\n\nresource \"aws_s3_bucket\" \"a\" {\n  acl = \"public-read\"\n}\n\n# rampart:ignore aws-ebs-volume-not-encrypted nothing here\nresource \"aws_s3_bucket\" \"b\" {\n  acl = \"public-read\"\n}\n",
    );
    let (code, findings, report) = scan(
        dir.path(),
        &[
            "main.tf",
            "--only",
            "aws-s3-public-acl",
            "--report-unused-suppressions",
        ],
    );
    assert_eq!(code, Some(0), "every finding is suppressed");
    assert_eq!(
        findings,
        vec![
            "main.tf:4 aws-s3-public-acl inline",
            "main.tf:9 aws-s3-public-acl inline"
        ]
    );
    let messages: Vec<&str> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["message"].as_str())
        .collect();
    assert_eq!(
        messages,
        vec![
            "unused suppression: \"rampart:ignore aws-ebs-volume-not-encrypted nothing here\" matches no finding"
        ]
    );
}

#[test]
fn kubernetes_annotation_and_comments() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "pods.yaml",
        r#"apiVersion: v1
kind: Pod
metadata:
  name: annotated
  annotations:
    rampart.dev/ignore: "k8s-privileged-container, k8s-host-network"
spec:
  hostNetwork: true
  containers:
    - name: c
      image: nginx:1.27
      securityContext:
        privileged: true
---
apiVersion: v1
kind: Pod
metadata:
  name: commented
spec:
  containers:
    # rampart:ignore k8s-privileged-container CNI plugin needs it
    - name: cni
      image: cni:1.0
      securityContext:
        privileged: true
    - name: app
      image: app:1.0
      securityContext:
        privileged: true # checkov:skip=CKV_K8S_16:debug build
"#,
    );
    let (_, findings, _) = scan(
        dir.path(),
        &[
            "pods.yaml",
            "--only",
            "k8s-privileged-container,k8s-host-network",
        ],
    );
    assert_eq!(
        findings,
        vec![
            "pods.yaml:8 k8s-host-network inline",
            "pods.yaml:13 k8s-privileged-container inline",
            "pods.yaml:25 k8s-privileged-container inline",
            "pods.yaml:29 k8s-privileged-container inline",
        ]
    );
}

#[test]
fn cloudformation_and_dockerfile_comments() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "stack.yaml",
        "AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n  # rampart:ignore aws-s3-public-acl the public site\n  Site:\n    Type: AWS::S3::Bucket\n    Properties:\n      AccessControl: PublicRead\n  Logs:\n    Type: AWS::S3::Bucket\n    Properties:\n      AccessControl: PublicRead # rampart:ignore aws-s3-public-acl\n  Open:\n    Type: AWS::S3::Bucket\n    Properties:\n      AccessControl: PublicRead\n",
    );
    write(
        dir.path(),
        "Dockerfile",
        "FROM debian:12\n# hadolint ignore=DL3015\nRUN apt-get update && apt-get install -y curl\n# rampart:ignore docker-apt-get-install-without-no-install-recommends\nRUN apt-get install -y git\nRUN apt-get install -y vim\nUSER app\n",
    );
    let (_, findings, _) = scan(
        dir.path(),
        &[
            "stack.yaml",
            "Dockerfile",
            "--only",
            "aws-s3-public-acl,docker-apt-get-install-without-no-install-recommends",
        ],
    );
    assert_eq!(
        findings,
        vec![
            "Dockerfile:3 docker-apt-get-install-without-no-install-recommends inline",
            "Dockerfile:5 docker-apt-get-install-without-no-install-recommends inline",
            "Dockerfile:6 docker-apt-get-install-without-no-install-recommends -",
            "stack.yaml:7 aws-s3-public-acl inline",
            "stack.yaml:11 aws-s3-public-acl inline",
            "stack.yaml:15 aws-s3-public-acl -",
        ]
    );
}

const BUCKETS: &str = "resource \"aws_s3_bucket\" \"site\" {\n  acl = \"public-read\"\n}\n\nresource \"aws_s3_bucket\" \"logs\" {\n  acl = \"public-read\"\n}\n";

#[test]
fn exceptions_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "web/main.tf", BUCKETS);
    write(
        root,
        "security/exceptions.yaml",
        "exceptions:\n  - query: aws-s3-public-acl\n    paths: [\"web/**\"]\n    entity: aws_s3_bucket.site\n    reason: public website\n    approved_by: security@example.com\n    expires: 2099-12-31\n  - query: aws-s3-public-acl\n    paths: [\"web/**\"]\n    entity: aws_s3_bucket.logs\n    reason: was accepted until the logging rework\n    approved_by: security@example.com\n    expires: 2021-06-30\n",
    );
    let (code, findings, report) = scan(
        root,
        &[
            "web",
            "--only",
            "aws-s3-public-acl",
            "--exceptions",
            "security/exceptions.yaml",
        ],
    );
    assert_eq!(code, Some(1));
    assert_eq!(
        findings,
        vec![
            "web/main.tf:2 aws-s3-public-acl exception",
            "web/main.tf:6 aws-s3-public-acl -"
        ]
    );
    let s = &report["findings"][0]["suppressed"];
    assert_eq!(
        (s["reason"].as_str(), s["approved_by"].as_str()),
        (Some("public website"), Some("security@example.com"))
    );
    assert_eq!(s["expires"], "2099-12-31");
    let messages: Vec<&str> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["message"].as_str())
        .collect();
    assert_eq!(
        messages,
        vec![
            "exception security/exceptions.yaml:8 for aws-s3-public-acl expired on 2021-06-30; the finding counts again"
        ]
    );

    // An entry without a reason is a configuration error.
    write(
        root,
        "bad.yaml",
        "exceptions:\n  - query: x\n    expires: 2099-01-01\n",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["scan", "web", "--exceptions", "bad.yaml"])
        .current_dir(root)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("bad.yaml:2:5: exception for x without \"reason\"")
    );
}

#[test]
fn baseline_survives_moved_code_and_catches_changed_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "main.tf", BUCKETS);
    let (code, _, _) = scan(
        root,
        &[
            "main.tf",
            "--only",
            "aws-s3-public-acl",
            "--write-baseline",
            "baseline.json",
        ],
    );
    assert_eq!(code, Some(0), "writing a baseline accepts what it records");
    let baseline: Value =
        serde_json::from_str(&fs::read_to_string(root.join("baseline.json")).expect("written"))
            .expect("json");
    assert_eq!(baseline["version"], 2);
    assert_eq!(baseline["findings"].as_array().map(Vec::len), Some(2));
    assert!(
        !fs::read_to_string(root.join("baseline.json"))
            .expect("read")
            .contains("\"line\"")
    );

    // 20 lines above, and a block reindented: still the same findings.
    let moved = format!(
        "{}resource \"aws_s3_bucket\" \"site\" {{\n      acl    =    \"public-read\"\n}}\n\nresource \"aws_s3_bucket\" \"logs\" {{\n  acl = \"public-read\"\n}}\n",
        "# padding\n".repeat(20)
    );
    write(root, "main.tf", &moved);
    let (code, findings, _) = scan(
        root,
        &[
            "main.tf",
            "--only",
            "aws-s3-public-acl",
            "--baseline",
            "baseline.json",
        ],
    );
    assert_eq!(code, Some(0));
    assert_eq!(
        findings,
        vec![
            "main.tf:22 aws-s3-public-acl baseline",
            "main.tf:26 aws-s3-public-acl baseline"
        ]
    );

    // A changed offending value is a new finding.
    write(
        root,
        "main.tf",
        &moved.replacen("\"public-read\"", "\"public-read-write\"", 1),
    );
    let (code, findings, _) = scan(
        root,
        &[
            "main.tf",
            "--only",
            "aws-s3-public-acl",
            "--baseline",
            "baseline.json",
        ],
    );
    assert_eq!(code, Some(1));
    assert_eq!(
        findings,
        vec![
            "main.tf:22 aws-s3-public-acl -",
            "main.tf:26 aws-s3-public-acl baseline"
        ]
    );
}

const SECURITY_GROUP: &str = r#"resource "aws_security_group" "web" {
  name = "web"
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"#;

/// A baseline is written once, in CI or by a person, from wherever they
/// stand; it must hold however the same tree is scanned later, and when a
/// block unrelated to a baselined finding is added above it.
#[test]
fn baselines_hold_from_any_directory_and_past_inserted_blocks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    git(root, &["init", "-q"]);
    write(root, "infra/main.tf", SECURITY_GROUP);
    let only = ["--only", "tf-aws-security-group-open-ssh"];
    let (code, findings, _) = scan(
        root,
        &[&["infra", "--write-baseline", "baseline.json"][..], &only].concat(),
    );
    assert_eq!(code, Some(0));
    assert_eq!(findings.len(), 1, "{findings:?}");
    let baselined = |findings: &[String]| findings.iter().all(|f| f.ends_with(" baseline"));

    // From the subdirectory, and by absolute path.
    let (code, findings, _) = scan(
        &root.join("infra"),
        &[&[".", "--baseline", "../baseline.json"][..], &only].concat(),
    );
    assert_eq!(
        (code, baselined(&findings)),
        (Some(0), true),
        "{findings:?}"
    );
    let absolute = root.join("infra").display().to_string();
    let (code, findings, _) = scan(
        root,
        &[
            &[absolute.as_str(), "--baseline", "baseline.json"][..],
            &only,
        ]
        .concat(),
    );
    assert_eq!(
        (code, baselined(&findings)),
        (Some(0), true),
        "{findings:?}"
    );

    // An unrelated ingress block inserted above the open one: its index
    // moves, its fingerprint does not.
    write(
        root,
        "infra/main.tf",
        &SECURITY_GROUP.replacen(
            "  ingress {",
            "  ingress {
    from_port   = 80
    to_port     = 80
    protocol    = \"tcp\"
    cidr_blocks = [\"10.0.0.0/8\"]
  }
  ingress {",
            1,
        ),
    );
    let (code, findings, _) = scan(
        root,
        &[&["infra", "--baseline", "baseline.json"][..], &only].concat(),
    );
    assert_eq!(
        (code, findings),
        (
            Some(0),
            vec!["infra/main.tf:19 aws-security-group-open-ssh baseline".to_string()]
        )
    );
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.email=t@example.invalid", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

#[test]
fn diff_base_reports_only_new_findings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    git(root, &["init", "-q"]);
    write(root, "infra/main.tf", BUCKETS);
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "first"]);
    // Second commit: code moves down, one new public bucket.
    write(
        root,
        "infra/main.tf",
        &format!(
            "locals {{}}\n\n{BUCKETS}\nresource \"aws_s3_bucket\" \"new\" {{\n  acl = \"public-read\"\n}}\n"
        ),
    );
    git(root, &["commit", "-qam", "second"]);
    let (code, findings, _) = scan(
        root,
        &[
            "infra",
            "--only",
            "aws-s3-public-acl",
            "--diff-base",
            "HEAD~1",
        ],
    );
    assert_eq!(code, Some(1));
    assert_eq!(
        findings,
        vec![
            "infra/main.tf:4 aws-s3-public-acl baseline",
            "infra/main.tf:8 aws-s3-public-acl baseline",
            "infra/main.tf:12 aws-s3-public-acl -",
        ]
    );
    // The work tree was not touched.
    assert!(
        fs::read_to_string(root.join("infra/main.tf"))
            .expect("read")
            .contains("\"new\"")
    );
    let output = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["scan", "infra", "--diff-base", "no-such-ref"])
        .current_dir(root)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--diff-base no-such-ref"));
}

#[test]
fn sarif_keeps_suppressed_results_with_their_justification() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "main.tf",
        "resource \"aws_s3_bucket\" \"site\" {\n  acl = \"public-read\" # rampart:ignore aws-s3-public-acl public website\n}\n",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args([
            "scan",
            "main.tf",
            "--only",
            "aws-s3-public-acl",
            "--format",
            "sarif",
        ])
        .current_dir(dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let sarif: Value = serde_json::from_slice(&output.stdout).expect("json");
    let suppression = &sarif["runs"][0]["results"][0]["suppressions"][0];
    assert_eq!(suppression["kind"], "inSource");
    assert_eq!(suppression["status"], "accepted");
    assert_eq!(suppression["justification"], "public website (main.tf:2)");
}

/// A query merged from a Terraform and a CloudFormation twin answers to both
/// former ids wherever a user types an id: inline on either platform,
/// `--skip`, `--only` and an exceptions entry.
#[test]
fn former_ids_of_a_merged_query_keep_working() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "main.tf",
        "# rampart:ignore tf-aws-s3-public-acl public website\nresource \"aws_s3_bucket\" \"site\" {\n  acl = \"public-read\"\n}\n\nresource \"aws_s3_bucket\" \"logs\" {\n  acl = \"public-read\"\n}\n",
    );
    write(
        root,
        "stack.yaml",
        "AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n  # rampart:ignore cfn-aws-s3-public-acl the public site\n  Site:\n    Type: AWS::S3::Bucket\n    Properties:\n      AccessControl: PublicRead\n  Open:\n    Type: AWS::S3::Bucket\n    Properties:\n      AccessControl: PublicRead\n",
    );
    let (code, findings, _) = scan(root, &[".", "--only", "tf-aws-s3-public-acl"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        findings,
        vec![
            "main.tf:3 aws-s3-public-acl inline",
            "main.tf:7 aws-s3-public-acl -",
            "stack.yaml:7 aws-s3-public-acl inline",
            "stack.yaml:11 aws-s3-public-acl -",
        ]
    );

    // --skip with either former id skips the concept on both platforms.
    for old in ["tf-aws-s3-public-acl", "CFN-AWS-S3-PUBLIC-ACL"] {
        let (_, findings, _) = scan(root, &[".", "--skip", old, "--fail-on", "none"]);
        assert!(
            findings.iter().all(|f| !f.contains("aws-s3-public-acl")),
            "{old}: {findings:?}"
        );
    }

    // An exceptions entry written with a former id applies.
    write(
        root,
        "exceptions.yaml",
        "exceptions:\n  - query: tf-aws-s3-public-acl\n    paths: [\"main.tf\"]\n    entity: aws_s3_bucket.logs\n    reason: log delivery\n    approved_by: security@example.com\n    expires: 2099-12-31\n",
    );
    let (_, findings, _) = scan(
        root,
        &[
            "main.tf",
            "--only",
            "aws-s3-public-acl",
            "--exceptions",
            "exceptions.yaml",
        ],
    );
    assert_eq!(
        findings,
        vec![
            "main.tf:3 aws-s3-public-acl inline",
            "main.tf:7 aws-s3-public-acl exception",
        ]
    );
}

/// A query split into two concepts (RDS instance and cluster storage
/// encryption) leaves its former id naming both.
#[test]
fn a_former_id_split_into_two_concepts_names_both() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "main.tf",
        "# rampart:ignore tf-aws-rds-storage-not-encrypted legacy\nresource \"aws_db_instance\" \"a\" {\n  engine = \"postgres\"\n}\n\n# rampart:ignore tf-aws-rds-storage-not-encrypted legacy\nresource \"aws_rds_cluster\" \"b\" {\n  engine = \"aurora-postgresql\"\n}\n\nresource \"aws_rds_cluster\" \"c\" {\n  engine = \"aurora-postgresql\"\n}\n",
    );
    let (_, findings, _) = scan(
        root,
        &["main.tf", "--only", "tf-aws-rds-storage-not-encrypted"],
    );
    assert_eq!(
        findings,
        vec![
            "main.tf:2 aws-rds-instance-storage-not-encrypted inline",
            "main.tf:7 aws-rds-cluster-storage-not-encrypted inline",
            "main.tf:11 aws-rds-cluster-storage-not-encrypted -",
        ]
    );
    let (_, findings, _) = scan(
        root,
        &[
            "main.tf",
            "--skip",
            "tf-aws-rds-storage-not-encrypted",
            "--fail-on",
            "none",
        ],
    );
    assert!(
        findings
            .iter()
            .all(|f| !f.contains("storage-not-encrypted")),
        "{findings:?}"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["explain", "tf-aws-rds-storage-not-encrypted"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("tf-aws-rds-storage-not-encrypted is now aws-rds-cluster-storage-not-encrypted and aws-rds-instance-storage-not-encrypted\naws-rds-cluster-storage-not-encrypted: "),
        "{text}"
    );
    assert!(
        text.contains("\naws-rds-instance-storage-not-encrypted: "),
        "{text}"
    );
}

/// A baseline written by the first release holds fingerprints of the first
/// scheme, hashed with the former id of a query since merged into a
/// concept; it still accepts the concept's findings, for one release.
#[test]
fn a_baseline_written_under_a_former_id_still_matches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "main.tf", BUCKETS);
    let entry = |entity: &str| {
        serde_json::json!({
            "fingerprint": rampart::finding::fingerprint_v1(
                "tf-aws-s3-public-acl",
                "main.tf",
                entity,
                "acl",
                Some("\"public-read\""),
            ),
            "query_id": "tf-aws-s3-public-acl",
            "file": "main.tf",
            "entity": entity,
        })
    };
    let baseline = serde_json::json!({
        "version": 1,
        "findings": [entry("aws_s3_bucket.site")],
    });
    write(root, "old-baseline.json", &baseline.to_string());
    let (_, findings, _) = scan(
        root,
        &[
            "main.tf",
            "--only",
            "aws-s3-public-acl",
            "--baseline",
            "old-baseline.json",
        ],
    );
    assert_eq!(
        findings,
        vec![
            "main.tf:2 aws-s3-public-acl baseline",
            "main.tf:6 aws-s3-public-acl -"
        ]
    );
}
