//! Hostile and awkward YAML (issue 21, items 9, 13 and 14): a broken
//! document costs only itself, YAML that kubectl and cfn-lint read is read,
//! aliases have one budget per file, and a large Kubernetes stream is held
//! a batch at a time. Runaway cases run under the limits of
//! `common::run_limited` (or tighter), so a regression fails here instead
//! of exhausting the machine.

mod common;

use common::{code, json, rampart, run_limited, run_with_limits, write};
use serde_json::Value;

/// A privileged Pod named `name`: one `k8s-privileged-container` finding,
/// on its `privileged: true` line (the document's 11th).
fn privileged_pod(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n    \
         - name: c\n      image: nginx\n      args: [--x]\n      securityContext:\n        \
         privileged: true\n"
    )
}

/// `(line, column)` of every finding of `query`.
fn findings_of(report: &Value, query: &str) -> Vec<(u64, u64)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["query_id"] == query)
        .map(|f| {
            (
                f["line"].as_u64().unwrap_or(0),
                f["column"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// `line: message` of every diagnostic.
fn diagnostics(report: &Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| format!("{}: {}", d["line"], d["message"].as_str().unwrap_or("")))
        .collect()
}

fn scan_json(dir: &std::path::Path, extra: &[&str]) -> (i32, Value) {
    let out = run_limited(
        rampart(dir)
            .args(["scan", ".", "--format", "json"])
            .args(extra),
    );
    (code(&out), json(&out))
}

/// Item 9: a broken document in the middle of a stream no longer hides the
/// privileged Pod after it; the diagnostic says what was skipped.
#[test]
fn issue_21_broken_document_does_not_hide_the_rest_of_the_stream() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: broken\ndata: {{}}\n---\n{}",
        privileged_pod("first"),
        privileged_pod("after")
    );
    write(dir.path(), "stream.yaml", text);
    let (exit, report) = scan_json(dir.path(), &[]);
    assert_eq!(exit, 1);
    // The first Pod is lines 1-11, the broken ConfigMap 12-16, the last Pod
    // 17-28 (its `---` first).
    assert_eq!(
        findings_of(&report, "k8s-privileged-container"),
        [(11, 21), (28, 21)]
    );
    assert_eq!(
        diagnostics(&report),
        [
            "16: while parsing a flow mapping, did not find expected ',' or '}' \
          (the document at lines 12\u{2013}16 is skipped; reading resumes at line 17)"
        ]
    );
}

/// Item 9: the shapes go-yaml (kubectl) and PyYAML (cfn-lint) accept and
/// saphyr alone rejects: a flow sequence closed at its key's column (istio's
/// spire quickstart), a quoted description continued at the key's column
/// (the EKS quick start templates), a closing bracket less indented than
/// its content under a quoted key (an S3 replication policy).
#[test]
fn issue_21_yaml_that_kubectl_and_cfn_lint_read_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pod = privileged_pod("csi").replace(
        "      args: [--x]\n",
        "      args: [\n          \"-a\", \"/x\",\n      ]\n",
    );
    write(dir.path(), "pod.yaml", pod);
    write(
        dir.path(),
        "template.yaml",
        "AWSTemplateFormatVersion: '2010-09-09'\n\
         Parameters:\n  \
           Name:\n    \
             Type: String\n    \
             Description: \"(Optional) Name used to map\n    \
             the name must match.\"\n\
         Resources:\n  \
           Role:\n    \
             Type: AWS::IAM::Role\n    \
             Properties:\n      \
               AssumeRolePolicyDocument:\n        \
                 Statement:\n          \
                   - Effect: Allow\n            \
                     Principal: {AWS: '*'}\n            \
                     Action: ['sts:AssumeRole']\n            \
                     Condition:\n              \
                       StringLike:\n                \
                         'aws:PrincipalTag/team': [\n                    \
                             \"a\",\n                    \
                             \"b\"\n                \
                         ]\n  \
           Bucket:\n    \
             Type: AWS::S3::Bucket\n    \
             Properties:\n      \
               AccessControl: PublicRead\n",
    );
    let (_, report) = scan_json(dir.path(), &[]);
    assert_eq!(diagnostics(&report), Vec::<String>::new());
    // The closing bracket shifted nothing: the finding is on line 13.
    assert_eq!(findings_of(&report, "k8s-privileged-container"), [(13, 21)]);
    assert_eq!(findings_of(&report, "aws-s3-public-acl"), [(25, 22)]);
}

