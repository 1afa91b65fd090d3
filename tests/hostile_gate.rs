//! The gate itself under hostile paths, flags, settings and outputs
//! (issue 21, items 1, 5, 6, 8, 16, 18, 19, 21): a bad path or setting is a
//! usage error (exit 2) naming it, never an empty successful scan; a
//! repository's own settings cannot relax a pinned policy or write outside
//! the repository; reports replace only regular files, all or none.
//!
//! Special files are FIFOs and links made in a temporary directory: no test
//! here names a real device.

mod common;

use std::fs;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};

use common::{code, json, rampart, run_limited, stderr, write};

const PUBLIC_BUCKET: &str = "resource \"aws_s3_bucket\" \"b\" {\n  acl = \"public-read\"\n}\n";

const ONE_QUERY: [&str; 2] = ["--only", "aws-s3-public-acl"];

/// A directory holding one Terraform file with one high finding.
fn bucket_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "main.tf", PUBLIC_BUCKET);
    dir
}

/// Runs `rampart ARGS` in `dir` under the test limits.
fn run(dir: &Path, args: &[&str]) -> Output {
    run_limited(rampart(dir).args(args))
}

/// Asserts a usage error (exit 2) whose stderr contains `fragment`.
fn assert_usage_error(output: &Output, fragment: &str) {
    assert_eq!(code(output), 2, "stderr:\n{}", stderr(output));
    assert!(
        stderr(output).contains(fragment),
        "expected {fragment:?} in stderr:\n{}",
        stderr(output)
    );
}

// Item 1: a path that does not exist.

#[test]
fn a_scan_path_that_does_not_exist_is_a_usage_error() {
    let dir = bucket_dir();
    let output = run(dir.path(), &["scan", "typo/", "-o", "sarif:out.sarif"]);
    assert_usage_error(
        &output,
        "rampart: error: typo/: no such file or directory (a path to read must exist and be readable)",
    );
    assert!(
        !dir.path().join("out.sarif").exists(),
        "no empty SARIF that would close open alerts"
    );
    // One good path does not excuse a bad one.
    let output = run(dir.path(), &["scan", "main.tf", "typo.tf"]);
    assert_usage_error(&output, "typo.tf: no such file or directory");
    // inspect and test share the check.
    let output = run(dir.path(), &["inspect", "typo/"]);
    assert_usage_error(&output, "typo/: no such file or directory");
    let output = run(dir.path(), &["test", "typo/"]);
    assert_usage_error(&output, "typo/: no such file or directory");
}

// Items 5, 6 and their siblings: every path-valued flag or setting names
// something that must exist.

#[test]
fn path_valued_flags_naming_nothing_are_usage_errors() {
    let dir = bucket_dir();
    for (flag, expected) in [
        (
            "--var-file",
            "--var-file missing: no such file or directory",
        ),
        (
            "--baseline",
            "--baseline missing: no such file or directory",
        ),
        (
            "--exceptions",
            "--exceptions missing: no such file or directory",
        ),
        ("--queries", "--queries missing: no such file or directory"),
        ("--config", "--config missing: no such file or directory"),
    ] {
        let output = run(dir.path(), &["scan", ".", flag, "missing"]);
        assert_usage_error(&output, expected);
    }
    // A directory where a file is needed, and the other commands' flags.
    let output = run(dir.path(), &["scan", ".", "--var-file", "."]);
    assert_usage_error(&output, "--var-file .: is a directory, expected a file");
    let output = run(dir.path(), &["inspect", ".", "--var-file", "missing"]);
    assert_usage_error(&output, "--var-file missing: no such file or directory");
    let output = run(dir.path(), &["queries", "--queries", "missing"]);
    assert_usage_error(&output, "--queries missing: no such file or directory");
}

