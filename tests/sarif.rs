//! `rampart scan --format sarif` end to end, checked against what GitHub
//! code scanning requires of an uploaded SARIF file.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use assert_cmd::Command;
use regex::Regex;
use serde_json::Value;

use rampart::line_hash::line_hashes;
use rampart::report::sarif::{FINGERPRINT_KEY, LINE_HASH_KEY, MAX_RESULTS};

const BUCKET: &str = r#"resource "aws_s3_bucket" "logs" {
  bucket = "logs"
  acl    = "public-read"
}
"#;

const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: c
      image: nginx:1.27
      securityContext:
        privileged: true
";

const BROKEN: &str = "resource \"aws_s3_bucket\" \"b\" {\n  acl = \n";

fn write(root: &Path, path: &str, content: impl AsRef<[u8]>) {
    let path = root.join(path);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(path, content).expect("write");
}

/// Runs `rampart scan --format sarif ARGS` in `dir`; returns stdout.
fn scan_sarif_bytes(dir: &Path, args: &[&str]) -> Vec<u8> {
    let output = Command::cargo_bin("rampart")
        .expect("binary")
        .current_dir(dir)
        .args(["scan", "--format", "sarif"])
        .args(args)
        // The scan time is part of the run properties: fixed, so runs compare.
        .env("SOURCE_DATE_EPOCH", "1764720000")
        .output()
        .expect("runs");
    // 0: clean, 1: findings; anything else is a failure of the run.
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn scan_sarif(dir: &Path, args: &[&str]) -> Value {
    let bytes = scan_sarif_bytes(dir, args);
    // The typed model of the SARIF 2.1.0 schema must accept it too.
    serde_json::from_slice::<serde_sarif::sarif::Sarif>(&bytes).expect("valid SARIF 2.1.0");
    serde_json::from_slice(&bytes).expect("json")
}

fn array<'a>(v: &'a Value, what: &str) -> &'a Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("{what} is not an array: {v}"))
}

fn str_of<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v}"))
}

fn int_of(v: &Value, what: &str) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("{what} is not an integer: {v}"))
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "infra/main.tf", BUCKET);
    write(root, "k8s apps/pod.yaml", POD);
    write(root, "infra/broken.tf", BROKEN);
    dir
}

/// A relative URI as GitHub resolves it: no scheme, not rooted, nothing a
/// URI must escape left unescaped.
fn assert_relative_uri(location: &Value) {
    let uri = str_of(&location["artifactLocation"]["uri"], "uri");
    assert!(!uri.is_empty());
    assert!(!uri.contains("://") && !uri.starts_with("file:"), "{uri}");
    assert!(!uri.starts_with('/') && !uri.starts_with("./"), "{uri}");
    assert!(
        !uri.contains(|c: char| c == ' ' || c == '\\' || !c.is_ascii()),
        "{uri}"
    );
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
}

