//! The query language end to end: a query compiled from YAML, run over a
//! source file through the real scan pipeline, asserting exact findings.

use std::path::Path;

use rampart::discover::DiscoverOptions;
use rampart::load::LoadOptions;
use rampart::query::registry::Registry;
use rampart::scan::{ScanConfig, scan};

/// Runs one query (its `select` and `flag`, with boilerplate around them)
/// over `files` and returns `line:col message` per finding.
fn run(select: &str, flag: &str, message: &str, files: &[(&str, &str)]) -> Vec<String> {
    let platform = select.split_whitespace().next().unwrap_or("");
    let prefix = match platform {
        "terraform" => "tf",
        "kubernetes" => "k8s",
        "cloudformation" => "cfn",
        _ => "docker",
    };
    let query = format!(
        "id: {prefix}-test-query\ntitle: t\nseverity: high\ncategory: test\ncwe: []\ndescription: d\nremediation: r\nselect: {select}\nmessage: \"{message}\"\nflag:\n{}\n",
        flag.lines()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let registry = Registry::from_sources([("q.yaml".to_string(), query.as_str())])
        .unwrap_or_else(|e| panic!("{e:?}\n{query}"));
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let config = ScanConfig {
        paths: vec![dir.path().to_path_buf()],
        discover: DiscoverOptions::default(),
        load: LoadOptions::with_max_file_size(1 << 20),
        threads: 1,
        progress: false,
        inline: Default::default(),
        exceptions: None,
        baseline: None,
        fingerprint_root: None,
        render: Default::default(),
        line_hashes: false,
    };
    let result = scan(&config, &registry).expect("scan");
    assert!(result.diagnostics.is_empty(), "{:?}", result.diagnostics);
    result
        .findings
        .iter()
        .map(|f| {
            let file = Path::new(&f.file)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("");
            format!(
                "{file}:{}:{} {}",
                f.span.start_line, f.span.start_col, f.message
            )
        })
        .collect()
}

const BUCKETS: &str = r#"resource "aws_s3_bucket" "literal" {
  acl = "public-read"
}

resource "aws_s3_bucket" "variable" {
  acl = var.acl
}

resource "aws_s3_bucket" "none" {
  bucket = "x"
}
"#;

#[test]
fn unknown_values_never_fire() {
    let got = run(
        "terraform resource.aws_s3_bucket",
        "path: acl\nnot_equals: private",
        "acl is {value}",
        &[("main.tf", BUCKETS)],
    );
    assert_eq!(got, vec!["main.tf:2:9 acl is \"public-read\""]);
    // `not` of unknown is unknown too; of a missing value, a finding at the header.
    let got = run(
        "terraform resource.aws_s3_bucket",
        "not: {path: acl, equals: private}",
        "acl is {value}",
        &[("main.tf", BUCKETS)],
    );
    assert_eq!(
        got,
        vec!["main.tf:1:1 acl is not set", "main.tf:9:1 acl is not set"]
    );
}

#[test]
fn missing_points_at_the_deepest_existing_parent() {
    let text = "resource \"aws_s3_bucket\" \"a\" {\n  versioning {\n    mfa_delete = true\n  }\n}\nresource \"aws_s3_bucket\" \"b\" {}\n";
    let got = run(
        "terraform resource.aws_s3_bucket",
        "path: versioning.enabled\nmissing: true",
        "{path} missing",
        &[("main.tf", text)],
    );
    // It points at the deepest parent that exists and names what is missing.
    assert_eq!(
        got,
        vec![
            "main.tf:2:3 versioning.enabled missing",
            "main.tf:6:1 versioning.enabled missing"
        ]
    );
}

#[test]
fn dynamic_blocks_make_nested_blocks_unknown() {
    let text = "resource \"aws_security_group\" \"a\" {\n  dynamic \"ingress\" {\n    for_each = var.rules\n    content {}\n  }\n}\nresource \"aws_security_group\" \"b\" {}\n";
    let got = run(
        "terraform resource.aws_security_group",
        "path: ingress\nmissing: true",
        "no ingress",
        &[("main.tf", text)],
    );
    assert_eq!(got, vec!["main.tf:7:1 no ingress"]);
}

