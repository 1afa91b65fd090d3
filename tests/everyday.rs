//! Everyday use of the `rampart` binary (issue 19): the summary of a large
//! report, module instances named apart, JUnit cases per file, SARIF paths
//! from the repository root and its result cap, exit codes through pipes,
//! report formats inferred from file names, and the small things a user
//! trips over (`queries` columns, `test` with nothing to run,
//! `explain --source`).

mod common;

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{rampart, stderr, stdout, write};

/// Runs `rampart ARGS` in the repository root (where `tests/data` is).
fn in_repo(args: &[&str]) -> std::process::Output {
    rampart(Path::new(env!("CARGO_MANIFEST_DIR")))
        .args(args)
        .output()
        .expect("runs")
}

/// Replaces the wall time with a fixed marker.
fn redact(text: &str) -> String {
    let seconds = regex::Regex::new(r"in [0-9]+\.[0-9]+ s").expect("regex");
    seconds.replace_all(text, "in [DURATION] s").into_owned()
}

#[test]
fn summary_alone_shows_totals_top_queries_files_and_platforms() {
    let output = in_repo(&["scan", "tests/data", "--threads", "2", "--summary"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    insta::assert_snapshot!(redact(&stdout(&output)));
}

#[test]
fn the_summary_counts_suppressed_findings_by_kind() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "main.tf",
        "resource \"aws_s3_bucket\" \"a\" {\n  # rampart:ignore aws-s3-public-acl reviewed\n  acl = \"public-read\"\n}\n\nresource \"aws_s3_bucket\" \"b\" {\n  acl = \"public-read\"\n}\n",
    );
    write(
        dir.path(),
        "exceptions.yaml",
        "exceptions:\n  - query: aws-s3-public-acl\n    paths: [\"main.tf\"]\n    entity: aws_s3_bucket.b\n    reason: a public website\n    approved_by: security\n    expires: 2999-01-01\n",
    );
    let output = rampart(dir.path())
        .args([
            "scan",
            "main.tf",
            "--only",
            "aws-s3-public-acl",
            "--exceptions",
            "exceptions.yaml",
            "--summary",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(
        text.lines().next(),
        Some("0 findings; suppressed: 1 inline, 1 exception"),
        "{text}"
    );
}

#[test]
fn group_by_query_heads_each_query_with_its_count() {
    let output = in_repo(&[
        "scan",
        "tests/data",
        "--threads",
        "2",
        "--group-by",
        "query",
        "--only",
        "k8s-image-no-digest,aws-s3-versioning-disabled,k8s-host-network",
    ]);
    let text = stdout(&output);
    let heads: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()) && l.contains(" finding"))
        .collect();
    assert_eq!(
        heads,
        [
            "medium aws-s3-versioning-disabled: S3 bucket does not have versioning enabled (2 findings)",
            "medium k8s-host-network: Pod uses the node's network namespace (1 finding)",
            "low k8s-image-no-digest: Container image is not pinned by digest (4 findings)",
        ],
        "{text}"
    );
    let bad = rampart(Path::new("."))
        .args(["scan", "--group-by", "severity"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn summary_is_for_the_human_report_only() {
    let output = in_repo(&["scan", "tests/data", "--summary", "--format", "json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--summary is a form of the human report"),
        "{}",
        stderr(&output)
    );
    let output = in_repo(&["scan", "tests/data", "--summary", "--compact"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn compact_ends_with_a_one_line_total_on_stderr() {
    let output = in_repo(&["scan", "tests/data", "--threads", "2", "--compact"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output).lines().count(), 115);
    assert_eq!(
        stderr(&output),
        "115 findings (5 high, 29 medium, 74 low, 7 info) in 7 files; 0 suppressed\n"
    );
    let quiet = in_repo(&["scan", "tests/data", "--compact", "--quiet"]);
    assert_eq!(stderr(&quiet), "");
    // A file that does not parse is counted too.
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "broken.tf", "resource \"a\" {\n");
    let broken = rampart(dir.path())
        .args(["scan", ".", "--compact"])
        .output()
        .expect("runs");
    assert_eq!(broken.status.code(), Some(0));
    assert_eq!(
        stderr(&broken),
        "0 findings in 0 files; 0 suppressed; 1 parse error\n"
    );
}

/// A module called from two example directories: one line of the module,
/// two instances.
fn two_callers(root: &Path) {
    for example in ["examples/prod", "examples/dev"] {
        write(
            root,
            &format!("{example}/main.tf"),
            "locals {\n  name = \"x\"\n}\n\nmodule \"site\" {\n  source = \"../../modules/bucket\"\n  acl    = \"public-read\"\n}\n",
        );
    }
    write(
        root,
        "modules/bucket/main.tf",
        "variable \"acl\" {\n  default = \"private\"\n}\n\nresource \"aws_s3_bucket\" \"this\" {\n  acl = var.acl\n}\n",
    );
}

#[test]
fn module_instances_are_named_by_their_call() {
    let dir = tempfile::tempdir().expect("tempdir");
    two_callers(dir.path());
    let scan = |format: &str| {
        let output = rampart(dir.path())
            .args([
                "scan",
                ".",
                "--only",
                "aws-s3-public-acl",
                "--format",
                format,
            ])
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        stdout(&output)
    };
    insta::assert_snapshot!("module_instances_compact", scan("compact"));
    let human = scan("human");
    let heads: Vec<&str> = human.lines().filter(|l| l.contains(" × ")).collect();
    assert_eq!(
        heads,
        [
            "  × high aws-s3-public-acl: S3 bucket ACL grants access to everyone",
            "  × high aws-s3-public-acl: S3 bucket ACL grants access to everyone",
        ],
        "{human}"
    );
    assert!(
        human.contains("[module.site.aws_s3_bucket.this via examples/dev/main.tf:5]"),
        "{human}"
    );
    assert!(
        human.contains("[module.site.aws_s3_bucket.this via examples/prod/main.tf:5]"),
        "{human}"
    );
}

#[test]
fn junit_has_a_case_per_file_and_entity() {
    let dir = tempfile::tempdir().expect("tempdir");
    for service in ["api", "web", "worker"] {
        write(
            dir.path(),
            &format!("{service}/Dockerfile"),
            "FROM alpine:3.20\nRUN echo hi\n",
        );
    }
    two_callers(dir.path());
    let output = rampart(dir.path())
        .args([
            "scan",
            ".",
            "--format",
            "junit",
            "--only",
            "docker-no-healthcheck,aws-s3-public-acl",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let xml = stdout(&output);
    let cases: Vec<&str> = xml
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("<testcase") && l.contains(" file="))
        .collect();
    insta::assert_snapshot!("junit_case_names", cases.join("\n"));
}

#[test]
fn sarif_uris_are_relative_to_the_repository_root_from_any_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path();
    let init = Command::new("git")
        .args(["init", "-q"])
        .current_dir(repo)
        .status()
        .expect("git runs");
    assert!(init.success());
    write(
        repo,
        "infra/net/main.tf",
        "resource \"aws_s3_bucket\" \"b\" {\n  acl = \"public-read\"\n}\n",
    );
    let infra = repo.join("infra");
    let root_uri = format!(
        "file://{}/",
        std::fs::canonicalize(repo).expect("canonical").display()
    );
    for (cwd, target) in [
        (&infra, "."),
        (&infra, "net"),
        (&repo.to_path_buf(), "infra"),
    ] {
        let output = rampart(cwd)
            .args([
                "scan",
                target,
                "--only",
                "aws-s3-public-acl",
                "-o",
                "sarif:-",
            ])
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let log: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
        let run = &log["runs"][0];
        let location = &run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(location["uri"], "infra/net/main.tf", "from {cwd:?}");
        assert_eq!(location["uriBaseId"], "%SRCROOT%");
        assert_eq!(
            run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
            root_uri.as_str()
        );
    }
}

#[test]
fn sarif_over_the_github_limit_says_what_was_left_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 25,001 RUN lines, each a finding; and one of higher severity.
    let mut dockerfile = String::from("FROM alpine:3.20\nUSER root\n");
    for _ in 0..25_001 {
        dockerfile.push_str("RUN apt-get install -y curl\n");
    }
    write(dir.path(), "Dockerfile", dockerfile);
    let output = rampart(dir.path())
        .args([
            "scan",
            ".",
            "--only",
            "docker-apt-get-install-without-no-install-recommends,docker-final-stage-runs-as-root",
            "-o",
            "results.sarif",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.starts_with(
            "rampart: warning: the SARIF report (results.sarif) holds 25000 of 25002 findings: GitHub code scanning accepts at most 25000 results per run, so the least severe were left out (2 low). To upload every finding, split the scan by path"
        ),
        "{message}"
    );
    assert!(message.contains("--sarif-category"), "{message}");
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("results.sarif")).expect("written"))
            .expect("json");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 25_000);
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "docker-final-stage-runs-as-root")
    );
}

