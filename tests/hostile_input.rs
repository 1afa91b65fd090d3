//! Hostile input to discovery and reading (issue 21, items 2, 3, 4, 7, 15):
//! nothing that could be IaC is dropped silently, and nothing a tree holds
//! (a FIFO, a symbolic link loop) hangs the scan. Every run is under the
//! limits of `common::run_limited`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{code, json, rampart, run_limited, stderr, write};
use serde_json::Value;

/// A privileged Pod; `privileged: true` is on line 10.
const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: c
      image: nginx:1.25
      securityContext:
        privileged: true
";

/// Runs `rampart scan ARGS --format json` in `dir` under the limits.
fn scan(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = run_limited(
        rampart(dir)
            .arg("scan")
            .args(args)
            .args(["--format", "json"]),
    );
    (code(&out), json(&out))
}

/// The lines of `query`'s findings in `file`.
fn finding_lines(report: &Value, query: &str, file: &str) -> Vec<u64> {
    report["findings"]
        .as_array()
        .map(|findings| {
            findings
                .iter()
                .filter(|f| f["query_id"] == query && f["file"] == file)
                .filter_map(|f| f["line"].as_u64())
                .collect()
        })
        .unwrap_or_default()
}

/// The files with a `query` finding.
fn finding_files(report: &Value, query: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .map(|findings| {
            findings
                .iter()
                .filter(|f| f["query_id"] == query)
                .filter_map(|f| f["file"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Diagnostics as `file:line: level: message`, in report order.
fn diagnostics(report: &Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|d| {
                    format!(
                        "{}:{}: {}: {}",
                        d["file"].as_str().unwrap_or_default(),
                        d["line"],
                        d["level"].as_str().unwrap_or_default(),
                        d["message"].as_str().unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

// Item 2: a file that could be IaC and is not read gets a diagnostic.

#[test]
fn issue_21_walked_pod_with_a_latin1_byte_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    // `café` written in Latin-1: one byte, 0xE9, that is not UTF-8.
    let latin1: Vec<u8> = POD
        .replace("name: p\n", "name: caf#\n")
        .bytes()
        .map(|b| if b == b'#' { 0xE9 } else { b })
        .collect();
    write(dir.path(), "k8s/pod.yaml", latin1);
    let (exit, report) = scan(dir.path(), &["--fail-on-parse-error"]);
    assert_eq!(
        diagnostics(&report),
        ["k8s/pod.yaml:4: error: invalid UTF-8 at line 4, column 12"]
    );
    assert_eq!(exit, 1, "a parse error fails the gate when asked");
}

#[test]
fn issue_21_walked_iac_with_nul_or_utf16_is_an_error_other_json_a_notice() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "nul.yaml", POD.replace("nginx", "ng\0inx"));
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(POD.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    write(dir.path(), "utf16.yaml", utf16);
    write(dir.path(), "package.json", "{\"name\": \"app\0\"}\n");
    let (_, report) = scan(dir.path(), &[]);
    assert_eq!(
        diagnostics(&report),
        [
            "nul.yaml:0: error: binary file (contains NUL bytes)",
            "package.json:0: notice: binary file (contains NUL bytes); skipped",
            "utf16.yaml:0: error: UTF-16 encoded; only UTF-8 is read",
        ]
    );
}

#[test]
fn issue_21_oversized_manifest_is_named_oversized_lockfile_is_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "big.yaml", format!("{POD}---\n").repeat(20));
    let lock = format!(
        "{{\"name\": \"app\", \"lockfileVersion\": 3, \"packages\": {{{}}}}}\n",
        (0..200)
            .map(|i| format!("\"p{i}\": {{\"version\": \"1.0.{i}\"}}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    write(dir.path(), "package-lock.json", lock);
    let (_, report) = scan(dir.path(), &["--max-file-size", "1000"]);
    let big = format!(
        "big.yaml:0: error: file is {} bytes, over the 1000-byte limit (raise it with --max-file-size)",
        (POD.len() + 4) * 20
    );
    assert_eq!(diagnostics(&report), [big]);
}

// Item 3: valid YAML that line patterns missed is recognised by parsing.

#[test]
fn issue_21_every_way_of_writing_a_pod_is_recognised() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, String, u64); 6] = [
        (
            "quoted.yaml",
            POD.replace("apiVersion:", "\"apiVersion\":")
                .replace("kind:", "'kind':"),
            10,
        ),
        (
            "flow.yaml",
            "{apiVersion: v1, kind: Pod, metadata: {name: p},\n spec: {containers: [\n  {name: c, image: \"nginx:1.25\",\n   securityContext: {privileged: true}}]}}\n"
                .to_string(),
            4,
        ),
        (
            "comment.json",
            "# generated\n{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {\"name\": \"p\"},\n  \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"nginx:1.25\",\n    \"securityContext\": {\"privileged\": true}}]}\n}\n"
                .to_string(),
            7,
        ),
        (
            "slashes.json",
            "// generated\n{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {\"name\": \"p\"},\n  \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"nginx:1.25\",\n    \"securityContext\": {\"privileged\": true}}]}\n}\n"
                .to_string(),
            7,
        ),
        (
            "explicit.yaml",
            POD.replace("apiVersion: v1", "? apiVersion\n: v1")
                .replace("kind: Pod", "? kind\n: Pod"),
            12,
        ),
        ("bom.yaml", format!("\u{feff}\u{feff}{POD}"), 10),
    ];
    for (name, text, _) in &cases {
        write(dir.path(), name, text);
    }
    let (_, report) = scan(dir.path(), &["--only", "k8s-privileged-container"]);
    assert_eq!(diagnostics(&report), Vec::<String>::new());
    for (name, _, line) in &cases {
        assert_eq!(
            finding_lines(&report, "k8s-privileged-container", name),
            [*line],
            "{name}"
        );
    }
}

#[test]
fn issue_21_every_way_of_writing_a_template_is_recognised() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "quoted.yaml",
        "\"AWSTemplateFormatVersion\": '2010-09-09'\n\"Resources\":\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      AccessControl: PublicRead\n",
    );
    write(
        dir.path(),
        "flow.yaml",
        "{Resources: {B: {Type: 'AWS::S3::Bucket',\n  Properties: {AccessControl: PublicRead}}}}\n",
    );
    write(
        dir.path(),
        "comment.template",
        "# stack\n{\"Resources\": {\"B\": {\"Type\": \"AWS::S3::Bucket\",\n  \"Properties\": {\"AccessControl\": \"PublicRead\"}}}}\n",
    );
    let (_, report) = scan(dir.path(), &["--only", "aws-s3-public-acl"]);
    assert_eq!(diagnostics(&report), Vec::<String>::new());
    for (name, line) in [
        ("quoted.yaml", 6),
        ("flow.yaml", 2),
        ("comment.template", 3),
    ] {
        assert_eq!(
            finding_lines(&report, "aws-s3-public-acl", name),
            [line],
            "{name}"
        );
    }
}

#[test]
fn issue_21_workflows_compose_and_values_stay_silent() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        ".github/workflows/ci.yml",
        "name: CI\non: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n",
    );
    write(
        dir.path(),
        "compose.yaml",
        "services:\n  web: {image: nginx}\n",
    );
    write(
        dir.path(),
        "values.yaml",
        "image:\n  kind: nginx\n  apiVersion: x\n",
    );
    write(
        dir.path(),
        "tsconfig.json",
        "// c\n{\"compilerOptions\": {}}\n",
    );
    let (exit, report) = scan(dir.path(), &[]);
    assert_eq!(exit, 0);
    assert_eq!(diagnostics(&report), Vec::<String>::new());
    assert_eq!(report["stats"]["files"]["kubernetes"], 0);
}

