//! Kustomize built in-process: the fixtures under `tests/kustomize-data/`
//! (a base, a component and a production overlay using every field, and a
//! second overlay with replacements, vars, selectors, deletes and custom
//! configurations) rendered with `rampart render`, scanned with findings at
//! the lines that set the values, and compared with `kubectl kustomize`
//! where it is installed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{code, json, rampart, run_limited, stderr, stdout, write};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kustomize-data")
}

/// The documents of a YAML stream as JSON values, sorted, so two builds
/// compare as sets of objects.
fn objects(text: &str) -> Vec<String> {
    let index = rampart::tree::LineIndex::new(text);
    let parsed = rampart::parse::yaml::parse(text, &index);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let mut docs: Vec<String> = parsed
        .documents
        .iter()
        .map(|d| d.to_json())
        .filter(|d| !d.is_null())
        .map(|d| serde_json::to_string(&sort(d)).expect("json"))
        .collect();
    docs.sort();
    docs
}

fn sort(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut entries: Vec<(String, serde_json::Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sort(v))).collect())
        }
        serde_json::Value::Array(a) => serde_json::Value::Array(a.into_iter().map(sort).collect()),
        other => other,
    }
}

/// `rampart render ROOT OVERLAY` (the root holds the bases).
fn render(root: &str, overlay: &str) -> std::process::Output {
    rampart(&data())
        .args(["render", root, overlay])
        .output()
        .expect("runs")
}

const OVERLAYS: &[(&str, &str)] = &[
    ("app", "app/overlays/prod"),
    ("app", "app/base"),
    ("more", "more/overlay"),
    ("more", "more/base"),
];

#[test]
fn kubectl_kustomize_builds_the_same_objects() {
    let Ok(version) = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
    else {
        println!("skipped: kubectl is not installed, nothing to compare with");
        return;
    };
    if !version.status.success() {
        println!("skipped: `kubectl version --client` failed");
        return;
    }
    for (root, overlay) in OVERLAYS {
        let ours = render(root, overlay);
        assert_eq!(code(&ours), 0, "{overlay}: {}", stderr(&ours));
        let theirs = Command::new("kubectl")
            .args(["kustomize", overlay])
            .current_dir(data())
            .output()
            .expect("kubectl runs");
        assert!(theirs.status.success(), "{overlay}: {}", stderr(&theirs));
        assert_eq!(
            objects(&stdout(&ours)),
            objects(&stdout(&theirs)),
            "{overlay}"
        );
    }
}

#[test]
fn the_overlay_renders_every_field() {
    let out = render("app", "app/overlays/prod");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    // Generated names carry kustomize's content hash (the values kubectl
    // prints for these inputs), and the references follow them.
    for expected in [
        "  name: prod-app-config-v1-4bd8mbg62c",
        "  name: prod-app-secret-v1-25k92892fb",
        "  name: prod-tls-v1-m977c988db",
        "            name: prod-app-config-v1-4bd8mbg62c",
        "              name: prod-app-secret-v1-25k92892fb",
        "          name: prod-app-config-v1-4bd8mbg62c",
        "      serviceAccountName: prod-web-v1",
        "  name: prod-reader-v1",
        "  namespace: prod",
        "        image: registry.example.com/nginx:1.27",
        "        image: busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000",
        "  replicas: 3",
        "          privileged: true",
        "  - port: 8080",
        "    patched: json6902",
        "    debug: enabled",
        "    team: payments",
        "  LOG_LEVEL: warn",
        "  GREETING: hello world",
        "  FEATURE_X: \"on\"",
        "type: kubernetes.io/tls",
    ] {
        assert!(
            text.lines().any(|l| l == expected),
            "missing {expected:?} in:\n{text}"
        );
    }
    // The RoleBinding's subject follows the ServiceAccount's new name and namespace.
    assert!(
        text.contains(
            "subjects:\n- kind: ServiceAccount\n  name: prod-web-v1\n  namespace: prod\n"
        ),
        "{text}"
    );
}

