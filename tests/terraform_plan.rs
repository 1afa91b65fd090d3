//! Terraform plan JSON (`terraform show -json`): planned values checked by
//! the Terraform queries, unknown and sensitive values, deleted resources,
//! module and instance addresses, relations inside the plan, findings at
//! the `.tf` lines, one finding when both are scanned.

mod common;

use common::{code, json, rampart, stdout, write};

/// A `resource_changes` entry.
fn change(
    address: &str,
    module: Option<&str>,
    index: &str,
    actions: &str,
    after: &str,
    unknown: &str,
    sensitive: &str,
) -> String {
    let tail = address.rsplit_once(").").map_or(address, |(_, t)| t);
    let local = match module {
        Some(m) => address.strip_prefix(&format!("{m}.")).unwrap_or(tail),
        None => address,
    };
    let local = local.split('[').next().unwrap_or(local);
    let (ty, name) = local.split_once('.').unwrap_or((local, ""));
    let module = module.map_or(String::new(), |m| {
        format!("\"module_address\": {},", serde_json::to_string(m).unwrap())
    });
    let index = if index.is_empty() {
        String::new()
    } else {
        format!("\"index\": {index},")
    };
    format!(
        r#"{{
      "address": {address},
      {module}
      "mode": "managed",
      "type": "{ty}",
      "name": "{name}",
      {index}
      "change": {{
        "actions": [{actions}],
        "before": null,
        "after": {after},
        "after_unknown": {unknown},
        "after_sensitive": {sensitive}
      }}
    }}"#,
        address = serde_json::to_string(address).unwrap()
    )
}

fn plan(changes: &[String], configuration: &str) -> String {
    format!(
        "{{\n  \"format_version\": \"1.2\",\n  \"terraform_version\": \"1.6.0\",\n  \"resource_changes\": [\n    {}\n  ],\n  \"configuration\": {configuration}\n}}\n",
        changes.join(",\n    ")
    )
}

/// `file:line entity` of each finding in compact output.
fn compact(output: &std::process::Output) -> Vec<String> {
    stdout(output)
        .lines()
        .map(|l| {
            let at = l.split(": ").next().unwrap_or("");
            let at = at.rsplit_once(':').map_or(at, |(a, _)| a);
            let entity = l
                .rsplit_once(" [")
                .and_then(|(_, e)| e.strip_suffix(']'))
                .unwrap_or("");
            format!("{at} {entity}")
        })
        .collect()
}

#[test]
fn planned_values_are_checked_except_unknown_and_deleted_with_their_addresses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let changes = [
        change(
            "aws_s3_bucket.public",
            None,
            "",
            "\"create\"",
            r#"{"acl": "public-read"}"#,
            "{}",
            "{}",
        ),
        change(
            "aws_s3_bucket.later",
            None,
            "",
            "\"create\"",
            "{}",
            r#"{"acl": true}"#,
            "{}",
        ),
        change(
            "aws_s3_bucket.gone",
            None,
            "",
            "\"delete\"",
            "null",
            "{}",
            "{}",
        ),
        change(
            "aws_s3_bucket.replaced",
            None,
            "",
            "\"delete\", \"create\"",
            r#"{"acl": "public-read-write"}"#,
            "{}",
            "{}",
        ),
        change(
            "aws_s3_bucket.each[\"a\"]",
            None,
            "\"a\"",
            "\"update\"",
            r#"{"acl": "public-read"}"#,
            "{}",
            "{}",
        ),
        change(
            "aws_s3_bucket.counted[1]",
            None,
            "1",
            "\"no-op\"",
            r#"{"acl": "public-read"}"#,
            "{}",
            "{}",
        ),
        change(
            "module.outer.module.inner[0].aws_s3_bucket.deep",
            Some("module.outer.module.inner[0]"),
            "",
            "\"create\"",
            r#"{"acl": "public-read"}"#,
            "{}",
            "{}",
        ),
    ];
    let text = plan(&changes, "{}");
    write(root, "plan.json", &text);
    let output = rampart(root)
        .args([
            "scan",
            "plan.json",
            "--only",
            "aws-s3-public-acl",
            "--compact",
        ])
        .output()
        .expect("runs");
    assert_eq!(code(&output), 1, "{}", stdout(&output));
    // The line of the `after` of the change of `address`.
    let after_of = |address: &str| {
        let quoted = serde_json::to_string(address).expect("json");
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.contains(&format!("\"address\": {quoted}")))
            .expect("address");
        at + 1
            + lines[at..]
                .iter()
                .position(|l| l.contains("\"after\""))
                .expect("after")
    };
    let expected: Vec<String> = [
        "aws_s3_bucket.public",
        "aws_s3_bucket.replaced",
        "aws_s3_bucket.each[\"a\"]",
        "aws_s3_bucket.counted[1]",
        "module.outer.module.inner[0].aws_s3_bucket.deep",
    ]
    .iter()
    .map(|a| format!("plan.json:{} {a}", after_of(a)))
    .collect();
    assert_eq!(compact(&output), expected);
}

