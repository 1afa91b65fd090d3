//! Terraform template directives (`%{if}`, `%{for}`, `~`) evaluated, so a
//! value built by one is checked like a literal.

mod common;

use common::{rampart, stdout, write};

#[test]
fn a_value_built_by_template_directives_is_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "main.tf",
        r#"variable "public" {
  default = true
}

variable "actions" {
  default = ["s3:GetObject", "*"]
}

resource "aws_s3_bucket" "site" {
  acl = "%{if var.public}public-read%{else}private%{endif}"
}

resource "aws_s3_bucket" "logs" {
  acl = "%{if !var.public}public-read%{else}private%{endif}"
}

resource "aws_iam_policy" "p" {
  policy = <<EOT
{"Statement": [
  %{~ for i, a in var.actions ~}
  {"Effect": "Allow", "Action": "${a}", "Resource": "*"}${i < length(var.actions) - 1 ? "," : ""}
  %{~ endfor ~}
]}
EOT
}
"#,
    );
    let output = rampart(root)
        .args([
            "scan",
            ".",
            "--only",
            "aws-s3-public-acl,aws-iam-policy-wildcard-admin",
            "--compact",
        ])
        .output()
        .expect("runs");
    let text = stdout(&output);
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.split(": high").next().unwrap_or(""))
        .collect();
    assert_eq!(lines, vec!["main.tf:10:9", "main.tf:18:12"], "{text}");
}
