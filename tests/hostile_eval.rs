//! Hostile Terraform for the evaluator (issue 21, items 10, 11, 12, 20):
//! values that double, ranges that never end, loops that multiply,
//! templates that include themselves, locals written backwards, module
//! sources that climb out of the scanned tree. Each runs under the limits
//! of `common::run_limited` (or a tighter CPU limit where the old code was
//! merely slow), and asserts the diagnostic that names the expression, that
//! the unknown value fires nothing, and that the rest of the directory is
//! still scanned.

mod common;

use std::path::Path;

use common::{code, json, rampart, run_limited, run_with_limits, write};
use serde_json::Value;

/// A bucket anyone can read, beside every hostile input: still flagged.
const PUBLIC_BUCKET: &str =
    "\nresource \"aws_s3_bucket\" \"pub\" {\n  bucket = \"pub\"\n  acl    = \"public-read\"\n}\n";

/// A bucket whose ACL is public if `condition` holds: evaluated, it would
/// be flagged; with `condition` unknown it must give no finding.
fn bucket_public_if(condition: &str) -> String {
    format!(
        "\nresource \"aws_s3_bucket\" \"guarded\" {{\n  bucket = \"guarded\"\n  acl    = {condition} ? \"public-read\" : \"private\"\n}}\n"
    )
}

/// `rampart scan DIR --only aws-s3-public-acl --format json`, run in
/// `root` under the harness limits with `cpu_seconds` of CPU; the exit
/// code and the report.
fn scan(root: &Path, dir: &str, cpu_seconds: u64) -> (i32, Value) {
    scan_for(root, dir, PUBLIC_ACL, cpu_seconds)
}

/// The query every test looks for: a public bucket ACL.
const PUBLIC_ACL: &str = "aws-s3-public-acl";

/// [`scan`] with the queries `only` (comma-separated).
fn scan_for(root: &Path, dir: &str, only: &str, cpu_seconds: u64) -> (i32, Value) {
    let mut cmd = rampart(root);
    cmd.args(["scan", dir, "--only", only, "--format", "json"]);
    let out = if cpu_seconds == common::CPU_SECONDS {
        run_limited(&mut cmd)
    } else {
        run_with_limits(&mut cmd, common::ADDRESS_SPACE, cpu_seconds)
    };
    (code(&out), json(&out))
}

/// `file:line entity` of every finding.
fn findings(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|f| format!("{}:{} {}", f["file"], f["line"], f["entity"]).replace('"', ""))
                .collect()
        })
        .unwrap_or_default()
}

