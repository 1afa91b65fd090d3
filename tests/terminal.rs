//! What a person at a terminal sees, and what a CI log gets: colour and a
//! progress bar only on a terminal. The terminal is a real pseudo-terminal
//! made by `script` (util-linux, part of every Debian system).

use std::path::Path;
use std::process::Command;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rampart")
}

/// A tree of `n` Terraform modules, each with one public bucket.
fn tree(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..n {
        let module = dir.path().join(format!("m{i}"));
        std::fs::create_dir_all(&module).expect("mkdir");
        std::fs::write(
            module.join("main.tf"),
            format!("resource \"aws_s3_bucket\" \"b{i}\" {{\n  acl = \"public-read\"\n}}\n"),
        )
        .expect("write");
    }
    dir
}

/// Runs `rampart ARGS` inside a pseudo-terminal; returns everything the
/// terminal received (stdout and stderr together).
fn on_terminal(dir: &Path, args: &str, env: &[(&str, &str)]) -> String {
    let output = Command::new("script")
        .args(["-qec", &format!("{} {args}", bin()), "/dev/null"])
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script (util-linux) runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn colour_only_on_a_terminal_and_without_no_color() {
    let dir = tree(1);
    let args = "scan . --only aws-s3-public-acl";
    let terminal = on_terminal(dir.path(), args, &[]);
    assert!(
        terminal.contains("\u{1b}["),
        "no colour on a terminal:\n{terminal}"
    );
    assert!(terminal.contains("aws-s3-public-acl"));

    let no_color = on_terminal(dir.path(), args, &[("NO_COLOR", "1")]);
    assert!(
        !no_color.contains("\u{1b}["),
        "colour despite NO_COLOR:\n{no_color}"
    );
    assert!(no_color.contains("aws-s3-public-acl"));

    let piped = Command::new(bin())
        .args(["scan", ".", "--only", "aws-s3-public-acl"])
        .current_dir(dir.path())
        .env_remove("NO_COLOR")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&piped.stdout);
    assert!(!stdout.contains('\u{1b}'), "colour in a pipe:\n{stdout}");
    assert!(stdout.contains("aws-s3-public-acl"));
}

#[test]
fn progress_bar_only_on_a_terminal() {
    let dir = tree(600);
    let args = "scan . --only aws-s3-public-acl --format compact";
    let terminal = on_terminal(dir.path(), args, &[]);
    assert!(
        terminal.contains("scanning"),
        "no progress bar on a terminal"
    );

    let piped = Command::new(bin())
        .args([
            "scan",
            ".",
            "--only",
            "aws-s3-public-acl",
            "--format",
            "compact",
        ])
        .current_dir(dir.path())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&piped.stderr);
    assert!(
        !stderr.contains("scanning"),
        "progress bar in a CI log:\n{stderr}"
    );
    assert_eq!(
        String::from_utf8_lossy(&piped.stdout)
            .lines()
            .filter(|l| l.contains("aws-s3-public-acl"))
            .count(),
        600
    );

    // --quiet: findings only, no bar even on a terminal.
    let quiet = on_terminal(dir.path(), &format!("{args} --quiet"), &[]);
    assert!(!quiet.contains("scanning"));
}