#[test]
fn relations_inside_a_plan_follow_configuration_references_and_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let changes = [
        change(
            "aws_s3_bucket.guarded",
            None,
            "",
            "\"create\"",
            r#"{"force_destroy": false}"#,
            r#"{"id": true}"#,
            "{}",
        ),
        change(
            "aws_s3_bucket_public_access_block.guard",
            None,
            "",
            "\"create\"",
            r#"{"block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true}"#,
            r#"{"bucket": true}"#,
            "{}",
        ),
        change(
            "aws_s3_bucket.named",
            None,
            "",
            "\"create\"",
            r#"{"bucket": "named-bucket"}"#,
            "{}",
            "{}",
        ),
        change(
            "aws_s3_bucket_public_access_block.by_name",
            None,
            "",
            "\"create\"",
            r#"{"bucket": "named-bucket", "block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true}"#,
            "{}",
            "{}",
        ),
        change(
            "aws_s3_bucket.open",
            None,
            "",
            "\"create\"",
            r#"{"force_destroy": false}"#,
            "{}",
            "{}",
        ),
    ];
    let configuration = r#"{
    "root_module": {
      "resources": [
        {
          "address": "aws_s3_bucket_public_access_block.guard",
          "mode": "managed",
          "type": "aws_s3_bucket_public_access_block",
          "name": "guard",
          "expressions": {
            "bucket": { "references": ["aws_s3_bucket.guarded.id", "aws_s3_bucket.guarded"] }
          }
        }
      ]
    }
  }"#;
    write(root, "plan.json", plan(&changes, configuration));
    let output = rampart(root)
        .args([
            "scan",
            "plan.json",
            "--only",
            "tf-aws-s3-no-public-access-block",
            "--compact",
        ])
        .output()
        .expect("runs");
    let found = compact(&output);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].ends_with(" aws_s3_bucket.open"), "{found:?}");
}

#[test]
fn sensitive_values_are_never_checked_nor_printed() {
    const SECRET: &str = "Zq8-hunter2-secret-VALUE";
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let after = format!(
        r#"{{"identifier": "db", "password": "{SECRET}", "storage_encrypted": false, "tags": {{"owner": "{SECRET}"}}}}"#
    );
    let changes = [
        change(
            "aws_db_instance.db",
            None,
            "",
            "\"create\"",
            &after,
            "{}",
            r#"{"password": true, "tags": {"owner": true}}"#,
        ),
        // A sensitive value a query would flag: unknown, so not flagged.
        change(
            "aws_s3_bucket.hidden",
            None,
            "",
            "\"create\"",
            r#"{"acl": "public-read"}"#,
            "{}",
            r#"{"acl": true}"#,
        ),
    ];
    let mut text = plan(
        &changes,
        r#"{"root_module": {"variables": {"db_password": {"sensitive": true}}}}"#,
    );
    // The variable's value is in the plan too.
    text = text.replacen(
        "\"resource_changes\"",
        &format!("\"variables\": {{\"db_password\": {{\"value\": \"{SECRET}\"}}}},\n  \"resource_changes\""),
        1,
    );
    write(root, "plan.json", &text);
    for format in ["human", "json", "sarif", "junit", "compact"] {
        let output = rampart(root)
            .args(["scan", "plan.json", "--format", format])
            .output()
            .expect("runs");
        let out = stdout(&output);
        assert!(
            out.contains("aws-rds-instance-storage-not-encrypted"),
            "{format}: {out}"
        );
        assert!(!out.contains(SECRET), "{format} prints the secret:\n{out}");
    }
    let output = rampart(root)
        .args(["scan", "plan.json", "--format", "json"])
        .output()
        .expect("runs");
    let ids: Vec<String> = json(&output)["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["query_id"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(!ids.iter().any(|i| i == "aws-s3-public-acl"), "{ids:?}");
}

#[test]
fn a_plan_beside_its_tf_files_reports_at_the_tf_lines_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    // The .tf cannot know the ACL; the plan does.
    write(
        root,
        "infra/main.tf",
        "variable \"acl\" {}\n\nresource \"aws_s3_bucket\" \"site\" {\n  acl = var.acl\n}\n\nresource \"aws_s3_bucket\" \"literal\" {\n  acl = \"public-read\"\n}\n\nmodule \"m\" {\n  source = \"./mod\"\n}\n",
    );
    write(
        root,
        "infra/mod/main.tf",
        "variable \"acl\" {\n  default = \"private\"\n}\n\nresource \"aws_s3_bucket\" \"inner\" {\n  acl = var.acl\n}\n",
    );
    let changes = [
        change(
            "aws_s3_bucket.site",
            None,
            "",
            "\"create\"",
            r#"{"acl": "public-read"}"#,
            "{}",
            "{}",
        ),
        change(
            "aws_s3_bucket.literal",
            None,
            "",
            "\"create\"",
            r#"{"acl": "public-read"}"#,
            "{}",
            "{}",
        ),
        change(
            "module.m.aws_s3_bucket.inner",
            Some("module.m"),
            "",
            "\"create\"",
            r#"{"acl": "public-read"}"#,
            "{}",
            "{}",
        ),
    ];
    let configuration =
        r#"{"root_module": {"module_calls": {"m": {"source": "./mod", "module": {}}}}}"#;
    write(root, "infra/plan.json", plan(&changes, configuration));
    let scan = |path: &str| {
        let output = rampart(root)
            .args(["scan", path, "--only", "aws-s3-public-acl", "--compact"])
            .output()
            .expect("runs");
        compact(&output)
    };
    let expected = vec![
        "infra/main.tf:4 aws_s3_bucket.site".to_string(),
        "infra/main.tf:8 aws_s3_bucket.literal".to_string(),
        "infra/mod/main.tf:6 module.m.aws_s3_bucket.inner via infra/main.tf:11".to_string(),
    ];
    // The plan alone: at the .tf lines.
    assert_eq!(scan("infra/plan.json"), expected);
    // Both: each problem once (the literal ACL is found by both).
    assert_eq!(scan("infra"), expected);
    // The .tf alone finds only the literal one.
    let tf_only = rampart(root)
        .args([
            "scan",
            "infra/main.tf",
            "--only",
            "aws-s3-public-acl",
            "--compact",
        ])
        .output()
        .expect("runs");
    assert_eq!(
        compact(&tf_only),
        vec!["infra/main.tf:8 aws_s3_bucket.literal".to_string()]
    );
}

