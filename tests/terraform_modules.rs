//! Terraform module calls as users write them: `count`/`for_each` on
//! module calls and resources (one instance per key, none when empty),
//! root modules checked alone and called modules through their calls.

mod common;

use common::{code, json, rampart, stdout, write};

/// `file:line entity` of each finding of a JSON report.
fn findings(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
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
        .collect()
}

const BUCKET_MODULE: &str = "variable \"acl\" {\n  default = \"private\"\n}\n\nresource \"aws_s3_bucket\" \"this\" {\n  acl = var.acl\n}\n";

#[test]
fn module_count_and_for_each_make_one_instance_per_key_and_none_when_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "main.tf",
        r#"variable "items" {
  default = {}
}

module "wrapper" {
  source   = "./modules/bucket"
  for_each = var.items
  acl      = "public-read"
}

module "none" {
  source = "./modules/bucket"
  count  = 0
  acl    = "public-read"
}

module "sites" {
  source   = "./modules/bucket"
  for_each = { a = "public-read", b = "private" }
  acl      = each.value
}

module "counted" {
  source = "./modules/bucket"
  count  = 2
  acl    = count.index == 1 ? "public-read" : "private"
}

resource "aws_s3_bucket" "empty" {
  for_each = var.items
  acl      = "public-read"
}

resource "aws_s3_bucket" "zero" {
  count = 0
  acl   = "public-read"
}
"#,
    );
    write(root, "modules/bucket/main.tf", BUCKET_MODULE);
    let output = rampart(root)
        .args([
            "scan",
            ".",
            "--only",
            "aws-s3-public-acl",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    assert_eq!(code(&output), 1, "{}", stdout(&output));
    assert_eq!(
        findings(&json(&output)),
        vec![
            "modules/bucket/main.tf:6 module.sites[\"a\"].aws_s3_bucket.this",
            "modules/bucket/main.tf:6 module.counted[1].aws_s3_bucket.this",
        ]
    );
}

#[test]
fn a_called_module_directory_is_checked_through_its_calls_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    // The module's default is public; its one caller passes private.
    write(
        root,
        "modules/bucket/main.tf",
        "variable \"acl\" {\n  default = \"public-read\"\n}\n\nresource \"aws_s3_bucket\" \"this\" {\n  acl = var.acl\n}\n",
    );
    write(
        root,
        "examples/private/main.tf",
        "module \"b\" {\n  source = \"../../modules/bucket\"\n  acl    = \"private\"\n}\n",
    );
    write(
        root,
        "examples/public/main.tf",
        "module \"b\" {\n  source = \"../../modules/bucket\"\n}\n",
    );
    // Nobody calls this one: checked alone, with its defaults.
    write(
        root,
        "standalone/main.tf",
        "variable \"acl\" {\n  default = \"public-read\"\n}\n\nresource \"aws_s3_bucket\" \"alone\" {\n  acl = var.acl\n}\n",
    );
    let output = rampart(root)
        .args([
            "scan",
            ".",
            "--only",
            "aws-s3-public-acl",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    let report = json(&output);
    assert_eq!(
        findings(&report),
        vec![
            "modules/bucket/main.tf:6 module.b.aws_s3_bucket.this",
            "standalone/main.tf:6 aws_s3_bucket.alone",
        ]
    );
    assert_eq!(
        report["findings"][0]["called_from"]["file"],
        "examples/public/main.tf"
    );
    assert_eq!(report["stats"]["modules_through_calls"], 1);
    assert_eq!(report["stats"]["files"]["terraform"], 4);
    let human = rampart(root)
        .args(["scan", ".", "--only", "aws-s3-public-acl"])
        .output()
        .expect("runs");
    assert!(
        stdout(&human).contains("; 1 module directory checked through its calls"),
        "{}",
        stdout(&human)
    );
    // Scanned alone, the module directory is a root again.
    let alone = rampart(root)
        .args([
            "scan",
            "modules",
            "--only",
            "aws-s3-public-acl",
            "--compact",
        ])
        .output()
        .expect("runs");
    assert_eq!(
        stdout(&alone),
        "modules/bucket/main.tf:6:9: high aws-s3-public-acl acl is \"public-read\"; anyone can read this bucket's objects [aws_s3_bucket.this]\n"
    );
}

#[test]
fn remote_modules_not_downloaded_get_one_notice_per_source_and_module_dir_finds_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "infra/main.tf",
        r#"module "assets" {
  source  = "example/bucket/aws"
  version = "1.0.0"
  count   = 2
  acl     = "public-read"
}

module "more" {
  source  = "example/bucket/aws"
  version = "1.0.0"
}

module "net" {
  source = "git::https://example.com/net.git?ref=v1.2.0"
}

module "off" {
  source = "git::https://example.com/off.git?ref=v1.2.0"
  count  = 0
}
"#,
    );
    let output = rampart(root)
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
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    let report = json(&output);
    let notices: Vec<String> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            format!(
                "{}:{} {} {}",
                d["file"].as_str().unwrap_or(""),
                d["line"],
                d["level"].as_str().unwrap_or(""),
                d["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        notices,
        vec![
            "infra/main.tf:1 notice module source \"example/bucket/aws\" is not downloaded (not in .terraform/modules): 3 module calls not checked inside; run `terraform init` or pass --module-dir",
            "infra/main.tf:13 notice module source \"git::https://example.com/net.git?ref=v1.2.0\" is not downloaded (not in .terraform/modules): 1 module call not checked inside; run `terraform init` or pass --module-dir",
        ]
    );
    // A copy of `.terraform/modules` elsewhere: read through --module-dir.
    write(root, "downloads/assets/main.tf", BUCKET_MODULE);
    let output = rampart(root)
        .args([
            "scan",
            "infra",
            "--module-dir",
            "downloads",
            "--only",
            "aws-s3-public-acl",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    let report = json(&output);
    assert_eq!(
        findings(&report),
        vec![
            "downloads/assets/main.tf:6 module.assets[0].aws_s3_bucket.this",
            "downloads/assets/main.tf:6 module.assets[1].aws_s3_bucket.this",
        ]
    );
    // Downloads go by call key: only `assets` was downloaded, so the call
    // `more` to the same source is still named.
    let messages: Vec<&str> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["message"].as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("\"example/bucket/aws\" is not downloaded (not in .terraform/modules): 1 module call not")),
        "{messages:?}"
    );
    // A module directory that does not exist is a usage error.
    let output = rampart(root)
        .args(["scan", "infra", "--module-dir", "nowhere"])
        .output()
        .expect("runs");
    assert_eq!(code(&output), 2);
}

#[test]
fn a_module_its_callers_never_instantiate_is_checked_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "modules/bucket/main.tf",
        "variable \"acl\" {\n  default = \"public-read\"\n}\n\nresource \"aws_s3_bucket\" \"this\" {\n  acl = var.acl\n}\n",
    );
    // A wrapper whose `for_each` is empty by default: no instance.
    write(
        root,
        "wrappers/main.tf",
        "variable \"items\" {\n  default = {}\n}\n\nmodule \"wrapper\" {\n  source   = \"../modules/bucket\"\n  for_each = var.items\n  acl      = each.value.acl\n}\n",
    );
    let output = rampart(root)
        .args([
            "scan",
            ".",
            "--only",
            "aws-s3-public-acl",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    let report = json(&output);
    assert_eq!(
        findings(&report),
        vec!["modules/bucket/main.tf:6 aws_s3_bucket.this"]
    );
    assert_eq!(report["stats"]["modules_through_calls"], 0);
    assert_eq!(report["stats"]["files"]["terraform"], 2);
}