/// `file:line:column: level: message` of every diagnostic.
fn diagnostics(report: &Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|d| {
                    format!(
                        "{}:{}:{}: {}: {}",
                        d["file"].as_str().unwrap_or_default(),
                        d["line"],
                        d["column"],
                        d["level"].as_str().unwrap_or_default(),
                        d["message"].as_str().unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Sixty locals, each built from two copies of the one before.
fn doubling(first: &str, step: &str) -> String {
    let mut text = format!("locals {{\n  a0 = {first}\n");
    for i in 1..=60 {
        let previous = format!("local.a{}", i - 1);
        text.push_str(&format!("  a{i} = {}\n", step.replace("PREV", &previous)));
    }
    text.push_str("}\n");
    text
}

// Issue 21, item 11: sixty levels of doubling took 3 GB (23 GB unlimited)
// before the process was killed, whichever function doubled. Now the first
// value over the budget is unknown, with one diagnostic naming it.
#[test]
fn issue_21_doubling_sixty_times_stops_at_the_value_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let forms = [
        ("concat", "[\"x\"]", "concat(PREV, PREV)"),
        ("list", "[\"x\"]", "[PREV, PREV]"),
        ("template", "\"x\"", "\"${PREV}${PREV}\""),
        ("format", "\"x\"", "format(\"%s%s\", PREV, PREV)"),
        ("join", "\"x\"", "join(\"\", [PREV, PREV])"),
        (
            "merge",
            "{ k = \"x\" }",
            "merge({ l = PREV }, { r = PREV })",
        ),
        ("jsonencode", "\"x\"", "jsonencode([PREV, PREV])"),
    ];
    for (name, first, step) in forms {
        write(
            root,
            &format!("{name}/main.tf"),
            doubling(first, step) + &bucket_public_if("length(local.a60) > 0") + PUBLIC_BUCKET,
        );
    }
    let (exit, report) = scan(root, ".", common::CPU_SECONDS);
    assert_eq!(exit, 1);
    let mut expected: Vec<String> = forms
        .iter()
        .map(|(name, _, _)| format!("{name}/main.tf:72 aws_s3_bucket.pub"))
        .collect();
    expected.sort();
    assert_eq!(
        findings(&report),
        expected,
        "no finding from an unknown value"
    );
    // One diagnostic per expression over the budget; a list of unknowns
    // is still a list, so `[a, a]` grows again from there and stops again.
    assert_eq!(
        diagnostics(&report),
        vec![
            "concat/main.tf:19:9: error: `concat(local.a16, local.a16)` is left unknown: its value is over the evaluation budget (more than 100000 elements)",
            "format/main.tf:25:9: error: `format(\"%s%s\", local.a22, local.a22)` is left unknown: its value is over the evaluation budget (more than 8388608 bytes)",
            "join/main.tf:26:18: error: `[local.a23, local.a23]` is left unknown: its value is over the evaluation budget (more than 8388608 bytes)",
            "jsonencode/main.tf:14:20: error: `[local.a11, local.a11]` is left unknown: its value is over the evaluation budget (more than 8388608 bytes)",
            "list/main.tf:18:9: error: `[local.a15, local.a15]` is left unknown: its value is over the evaluation budget (more than 100000 elements)",
            "list/main.tf:34:9: error: `[local.a31, local.a31]` is left unknown: its value is over the evaluation budget (more than 100000 elements)",
            "list/main.tf:50:9: error: `[local.a47, local.a47]` is left unknown: its value is over the evaluation budget (more than 100000 elements)",
            "merge/main.tf:18:9: error: `merge({ l = local.a15 }, { r = local.a15 })` is left unknown: its value is over the evaluation budget (more than 100000 elements)",
            "template/main.tf:26:9: error: `\"${local.a23}${local.a23}\"` is left unknown: its value is over the evaluation budget (more than 8388608 bytes)",
        ]
    );
}

// Issue 21, item 11: `range` stepped by adding 1 to 2^53, which does not
// move it: the loop never ended (and filled memory).
#[test]
fn issue_21_a_range_beyond_exact_integers_is_unknown() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "main.tf",
        "locals {\n  r = range(9007199254740992, 9007199254740994)\n}\n".to_string()
            + &bucket_public_if("length(local.r) > 0")
            + PUBLIC_BUCKET,
    );
    let (exit, report) = scan(dir.path(), ".", common::CPU_SECONDS);
    assert_eq!(exit, 1);
    assert_eq!(findings(&report), vec!["main.tf:12 aws_s3_bucket.pub"]);
    assert_eq!(
        diagnostics(&report),
        vec![
            "main.tf:2:7: error: `range(9007199254740992, 9007199254740994)` is left unknown: range bounds beyond 9007199254740992 are not exact in a 64-bit float"
        ]
    );
}

// Issue 21, item 11: three `for`s over `range(1000)` multiplied to a
// billion elements (3 GB before the process was killed). Items are counted
// as they come, so the middle loop stops at the limit.
#[test]
fn issue_21_nested_for_stops_at_the_value_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "main.tf",
        "locals {\n  cube = [for a in range(1000) : [for b in range(1000) : [for c in range(1000) : c]]]\n}\n"
            .to_string()
            + &bucket_public_if("length(local.cube) > 0")
            + PUBLIC_BUCKET,
    );
    let (exit, report) = scan(dir.path(), ".", common::CPU_SECONDS);
    assert_eq!(exit, 1);
    assert_eq!(findings(&report), vec!["main.tf:12 aws_s3_bucket.pub"]);
    assert_eq!(
        diagnostics(&report),
        vec![
            "main.tf:2:34: error: `[for b in range(1000) : [for c in range(1000) : c]]` is left unknown: its value is over the evaluation budget (more than 100000 elements)"
        ]
    );
}

// Issue 21, item 11: loops that build little but often (a billion steps of
// `length(range(1000))`) are bounded by the module's running total: one
// error where it stopped, and the rest of the directory is still scanned.
#[test]
fn issue_21_a_billion_small_steps_stop_at_the_module_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "main.tf",
        "locals {\n  n = [for a in range(1000) : length([for b in range(1000) : length([for c in range(1000) : c])])]\n}\n"
            .to_string()
            + &bucket_public_if("length(local.n) > 0")
            + PUBLIC_BUCKET,
    );
    let (exit, report) = scan(dir.path(), ".", common::CPU_SECONDS);
    assert_eq!(exit, 1);
    assert_eq!(findings(&report), vec!["main.tf:12 aws_s3_bucket.pub"]);
    assert_eq!(
        diagnostics(&report),
        vec![
            "main.tf:2:79: error: evaluation stopped at `range(1000)`: the module's evaluation budget is spent (more than 2000000 elements built); it and later expressions are left unknown"
        ]
    );
}