/// Runs `rampart ARGS` with its standard output a pipe that is closed
/// before rampart writes, as `| head -0` would.
fn into_closed_pipe(args: &[&str]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    drop(child.stdout.take());
    let mut err = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        pipe.read_to_string(&mut err).expect("stderr");
    }
    let status = child.wait().expect("waits");
    std::process::Output {
        status,
        stdout: Vec::new(),
        stderr: err.into_bytes(),
    }
}

#[test]
fn exit_codes_survive_a_closed_pipe() {
    let scan = into_closed_pipe(&["scan", "tests/data", "--threads", "2"]);
    assert_eq!(scan.status.code(), Some(1), "{}", stderr(&scan));
    assert_eq!(stderr(&scan), "");
    let clean = into_closed_pipe(&[
        "scan",
        "tests/data/dockerfile",
        "--only",
        "k8s-host-network",
    ]);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    let queries = into_closed_pipe(&["queries"]);
    assert_eq!(queries.status.code(), Some(0));
    assert_eq!(stderr(&queries), "");
}

#[test]
fn a_piped_reader_that_stops_early_keeps_the_exit_code() {
    // `rampart scan | head -1`, in a real shell pipeline.
    let Ok(output) = Command::new("bash")
        .args([
            "-c",
            &format!(
                "set -o pipefail; {} scan tests/data --threads 2 | head -1",
                env!("CARGO_BIN_EXE_rampart")
            ),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
    else {
        // Without bash there is no pipefail to read the first command's
        // code; `exit_codes_survive_a_closed_pipe` covers the behaviour.
        return;
    };
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(stdout(&output), "tests/data/cloudformation/bucket.yaml\n");
    assert_eq!(stderr(&output), "");
}

#[test]
fn report_formats_follow_the_file_extension() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "main.tf",
        "resource \"aws_s3_bucket\" \"b\" {\n  acl = \"public-read\"\n}\n",
    );
    let output = rampart(dir.path())
        .args([
            "scan",
            "main.tf",
            "--only",
            "aws-s3-public-acl",
            "-o",
            "out/results.sarif",
            "-o",
            "report.json",
            "-o",
            "junit.xml",
            "-o",
            "gh.sarif.json",
            "-o",
            "compact:-",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("main.tf:2:9: high aws-s3-public-acl"));
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).expect("written");
    let sarif: serde_json::Value = serde_json::from_str(&read("out/results.sarif")).expect("json");
    assert_eq!(sarif["version"], "2.1.0");
    let gh: serde_json::Value = serde_json::from_str(&read("gh.sarif.json")).expect("json");
    assert_eq!(gh["version"], "2.1.0");
    let json: serde_json::Value = serde_json::from_str(&read("report.json")).expect("json");
    assert_eq!(json["version"], 1);
    assert!(read("junit.xml").starts_with("<?xml"));

    let to_stdout = rampart(dir.path())
        .args([
            "scan",
            "main.tf",
            "--only",
            "aws-s3-public-acl",
            "-o",
            "json:-",
        ])
        .output()
        .expect("runs");
    let json: serde_json::Value = serde_json::from_slice(&to_stdout.stdout).expect("json");
    assert_eq!(json["findings"][0]["query_id"], "aws-s3-public-acl");

    let bad = rampart(dir.path())
        .args(["scan", "main.tf", "-o", "report.txt"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(
        stderr(&bad),
        "rampart: error: \"report.txt\" is not a known format (in -o report.txt): expected FORMAT or FORMAT:PATH with FORMAT one of human, compact, json, sarif, junit, or a file ending in .sarif.json (sarif), .sarif (sarif), .json (json), .xml (junit)\n"
    );
    assert!(!dir.path().join("report.txt").exists());
}

#[test]
fn queries_are_listed_in_aligned_columns() {
    let output = in_repo(&["queries"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    assert!(header.starts_with("ID "), "{header}");
    let columns = |line: &str| -> Vec<usize> {
        let mut starts = Vec::new();
        let chars: Vec<char> = line.chars().collect();
        for i in 2..chars.len() {
            if chars[i] != ' ' && chars[i - 1] == ' ' && chars[i - 2] == ' ' && starts.len() < 3 {
                starts.push(i);
            }
        }
        starts
    };
    let expected = columns(header);
    assert_eq!(expected.len(), 3, "{header}");
    for line in lines.take_while(|l| !l.is_empty()) {
        // The title may contain double spaces only after the third column.
        assert_eq!(columns(line), expected, "{line}");
    }
}

#[test]
fn test_help_and_an_empty_pack() {
    let help = in_repo(&["test", "--help"]);
    let text = stdout(&help);
    assert!(!text.contains("[default: 0]"), "{text}");
    assert!(text.contains("[default: one per core]"), "{text}");

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("queries")).expect("mkdir");
    let output = rampart(dir.path())
        .args(["test", "."])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).starts_with("rampart: error: no test cases in .: the pack has no queries"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn explain_source_prints_the_query_yaml() {
    let output = in_repo(&["explain", "aws-s3-public-acl", "--source"]);
    assert_eq!(output.status.code(), Some(0));
    let on_disk = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/aws/s3/aws-s3-public-acl.yaml"),
    )
    .expect("query file");
    assert_eq!(
        stdout(&output),
        format!("# queries/aws/s3/aws-s3-public-acl.yaml\n{on_disk}")
    );
    // A team's query, read from its pack.
    let dir = tempfile::tempdir().expect("tempdir");
    let query = "id: tf-team-bucket-named\ntitle: Bucket must be named\nseverity: low\ncategory: best-practice\ncwe: []\ndescription: d\nremediation: r\nselect: terraform resource.aws_s3_bucket\nflag:\n  path: bucket\n  missing: true\nmessage: the bucket has no name\n";
    write(dir.path(), "team/queries/named.yaml", query);
    let output = rampart(dir.path())
        .args([
            "explain",
            "tf-team-bucket-named",
            "--source",
            "--queries",
            "team/queries",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).ends_with(query), "{}", stdout(&output));
}

/// The query ids `rampart scan tests/data ARGS --compact` reports, sorted
/// and deduplicated, or the error.
fn ids_of(args: &[&str]) -> Result<Vec<String>, String> {
    let mut all = vec!["scan", "tests/data", "--threads", "2", "--compact"];
    all.extend_from_slice(args);
    let output = in_repo(&all);
    if output.status.code() == Some(2) {
        return Err(stderr(&output));
    }
    let mut ids: Vec<String> = stdout(&output)
        .lines()
        .filter_map(|l| l.split(' ').nth(2).map(str::to_string))
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

#[test]
fn only_and_skip_take_other_tools_ids_platforms_and_categories() {
    let all = ids_of(&[]).expect("scans");
    assert!(all.contains(&"aws-s3-versioning-disabled".to_string()));
    // Checkov's id for S3 versioning, bare and with its tool.
    assert_eq!(
        ids_of(&["--only", "CKV_AWS_21"]).expect("alias"),
        ["aws-s3-versioning-disabled"]
    );
    assert_eq!(
        ids_of(&["--only", "checkov:ckv_aws_21"]).expect("tool:alias"),
        ["aws-s3-versioning-disabled"]
    );
    let skipped = ids_of(&["--skip", "CKV_AWS_21"]).expect("skip alias");
    assert_eq!(skipped.len(), all.len() - 1);
    assert!(!skipped.contains(&"aws-s3-versioning-disabled".to_string()));
    // Hadolint's id.
    assert_eq!(
        ids_of(&["--only", "DL3015"]).expect("hadolint"),
        ["docker-apt-get-install-without-no-install-recommends"]
    );
    // A platform, bare or as platform:NAME.
    let docker = ids_of(&["--only", "dockerfile"]).expect("platform");
    assert_eq!(
        docker,
        [
            "docker-apt-get-install-without-no-install-recommends",
            "docker-no-healthcheck"
        ]
    );
    assert_eq!(
        ids_of(&["--only", "platform:docker"]).expect("short"),
        docker
    );
    let no_k8s = ids_of(&["--skip", "k8s"]).expect("skip platform");
    assert!(
        no_k8s.iter().all(|id| !id.starts_with("k8s-")),
        "{no_k8s:?}"
    );
    assert!(no_k8s.contains(&"aws-s3-versioning-disabled".to_string()));
    // A category.
    assert_eq!(
        ids_of(&["--only", "category:encryption"]).expect("category"),
        [
            "aws-ebs-volume-no-cmk",
            "aws-ebs-volume-not-encrypted",
            "aws-rds-instance-storage-not-encrypted",
            "aws-s3-encryption-no-cmk",
            "aws-s3-no-encryption",
            "aws-s3-policy-allows-http"
        ]
    );
    // Typos are errors that say what is accepted.
    let err = ids_of(&["--skip", "category:style"]).expect_err("unknown category");
    assert!(
        err.starts_with(
            "rampart: error: unknown category \"style\": expected one of access-control,"
        ),
        "{err}"
    );
    let err = ids_of(&["--only", "CKV_AWS_99999"]).expect_err("unknown id");
    assert!(
        err.starts_with(
            "rampart: error: unknown query id \"CKV_AWS_99999\": not a query id, another tool's id"
        ),
        "{err}"
    );
    let err = ids_of(&["--only", "platform:helm"]).expect_err("unknown platform");
    assert!(err.contains("unknown platform \"helm\""), "{err}");
}

#[test]
fn platform_restricts_what_is_read() {
    let tf = in_repo(&["scan", "tests/data", "--platform", "terraform", "--summary"]);
    let text = stdout(&tf);
    assert!(
        text.contains("\nFindings per platform: terraform 17\n"),
        "{text}"
    );
    assert!(
        text.contains("scanned 3 files (terraform 3) ("),
        "other platforms' files are not read: {text}"
    );
    let framework = in_repo(&[
        "scan",
        "tests/data",
        "--framework",
        "kubernetes,dockerfile",
        "--summary",
    ]);
    let text = stdout(&framework);
    assert!(
        text.contains("\nFindings per platform: kubernetes 76, dockerfile 2\n"),
        "{text}"
    );
    let bad = in_repo(&["scan", "tests/data", "--platform", "helm"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("invalid platform \"helm\""),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn severity_takes_a_threshold_or_a_list() {
    let high_up = ids_of(&["--severity", "high"]).expect("threshold");
    let list = ids_of(&["--severity", "HIGH,CRITICAL"]).expect("list");
    assert_eq!(high_up, list);
    assert_eq!(
        list,
        [
            "aws-ebs-volume-not-encrypted",
            "aws-iam-policy-wildcard-admin",
            "aws-rds-instance-storage-not-encrypted",
            "aws-rds-publicly-accessible",
            "aws-security-group-open-ssh"
        ]
    );
    let only_info = ids_of(&["--severity", "info,"]).expect("one-item list");
    assert!(
        only_info.contains(&"k8s-liveness-probe-missing".to_string()),
        "{only_info:?}"
    );
    let medium_and_info = ids_of(&["--severity", "medium,info"]).expect("list");
    assert!(medium_and_info.contains(&"k8s-host-network".to_string()));
    assert!(!medium_and_info.iter().any(|id| list.contains(id)));
    let err = ids_of(&["--severity", "high,urgent"]).expect_err("bad level");
    assert!(err.contains("invalid severity \"urgent\""), "{err}");
}

#[test]
fn a_misspelt_resource_type_is_warned_about() {
    let dir = tempfile::tempdir().expect("tempdir");
    let query = |select: &str, extra: &str| {
        format!(
            "id: tf-team-bucket-named\ntitle: Bucket must be named\nseverity: low\ncategory: best-practice\ncwe: []\ndescription: d\nremediation: r\n{extra}select: terraform resource.{select}\nflag:\n  path: bucket\n  missing: true\nmessage: the bucket has no name\n"
        )
    };
    write(
        dir.path(),
        "pack/queries/named.yaml",
        query("aws_s3_buckt", ""),
    );
    write(
        dir.path(),
        "pack/fixtures/named/good.tf",
        "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n}\n",
    );
    write(
        dir.path(),
        "main.tf",
        "resource \"aws_s3_bucket\" \"b\" {}\n",
    );
    let warning = "rampart: warning: pack/queries/named.yaml:8:9: field \"select\": unknown terraform resource type \"aws_s3_buckt\"; did you mean \"aws_s3_bucket\"? (a query selecting it never fires; set allow_unknown_type: true if the type is right)\n";
    let scan = rampart(dir.path())
        .args([
            "scan",
            "main.tf",
            "--queries",
            "pack/queries",
            "--only",
            "tf-team-bucket-named",
        ])
        .output()
        .expect("runs");
    assert_eq!(scan.status.code(), Some(0), "{}", stderr(&scan));
    assert_eq!(stderr(&scan), warning);
    let test = rampart(dir.path())
        .args(["test", "pack"])
        .output()
        .expect("runs");
    assert!(stderr(&test).starts_with(warning), "{}", stderr(&test));
    // Said on purpose: no warning.
    write(
        dir.path(),
        "pack/queries/named.yaml",
        query("acme_bucket", "allow_unknown_type: true\n"),
    );
    let allowed = rampart(dir.path())
        .args([
            "scan",
            "main.tf",
            "--queries",
            "pack/queries",
            "--only",
            "tf-team-bucket-named",
        ])
        .output()
        .expect("runs");
    assert_eq!(stderr(&allowed), "");
    // Fixed: the query fires.
    write(
        dir.path(),
        "pack/queries/named.yaml",
        query("aws_s3_bucket", ""),
    );
    let fixed = rampart(dir.path())
        .args([
            "scan",
            "main.tf",
            "--queries",
            "pack/queries",
            "--only",
            "tf-team-bucket-named",
            "--compact",
        ])
        .output()
        .expect("runs");
    assert_eq!(fixed.status.code(), Some(1));
    assert_eq!(
        stdout(&fixed),
        "main.tf:1:1: low tf-team-bucket-named the bucket has no name [aws_s3_bucket.b]\n"
    );
}

#[test]
fn module_instances_of_count_and_for_each_are_named_by_their_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "examples/main.tf",
        "module \"aks\" {\n  for_each = { prod = \"public-read\", dev = \"private\", stage = \"public-read-write\" }\n  source   = \"../modules/bucket\"\n  acl      = each.value\n}\n\nmodule \"site\" {\n  count  = 2\n  source = \"../modules/bucket\"\n  acl    = \"public-read\"\n}\n\nmodule \"none\" {\n  count  = 0\n  source = \"../modules/bucket\"\n  acl    = \"public-read\"\n}\n",
    );
    write(
        dir.path(),
        "modules/bucket/main.tf",
        "variable \"acl\" {\n  default = \"private\"\n}\n\nresource \"aws_s3_bucket\" \"this\" {\n  acl = var.acl\n}\n",
    );
    let output = rampart(dir.path())
        .args(["scan", ".", "--only", "aws-s3-public-acl", "--compact"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    insta::assert_snapshot!("module_instances_by_key", stdout(&output));
}

#[test]
fn module_instance_fan_out_is_bounded_and_said_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "main.tf",
        "module \"x\" {\n  count  = 100000\n  source = \"./modules/b\"\n}\n\nmodule \"y\" {\n  for_each = toset([for i in range(300) : tostring(i)])\n  source   = \"./modules/b\"\n}\n",
    );
    write(
        dir.path(),
        "modules/b/main.tf",
        "module \"inner\" {\n  count  = 50\n  source = \"../c\"\n}\n",
    );
    write(
        dir.path(),
        "modules/c/main.tf",
        "resource \"aws_s3_bucket\" \"c\" {\n  acl = \"public-read\"\n}\n",
    );
    // The root module alone (modules/b, walked, would be a root of its own).
    let output = common::run_limited(rampart(dir.path()).args([
        "scan",
        "main.tf",
        "--only",
        "aws-s3-public-acl",
        "--format",
        "json",
    ]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let findings = report["findings"].as_array().expect("findings");
    // 256 module instances at most, whatever the fan-out.
    assert!(findings.len() < 256, "{}", findings.len());
    let capped: Vec<&serde_json::Value> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| {
            d["message"]
                .as_str()
                .is_some_and(|m| m.contains("more than 256 module instances"))
        })
        .collect();
    assert_eq!(capped.len(), 1, "{capped:#?}");
}