#[test]
fn a_privileged_container_added_by_a_patch_is_flagged_at_the_patch_line() {
    let out = rampart(&data())
        .args(["scan", "app", "--format", "json"])
        .output()
        .expect("runs");
    let report = json(&out);
    let at = |id: &str| -> Vec<(String, u64)> {
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["query_id"] == id)
            .map(|f| {
                (
                    f["file"].as_str().unwrap_or("").to_string(),
                    f["line"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    };
    // `privileged: true` is line 12 of the patch.
    assert_eq!(
        at("k8s-privileged-container"),
        vec![("app/overlays/prod/privileged.yaml".to_string(), 12)]
    );
    // The image override is reported at its `images` entry.
    assert!(
        at("k8s-image-no-digest")
            .contains(&("app/overlays/prod/kustomization.yaml".to_string(), 18)),
        "{:?}",
        at("k8s-image-no-digest")
    );
    // A value only the base sets stays at the base line.
    assert_eq!(
        at("k8s-secrets-as-env"),
        vec![("app/base/deployment.yaml".to_string(), 25)]
    );
    // Patches, bases and generator inputs are read through the build only:
    // nothing is reported about them as files of their own, and no diagnostic.
    assert_eq!(report["diagnostics"], serde_json::json!([]), "{report:#}");
    let files: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["entity"].as_str())
        .collect();
    assert!(
        files
            .iter()
            .all(|e| !e.contains("Deployment/web ") && !e.ends_with("Deployment/web")),
        "{files:?}"
    );
}

#[test]
fn more_fields_render_as_kustomize_does() {
    let out = render("more", "more/overlay");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    for expected in [
        "  configRef: staging-params-44gbd2t2k9",
        "    targetPort: \"8443\"",
        "        image: api.internal/api:1.0",
        "        - --upstream=staging-api",
        "  schedule: \"@hourly\"",
        "    reviewed: \"true\"",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains("obsolete"), "{text}");
    assert!(
        text.contains(
            "        env:\n        - name: C\n          value: \"3\"\n        - name: B\n"
        ),
        "{text}"
    );
}

#[test]
fn build_failures_are_diagnostics_naming_the_kustomization_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "missing/kustomization.yaml",
        "resources:\n- gone.yaml\n",
    );
    write(
        root,
        "nomatch/kustomization.yaml",
        "resources:\n- cm.yaml\npatches:\n- patch: |-\n    kind: Deployment\n    metadata:\n      name: nothing\n",
    );
    write(
        root,
        "nomatch/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    );
    write(root, "cycle/a/kustomization.yaml", "resources:\n- ../b\n");
    write(root, "cycle/b/kustomization.yaml", "resources:\n- ../a\n");
    write(
        root,
        "remote/kustomization.yaml",
        "resources:\n- https://github.com/example/repo//deploy?ref=v1\n- cm.yaml\n",
    );
    write(
        root,
        "remote/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n",
    );
    let cases = [
        (
            "missing",
            "missing/kustomization.yaml:2:0: error: kustomize: resources: gone.yaml:",
        ),
        (
            "nomatch",
            "nomatch/kustomization.yaml:4:0: error: kustomize: patches: no object Deployment nothing to patch",
        ),
        ("cycle/a", "error: kustomize: resources: cycle:"),
        (
            "remote",
            "remote/kustomization.yaml:2:0: error: kustomize: resources: https://github.com/example/repo//deploy?ref=v1: remote resources are never fetched; the build is partial",
        ),
    ];
    for (case, want) in cases {
        let out = rampart(root)
            .args(["render", ".", case])
            .output()
            .expect("runs");
        assert_eq!(code(&out), 1, "{case}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{case}: {}", stderr(&out));
    }
    // The partial build still holds what could be read.
    let out = rampart(root)
        .args(["render", ".", "remote"])
        .output()
        .expect("runs");
    assert!(stdout(&out).contains("name: kept"), "{}", stdout(&out));
    // A scan counts them as parse errors: the gate fails with --fail-on-parse-error.
    let out = rampart(root)
        .args([
            "scan",
            "missing",
            "--fail-on-parse-error",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    assert_ne!(code(&out), 0, "{}", stdout(&out));
}

#[test]
fn deep_nesting_stops_at_the_depth_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for i in 0..60 {
        write(
            root,
            &format!("k{i}/kustomization.yaml"),
            format!("resources:\n- ../k{}\n", i + 1),
        );
    }
    write(root, "k60/kustomization.yaml", "resources: []\n");
    let out = run_limited(rampart(root).args(["render", ".", "k0"]));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("kustomizations nest deeper than 32"),
        "{}",
        stderr(&out)
    );
}