#[test]
fn a_var_file_that_exists_is_applied_and_one_that_does_not_stops_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "main.tf",
        "variable \"acl\" {\n  default = \"private\"\n}\nresource \"aws_s3_bucket\" \"b\" {\n  acl = var.acl\n}\n",
    );
    write(dir.path(), "public.tfvars", "acl = \"public-read\"\n");
    let mut args = vec!["scan", ".", "--format", "compact"];
    args.extend(ONE_QUERY);
    let with = |extra: &[&str]| {
        let mut all = args.clone();
        all.extend(extra);
        run(dir.path(), &all)
    };
    let output = with(&["--var-file", "public.tfvars"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(common::stdout(&output).starts_with("main.tf:5:9: high aws-s3-public-acl"));
    // Misspelt: the defaults must not silently pass the gate.
    let output = with(&["--var-file", "pubilc.tfvars"]);
    assert_usage_error(
        &output,
        "--var-file pubilc.tfvars: no such file or directory",
    );
}

#[test]
fn paths_in_a_settings_file_must_exist() {
    let dir = bucket_dir();
    fs::create_dir(dir.path().join(".git")).expect("git dir");
    for (setting, expected) in [
        ("exceptions: gone.yaml\n", "\"exceptions\" in "),
        ("baseline: gone.json\n", "\"baseline\" in "),
        ("queries: [gone]\n", "\"queries\" in "),
    ] {
        write(dir.path(), ".rampart.yaml", setting);
        let output = run(dir.path(), &["scan", "."]);
        assert_usage_error(&output, expected);
        assert_usage_error(&output, "gone");
        assert_usage_error(&output, "no such file or directory");
    }
}

#[test]
fn numeric_settings_out_of_range_are_usage_errors() {
    let dir = bucket_dir();
    // u64::MAX used to wrap the size cap to zero: every file read as empty.
    let output = run(
        dir.path(),
        &["scan", ".", "--max-file-size", "18446744073709551615"],
    );
    assert_usage_error(
        &output,
        "18446744073709551615 is not a usable file size: expected 1 to 1073741824 bytes (1 GiB)",
    );
    let output = run(dir.path(), &["scan", ".", "--max-file-size", "0"]);
    assert_usage_error(&output, "0 is not a usable file size");
    let output = run(dir.path(), &["inspect", ".", "--max-file-size=-1"]);
    assert_usage_error(&output, "\"-1\" is not a number of bytes");
    // The same settings in the file, named with their line.
    fs::create_dir(dir.path().join(".git")).expect("git dir");
    for (setting, expected) in [
        (
            "max_file_size: 18446744073709551615\n",
            ".rampart.yaml:1:16: \"max_file_size\": too large",
        ),
        (
            "max_file_size: 0\n",
            ".rampart.yaml:1:16: \"max_file_size\": 0 is not a usable file size",
        ),
        (
            "threads: -1\n",
            ".rampart.yaml:1:10: \"threads\": expected a whole number",
        ),
        (
            "threads: 1.5\n",
            ".rampart.yaml:1:10: \"threads\": expected a whole number",
        ),
    ] {
        write(dir.path(), ".rampart.yaml", setting);
        let output = run(dir.path(), &["scan", "."]);
        assert_usage_error(&output, expected);
    }
}

// Item 16: threads.

#[test]
fn absurd_thread_counts_are_capped_with_a_warning() {
    let dir = bucket_dir();
    let mut args = vec!["scan", ".", "--format", "compact"];
    args.extend(ONE_QUERY);
    for threads in ["18446744073709551615", "1000"] {
        let mut all = args.clone();
        all.extend(["--threads", threads]);
        let output = run(dir.path(), &all);
        // Before: a capacity-overflow panic, or 28 s starting 1,000 threads.
        assert_eq!(code(&output), 1, "{}", stderr(&output));
        assert!(
            stderr(&output).contains(&format!(
                "rampart: warning: {threads} threads is more than 4 per core; using"
            )),
            "{}",
            stderr(&output)
        );
        assert!(common::stdout(&output).starts_with("main.tf:2:9: high aws-s3-public-acl"));
    }
    let output = run_limited(
        rampart(dir.path())
            .env("RAMPART_THREADS", "18446744073709551615")
            .args(&args),
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let output = run(dir.path(), &["inspect", ".", "--threads", "100000"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(stderr(&output).contains("100000 threads is more than 4 per core"));
}

// Item 8: the pre-commit hook.

#[test]
fn every_hook_entry_ends_the_options() {
    let hooks =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"))
            .expect("hooks file");
    let entries: Vec<&str> = hooks
        .lines()
        .filter_map(|l| l.trim().strip_prefix("entry:"))
        .map(str::trim)
        .collect();
    assert!(!entries.is_empty());
    for entry in entries {
        assert!(entry.ends_with(" --"), "entry without `--`: {entry}");
    }
}

#[test]
fn a_file_named_like_an_option_after_double_dash_is_a_file() {
    let dir = bucket_dir();
    write(dir.path(), "--config=evil.yaml", "fail_on: none\n");
    write(dir.path(), "evil.yaml", "fail_on: none\n");
    // As the hook runs it: the staged file names after the entry's `--`.
    let output = run(
        dir.path(),
        &[
            "scan",
            "--format",
            "compact",
            "--only",
            "aws-s3-public-acl",
            "--",
            "--config=evil.yaml",
            "main.tf",
        ],
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(common::stdout(&output).contains("main.tf:2:9: high aws-s3-public-acl"));
}

// Item 18: outputs.

/// Makes a FIFO at `path`.
fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
}

/// Reads `fifo` on a thread while `f` runs; returns what `f` returned and
/// what was read. Should `f` fail before opening the FIFO, the reader is
/// released by a writer opened here.
fn with_reader<T>(fifo: &Path, f: impl FnOnce() -> T) -> (T, String) {
    let reader = {
        let fifo = fifo.to_path_buf();
        std::thread::spawn(move || fs::read_to_string(fifo).unwrap_or_default())
    };
    let result = f();
    // Non-blocking: fails harmlessly when the reader has already gone.
    let _ = fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(fifo);
    (result, reader.join().expect("reader"))
}

#[test]
fn a_fifo_output_is_written_in_place_not_replaced() {
    let dir = bucket_dir();
    let fifo = dir.path().join("report.pipe");
    mkfifo(&fifo);
    fs::create_dir(dir.path().join("links")).expect("dir");
    std::os::unix::fs::symlink("../report.pipe", dir.path().join("links/report.json"))
        .expect("symlink");
    for target in ["report.pipe", "links/report.json"] {
        let spec = format!("json:{target}");
        let mut args = vec!["scan", "main.tf", "-o", &spec];
        args.extend(ONE_QUERY);
        let (output, read) = with_reader(&fifo, || run(dir.path(), &args));
        assert_eq!(code(&output), 1, "{}", stderr(&output));
        let report: serde_json::Value = serde_json::from_str(&read).expect("the reader got JSON");
        assert_eq!(report["findings"][0]["query_id"], "aws-s3-public-acl");
        let meta = fs::symlink_metadata(&fifo).expect("still there");
        assert!(
            meta.file_type().is_fifo(),
            "{target}: the FIFO was replaced"
        );
    }
    let link = fs::symlink_metadata(dir.path().join("links/report.json")).expect("link");
    assert!(link.file_type().is_symlink(), "the link was replaced");
}

#[test]
fn dash_is_standard_output() {
    let dir = bucket_dir();
    let mut args = vec!["scan", "main.tf", "-o", "json:-"];
    args.extend(ONE_QUERY);
    let output = run(dir.path(), &args);
    assert_eq!(code(&output), 1);
    assert_eq!(
        json(&output)["findings"][0]["query_id"],
        "aws-s3-public-acl"
    );
    assert!(!dir.path().join("-").exists());
    let output = run(
        dir.path(),
        &["scan", "main.tf", "-o", "json", "-o", "sarif:-"],
    );
    assert_usage_error(&output, "two outputs write to standard output");
}

/// `rampart ARGS` in `dir` with the child's umask set to `mask`.
fn run_with_umask(dir: &Path, args: &[&str], mask: u32) -> Output {
    let mut cmd = rampart(dir);
    cmd.args(args);
    // SAFETY: umask is async-signal-safe and cannot fail.
    unsafe {
        cmd.pre_exec(move || {
            libc::umask(mask as libc::mode_t);
            Ok(())
        });
    }
    run_limited(&mut cmd)
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("exists").permissions().mode() & 0o7777
}

#[test]
fn a_rewritten_report_keeps_its_mode_and_a_new_one_follows_the_umask() {
    let dir = bucket_dir();
    let mut args = vec![
        "scan",
        "main.tf",
        "-o",
        "json:kept.json",
        "-o",
        "sarif:new/report.sarif",
    ];
    args.extend(ONE_QUERY);
    write(dir.path(), "kept.json", "old");
    fs::set_permissions(
        dir.path().join("kept.json"),
        fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let output = run_with_umask(dir.path(), &args, 0o027);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    // Before: both became 0600, the temporary file's mode.
    assert_eq!(mode(&dir.path().join("kept.json")), 0o644);
    assert_eq!(mode(&dir.path().join("new/report.sarif")), 0o640);
    assert_ne!(
        fs::read_to_string(dir.path().join("kept.json")).expect("read"),
        "old"
    );
    let leftovers = fs::read_dir(dir.path().join("new")).expect("dir").count();
    assert_eq!(leftovers, 1, "no temporary file is left behind");
}

#[test]
fn two_outputs_naming_one_file_are_refused() {
    let dir = bucket_dir();
    for args in [
        &[
            "scan",
            "main.tf",
            "-o",
            "json:r.json",
            "-o",
            "sarif:./r.json",
        ][..],
        &[
            "scan",
            "main.tf",
            "-o",
            "json:r.json",
            "--write-baseline",
            "r.json",
        ][..],
    ] {
        let output = run(dir.path(), args);
        assert_usage_error(&output, "two outputs write to the same file");
        assert!(!dir.path().join("r.json").exists());
    }
}

#[test]
fn a_directory_output_is_refused_before_anything_is_written() {
    let dir = bucket_dir();
    fs::create_dir(dir.path().join("reports")).expect("dir");
    let output = run(
        dir.path(),
        &[
            "scan",
            "main.tf",
            "-o",
            "json:first.json",
            "-o",
            "sarif:reports",
        ],
    );
    assert_usage_error(&output, "reports is a directory, not a report file");
    assert!(!dir.path().join("first.json").exists());
}

#[test]
fn when_one_output_cannot_be_written_none_is() {
    let dir = bucket_dir();
    write(dir.path(), "first.json", "previous report");
    write(dir.path(), "blocker", "a file where a directory is needed");
    let output = run(
        dir.path(),
        &[
            "scan",
            "main.tf",
            "-o",
            "json:first.json",
            "-o",
            "sarif:blocker/r.sarif",
        ],
    );
    assert_usage_error(&output, "blocker/r.sarif");
    // Before: first.json was already replaced when the second failed.
    assert_eq!(
        fs::read_to_string(dir.path().join("first.json")).expect("read"),
        "previous report"
    );
}

// Item 19: --diff-base.

/// A git repository in a temporary directory with one commit of a public
/// bucket and an untracked file `victim`.
fn scratch_repository() -> tempfile::TempDir {
    let dir = bucket_dir();
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(["-c", "user.email=ci@example.invalid", "-c", "user.name=ci"])
            .args([
                "-c",
                "commit.gpgsign=false",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("git runs");
        assert!(status.status.success(), "git {args:?}: {:?}", status);
    };
    git(&["init", "-q"]);
    git(&["add", "main.tf"]);
    git(&["commit", "-q", "-m", "bucket"]);
    write(dir.path(), "victim", "keep me\n");
    dir
}

#[test]
fn a_diff_base_that_looks_like_an_option_never_reaches_git() {
    let dir = scratch_repository();
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let remote = format!("--diff-base=--remote={}", elsewhere.path().display());
    for arg in ["--diff-base=--output=victim", remote.as_str()] {
        let output = run(dir.path(), &["scan", ".", arg]);
        assert_usage_error(&output, "a git reference cannot start with '-'");
        assert_eq!(
            fs::read_to_string(dir.path().join("victim")).expect("read"),
            "keep me\n",
            "{arg} truncated the file"
        );
    }
    let output = run(dir.path(), &["scan", ".", "--diff-base", "no-such-ref"]);
    assert_usage_error(
        &output,
        "--diff-base no-such-ref: not a commit in this repository",
    );
    // A real commit still works: nothing is new since HEAD.
    let mut args = vec!["scan", ".", "--diff-base", "HEAD", "--format", "compact"];
    args.extend(ONE_QUERY);
    let output = run(dir.path(), &args);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

// Item 21: configuration from the scanned repository.

/// A repository (`.git`) with a public bucket and a `.rampart.yaml` that
/// turns failing off, and a security team's policy outside it.
fn relaxed_repository() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("repo");
    write(&repo, "main.tf", PUBLIC_BUCKET);
    fs::create_dir(repo.join(".git")).expect("git dir");
    write(
        &repo,
        ".rampart.yaml",
        "fail_on: none\nskip: [aws-s3-public-acl]\n",
    );
    write(dir.path(), "policy.yaml", "fail_on: high\n");
    (dir, repo)
}

#[test]
fn a_pinned_policy_wins_over_the_repository_file() {
    let (dir, repo) = relaxed_repository();
    let policy = dir.path().join("policy.yaml");
    let base = ["scan", ".", "--format", "json"];
    // The repository alone relaxes its gate (and says so in the report).
    let output = run(&repo, &base);
    assert_eq!(code(&output), 0);
    let report = json(&output);
    assert_eq!(report["config"]["repository"], ".rampart.yaml");
    assert_eq!(report["config"]["pinned"], serde_json::Value::Null);
    // Pinned through the environment or the flag: the repository's fail_on
    // and skip are ignored, with a warning.
    for output in [
        run_limited(rampart(&repo).env("RAMPART_CONFIG", &policy).args(base)),
        run_limited(rampart(&repo).args(base).arg("--config").arg(&policy)),
    ] {
        assert_eq!(code(&output), 1, "{}", stderr(&output));
        let report = json(&output);
        let ids: Vec<&str> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["query_id"].as_str())
            .collect();
        assert!(
            ids.contains(&"aws-s3-public-acl"),
            "the repository's skip is ignored: {ids:?}"
        );
        assert_eq!(report["config"]["pinned"], policy.display().to_string());
        assert_eq!(report["config"]["repository"], ".rampart.yaml");
        assert_eq!(
            report["config"]["ignored"],
            serde_json::json!(["fail_on", "skip"])
        );
        assert!(
            stderr(&output)
                .contains(".rampart.yaml sets fail_on, skip, ignored: the pinned settings file"),
            "{}",
            stderr(&output)
        );
    }
    // The SARIF run says which settings produced it.
    let output = run_limited(
        rampart(&repo)
            .env("RAMPART_CONFIG", &policy)
            .args(["scan", ".", "--format", "sarif"]),
    );
    let sarif = json(&output);
    assert_eq!(
        sarif["runs"][0]["properties"]["config"]["pinned"],
        policy.display().to_string()
    );
}

#[test]
fn the_human_summary_names_the_settings_files() {
    let (dir, repo) = relaxed_repository();
    let output = run(&repo, &["scan", "."]);
    assert!(
        common::stdout(&output).ends_with("settings: .rampart.yaml (repository)\n"),
        "{}",
        common::stdout(&output)
    );
    let output = run_limited(
        rampart(&repo)
            .env("RAMPART_CONFIG", dir.path().join("policy.yaml"))
            .args(["scan", "."]),
    );
    assert!(
        common::stdout(&output).contains(
            "policy.yaml (pinned), .rampart.yaml (repository; its fail_on, skip ignored)\n"
        ),
        "{}",
        common::stdout(&output)
    );
}

#[test]
fn no_config_ignores_the_repository_file() {
    let (_dir, repo) = relaxed_repository();
    let output = run(&repo, &["scan", ".", "--no-config", "--format", "json"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(
        json(&output)["config"]["repository"],
        serde_json::Value::Null
    );
}

#[test]
fn outside_git_the_search_stops_at_the_scan_root() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A settings file above the scanned tree, which is in no repository.
    write(dir.path(), ".rampart.yaml", "fail_on: none\n");
    write(dir.path(), "infra/main.tf", PUBLIC_BUCKET);
    let mut args = vec!["scan", "infra", "--format", "json"];
    args.extend(ONE_QUERY);
    let output = run(dir.path(), &args);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(
        json(&output)["config"]["repository"],
        serde_json::Value::Null
    );
    // In the scan root itself it is found.
    let mut args = vec!["scan", ".", "--format", "json"];
    args.extend(ONE_QUERY);
    let output = run(dir.path(), &args);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(json(&output)["config"]["repository"], ".rampart.yaml");
}

#[test]
fn a_repository_file_cannot_write_or_read_outside_the_repository() {
    let (dir, repo) = relaxed_repository();
    for (setting, shown) in [
        (
            "outputs: [\"json:../escaped.json\"]\n",
            "json:../escaped.json",
        ),
        (
            "outputs: [\"json:sub/../../escaped.json\"]\n",
            "json:sub/../../escaped.json",
        ),
        ("exceptions: ../policy.yaml\n", "policy.yaml"),
    ] {
        write(&repo, ".rampart.yaml", setting);
        let output = run(&repo, &["scan", "."]);
        assert_usage_error(&output, "is outside the repository");
        assert_usage_error(&output, shown);
        assert!(!dir.path().join("escaped.json").exists());
    }
    // A link inside the repository that leads out is outside too.
    std::os::unix::fs::symlink(dir.path(), repo.join("out")).expect("symlink");
    write(
        &repo,
        ".rampart.yaml",
        "outputs: [\"json:out/escaped.json\"]\n",
    );
    let output = run(&repo, &["scan", "."]);
    assert_usage_error(&output, "is outside the repository");
    assert!(!dir.path().join("escaped.json").exists());
    // Inside the repository is fine; on the command line, anywhere is.
    write(
        &repo,
        ".rampart.yaml",
        "fail_on: none\noutputs: [\"json:reports/r.json\"]\n",
    );
    let output = run(&repo, &["scan", "."]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(repo.join("reports/r.json").is_file());
    let output = run(&repo, &["scan", ".", "-o", "json:../escaped.json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(dir.path().join("escaped.json").is_file());
}