#[test]
fn quantifiers_ports_and_cidrs() {
    let text = r#"resource "aws_security_group" "sg" {
  ingress {
    from_port   = 0
    to_port     = 65535
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8", "0.0.0.0/0"]
  }
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port        = 0
    to_port          = 0
    protocol         = "-1"
    ipv6_cidr_blocks = ["::/0"]
  }
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [var.office]
  }
}
"#;
    let flag = "any_item: ingress\nwhere:\n  all:\n    - path: [cidr_blocks, ipv6_cidr_blocks]\n      cidr_open_to_world: true\n    - port_range_includes: {from: from_port, to: to_port, protocol: protocol, port: 22}";
    let got = run(
        "terraform resource.aws_security_group",
        flag,
        "open to {value}",
        &[("main.tf", text)],
    );
    assert_eq!(
        got,
        vec![
            "main.tf:6:34 open to \"0.0.0.0/0\"",
            "main.tf:18:25 open to \"::/0\""
        ]
    );
}

#[test]
fn path_alternatives_and_parents() {
    let text = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      securityContext:
        runAsNonRoot: true
      containers:
        - name: inherits
          image: a
        - name: overrides
          image: b
          securityContext:
            runAsNonRoot: false
"#;
    let got = run(
        "kubernetes container",
        "not:\n  path: [securityContext.runAsNonRoot, $parent.securityContext.runAsNonRoot]\n  equals: true",
        "{entity} may run as root",
        &[("deploy.yaml", text)],
    );
    assert_eq!(
        got,
        vec!["deploy.yaml:12:11 container overrides in Deployment/web may run as root"]
    );
}

#[test]
fn cloudformation_refs_read_parameter_defaults() {
    let text = r#"AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Public: {Type: String, Default: "true"}
  Unknown: {Type: String}
Resources:
  A:
    Type: AWS::RDS::DBInstance
    Properties:
      PubliclyAccessible: !Ref Public
  B:
    Type: AWS::RDS::DBInstance
    Properties:
      PubliclyAccessible: !Ref Unknown
  C:
    Type: AWS::RDS::DBInstance
    Properties:
      PubliclyAccessible: !If [Cond, true, false]
  D:
    Type: AWS::RDS::DBInstance
    Properties:
      PubliclyAccessible: "true"
"#;
    let got = run(
        "cloudformation resource.AWS::RDS::DBInstance",
        "path: Properties.PubliclyAccessible\nis_true: true",
        "public: {value}",
        &[("db.yaml", text)],
    );
    assert_eq!(
        got,
        vec![
            "db.yaml:9:27 public: \"true\"",
            "db.yaml:21:27 public: \"true\""
        ]
    );
}

#[test]
fn relations_between_resources() {
    let main = r#"resource "aws_s3_bucket" "covered" {}
resource "aws_s3_bucket" "bare" {}
resource "aws_s3_bucket" "by_name" { bucket = "logs" }
resource "aws_s3_bucket_public_access_block" "a" {
  bucket = aws_s3_bucket.covered.id
}
resource "aws_s3_bucket_public_access_block" "b" {
  bucket = "logs"
}
"#;
    let flag =
        "not:\n  referenced_by: {select: resource.aws_s3_bucket_public_access_block, path: bucket}";
    let got = run(
        "terraform resource.aws_s3_bucket",
        flag,
        "{entity} unblocked",
        &[("main.tf", main)],
    );
    assert_eq!(got, vec!["main.tf:2:1 aws_s3_bucket.bare unblocked"]);
    // A block whose bucket is a variable might be any bucket's: unknown.
    let unknown = format!(
        "{main}resource \"aws_s3_bucket_public_access_block\" \"c\" {{\n  bucket = var.name\n}}\n"
    );
    let got = run(
        "terraform resource.aws_s3_bucket",
        flag,
        "{entity} unblocked",
        &[("main.tf", &unknown)],
    );
    assert_eq!(got, Vec::<String>::new());
}

