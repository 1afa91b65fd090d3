//! The normaliser, on every way of writing a policy.

use super::*;
use crate::platform::{Platform, entities as platform_entities};
use crate::tree::{LineIndex, SourceText};

fn file(platform: Platform, text: &str) -> LoadedFile {
    let index = LineIndex::new(text);
    let parsed = match platform {
        Platform::Terraform => crate::parse::hcl::parse(text, &index),
        _ => crate::parse::yaml::parse(text, &index),
    };
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    LoadedFile {
        display: "test".into(),
        platform,
        source: SourceText {
            text: text.into(),
            bom_len: 0,
        },
        documents: parsed.documents,
        streamed: false,
        module: None,
        module_call: None,
        derived: false,
    }
}

/// Each statement entity as (kind, line, the statement as JSON with the
/// unknown values written `"?"`).
fn statements(platform: Platform, text: &str) -> Vec<(String, u32, serde_json::Value)> {
    let mut files = vec![file(platform, text)];
    derive(&mut files);
    let found = platform_entities(platform, &files[0].documents);
    found
        .iter()
        .filter(|e| e.kind.starts_with("policy_statement"))
        .map(|e| {
            assert!(e.parent.is_some(), "a statement names its owner");
            (e.kind.clone(), e.header.start_line, shown(e.node))
        })
        .collect()
}

fn shown(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Expr(_) => J::String("?".into()),
        Value::Array(items) => J::Array(items.iter().map(shown).collect()),
        Value::Object(o) => J::Object(
            o.entries
                .iter()
                .filter(|e| !e.key.starts_with('$') && e.key != "conditions")
                .map(|e| (e.key.clone(), shown(&e.value)))
                .collect(),
        ),
        _ => node.to_json(),
    }
}

fn field<'a>(s: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    &s[key]
}

#[test]
fn a_heredoc_policy_with_an_interpolation_is_read_with_that_value_unknown() {
    let found = statements(
        Platform::Terraform,
        r#"resource "aws_sns_topic_policy" "t" {
  arn    = aws_sns_topic.t.arn
  policy = <<EOT
{"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Publish", "Resource": "${aws_sns_topic.t.arn}"}}
EOT
}
"#,
    );
    assert_eq!(found.len(), 1);
    let (kind, line, s) = &found[0];
    assert_eq!(kind, "policy_statement.aws_sns_topic_policy");
    assert_eq!(*line, 3);
    assert_eq!(field(s, "actions"), &serde_json::json!(["sns:Publish"]));
    assert_eq!(field(s, "resources"), &serde_json::json!(["?"]));
    assert_eq!(field(s, "principals"), &serde_json::json!(["*"]));
    assert_eq!(field(s, "anyone"), &serde_json::json!(true));
    assert_eq!(field(s, "public"), &serde_json::json!(true));
    assert_eq!(field(s, "document"), &serde_json::json!("resource"));
}

#[test]
fn jsonencode_with_unknown_parts_keeps_what_is_known() {
    let found = statements(
        Platform::Terraform,
        r#"resource "aws_s3_bucket_policy" "p" {
  bucket = aws_s3_bucket.b.id
  policy = jsonencode({
    Statement = [
      {
        Effect    = "Allow"
        Principal = "*"
        Action    = ["s3:GetObject"]
        Resource  = "${aws_s3_bucket.b.arn}/*"
        Condition = { StringEquals = { "aws:SourceVpce" = var.endpoint } }
      },
      {
        Effect    = "Allow"
        Principal = { AWS = var.reader }
        Action    = "s3:ListBucket"
        Resource  = aws_s3_bucket.b.arn
      },
    ]
  })
}
"#,
    );
    assert_eq!(found.len(), 2);
    let first = &found[0].2;
    assert_eq!(field(first, "anyone"), &serde_json::json!(true));
    assert_eq!(
        field(first, "restricted_by"),
        &serde_json::json!(["aws:sourcevpce"])
    );
    assert_eq!(field(first, "public"), &serde_json::json!(false));
    let second = &found[1].2;
    assert_eq!(field(second, "principals"), &serde_json::json!(["?"]));
    assert_eq!(field(second, "anyone"), &serde_json::json!("?"));
    assert_eq!(field(second, "public"), &serde_json::json!("?"));
    assert_eq!(
        field(second, "actions"),
        &serde_json::json!(["s3:ListBucket"])
    );
}

#[test]
fn a_policy_document_data_source_is_read_alone_and_through_the_resource_that_uses_it() {
    let found = statements(
        Platform::Terraform,
        r#"data "aws_iam_policy_document" "d" {
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.q.arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "StringEqualsIfExists"
      variable = "aws:SourceAccount"
      values   = ["123456789012"]
    }
  }
}

resource "aws_sqs_queue_policy" "q" {
  queue_url = aws_sqs_queue.q.id
  policy    = data.aws_iam_policy_document.d.json
}
"#,
    );
    let kinds: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "policy_statement.aws_iam_policy_document",
            "policy_statement.aws_sqs_queue_policy"
        ]
    );
    for (_, line, s) in &found {
        // The statement block, in the same file.
        assert_eq!(*line, 2);
        assert_eq!(field(s, "effect"), &serde_json::json!("Allow"));
        assert_eq!(field(s, "principals"), &serde_json::json!(["*"]));
        // An IfExists test holds for a caller without the key.
        assert_eq!(field(s, "restricted_by"), &serde_json::json!([]));
        assert_eq!(field(s, "public"), &serde_json::json!(true));
    }
}

