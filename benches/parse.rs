//! Parse throughput per platform on generated inputs of a few MB each, the
//! shape of real files (the corpus benchmark lives in `scripts/corpus.sh`).
//!
//! `cargo bench --bench parse`; divan reports time and bytes/s per parser.
//! Each bench also checks the parse produced what it should, so a parser
//! that silently fails cannot look fast.

use divan::Bencher;
use divan::counter::BytesCount;
use rampart::parse::{self, json::Strings};
use rampart::tree::LineIndex;

fn main() {
    divan::main();
}

const TARGET_BYTES: usize = 4 * 1024 * 1024;

fn repeat_until(target: usize, mut piece: impl FnMut(usize) -> String) -> String {
    let mut out = String::with_capacity(target + 4096);
    let mut i = 0;
    while out.len() < target {
        out.push_str(&piece(i));
        i += 1;
    }
    out
}

fn terraform() -> String {
    repeat_until(TARGET_BYTES, |i| {
        format!(
            r#"resource "aws_security_group" "sg_{i}" {{
  name        = "sg-{i}-${{var.env}}"
  description = "Security group {i}"
  vpc_id      = module.vpc.vpc_id

  ingress {{
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.{}.0.0/16", "0.0.0.0/0"]
  }}

  egress {{
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }}

  tags = merge(local.tags, {{ Name = "sg-{i}" }})
}}

"#,
            i % 256
        )
    })
}

fn kubernetes() -> String {
    repeat_until(TARGET_BYTES, |i| {
        format!(
            r#"---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-{i}
  namespace: prod
  labels: &labels
    app: web-{i}
    tier: frontend
spec:
  replicas: 3
  selector:
    matchLabels: *labels
  template:
    metadata:
      labels: *labels
    spec:
      securityContext:
        runAsNonRoot: true
      containers:
        - name: web
          image: "registry.example.com/web:{i}"
          ports:
            - containerPort: 8080
          resources:
            limits: {{cpu: 500m, memory: 256Mi}}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
"#
        )
    })
}

fn cloudformation_json() -> String {
    let resources = repeat_until(TARGET_BYTES, |i| {
        format!(
            r#"    "Bucket{i}": {{
      "Type": "AWS::S3::Bucket",
      "Properties": {{
        "BucketName": {{"Fn::Sub": "${{Env}}-bucket-{i}"}},
        "VersioningConfiguration": {{"Status": "Enabled"}},
        "Tags": [{{"Key": "Name", "Value": "bucket-{i}"}}]
      }}
    }},
"#
        )
    });
    format!(
        "{{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\",\n  \"Resources\": {{\n{}    \"Last\": {{\"Type\": \"AWS::SNS::Topic\"}}\n  }}\n}}\n",
        resources
    )
}

fn dockerfile() -> String {
    let mut text = String::from("# syntax=docker/dockerfile:1\nARG BASE=debian:12\n");
    text.push_str(&repeat_until(TARGET_BYTES, |i| {
        format!(
            r#"FROM ${{BASE}} AS stage{i}
ENV APP_HOME=/srv/app PATH="/srv/app/bin:$PATH"
RUN apt-get update && \
    apt-get install -y --no-install-recommends curl ca-certificates && \
    rm -rf /var/lib/apt/lists/*
COPY --chown=app:app . /srv/app
RUN --mount=type=cache,target=/root/.cache make -C /srv/app build | tee /tmp/build-{i}.log
USER app
CMD ["/srv/app/bin/server", "--port", "8080"]
"#
        )
    }));
    text
}

fn bench_parser(
    bencher: Bencher,
    text: &str,
    parse: impl Fn(&str, &LineIndex) -> parse::Parsed + Sync,
) {
    let check = parse(text, &LineIndex::new(text));
    assert!(check.errors.is_empty(), "{:?}", &check.errors[..1]);
    assert!(!check.documents.is_empty());
    bencher
        .counter(BytesCount::of_str(text))
        .bench(|| parse(divan::black_box(text), &LineIndex::new(text)));
}

#[divan::bench(sample_count = 10)]
fn parse_hcl(bencher: Bencher) {
    bench_parser(bencher, &terraform(), parse::hcl::parse);
}

#[divan::bench(sample_count = 10)]
fn parse_yaml(bencher: Bencher) {
    bench_parser(bencher, &kubernetes(), parse::yaml::parse);
}

#[divan::bench(sample_count = 10)]
fn parse_json(bencher: Bencher) {
    bench_parser(bencher, &cloudformation_json(), |t, i| {
        parse::json::parse(t, i, Strings::Plain)
    });
}

#[divan::bench(sample_count = 10)]
fn parse_dockerfile(bencher: Bencher) {
    bench_parser(bencher, &dockerfile(), parse::dockerfile::parse);
}