#[test]
fn json_policies_in_strings_are_walked() {
    let text = r#"resource "aws_iam_policy" "heredoc" {
  policy = <<EOF
{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
EOF
}
resource "aws_iam_policy" "encoded" {
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Action = ["*"], Resource = "*" }]
  })
}
resource "aws_iam_policy" "narrow" {
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }] })
}
"#;
    let flag = "any_item: policy.Statement\nwhere:\n  all:\n    - {path: Effect, equals: Allow}\n    - any: [{path: Action, equals: \"*\"}, {path: Action, contains: \"*\"}]\n    - {path: Resource, equals: \"*\"}";
    let got = run(
        "terraform resource.aws_iam_policy",
        flag,
        "admin",
        &[("main.tf", text)],
    );
    assert_eq!(got, vec!["main.tf:2:12 admin", "main.tf:7:12 admin"]);
}

#[test]
fn entries_with_keys() {
    let text = "FROM alpine:3.20\nENV DB_PASSWORD=hunter2 API_URL=https://x\nARG GITHUB_TOKEN\nENV SECRET_KEY=$FROM_BUILD\n";
    let flag = "any_entry: pairs\nwhere:\n  all:\n    - {path: $key, matches: \"(?i)(password|secret|token)\"}\n    - {path: ., matches: \"^[^$]+$\"}";
    let got = run(
        "dockerfile instruction",
        flag,
        "{path} is a literal secret",
        &[("Dockerfile", text)],
    );
    assert_eq!(
        got,
        vec!["Dockerfile:2:5 pairs.DB_PASSWORD is a literal secret"]
    );
}

#[test]
fn last_item_and_no_item() {
    let text = "FROM golang:1.23 AS build\nUSER app\nFROM alpine:3.20\nUSER app\nUSER root\n";
    let flag = "any:\n  - no_item: instructions\n    where: {path: instruction, equals: USER}\n  - last_item: instructions\n    matching: {path: instruction, equals: USER}\n    where: {path: user, in: [root, \"0\"]}";
    let got = run(
        "dockerfile stage.final",
        flag,
        "runs as root",
        &[("Dockerfile", text)],
    );
    assert_eq!(got, vec!["Dockerfile:5:6 runs as root"]);
    let got = run(
        "dockerfile stage.final",
        flag,
        "runs as root",
        &[("Dockerfile", "FROM build AS x\nUSER app\nFROM alpine\n")],
    );
    assert_eq!(got, vec!["Dockerfile:3:1 runs as root"]);
}

#[test]
fn references_with_indexes_and_unit_wide_entities() {
    let main = r#"resource "aws_s3_bucket" "d" { bucket = "d" }
resource "aws_s3_bucket" "e" { bucket = "e" }
resource "aws_s3_bucket" "named" { bucket = "${var.env}-logs" }
resource "aws_s3_bucket_public_access_block" "d" {
  bucket = aws_s3_bucket.d[0].id
}
resource "aws_s3_bucket_public_access_block" "e" {
  count  = 1
  bucket = aws_s3_bucket.e[count.index].id
}
resource "aws_s3_bucket_public_access_block" "literal" {
  bucket = "prod-logs"
}
"#;
    let flag =
        "not:\n  referenced_by: {select: resource.aws_s3_bucket_public_access_block, path: bucket}";
    // d and e are covered; "named" might be "prod-logs": unknown, silent.
    let got = run(
        "terraform resource.aws_s3_bucket",
        flag,
        "{entity}",
        &[("main.tf", main)],
    );
    assert_eq!(got, Vec::<String>::new());

    let other = "resource \"aws_ebs_volume\" \"v\" { size = 1 }\n";
    let flag = "all:\n  - {path: encrypted, missing: true}\n  - not:\n      any_entity: {select: resource.aws_ebs_encryption_by_default, where: {path: enabled, not_equals: false}}";
    let got = run(
        "terraform resource.aws_ebs_volume",
        flag,
        "{entity}",
        &[("main.tf", other)],
    );
    assert_eq!(got, vec!["main.tf:1:1 aws_ebs_volume.v"]);
    // The account-wide default may sit in another file of the module.
    let got = run(
        "terraform resource.aws_ebs_volume",
        flag,
        "{entity}",
        &[
            ("main.tf", other),
            (
                "ebs.tf",
                "resource \"aws_ebs_encryption_by_default\" \"x\" {\n  enabled = true\n}\n",
            ),
        ],
    );
    assert_eq!(got, Vec::<String>::new());
}