/// One document (12 lines) whose anchors and aliases cost 246,895 nodes
/// plus 111,111 per copy in `big`: 913,561 with 6 copies, just under the
/// former per-document cap of 1,000,000.
fn alias_bomb_document(i: usize, copies: usize) -> String {
    let mut doc = format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n");
    doc.push_str("  l0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..5 {
        let refs = vec![format!("*a{}", level - 1); 10].join(", ");
        doc.push_str(&format!("  l{level}: &a{level} [{refs}]\n"));
    }
    let refs = vec!["*a4"; copies].join(", ");
    doc.push_str(&format!("  big: [{refs}]\n"));
    doc
}

/// Item 13: 150 documents each just under the former per-document alias
/// cap (a 77 KB file) once needed some 137 million nodes. The budget is
/// now per file: the first document is read, every later one that expands
/// aliases is refused with a diagnostic, and memory stays bounded.
#[test]
fn issue_21_alias_budget_is_per_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text: String = (0..150).map(|i| alias_bomb_document(i, 6)).collect();
    assert!(text.len() < 80_000, "{}", text.len());
    write(dir.path(), "bomb.yaml", text);
    let out = run_limited(rampart(dir.path()).args(["inspect", ".", "--format", "json"]));
    assert_eq!(code(&out), 0);
    let report = json(&out);
    assert_eq!(report["files"][0]["documents"], 1);
    let diags = diagnostics(&report);
    assert_eq!(diags.len(), 149);
    // The second document (lines 13-24) is the first over the budget: its
    // `l4` line holds the alias that crosses it.
    assert_eq!(
        diags[0],
        "23: yaml aliases expand to more than 1000000 nodes in this file \
         (the document at lines 13\u{2013}24 is skipped; reading resumes at line 25)"
    );
    assert!(
        diags
            .iter()
            .all(|d| d.contains("yaml aliases expand to more than 1000000 nodes in this file")),
        "{diags:#?}"
    );
}

/// Item 14: a Kubernetes stream is queried a batch of documents at a time,
/// so its trees never all exist at once. 5 MB of ConfigMaps, each a flow
/// list of 1,000 numbers, make about 140 MB of trees. Measured (debug
/// build, peak address space): read a batch at a time, 182 MB, most of it
/// what the allocators reserve up front; the whole stream held (as
/// `rampart inspect --tree` must), 313 MB on 6 MB. So a 240 MB limit kills
/// the former code and lets the new one finish with the Pod's finding.
/// The allocators' reservations are pinned (one glibc arena, 16 MiB
/// mimalloc arenas) so the address space does not depend on which thread
/// allocates first. A debug build reads YAML slowly, hence this size.
#[test]
fn issue_21_kubernetes_stream_is_held_a_batch_at_a_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let numbers = "1,".repeat(1000);
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 5_000_000 {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  k: [{numbers}1]\n"
        ));
        i += 1;
    }
    let pod_start = text.lines().count() as u64 + 1;
    text.push_str("---\n");
    text.push_str(&privileged_pod("last"));
    write(dir.path(), "stream.yaml", text);
    let out = run_with_limits(
        rampart(dir.path())
            .env("MALLOC_ARENA_MAX", "1")
            .env("MIMALLOC_ARENA_RESERVE", "16MiB")
            .args([
                "scan",
                ".",
                "--format",
                "json",
                "--threads",
                "1",
                "--max-file-size",
                "100000000",
            ]),
        240 << 20,
        common::CPU_SECONDS,
    );
    assert_eq!(code(&out), 1);
    let report = json(&out);
    assert_eq!(
        findings_of(&report, "k8s-privileged-container"),
        [(pod_start + 11, 21)]
    );
    assert_eq!(report["stats"]["documents"], i + 1);
}