#[test]
fn sarif_meets_github_code_scanning_upload_rules() {
    let dir = project();
    let log = scan_sarif(dir.path(), &[]);

    assert_eq!(log["version"], "2.1.0");
    assert!(str_of(&log["$schema"], "$schema").starts_with("https://"));
    let runs = array(&log["runs"], "runs");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];

    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "rampart");
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        driver["informationUri"],
        rampart::report::sarif::PROJECT_URL
    );

    // Rules: one per query that ran, sorted, with what GitHub reads.
    let rules = array(&driver["rules"], "rules");
    let ids: Vec<&str> = rules.iter().map(|r| str_of(&r["id"], "id")).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(ids, sorted, "rules sorted by id, each once");
    assert!(ids.contains(&"aws-s3-public-acl"));
    assert!(ids.contains(&"k8s-privileged-container"));
    for rule in rules {
        let id = str_of(&rule["id"], "id");
        assert_eq!(rule["name"], id);
        assert!(!str_of(&rule["shortDescription"]["text"], "short").is_empty());
        assert!(!str_of(&rule["fullDescription"]["text"], "full").is_empty());
        assert!(!str_of(&rule["help"]["text"], "help").is_empty());
        assert!(str_of(&rule["help"]["markdown"], "markdown").contains("## How to fix"));
        let level = str_of(&rule["defaultConfiguration"]["level"], "level");
        assert!(
            ["error", "warning", "note", "none"].contains(&level),
            "{id}"
        );
        let score: f64 = str_of(
            &rule["properties"]["security-severity"],
            "security-severity",
        )
        .parse()
        .unwrap_or_else(|_| panic!("{id}: security-severity is not a number"));
        assert!((0.0..=10.0).contains(&score), "{id}: {score}");
        let tags = array(&rule["properties"]["tags"], "tags");
        assert!(!tags.is_empty() && tags.len() <= 10, "{id}: {tags:?}");
        assert!(tags.iter().all(Value::is_string), "{id}");
        assert_eq!(tags[0], "security", "{id}: GitHub needs it to read scores");
        assert_eq!(rule["properties"]["precision"], "high");
    }
    let acl = rules
        .iter()
        .find(|r| r["id"] == "aws-s3-public-acl")
        .expect("acl rule");
    assert_eq!(acl["defaultConfiguration"]["level"], "error");
    assert_eq!(acl["properties"]["security-severity"], "8.0");
    assert!(
        array(&acl["properties"]["tags"], "tags").contains(&Value::from("external/cwe/cwe-732"))
    );
    assert!(str_of(&acl["helpUri"], "helpUri").starts_with("https://"));
    // A concept shows a snippet per platform, fenced without a language.
    let markdown = str_of(&acl["help"]["markdown"], "markdown");
    assert!(
        markdown.contains("```\nresource \"aws_s3_bucket_acl\"")
            && markdown.contains("```\nOwnershipControls:"),
        "{markdown}"
    );

    // Results.
    let results = array(&run["results"], "results");
    assert!(!results.is_empty() && results.len() <= MAX_RESULTS);
    let line_hash = Regex::new("^[0-9a-f]{1,16}:[1-9][0-9]*$").expect("regex");
    for result in results {
        let rule_id = str_of(&result["ruleId"], "ruleId");
        let index = usize::try_from(int_of(&result["ruleIndex"], "ruleIndex")).expect("index");
        assert_eq!(rules[index]["id"], rule_id, "ruleIndex points at its rule");
        assert_eq!(
            result["level"],
            rules[index]["defaultConfiguration"]["level"]
        );
        assert!(!str_of(&result["message"]["text"], "message").is_empty());

        let locations = array(&result["locations"], "locations");
        assert_eq!(locations.len(), 1);
        let physical = &locations[0]["physicalLocation"];
        assert_relative_uri(physical);
        let region = &physical["region"];
        let start = (
            int_of(&region["startLine"], "startLine"),
            int_of(&region["startColumn"], "startColumn"),
        );
        let end = (
            int_of(&region["endLine"], "endLine"),
            int_of(&region["endColumn"], "endColumn"),
        );
        assert!(start.0 >= 1 && start.1 >= 1 && end.1 >= 1, "{region}");
        assert!(end > start, "{region}: a region ends after it starts");

        let hash = str_of(
            &result["partialFingerprints"][LINE_HASH_KEY],
            "primaryLocationLineHash",
        );
        assert!(line_hash.is_match(hash), "{hash}");
        let ours = str_of(&result["fingerprints"][FINGERPRINT_KEY], "fingerprint");
        assert_eq!(ours.len(), 16);
        assert!(result["properties"]["entity"].is_string());
    }
    let uris: Vec<&str> = results
        .iter()
        .map(|r| {
            str_of(
                &r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                "uri",
            )
        })
        .collect();
    assert!(uris.contains(&"infra/main.tf"));
    assert!(uris.contains(&"k8s%20apps/pod.yaml"), "{uris:?}");
    let acl_result = results
        .iter()
        .find(|r| r["ruleId"] == "aws-s3-public-acl")
        .expect("acl finding");
    let region = &acl_result["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (&region["startLine"], &region["startColumn"]),
        (&Value::from(3), &Value::from(12))
    );
    assert_eq!(
        (&region["endLine"], &region["endColumn"]),
        (&Value::from(3), &Value::from(25))
    );
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "k8s-privileged-container")
    );

    // The file that does not parse is a notification, and the run still
    // succeeded.
    let invocation = &array(&run["invocations"], "invocations")[0];
    assert_eq!(invocation["executionSuccessful"], true);
    let notes = array(&invocation["toolExecutionNotifications"], "notifications");
    let broken = notes
        .iter()
        .find(|n| {
            n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "infra/broken.tf"
        })
        .expect("parse failure reported");
    assert_eq!(broken["level"], "error");
    assert!(!str_of(&broken["message"]["text"], "message").is_empty());
    let physical = &broken["locations"][0]["physicalLocation"];
    assert_relative_uri(physical);
    assert!(int_of(&physical["region"]["startLine"], "startLine") >= 1);

    assert_eq!(run["columnKind"], "unicodeCodePoints");
    // No --sarif-category: no automationDetails (upload-sarif's own
    // category input then applies).
    assert!(run["automationDetails"].is_null());
}

/// The hash in the report is the one the upload action computes from the
/// file for the result's start line.
#[test]
fn line_hashes_are_those_of_the_reported_lines() {
    let dir = project();
    let log = scan_sarif(dir.path(), &[]);
    let sources: HashMap<&str, Vec<String>> = [
        ("infra/main.tf", line_hashes(BUCKET)),
        ("k8s%20apps/pod.yaml", line_hashes(POD)),
    ]
    .into_iter()
    .collect();
    let results = array(&log["runs"][0]["results"], "results");
    for r in results {
        let physical = &r["locations"][0]["physicalLocation"];
        let uri = str_of(&physical["artifactLocation"]["uri"], "uri");
        let line = int_of(&physical["region"]["startLine"], "startLine");
        let hashes = sources.get(uri).expect("a scanned file");
        let expected = &hashes[usize::try_from(line - 1).expect("line")];
        assert_eq!(r["partialFingerprints"][LINE_HASH_KEY], expected.as_str());
    }
    // Pinned, computed by hand from the algorithm for `acl = "public-read"`
    // and the 100 non-blank characters after it.
    let acl = results
        .iter()
        .find(|r| r["ruleId"] == "aws-s3-public-acl")
        .expect("acl finding");
    assert_eq!(
        acl["partialFingerprints"][LINE_HASH_KEY],
        "4d80f4f0400efa71:1"
    );
}

