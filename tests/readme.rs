//! The README's terminal examples are real output: each is rerun here on
//! the file it shows, so its counts, tables and lines stay true.

mod common;

use std::path::Path;

use common::{rampart, stderr, stdout, write};

/// The example's file: `infra/main.tf` as the README's snippet shows it.
const MAIN_TF: &str = "resource \"aws_s3_bucket\" \"assets\" {\n  bucket = \"public-assets\"\n  acl    = \"public-read\"\n}\n";

/// The text block of the README that follows the line `$ COMMAND`.
fn example(command: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = format!("$ {command}\n");
    let (_, after) = readme
        .split_once(&start)
        .unwrap_or_else(|| panic!("README shows `$ {command}`"));
    let (block, _) = after.split_once("```").expect("the block ends");
    block.to_string()
}

/// Wall times as the README writes them.
fn fixed_time(text: &str) -> String {
    regex::Regex::new(r"in [0-9]+\.[0-9]+ s")
        .expect("regex")
        .replace_all(text, "in 0.00 s")
        .into_owned()
}

#[test]
fn the_terminal_examples_are_what_rampart_prints() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "infra/main.tf", MAIN_TF);

    let human = rampart(dir.path())
        .args(["scan", "infra"])
        .output()
        .expect("runs");
    assert_eq!(human.status.code(), Some(1));
    let shown = example("rampart scan infra");
    // The README elides the first findings (`...`); the rest is verbatim.
    let from = "  × high aws-s3-public-acl";
    let (_, shown_tail) = shown
        .split_once(from)
        .expect("README shows the ACL finding");
    let printed = fixed_time(&stdout(&human));
    let (_, printed_tail) = printed.split_once(from).expect("rampart prints it");
    assert_eq!(printed_tail, shown_tail);
    assert!(shown.starts_with("infra/main.tf\n...\n"), "{shown}");

    let compact = rampart(dir.path())
        .args(["scan", "infra", "--compact", "--severity", "medium"])
        .output()
        .expect("runs");
    assert_eq!(compact.status.code(), Some(1));
    // On a terminal the total (stderr) follows the findings (stdout).
    assert_eq!(
        format!("{}{}", stdout(&compact), stderr(&compact)),
        example("rampart scan infra --compact --severity medium")
    );
}
