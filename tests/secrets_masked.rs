//! A secret found in configuration never reaches a report: the finding's
//! message shows a masked form, and the human report masks the value in
//! its source snippet (issue 11, item 4).

mod common;

use common::{rampart, run_limited, stdout, write};

/// Secrets of every kind, in every place the models look.
const SECRETS: [&str; 6] = [
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "Sup3rS3cretPassw0rd",
    "tok_live_4f9a8b7c6d5e",
    "Adm1nPassw0rd!",
    "MIIEowIBAAKCAQEAexampleexampleexample",
];

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "main.tf",
        r#"resource "aws_instance" "web" {
  ami           = "ami-0abcdef1234567890"
  instance_type = "t3.small"
  user_data     = <<-EOT
    #!/bin/bash
    export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
    export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
    cat > /root/.ssh/id_rsa <<KEY
    -----BEGIN RSA PRIVATE KEY-----
    MIIEowIBAAKCAQEAexampleexampleexample
    -----END RSA PRIVATE KEY-----
    KEY
  EOT
}

resource "aws_lambda_function" "api" {
  function_name = "api"
  role          = "arn:aws:iam::111122223333:role/api"
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "api.zip"
  environment {
    variables = {
      DB_PASSWORD = "Sup3rS3cretPassw0rd"
      API_TOKEN   = "tok_live_4f9a8b7c6d5e"
    }
  }
}
"#,
    );
    write(
        dir.path(),
        "stack.yaml",
        r#"AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  AdminPassword:
    Type: String
    NoEcho: true
    Default: Adm1nPassw0rd!
Resources:
  Docs:
    Type: AWS::DocDB::DBCluster
    Properties:
      MasterUsername: admin
      MasterUserPassword: Sup3rS3cretPassw0rd
"#,
    );
    dir
}

#[test]
fn no_report_format_prints_a_secret() {
    let dir = tree();
    for format in ["human", "compact", "json", "sarif", "junit"] {
        let output = run_limited(rampart(dir.path()).args(["scan", ".", "--format", format]));
        let text = stdout(&output);
        for secret in SECRETS {
            assert!(
                !text.contains(secret),
                "{format} output shows {secret}:\n{text}"
            );
        }
        // The findings are there, with their masked forms.
        for expected in [
            "aws-ec2-user-data-secrets",
            "aws-lambda-environment-secrets",
            "aws-password-literal",
            "cfn-parameter-default-secret",
        ] {
            assert!(text.contains(expected), "{format} output lacks {expected}");
        }
        if format != "junit" {
            assert!(text.contains("AKIA************MPLE"), "{format}: {text}");
            assert!(text.contains("DB_PASSWORD=Su********"), "{format}: {text}");
        }
    }
}
