//! Every report format on one fixed tree (`tests/data`), snapshotted with
//! insta: what users read is reviewed as a diff whenever it changes
//! (`cargo insta review`). Durations are redacted; nothing else varies.

use std::process::Command;

/// Runs `rampart scan tests/data --format FORMAT` from the repository root.
fn scan(format: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["scan", "tests/data", "--threads", "2", "--format", format])
        .args(["--project", "snapshot"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("SOURCE_DATE_EPOCH", "1764720000")
        .env_remove("NO_COLOR")
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    redact(&String::from_utf8(output.stdout).expect("utf-8"))
}

/// Replaces wall times, the checkout's git state, rampart's own version and
/// the checkout's location (SARIF's `originalUriBaseIds`) with fixed markers.
fn redact(text: &str) -> String {
    let seconds = regex::Regex::new(r#"(in |"seconds": |time="|; )[0-9]+\.[0-9]+"#).expect("regex");
    let git = regex::Regex::new(r#""(repository|commit|branch)": ("[^"]*"|null)"#).expect("regex");
    let text = git.replace_all(text, "\"${1}\": \"[GIT]\"");
    seconds
        .replace_all(&text, "${1}[DURATION]")
        .replace(
            &format!("\"{}\"", env!("CARGO_PKG_VERSION")),
            "\"[VERSION]\"",
        )
        .replace(
            &format!("file://{}/", env!("CARGO_MANIFEST_DIR")),
            "file://[ROOT]/",
        )
}

#[test]
fn human() {
    insta::assert_snapshot!(scan("human"));
}

#[test]
fn compact() {
    insta::assert_snapshot!(scan("compact"));
}

#[test]
fn json() {
    let text = scan("json");
    let parsed: serde_json::Value =
        serde_json::from_str(&text.replace("[DURATION]", "0")).expect("valid JSON");
    assert_eq!(parsed["version"], 1);
    insta::assert_snapshot!(text);
}

#[test]
fn sarif() {
    let text = scan("sarif");
    let parsed: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(parsed["version"], "2.1.0");
    insta::assert_snapshot!(text);
}

#[test]
fn junit() {
    insta::assert_snapshot!(scan("junit"));
}
