//! `k8s-pod-without-network-policy` across files: the NetworkPolicies of
//! the whole scan, wherever they are written (another directory, a
//! kustomization's output, a chart's templates), decide whether a pod is
//! isolated; a policy in another namespace or for other labels does not.

mod common;

use common::{code, rampart, stderr, stdout, write};

const ID: &str = "k8s-pod-without-network-policy";

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api, tier: backend}
    spec:
      containers:
        - name: api
          image: registry.example.com/api:3.1.0
";

fn policy(namespace: &str, selector: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: backend
  namespace: {namespace}
spec:
  podSelector: {selector}
  policyTypes: [Ingress]
"
    )
}

/// Scans `dir` for the query alone, in compact form.
fn scan(dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    rampart(dir)
        .args(["scan", ".", "--only", ID, "--format", "compact"])
        .args(extra)
        .output()
        .expect("runs")
}

fn finding(file: &str, line: u32, column: u32, entity: &str) -> String {
    format!(
        "{file}:{line}:{column}: low {ID} no NetworkPolicy in the pod's namespace selects its labels, so it accepts traffic from anywhere in the cluster [{entity}]\n"
    )
}

#[test]
fn a_policy_in_another_file_isolates_the_pod() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "apps/api/deployment.yaml", DEPLOYMENT);
    write(
        dir.path(),
        "cluster/policies/backend.yaml",
        policy("shop", "{matchLabels: {tier: backend}}"),
    );
    let out = scan(dir.path(), &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "");

    // Every pod of the namespace, by an empty selector.
    write(
        dir.path(),
        "cluster/policies/backend.yaml",
        policy("shop", "{}"),
    );
    let out = scan(dir.path(), &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

#[test]
fn a_policy_for_other_labels_or_another_namespace_does_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "apps/api/deployment.yaml", DEPLOYMENT);
    write(
        dir.path(),
        "cluster/policies/backend.yaml",
        policy(
            "shop",
            "{matchExpressions: [{key: tier, operator: NotIn, values: [backend]}]}",
        ),
    );
    write(
        dir.path(),
        "cluster/policies/payments.yaml",
        policy("payments", "{}"),
    );
    let out = scan(dir.path(), &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        finding(
            "apps/api/deployment.yaml",
            12,
            5,
            "pod spec in Deployment/shop/api"
        )
    );
}

#[test]
fn a_kustomization_namespace_places_its_pods() {
    let dir = tempfile::tempdir().expect("tempdir");
    // No namespace in the file: the kustomization sets it.
    let deployment = DEPLOYMENT.replace("  namespace: shop\n", "");
    write(dir.path(), "app/deployment.yaml", &deployment);
    write(
        dir.path(),
        "app/kustomization.yaml",
        "namespace: shop\nresources:\n  - deployment.yaml\n",
    );
    write(dir.path(), "policies/shop.yaml", policy("shop", "{}"));
    let out = scan(dir.path(), &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "");

    // The same policy in "default" does not select a pod in "shop".
    write(dir.path(), "policies/shop.yaml", policy("default", "{}"));
    let out = scan(dir.path(), &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        finding(
            "app/deployment.yaml",
            11,
            5,
            "pod spec in Deployment/shop/api"
        )
    );
}

#[test]
fn a_chart_renders_its_own_policy_in_the_release_namespace() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "chart/Chart.yaml",
        "apiVersion: v2\nname: api\nversion: 1.0.0\n",
    );
    write(dir.path(), "chart/values.yaml", "isolate: true\n");
    write(
        dir.path(),
        "chart/templates/deployment.yaml",
        DEPLOYMENT.replace("namespace: shop", "namespace: {{ .Release.Namespace }}"),
    );
    write(
        dir.path(),
        "chart/templates/policy.yaml",
        format!(
            "{{{{- if .Values.isolate }}}}\n{}{{{{- end }}}}\n",
            policy("{{ .Release.Namespace }}", "{}")
        ),
    );
    let out = scan(dir.path(), &["--helm-namespace", "shop"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "");

    let out = scan(
        dir.path(),
        &["--helm-namespace", "shop", "--helm-set", "isolate=false"],
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        finding(
            "chart/templates/deployment.yaml",
            12,
            5,
            "pod spec in Deployment/shop/api"
        )
    );
}