/// The upload action hashes the file on disk, byte-order mark included,
/// though rampart reads the text without it.
#[test]
fn a_byte_order_mark_is_part_of_line_one_hash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "resource \"aws_s3_bucket\" \"b\" { acl = \"public-read\" }\n";
    write(dir.path(), "main.tf", format!("\u{feff}{text}"));
    let log = scan_sarif(dir.path(), &[]);
    let acl = array(&log["runs"][0]["results"], "results")
        .iter()
        .find(|r| r["ruleId"] == "aws-s3-public-acl")
        .cloned()
        .expect("acl finding");
    let region = &acl["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 1);
    let on_disk = line_hashes(&format!("\u{feff}{text}"));
    assert_ne!(on_disk[0], line_hashes(text)[0]);
    assert_eq!(
        acl["partialFingerprints"][LINE_HASH_KEY],
        on_disk[0].as_str()
    );
}

#[test]
fn fingerprints_survive_lines_inserted_above() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "main.tf", BUCKET);
    let before = scan_sarif(root, &[]);
    write(
        root,
        "main.tf",
        format!("# storage\n\nvariable \"region\" {{\n  default = \"eu-west-1\"\n}}\n\n{BUCKET}"),
    );
    let after = scan_sarif(root, &[]);

    let find = |log: &Value| -> Value {
        array(&log["runs"][0]["results"], "results")
            .iter()
            .find(|r| r["ruleId"] == "aws-s3-public-acl")
            .cloned()
            .expect("acl finding")
    };
    let (a, b) = (find(&before), find(&after));
    let line = |r: &Value| {
        int_of(
            &r["locations"][0]["physicalLocation"]["region"]["startLine"],
            "line",
        )
    };
    assert_eq!(line(&b), line(&a) + 6, "the finding moved down");
    assert_eq!(a["fingerprints"], b["fingerprints"]);
    // GitHub's line hash depends on the line and what follows it only.
    assert_eq!(
        a["partialFingerprints"][LINE_HASH_KEY],
        b["partialFingerprints"][LINE_HASH_KEY]
    );
}

#[test]
fn output_is_byte_identical_across_runs_and_thread_counts() {
    let dir = project();
    let one = scan_sarif_bytes(dir.path(), &["--threads", "1"]);
    let two = scan_sarif_bytes(dir.path(), &["--threads", "2"]);
    let again = scan_sarif_bytes(dir.path(), &["--threads", "2"]);
    assert_eq!(one, two);
    assert_eq!(two, again);
}

#[test]
fn absolute_paths_under_the_working_directory_become_relative() {
    let dir = project();
    let absolute = dir.path().join("infra");
    let log = scan_sarif(dir.path(), &[absolute.to_str().expect("utf-8 path")]);
    let results = array(&log["runs"][0]["results"], "results");
    assert!(!results.is_empty());
    for r in results {
        let physical = &r["locations"][0]["physicalLocation"];
        assert_relative_uri(physical);
        assert_eq!(physical["artifactLocation"]["uri"], "infra/main.tf");
    }
}

/// A path through a symlink to the working directory (macOS's `/var` is
/// one) is still inside the source root.
#[cfg(unix)]
#[test]
fn paths_through_a_symlink_to_the_working_directory_become_relative() {
    let dir = project();
    let outside = tempfile::tempdir().expect("tempdir");
    let link = outside.path().join("link");
    std::os::unix::fs::symlink(dir.path(), &link).expect("symlink");
    let file = link.join("infra/main.tf");
    let log = scan_sarif(dir.path(), &[file.to_str().expect("utf-8 path")]);
    let results = array(&log["runs"][0]["results"], "results");
    assert!(!results.is_empty());
    for r in results {
        let physical = &r["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], "infra/main.tf");
    }
}

#[test]
fn a_clean_scan_still_lists_the_rules_and_an_empty_results_array() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "main.tf",
        "resource \"aws_s3_bucket_acl\" \"b\" {\n  acl = \"private\"\n}\n",
    );
    let log = scan_sarif(dir.path(), &["--only", "aws-s3-public-acl"]);
    let run = &log["runs"][0];
    assert_eq!(array(&run["results"], "results").len(), 0);
    let rules = array(&run["tool"]["driver"]["rules"], "rules");
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["id"], "aws-s3-public-acl");
}