// Item 4: symbolic links.

#[cfg(unix)]
fn symlink(target: &str, link: &Path) {
    if let Some(parent) = link.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

#[cfg(unix)]
#[test]
fn issue_21_links_inside_the_tree_are_read_once_under_the_path_seen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "shared/bucket.tf",
        "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n  acl    = \"public-read\"\n}\n",
    );
    write(root, "env/main.tf", "locals { env = \"prod\" }\n");
    symlink("../shared/bucket.tf", &root.join("env/bucket.tf"));
    write(root, "k8s/base/pod.yaml", POD);
    symlink("../base/pod.yaml", &root.join("k8s/prod/pod.yaml"));
    // A directory link inside the tree: its files are read at their own
    // path, not a second time through the link.
    symlink("../k8s/base", &root.join("mirror/base"));
    let (_, report) = scan(
        root,
        &["--only", "aws-s3-public-acl,k8s-privileged-container"],
    );
    assert_eq!(diagnostics(&report), Vec::<String>::new());
    // The linked Terraform file is part of both modules, as for Terraform.
    assert_eq!(
        finding_files(&report, "aws-s3-public-acl"),
        ["env/bucket.tf", "shared/bucket.tf"]
    );
    assert_eq!(
        finding_lines(&report, "aws-s3-public-acl", "env/bucket.tf"),
        [3]
    );
    assert_eq!(
        finding_files(&report, "k8s-privileged-container"),
        ["k8s/base/pod.yaml"]
    );
}