#[test]
fn a_lambda_permission_is_one_statement_and_its_source_restricts_it() {
    let found = statements(
        Platform::Terraform,
        r#"resource "aws_lambda_permission" "open" {
  function_name = "f"
  action        = "lambda:InvokeFunction"
  principal     = "*"
}

resource "aws_lambda_permission" "from_bucket" {
  function_name = "f"
  action        = "lambda:InvokeFunction"
  principal     = "s3.amazonaws.com"
  source_arn    = aws_s3_bucket.b.arn
}
"#,
    );
    assert_eq!(found.len(), 2);
    assert_eq!(field(&found[0].2, "public"), &serde_json::json!(true));
    assert_eq!(field(&found[1].2, "anyone"), &serde_json::json!(false));
    assert_eq!(
        field(&found[1].2, "restricted_by"),
        &serde_json::json!(["aws:sourcearn"])
    );
}

#[test]
fn cloudformation_objects_strings_sub_and_join_are_read() {
    let found = statements(
        Platform::CloudFormation,
        r#"AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Who:
    Type: String
    Default: "*"
Resources:
  Object:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Queue]
      PolicyDocument:
        Statement:
          Effect: Allow
          Principal:
            AWS: !Ref Who
          Action: [sqs:SendMessage]
          Resource: !GetAtt Queue.Arn
  Sub:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref Topic]
      PolicyDocument: !Sub '{"Statement": [{"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::${AWS::AccountId}:root"}, "Action": "sns:*", "Resource": "${Topic}"}]}'
  Join:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument: !Join ["", ['{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "', !GetAtt Bucket.Arn, '/*"}}']]
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: { Service: lambda.amazonaws.com }
            Action: sts:AssumeRole
      Policies:
        - PolicyName: all
          PolicyDocument:
            Statement:
              - Effect: Allow
                NotAction: iam:*
                Resource: "*"
"#,
    );
    let kinds: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "policy_statement.AWS::SQS::QueuePolicy",
            "policy_statement.AWS::SNS::TopicPolicy",
            "policy_statement.AWS::S3::BucketPolicy",
            "policy_statement.AWS::IAM::Role",
            "policy_statement.AWS::IAM::Role",
        ]
    );
    // A Ref to a parameter reads its default, placed at the Ref.
    assert_eq!(field(&found[0].2, "principals"), &serde_json::json!(["*"]));
    assert_eq!(field(&found[0].2, "public"), &serde_json::json!(true));
    assert_eq!(field(&found[0].2, "resources"), &serde_json::json!(["?"]));
    // A Deny with NotPrincipal: about everyone, but public only if allowed.
    assert_eq!(field(&found[1].2, "anyone"), &serde_json::json!(true));
    assert_eq!(field(&found[1].2, "public"), &serde_json::json!(false));
    assert_eq!(
        field(&found[1].2, "not_principals"),
        &serde_json::json!(["?"])
    );
    assert_eq!(field(&found[2].2, "public"), &serde_json::json!(true));
    assert_eq!(field(&found[2].2, "resources"), &serde_json::json!(["?"]));
    assert_eq!(field(&found[3].2, "document"), &serde_json::json!("trust"));
    assert_eq!(field(&found[3].2, "anyone"), &serde_json::json!(false));
    assert_eq!(
        field(&found[4].2, "document"),
        &serde_json::json!("identity")
    );
    assert_eq!(
        field(&found[4].2, "not_actions"),
        &serde_json::json!(["iam:*"])
    );
}

#[test]
fn a_wildcard_condition_value_or_a_negated_test_restricts_nothing() {
    let found = statements(
        Platform::CloudFormation,
        r#"Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Statement:
          - Effect: Allow
            Principal: "*"
            Action: kms:Decrypt
            Resource: "*"
            Condition:
              StringLike: { "aws:PrincipalArn": "*" }
              StringNotEquals: { "aws:SourceVpce": vpce-1 }
          - Effect: Allow
            Principal: "*"
            Action: kms:Decrypt
            Resource: "*"
            Condition:
              StringEquals: { "kms:CallerAccount": "111122223333" }
          - Effect: Allow
            Principal: "*"
            Action: kms:Decrypt
            Resource: "*"
            Condition: !If [Strict, { StringEquals: { "aws:SourceVpce": vpce-1 } }, !Ref AWS::NoValue]
"#,
    );
    assert_eq!(found.len(), 3);
    assert_eq!(field(&found[0].2, "public"), &serde_json::json!(true));
    assert_eq!(
        field(&found[0].2, "condition_keys"),
        &serde_json::json!(["aws:principalarn", "aws:sourcevpce"])
    );
    assert_eq!(field(&found[1].2, "public"), &serde_json::json!(false));
    assert_eq!(field(&found[2].2, "public"), &serde_json::json!("?"));
}

#[test]
fn malformed_or_unknown_policies_yield_no_statement() {
    let found = statements(
        Platform::Terraform,
        r#"resource "aws_iam_policy" "a" {
  policy = var.policy
}

resource "aws_iam_policy" "b" {
  policy = "{not json"
}

resource "aws_iam_policy" "c" {
  policy = jsonencode(local.policy)
}
"#,
    );
    assert!(found.is_empty(), "{found:?}");
}
