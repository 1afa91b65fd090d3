//! Query parameters from the command line's point of view: a team's
//! `.rampart.yaml` changes what a tunable query flags, the security team's
//! exceptions file overrules it, `explain` shows the values in force and
//! where each was set, and a typo in a parameter (or query id, or a value
//! of the wrong type) stops the run with exit 2, naming it.

mod common;

use common::{code, rampart, stderr, stdout, write};

const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
    - name: app
      image: registry.example.com/team/app:1.4.2
    - name: tool
      image: docker.io/someone/tool:1.0
";

fn tree(settings: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "pod.yaml", POD);
    if let Some(settings) = settings {
        write(dir.path(), ".rampart.yaml", settings);
    }
    dir
}

fn scan(dir: &std::path::Path) -> std::process::Output {
    rampart(dir)
        .args([
            "scan",
            ".",
            "--only",
            "k8s-image-untrusted-registry",
            "--format",
            "compact",
        ])
        .output()
        .expect("runs")
}

#[test]
fn a_trusted_registry_list_changes_the_verdict() {
    // Default: no list, the check is off.
    let off = tree(None);
    let out = scan(off.path());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "");

    let on = tree(Some(
        "parameters:\n  k8s-image-untrusted-registry:\n    trusted_registries: [registry.example.com/]\n",
    ));
    let out = scan(on.path());
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "pod.yaml:10:14: medium k8s-image-untrusted-registry image \"docker.io/someone/tool:1.0\" does not come from a trusted registry [container tool in Pod/app]\n"
    );

    let both = tree(Some(
        "parameters:\n  k8s-image-untrusted-registry:\n    trusted_registries: [registry.example.com/, docker.io/someone/]\n",
    ));
    let out = scan(both.path());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn explain_shows_the_values_in_force() {
    let dir = tree(Some(
        "parameters:\n  k8s-image-untrusted-registry:\n    trusted_registries: [registry.example.com/]\n",
    ));
    let out = rampart(dir.path())
        .args(["explain", "k8s-image-untrusted-registry"])
        .output()
        .expect("runs");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("  trusted_registries = [\"registry.example.com/\"] (set at "),
        "{text}"
    );
    assert!(text.contains(".rampart.yaml:3:25; default [])"), "{text}");
    let out = rampart(dir.path())
        .args(["explain", "k8s-image-untrusted-registry", "--no-config"])
        .output()
        .expect("runs");
    assert!(
        stdout(&out).contains("  trusted_registries = [] (default)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_typo_is_an_error_naming_it() {
    let cases = [
        (
            "parameters:\n  k8s-image-untrusted-registry:\n    trusted_registrys: [a/]\n",
            ".rampart.yaml:3:24: parameters.k8s-image-untrusted-registry: unknown parameter \"trusted_registrys\": k8s-image-untrusted-registry has trusted_registries",
        ),
        (
            "parameters:\n  k8s-image-untrusted-regsitry:\n    trusted_registries: [a/]\n",
            ".rampart.yaml:3:25: parameters: unknown query id \"k8s-image-untrusted-regsitry\"",
        ),
        (
            "parameters:\n  k8s-image-untrusted-registry:\n    trusted_registries: a/\n",
            ".rampart.yaml:3:25: parameters.k8s-image-untrusted-registry.trusted_registries: expected a list of strings",
        ),
        (
            "parameters:\n  k8s-image-untrusted-registry: [a/]\n",
            ".rampart.yaml:2:33: \"parameters.k8s-image-untrusted-registry\": expected a mapping of parameter name to value",
        ),
    ];
    for (settings, expected) in cases {
        let dir = tree(Some(settings));
        let out = scan(dir.path());
        assert_eq!(code(&out), 2, "{settings}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{}", stderr(&out));
        assert_eq!(stdout(&out), "");
    }
}

#[test]
fn the_query_list_names_parameters_and_defaults() {
    let dir = tree(None);
    let out = rampart(dir.path())
        .args(["queries", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let rows = common::json(&out);
    let row = rows
        .as_array()
        .and_then(|r| {
            r.iter()
                .find(|q| q["id"] == "k8s-capabilities-beyond-allowed")
        })
        .expect("listed");
    assert_eq!(
        row["parameters"]["allowed_capabilities"]["default"],
        "[\"NET_BIND_SERVICE\"]"
    );
}

/// The security team's exceptions file, setting `trusted_registries`.
const EXCEPTIONS: &str = "parameters:
  k8s-image-untrusted-registry:
    trusted_registries: [registry.example.com/team/]
exceptions: []
";

fn scan_with_exceptions(dir: &std::path::Path) -> std::process::Output {
    rampart(dir)
        .args([
            "scan",
            ".",
            "--only",
            "k8s-image-untrusted-registry",
            "--format",
            "compact",
            "--exceptions",
            "exceptions.yaml",
        ])
        .output()
        .expect("runs")
}

#[test]
fn the_exceptions_file_sets_parameters_and_wins_over_the_repository() {
    // The exceptions file alone switches the check on.
    let dir = tree(None);
    write(dir.path(), "exceptions.yaml", EXCEPTIONS);
    let out = scan_with_exceptions(dir.path());
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "pod.yaml:10:14: medium k8s-image-untrusted-registry image \"docker.io/someone/tool:1.0\" does not come from a trusted registry [container tool in Pod/app]\n"
    );

    // The repository trusts docker.io/someone/ too, which alone would
    // pass; the security team's list is the one in force.
    let dir = tree(Some(
        "parameters:\n  k8s-image-untrusted-registry:\n    trusted_registries: [registry.example.com/, docker.io/someone/]\n",
    ));
    let out = scan(dir.path());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    write(dir.path(), "exceptions.yaml", EXCEPTIONS);
    let out = scan_with_exceptions(dir.path());
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "pod.yaml:10:14: medium k8s-image-untrusted-registry image \"docker.io/someone/tool:1.0\" does not come from a trusted registry [container tool in Pod/app]\n"
    );

    // The exceptions file named in .rampart.yaml counts the same.
    let dir = tree(Some(
        "exceptions: exceptions.yaml\nparameters:\n  k8s-image-untrusted-registry:\n    trusted_registries: [docker.io/someone/]\n",
    ));
    write(dir.path(), "exceptions.yaml", EXCEPTIONS);
    let out = scan(dir.path());
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "pod.yaml:10:14: medium k8s-image-untrusted-registry image \"docker.io/someone/tool:1.0\" does not come from a trusted registry [container tool in Pod/app]\n"
    );
}