#[test]
fn a_value_written_as_an_expression_is_present() {
    let text = "resource \"aws_cloudfront_distribution\" \"d\" {\n  viewer_certificate {\n    acm_certificate_arn = aws_acm_certificate.site.arn\n  }\n}\nresource \"aws_cloudfront_distribution\" \"e\" {\n  viewer_certificate {\n    cloudfront_default_certificate = true\n  }\n}\n";
    let missing = run(
        "terraform resource.aws_cloudfront_distribution",
        "path: viewer_certificate.acm_certificate_arn\nmissing: true",
        "{entity} has no certificate",
        &[("main.tf", text)],
    );
    assert_eq!(
        missing,
        vec!["main.tf:7:3 aws_cloudfront_distribution.e has no certificate"]
    );
    let exists = run(
        "terraform resource.aws_cloudfront_distribution",
        "path: viewer_certificate.acm_certificate_arn\nexists: true",
        "{value}",
        &[("main.tf", text)],
    );
    assert_eq!(exists, vec!["main.tf:3:27 aws_acm_certificate.site.arn"]);
}

const SETTINGS: &str = r#"resource "aws_api_gateway_method_settings" "s" {
  settings {
    caching_enabled      = true
    cache_data_encrypted = false
  }
}

resource "aws_api_gateway_method_settings" "t" {
  settings {
    caching_enabled = true
  }
}
"#;

#[test]
fn report_at_a_path_points_at_its_value_or_the_nearest_part_that_exists() {
    // The condition matches on caching_enabled, but the query says the
    // finding is about cache_data_encrypted: its value where written, the
    // settings block (the deepest part of the path that exists) where not.
    let got = run(
        "terraform resource.aws_api_gateway_method_settings",
        "any_item: settings\nwhere:\n  all:\n    - { path: cache_data_encrypted, not_equals: true }\n    - { path: caching_enabled, is_true: true }\n  report_at: cache_data_encrypted",
        "{path} is {value}",
        &[("main.tf", SETTINGS)],
    );
    assert_eq!(
        got,
        vec!["main.tf:4:28 settings.cache_data_encrypted is false"]
    );
    let got = run(
        "terraform resource.aws_api_gateway_method_settings",
        "any_item: settings\nwhere:\n  all:\n    - { path: cache_data_encrypted, missing: true }\n    - { path: caching_enabled, is_true: true }\n  report_at: cache_data_encrypted",
        "{path} is {value}",
        &[("main.tf", SETTINGS)],
    );
    assert_eq!(
        got,
        vec!["main.tf:9:3 settings.cache_data_encrypted is not set"]
    );
}

#[test]
fn report_at_entity_and_scope() {
    let flag = "any_item: settings\nwhere: { path: caching_enabled, is_true: true }";
    let got = run(
        "terraform resource.aws_api_gateway_method_settings",
        &format!("{flag}\nreport_at: entity"),
        "caching on",
        &[("main.tf", SETTINGS)],
    );
    assert_eq!(
        got,
        vec!["main.tf:1:1 caching on", "main.tf:8:1 caching on"]
    );
    let got = run(
        "terraform resource.aws_api_gateway_method_settings",
        &format!("{flag}\nreport_at: ."),
        "caching on",
        &[("main.tf", SETTINGS)],
    );
    assert_eq!(
        got,
        vec!["main.tf:1:1 caching on", "main.tf:8:1 caching on"]
    );
    // Inside the quantifier, `.` is the element being visited.
    let got = run(
        "terraform resource.aws_api_gateway_method_settings",
        "any_item: settings\nwhere: { path: caching_enabled, is_true: true, report_at: . }",
        "caching on",
        &[("main.tf", SETTINGS)],
    );
    assert_eq!(
        got,
        vec!["main.tf:2:3 caching on", "main.tf:9:3 caching on"]
    );
}