#[test]
fn plans_in_utf16_or_with_a_bom_are_read_and_a_damaged_one_is_named() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/plan-data");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let utf8 = std::fs::read(data.join("tfplan_win_utf8.json")).expect("read");
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend(&utf8);
    write(root, "plans/bom.json", bom);
    std::fs::copy(
        data.join("tfplan_win_utf16.json"),
        root.join("plans/utf16.json"),
    )
    .expect("copy");
    std::fs::copy(
        data.join("corrupted-tfplan.json"),
        root.join("plans/damaged.json"),
    )
    .expect("copy");
    // Cut short: a parse error naming the line.
    let cut = &utf8[..utf8.len() / 2];
    write(root, "plans/truncated.json", cut);
    let output = rampart(root)
        .args([
            "scan",
            "plans",
            "--only",
            "tf-aws-s3-no-public-access-block",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    let report = json(&output);
    let findings: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["file"].as_str().unwrap_or(""),
                f["entity"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        findings,
        vec![
            "plans/bom.json aws_s3_bucket.data",
            "plans/utf16.json aws_s3_bucket.data"
        ]
    );
    let errors: Vec<String> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            format!(
                "{}:{} {}",
                d["file"].as_str().unwrap_or(""),
                d["line"],
                d["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].starts_with("plans/damaged.json:1 Terraform JSON with format_version but neither planned_values nor resource_changes"), "{errors:?}");
    assert!(
        errors[1].starts_with("plans/truncated.json:1 Terraform plan JSON: "),
        "{errors:?}"
    );
    // Unreadable plans fail a gate that asks for it.
    let gate = rampart(root)
        .args([
            "scan",
            "plans",
            "--fail-on-parse-error",
            "--fail-on",
            "none",
        ])
        .output()
        .expect("runs");
    assert_eq!(code(&gate), 1);
}

#[test]
fn a_large_plan_with_many_secrets_stays_within_limits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let changes: Vec<String> = (0..3000)
        .map(|i| {
            change(
                &format!("aws_s3_bucket.b{i}"),
                Some(&format!("module.m{}", i % 200)),
                "",
                "\"create\"",
                &format!(r#"{{"acl": "public-read", "tags": {{"k": "secret-{i}"}}}}"#),
                "{}",
                r#"{"tags": {"k": true}}"#,
            )
        })
        .collect();
    write(root, "plan.json", plan(&changes, "{}"));
    let output = common::run_limited(rampart(root).args([
        "scan",
        "plan.json",
        "--only",
        "aws-s3-public-acl",
        "--format",
        "json",
    ]));
    assert_eq!(code(&output), 1);
    let report = json(&output);
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(3000));
    assert!(!stdout(&output).contains("secret-"));
}