#[cfg(unix)]
#[test]
fn issue_21_a_link_in_a_linked_from_directory_is_read_when_its_target_is_excluded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "vendor/pod.yaml", POD);
    symlink("../vendor/pod.yaml", &root.join("k8s/pod.yaml"));
    let (_, report) = scan(
        root,
        &["--only", "k8s-privileged-container", "--exclude", "vendor"],
    );
    assert_eq!(
        finding_files(&report, "k8s-privileged-container"),
        ["k8s/pod.yaml"]
    );
}

#[cfg(unix)]
#[test]
fn issue_21_links_outside_looping_or_broken_each_get_one_diagnostic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outside = dir.path().join("outside");
    write(&outside, "pod.yaml", POD);
    let root = dir.path().join("repo");
    write(&root, "k8s/own.yaml", POD);
    symlink("../../outside/pod.yaml", &root.join("k8s/pod.yaml"));
    symlink("../outside", &root.join("vendored"));
    symlink("..", &root.join("k8s/loop"));
    symlink("self.tf", &root.join("self.tf"));
    symlink("gone.tf", &root.join("dangling.tf"));
    symlink("../outside/README", &root.join("README"));
    let (_, report) = scan(&root, &["--only", "k8s-privileged-container"]);
    assert_eq!(
        finding_files(&report, "k8s-privileged-container"),
        ["k8s/own.yaml"]
    );
    let diags = diagnostics(&report);
    assert_eq!(diags.len(), 5, "{diags:#?}");
    let expected = [
        "dangling.tf:0: error: cannot follow symbolic link to gone.tf: no such file or directory",
        "k8s/loop:0: notice: symbolic link loop: .. contains the link itself; not followed",
        "k8s/pod.yaml:0: notice: symbolic link to a file outside the scanned paths (../../outside/pod.yaml); not followed",
        "self.tf:0: error: cannot follow symbolic link to self.tf: ",
        "vendored:0: notice: symbolic link to a directory outside the scanned paths (../outside); not followed",
    ];
    for (diag, want) in diags.iter().zip(expected) {
        assert!(
            diag.starts_with(want),
            "{diag}\n  does not start with\n{want}"
        );
    }
}

// Item 7: only the conventional Dockerfile names.

#[test]
fn issue_21_dockerfile_names_are_the_conventional_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dockerfile = "FROM ubuntu:22.04\nRUN echo hi\n";
    for name in ["Dockerfile.prod", "api.dockerfile", "Containerfile"] {
        write(dir.path(), name, dockerfile);
    }
    write(dir.path(), "dockerfile.rs", "//! parser\nfn main() {}\n");
    write(
        dir.path(),
        "Dockerfile.go",
        "package main\nfunc main() {}\n",
    );
    write(
        dir.path(),
        "Dockerfile.md",
        "# How to build\n\nRun `docker build`.\n",
    );
    let (_, report) = scan(dir.path(), &[]);
    assert_eq!(diagnostics(&report), Vec::<String>::new());
    assert_eq!(report["stats"]["files"]["dockerfile"], 3);
    let out = run_limited(rampart(dir.path()).args(["scan", "."]));
    let summary = common::stdout(&out);
    assert!(
        summary.contains("scanned 3 files (dockerfile 3)"),
        "{summary}"
    );
}