// Issue 21, item 11: a `dynamic` block over a million elements took 16 s
// and 1 GB. The million-element value is now over the budget, and the
// dynamic block stays unexpanded (unknown).
#[test]
fn issue_21_a_dynamic_block_over_a_million_elements_is_unknown() {
    let dir = tempfile::tempdir().expect("tempdir");
    // `outer` elements of 30 ports each, port 22 among them: SSH open to
    // the world once the dynamic block is expanded.
    let group = |outer: u32| {
        format!(
            "locals {{\n  rules = flatten([for a in range({outer}) : [for b in range(1000) : {{ port = b }} if b < 30]])\n}}\n\
             resource \"aws_security_group\" \"sg\" {{\n  dynamic \"ingress\" {{\n    for_each = local.rules\n    content {{\n      from_port   = ingress.value.port\n      to_port     = ingress.value.port\n      protocol    = \"tcp\"\n      cidr_blocks = [\"0.0.0.0/0\"]\n    }}\n  }}\n}}\n"
        )
    };
    // The control: a small list is expanded, and its rules are flagged.
    write(dir.path(), "small/main.tf", group(2));
    // A million elements without the `if`: over the budget.
    write(
        dir.path(),
        "huge/main.tf",
        group(1000).replace(" if b < 30", "") + PUBLIC_BUCKET,
    );
    let only = format!("{PUBLIC_ACL},aws-security-group-open-ssh");
    let (exit, report) = scan_for(dir.path(), ".", &only, common::CPU_SECONDS);
    assert_eq!(exit, 1);
    assert_eq!(
        findings(&report),
        vec![
            "huge/main.tf:18 aws_s3_bucket.pub",
            "small/main.tf:11 aws_security_group.sg",
        ]
    );
    assert_eq!(
        diagnostics(&report),
        vec![
            "huge/main.tf:2:19: error: `[for a in range(1000) : [for b in range(1000) : { port = b }…` is left unknown: its value is over the evaluation budget (more than 100000 elements)"
        ]
    );
}

// Issue 21, item 11: locals in a cycle that doubles grew on every pass of
// the old fixpoint (a ring of 30 took 3 GB before it was killed). A cycle
// is now found before evaluating, and left unknown.
#[test]
fn issue_21_a_doubling_cycle_of_locals_is_unknown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = 30;
    let mut text = String::from("locals {\n");
    for i in 0..n {
        let next = (i + 1) % n;
        text.push_str(&format!("  r{i} = [local.r{next}, local.r{next}]\n"));
    }
    text.push_str("}\n");
    write(
        dir.path(),
        "main.tf",
        text + &bucket_public_if("length(local.r0) > 0") + PUBLIC_BUCKET,
    );
    let (exit, report) = scan(dir.path(), ".", common::CPU_SECONDS);
    assert_eq!(exit, 1);
    assert_eq!(findings(&report), vec!["main.tf:41 aws_s3_bucket.pub"]);
    assert_eq!(
        diagnostics(&report),
        vec![
            "main.tf:2:3: error: locals refer to each other in a cycle (local.r0, local.r1, local.r2, local.r3, local.r4, and 25 more); left unknown"
        ]
    );
}

// Issue 21, item 11: `count` beyond the instances rampart expands is said,
// not silently evaluated once.
#[test]
fn issue_21_a_count_beyond_the_instance_cap_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "main.tf",
        "resource \"aws_s3_bucket\" \"many\" {\n  count  = 5000\n  bucket = \"b-${count.index}\"\n  acl    = \"public-read\"\n}\n",
    );
    let (exit, report) = scan(dir.path(), ".", common::CPU_SECONDS);
    assert_eq!(exit, 1);
    assert_eq!(findings(&report), vec!["main.tf:4 aws_s3_bucket.many"]);
    assert_eq!(
        diagnostics(&report),
        vec![
            "main.tf:2:12: notice: count gives 5000 instances, more than the 1024 rampart expands; the block is evaluated once, with count unknown"
        ]
    );
}

// Issue 21, item 10 (locals): 10,000 locals written in reverse dependency
// order took 21 s (one pass per local, each over every local). In
// dependency order they take one pass: well under a second, where the old
// code needed more than this test's 10 s of CPU even in a release build.
#[test]
fn issue_21_locals_in_reverse_order_evaluate_in_one_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = 10_000;
    let mut text = String::from("locals {\n");
    for i in 0..n - 1 {
        text.push_str(&format!("  l{i} = local.l{}\n", i + 1));
    }
    text.push_str(&format!("  l{} = \"public-read\"\n}}\n", n - 1));
    text.push_str("resource \"aws_s3_bucket\" \"b\" {\n  acl = local.l0\n}\n");
    write(dir.path(), "main.tf", text);
    let (exit, report) = scan(dir.path(), ".", 10);
    assert_eq!(exit, 1);
    assert_eq!(findings(&report), vec!["main.tf:10004 aws_s3_bucket.b"]);
    assert_eq!(diagnostics(&report), Vec::<String>::new());
}

