//! Hostile inputs for the query engine and the HCL parser (issue 21, items
//! 10 and 17): inputs that cost quadratic or exponential time before, each
//! run under a CPU budget a healthy run stays far below (a few seconds of a
//! debug build) and the old code far exceeds, asserting exact findings.
//! A regression fails by hitting the budget, never by a wall-clock check.

mod common;

use std::fmt::Write as _;
use std::process::Output;

use common::{code, json, rampart, run_with_limits, stderr, stdout, write};

/// CPU seconds for one scan here: the healthy debug build needs 1–3 s for
/// each case, the quadratic or exponential code well over a minute.
const CPU_BUDGET: u64 = 20;

fn scan(dir: &std::path::Path, args: &[&str]) -> Output {
    let mut cmd = rampart(dir);
    cmd.arg("scan").arg(".").args(args);
    run_with_limits(&mut cmd, common::ADDRESS_SPACE, CPU_BUDGET)
}

/// The entities of the findings, in report order.
fn finding_entities(output: &Output) -> Vec<String> {
    json(output)["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array; stderr:\n{}", stderr(output)))
        .iter()
        .map(|f| f["entity"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// 10,000 buckets, each but every thousandth with its public access block:
/// each bucket asked every access block whether it referred to it (5 s in
/// release, far more in debug); the relation index answers each bucket from
/// its own address.
#[test]
fn issue_21_terraform_relation_is_indexed_by_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut tf = String::new();
    for i in 0..10_000 {
        writeln!(tf, "resource \"aws_s3_bucket\" \"b{i}\" {{}}").expect("write");
        if i % 1000 != 0 {
            writeln!(
                tf,
                "resource \"aws_s3_bucket_public_access_block\" \"p{i}\" {{\n  bucket = aws_s3_bucket.b{i}.id\n}}"
            )
            .expect("write");
        }
    }
    write(dir.path(), "main.tf", tf);
    let output = scan(
        dir.path(),
        &[
            "--only",
            "tf-aws-s3-no-public-access-block",
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let expected: Vec<String> = (0..10)
        .map(|k| format!("aws_s3_bucket.b{}", k * 1000))
        .collect();
    let mut entities = finding_entities(&output);
    entities.sort_by_key(|e| e.trim_start_matches("aws_s3_bucket.b").parse::<u32>().ok());
    assert_eq!(entities, expected);
}

/// A reference the index cannot identify (a variable) leaves every bucket
/// it might be unknown, and a literal bucket name still counts: the index
/// answers as the pairwise check did.
#[test]
fn issue_21_terraform_relation_keeps_unknown_and_literal_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "main.tf",
        r#"
resource "aws_s3_bucket" "by_address" {}
resource "aws_s3_bucket_public_access_block" "a" {
  bucket = aws_s3_bucket.by_address.id
}

resource "aws_s3_bucket" "by_name" {
  bucket = "literal-name"
}
resource "aws_s3_bucket_public_access_block" "b" {
  bucket = "literal-name"
}

resource "aws_s3_bucket" "unreferenced" {}
"#,
    );
    let output = scan(
        dir.path(),
        &[
            "--only",
            "tf-aws-s3-no-public-access-block",
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(finding_entities(&output), ["aws_s3_bucket.unreferenced"]);

    // One access block on a variable might be any bucket's: no finding.
    write(
        dir.path(),
        "other.tf",
        "variable \"id\" {}\nresource \"aws_s3_bucket_public_access_block\" \"c\" {\n  bucket = var.id\n}\n",
    );
    let output = scan(
        dir.path(),
        &[
            "--only",
            "tf-aws-s3-no-public-access-block",
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(finding_entities(&output), Vec::<String>::new());
}

/// 10,000 CloudFormation buckets, each but every thousandth the target of a
/// trail (`!Ref`): every bucket asked every bucket and every trail (11 s in
/// release before).
#[test]
fn issue_21_cloudformation_relation_is_indexed_by_logical_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut yaml = String::from("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n");
    for i in 0..10_000 {
        writeln!(yaml, "  B{i}:\n    Type: AWS::S3::Bucket").expect("write");
        if i % 1000 != 0 {
            writeln!(
                yaml,
                "  T{i}:\n    Type: AWS::CloudTrail::Trail\n    Properties:\n      S3BucketName: !Ref B{i}"
            )
            .expect("write");
        }
    }
    write(dir.path(), "template.yaml", yaml);
    let output = scan(
        dir.path(),
        &["--only", "cfn-aws-s3-no-access-logging", "--format", "json"],
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let mut entities = finding_entities(&output);
    entities.sort_by_key(|e| {
        e.trim_start_matches("AWS::S3::Bucket B")
            .parse::<u32>()
            .ok()
    });
    let expected: Vec<String> = (0..10)
        .map(|k| format!("AWS::S3::Bucket B{}", k * 1000))
        .collect();
    assert_eq!(entities, expected);
}

/// `Fn::Sub` names a bucket by `${LogicalId}` or `${LogicalId.Attribute}`.
#[test]
fn issue_21_cloudformation_sub_reference_names_the_bucket() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "template.yaml",
        r#"AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Logged:
    Type: AWS::S3::Bucket
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties:
      S3BucketName: !Sub "${Logged}"
  LoggedToo:
    Type: AWS::S3::Bucket
  TrailToo:
    Type: AWS::CloudTrail::Trail
    Properties:
      S3BucketName: !Sub "${LoggedToo.Arn}"
"#,
    );
    let output = scan(
        dir.path(),
        &["--only", "cfn-aws-s3-no-access-logging", "--format", "json"],
    );
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    assert_eq!(finding_entities(&output), Vec::<String>::new());
}

/// A stage of 6,000 `RUN apt-get install` after one that configures apt
/// never to install recommends: each `RUN` read every instruction of its
/// stage again (3,000 `RUN`s: 5.7 s in release, 15 s in debug; 10,000:
/// 79 s in release). A second stage without that configuration still gets
/// its findings.
#[test]
fn issue_21_stage_wide_apt_configuration_is_read_once_per_stage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut dockerfile = String::from(
        "FROM debian:12\nRUN echo 'APT::Install-Recommends \"false\";' > /etc/apt/apt.conf.d/99norecommends\n",
    );
    for _ in 0..6000 {
        dockerfile.push_str("RUN apt-get install -y curl\n");
    }
    dockerfile.push_str(
        "FROM debian:12 AS plain\nRUN apt-get install -y curl\nRUN apt-get install -y git\n",
    );
    write(dir.path(), "Dockerfile", dockerfile);
    let output = scan(
        dir.path(),
        &[
            "--only",
            "docker-apt-get-install-without-no-install-recommends",
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let lines: Vec<u64> = json(&output)["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["line"].as_u64().unwrap_or_default())
        .collect();
    assert_eq!(lines, [6004, 6005]);
}

/// One RUN of 20,000 `apt-get install` commands: one finding each, on the
/// RUN. The hits were deduplicated by a linear scan each, so 128,000
/// commands took 14 s; at this size the old code still passes (the linear
/// parse dominates), so this checks the findings, and
/// `issue_21_many_hits_of_one_quantifier` the cost.
#[test]
fn issue_21_one_run_of_many_commands() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = vec!["apt-get install -y curl"; 20_000].join(" && ");
    write(
        dir.path(),
        "Dockerfile",
        format!("FROM debian:12\nRUN {run}\n"),
    );
    let output = scan(
        dir.path(),
        &[
            "--only",
            "docker-apt-get-install-without-no-install-recommends",
            "--format",
            "compact",
        ],
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 20_000);
    assert!(
        text.lines().all(|l| l.starts_with("Dockerfile:2:")),
        "{}",
        text.lines().next().unwrap_or_default()
    );
}

/// A container dropping `ALL` 100,000 times: 100,000 hits of one
/// quantifier, deduplicated by scanning the hits kept (5 s in release
/// before, far more in debug).
#[test]
fn issue_21_many_hits_of_one_quantifier() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drops = vec!["ALL"; 100_000].join(", ");
    write(
        dir.path(),
        "pod.yaml",
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27\n      securityContext:\n        capabilities:\n          drop: [{drops}]\n"
        ),
    );
    let output = scan(
        dir.path(),
        &[
            "--only",
            "k8s-capabilities-not-drop-all",
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(finding_entities(&output), Vec::<String>::new());
}

/// A template nesting binary operator chains, each with an operand that
/// fails to parse (`"${1-1-"${...`, the shape of the fuzzer's
/// `"${((----6--D----/A(…`): hcl-edit parsed the failing operand twice per
/// level, so 18 levels took 1 s in release and these 29 would take half an
/// hour. It is
/// now a parse error, naming the file and line, in linear time, and the
/// rest of the scan goes on.
#[test]
fn issue_21_hcl_nested_operator_chains_parse_in_linear_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hostile = format!(
        "locals {{\n  ok = 1\n}}\n\nresource \"null_resource\" \"x\" {{\n  triggers = {{\n    t = \"${{{}\"${{1}}\n  }}\n}}\n",
        "((----6--D----A)-1-\"${".repeat(3) + &"1-1-\"${".repeat(26)
    );
    write(dir.path(), "hostile/main.tf", hostile);
    write(
        dir.path(),
        "good/main.tf",
        "resource \"aws_s3_bucket\" \"b\" {\n  acl = \"public-read\"\n}\n",
    );
    let output = scan(
        dir.path(),
        &["--only", "tf-aws-s3-public-acl", "--format", "json"],
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report = json(&output);
    let findings: Vec<(&str, u64)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap_or_default(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(findings, [("good/main.tf", 2)]);
    let diagnostics = report["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["file"], "hostile/main.tf");
    assert_eq!(diagnostics[0]["line"], 6);
    assert!(
        diagnostics[0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("invalid HCL syntax")),
        "{diagnostics:?}"
    );
}

/// Real chains still parse, whatever follows them.
#[test]
fn issue_21_hcl_operator_chains_still_parse() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "main.tf",
        r#"
locals {
  a = 1 - 2 - -3 * (4 + 5) - -6
  b = "${1 + 2 - 3}-${var.x == "y" ? 1 - 2 : 3}"
  c = 1 + 2 # comment
  d = 1 - 2 // comment
  e = 1 - 2 /* comment */
  f = [for v in [1 - 2 - 3] : v - 1 if v > -1 - -1]
}
resource "aws_s3_bucket" "b" {
  acl = "public-read"
}
"#,
    );
    let output = scan(
        dir.path(),
        &["--only", "tf-aws-s3-public-acl", "--format", "compact"],
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(
        stdout(&output).contains("main.tf:11:"),
        "{}",
        stdout(&output)
    );
    assert!(!stderr(&output).contains("error"), "{}", stderr(&output));
}