#[test]
fn issue_21_a_file_that_fails_to_parse_counts_as_what_it_was_read_as() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nspec: [\n",
    );
    let out = run_limited(rampart(dir.path()).args(["scan", "."]));
    let summary = common::stdout(&out);
    assert!(
        summary.contains("scanned 1 file (kubernetes 1)") && summary.contains("1 parse error"),
        "{summary}"
    );
}

// Item 15: a FIFO never blocks the scan.

#[cfg(unix)]
fn mkfifo(path: &Path) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// Runs `cmd` under the limits with a watchdog that keeps `fifos` from
/// hanging the test. A reader blocked opening a FIFO uses no CPU, so the
/// CPU limit would never end it: should rampart open one (the bug), the
/// watchdog opens it for writing and closes it, every few seconds, so the
/// read sees end of file, the scan ends, and the test fails on its
/// assertions instead of hanging. A correct scan never opens them, and the
/// watchdog's non-blocking opens find no reader and do nothing.
#[cfg(unix)]
fn run_with_fifo_watchdog(cmd: &mut std::process::Command, fifos: &[PathBuf]) -> Output {
    use std::os::unix::fs::OpenOptionsExt;
    use std::sync::mpsc;
    let (done, finished) = mpsc::channel::<()>();
    let fifos = fifos.to_vec();
    let watchdog = std::thread::spawn(move || {
        while let Err(mpsc::RecvTimeoutError::Timeout) =
            finished.recv_timeout(std::time::Duration::from_secs(5))
        {
            for fifo in &fifos {
                let _ = std::fs::OpenOptions::new()
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(fifo);
            }
        }
    });
    let out = run_limited(cmd);
    let _ = done.send(());
    let _ = watchdog.join();
    out
}

#[cfg(unix)]
#[test]
fn issue_21_fifos_are_refused_named_walked_read_by_file_or_a_module() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let named = root.join("named.tf");
    let unknown = root.join("pipe");
    let walked = root.join("tree/k8s/pod.yaml");
    let data = root.join("tree/app/data/fifo");
    let module = root.join("tree/modules/m/main.tf");
    for fifo in [&named, &unknown, &walked, &data, &module] {
        mkfifo(fifo);
    }
    write(
        root,
        "tree/app/main.tf",
        "resource \"aws_s3_bucket\" \"b\" {\n  bucket = file(\"${path.module}/data/fifo\")\n}\nmodule \"m\" {\n  source = \"../modules/m\"\n}\n",
    );
    let fifos = [named, unknown, walked, data, module];
    let out = run_with_fifo_watchdog(
        rampart(root)
            .args(["scan", "named.tf", "pipe", "tree", "--format", "json"])
            .args(["--only", "k8s-privileged-container"]),
        &fifos,
    );
    assert_eq!(code(&out), 0);
    assert_eq!(
        diagnostics(&json(&out)),
        [
            "named.tf:0: error: not a regular file (a FIFO); not read",
            "pipe:0: error: not a regular file (a FIFO); not read",
            "tree/app/data/fifo:0: error: not read by file() or templatefile(): not a regular file (a FIFO); not read",
            "tree/k8s/pod.yaml:0: error: not a regular file (a FIFO); not read",
            "tree/modules/m/main.tf:0: error: not a regular file (a FIFO); not read",
        ]
    );
}

/// Files the user names for rampart itself (settings, exceptions, a
/// baseline, a query pack) go through the same safe reader: a FIFO named
/// there is refused with a clear error, never waited on (issue 21, item
/// 15's siblings).
#[cfg(unix)]
#[test]
fn issue_21_fifos_named_as_settings_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "main.tf", "resource \"aws_s3_bucket\" \"b\" {}\n");
    let fifo = root.join("named.pipe");
    mkfifo(&fifo);
    let queries = root.join("pack");
    mkfifo(&queries.join("query.yaml"));
    let cases: [&[&str]; 4] = [
        &["--config", "named.pipe"],
        &["--exceptions", "named.pipe"],
        &["--baseline", "named.pipe"],
        &["--queries", "pack"],
    ];
    for args in cases {
        let mut cmd = rampart(root);
        cmd.args(["scan", "main.tf"]).args(args);
        let out = run_with_fifo_watchdog(&mut cmd, &[fifo.clone(), queries.join("query.yaml")]);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("not a regular file") || err.contains("FIFO"),
            "{args:?}: {err}"
        );
    }
}