// Issue 21, item 12: a template that includes itself through templatefile
// overflowed the stack and aborted the whole process (no report at all).
// Terraform forbids templatefile inside a template; so does rampart.
#[test]
fn issue_21_templatefile_including_itself_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "main.tf",
        "resource \"aws_s3_bucket\" \"t\" {\n  bucket = \"t\"\n  acl    = templatefile(\"${path.module}/self.tpl\", {})\n}\n"
            .to_string()
            + PUBLIC_BUCKET,
    );
    write(dir.path(), "self.tpl", "${templatefile(\"self.tpl\", {})}");
    let (exit, report) = scan(dir.path(), ".", common::CPU_SECONDS);
    assert_eq!(exit, 1);
    assert_eq!(findings(&report), vec!["main.tf:8 aws_s3_bucket.pub"]);
    assert_eq!(
        diagnostics(&report),
        vec![
            "main.tf:3:12: error: `templatefile(\"self.tpl\", {})` is left unknown: a template read by templatefile cannot call templatefile (nor can it in Terraform)"
        ]
    );
}

/// A module whose bucket is public: it must never be read from outside.
const OUTSIDE_MODULE: &str = "resource \"aws_s3_bucket\" \"secret\" {\n  bucket = \"elsewhere\"\n  acl    = \"public-read\"\n}\n";

// Issue 21, item 20: a module source climbing out of the scanned tree made
// rampart read (and print) `.tf` files anywhere on disk.
#[test]
fn issue_21_a_module_source_outside_the_scanned_tree_is_not_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "outside/main.tf", OUTSIDE_MODULE);
    write(
        root,
        "repo/envs/prod/app/main.tf",
        "module \"x\" {\n  source = \"../../../../outside\"\n}\n".to_string() + PUBLIC_BUCKET,
    );
    let (exit, report) = scan(root, "repo", common::CPU_SECONDS);
    assert_eq!(exit, 1);
    assert_eq!(
        findings(&report),
        vec!["repo/envs/prod/app/main.tf:7 aws_s3_bucket.pub"]
    );
    let outside = std::fs::canonicalize(root.join("outside")).expect("canonical");
    assert_eq!(
        diagnostics(&report),
        vec![format!(
            "repo/envs/prod/app/main.tf:1:1: notice: module.x source \"../../../../outside\" is {}, outside the scanned paths and their repository; not instantiated",
            outside.display()
        )]
    );
}

// Issue 21, item 20: `.terraform/modules/modules.json` with an absolute
// `Dir` pointed module reads anywhere on disk.
#[test]
fn issue_21_an_init_manifest_pointing_outside_is_not_followed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "outside/main.tf", OUTSIDE_MODULE);
    let outside = std::fs::canonicalize(root.join("outside")).expect("canonical");
    write(
        root,
        "repo/main.tf",
        "module \"assets\" {\n  source  = \"example/bucket/aws\"\n  version = \"1.0.0\"\n}\n"
            .to_string()
            + PUBLIC_BUCKET,
    );
    write(
        root,
        "repo/.terraform/modules/modules.json",
        format!(
            "{{\"Modules\":[{{\"Key\":\"assets\",\"Source\":\"registry.terraform.io/example/bucket/aws\",\"Dir\":{}}}]}}",
            serde_json::Value::String(outside.display().to_string())
        ),
    );
    let (exit, report) = scan(root, "repo", common::CPU_SECONDS);
    assert_eq!(exit, 1);
    assert_eq!(findings(&report), vec!["repo/main.tf:8 aws_s3_bucket.pub"]);
    assert_eq!(
        diagnostics(&report),
        vec![format!(
            "repo/main.tf:1:1: notice: module.assets source \"example/bucket/aws\" is {}, outside the scanned paths and their repository; not instantiated",
            outside.display()
        )]
    );
}

// Issue 21, item 20: a module in the same repository as the scanned
// directory, outside it, is still read (`envs/prod` calling
// `../../modules/bucket` is how repositories are laid out).
#[test]
fn issue_21_a_module_elsewhere_in_the_repository_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("repo/.git")).expect("mkdir");
    write(
        root,
        "repo/modules/bucket/main.tf",
        "variable \"acl\" {\n  default = \"private\"\n}\n\nresource \"aws_s3_bucket\" \"this\" {\n  acl = var.acl\n}\n",
    );
    write(
        root,
        "repo/envs/prod/main.tf",
        "module \"site\" {\n  source = \"../../modules/bucket\"\n  acl    = \"public-read\"\n}\n",
    );
    let (exit, report) = scan(root, "repo/envs/prod", common::CPU_SECONDS);
    assert_eq!(exit, 1);
    assert_eq!(
        findings(&report),
        vec!["repo/modules/bucket/main.tf:6 module.site.aws_s3_bucket.this"]
    );
    assert_eq!(diagnostics(&report), Vec::<String>::new());
}