#[test]
fn explain_names_the_exceptions_file_and_what_it_overrules() {
    let dir = tree(Some(
        "parameters:\n  k8s-image-untrusted-registry:\n    trusted_registries: [docker.io/someone/]\n",
    ));
    write(dir.path(), "exceptions.yaml", EXCEPTIONS);
    let out = rampart(dir.path())
        .args([
            "explain",
            "k8s-image-untrusted-registry",
            "--exceptions",
            "exceptions.yaml",
        ])
        .output()
        .expect("runs");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    // The settings file is named as it was found (an absolute path).
    let line = text
        .lines()
        .find(|l| l.starts_with("  trusted_registries = "))
        .expect("the parameter is shown");
    assert!(
        line.starts_with(
            "  trusted_registries = [\"registry.example.com/team/\"] (set at exceptions.yaml:3:25, the exceptions file, over "
        ) && line.ends_with(".rampart.yaml:3:25; default [])"),
        "{text}"
    );
    // Without the exceptions file, the repository's value.
    let out = rampart(dir.path())
        .args(["explain", "k8s-image-untrusted-registry"])
        .output()
        .expect("runs");
    assert!(
        stdout(&out).contains("  trusted_registries = [\"docker.io/someone/\"] (set at ")
            && stdout(&out).contains(".rampart.yaml:3:25; default [])"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_typo_in_the_exceptions_file_is_an_error_naming_it() {
    let cases = [
        (
            "parameters:\n  k8s-image-untrusted-regsitry:\n    trusted_registries: [a/]\n",
            "exceptions.yaml:3:25: parameters: unknown query id \"k8s-image-untrusted-regsitry\"",
        ),
        (
            "parameters:\n  k8s-image-untrusted-registry:\n    trusted_registrys: [a/]\n",
            "exceptions.yaml:3:24: parameters.k8s-image-untrusted-registry: unknown parameter \"trusted_registrys\": k8s-image-untrusted-registry has trusted_registries",
        ),
        (
            "parameters:\n  k8s-image-untrusted-registry:\n    trusted_registries: 3\n",
            "exceptions.yaml:3:25: parameters.k8s-image-untrusted-registry.trusted_registries: expected a list of strings",
        ),
        (
            "parameters: [k8s-image-untrusted-registry]\n",
            "exceptions.yaml:1:13: \"parameters\": expected a mapping of query id to {parameter: value}",
        ),
    ];
    for (exceptions, expected) in cases {
        let dir = tree(None);
        write(dir.path(), "exceptions.yaml", exceptions);
        let out = scan_with_exceptions(dir.path());
        assert_eq!(code(&out), 2, "{exceptions}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{}", stderr(&out));
        assert_eq!(stdout(&out), "");
        let out = rampart(dir.path())
            .args([
                "explain",
                "k8s-image-untrusted-registry",
                "--exceptions",
                "exceptions.yaml",
            ])
            .output()
            .expect("runs");
        assert_eq!(code(&out), 2, "{exceptions}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{}", stderr(&out));
    }
}
