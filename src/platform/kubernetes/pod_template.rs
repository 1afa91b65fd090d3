//! Where an object keeps its pod specs. The built-in workload kinds keep
//! one at a fixed path; Argo Workflows keeps one per template; any other
//! kind (Argo Rollouts, Knative Services, OpenKruise, a Crossplane
//! composition embedding a Deployment, a team's own CRD) is searched for
//! mappings shaped like a pod spec: a `containers` list of mappings, one of
//! them with an `image`. A privileged container is as dangerous in a
//! Rollout as in a Deployment.

use crate::tree::{Node, Span, Value};

/// How a pod spec was found, which becomes its entity kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recognised {
    /// A built-in kind, at its fixed path: `pod_spec`.
    Builtin,
    /// An Argo Workflows template: `pod_spec.argo_template`.
    ArgoTemplate,
    /// A mapping shaped like a pod spec inside another kind: `pod_spec.by_shape`.
    ByShape,
}

impl Recognised {
    /// The entity kind of a pod spec found this way.
    pub fn kind(self) -> &'static str {
        match self {
            Recognised::Builtin => "pod_spec",
            Recognised::ArgoTemplate => "pod_spec.argo_template",
            Recognised::ByShape => "pod_spec.by_shape",
        }
    }
}

/// One pod spec of an object.
pub struct PodSpec<'a> {
    /// The pod spec mapping.
    pub node: &'a Node,
    /// Where a finding about it as a whole points: the key holding it.
    pub header: Span,
    /// Its path in the object (`spec.template.spec`), for identities.
    pub path: String,
    /// How it was found.
    pub recognised: Recognised,
    /// Its containers: (label, container) in source order.
    pub containers: Vec<(&'static str, &'a Node)>,
}

/// The container lists of a pod spec, with how a container of each is named.
const CONTAINER_LISTS: [(&str, &str); 3] = [
    ("containers", "container"),
    ("initContainers", "init container"),
    ("ephemeralContainers", "ephemeral container"),
];

/// How deep the search for pod-spec shapes goes: far below any real
/// nesting (a Crossplane composition's embedded Deployment is about ten
/// levels down), and a bound on the work a hostile document can cause.
const MAX_DEPTH: usize = 24;

/// The kinds of Argo Workflows whose templates run pods.
const ARGO_KINDS: [&str; 4] = [
    "Workflow",
    "WorkflowTemplate",
    "ClusterWorkflowTemplate",
    "CronWorkflow",
];

/// Where each built-in workload kind keeps its pod spec.
fn builtin_path(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Pod" => "spec",
        "PodTemplate" => "template.spec",
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => "spec.template.spec",
        "CronJob" => "spec.jobTemplate.spec.template.spec",
        _ => return None,
    })
}

/// Kinds of the Kubernetes API itself that hold no pod spec: never
/// searched by shape.
fn is_core_kind_without_pods(api_version: &str, kind: &str) -> bool {
    let core_group = !api_version.contains('/')
        || api_version.contains(".k8s.io/")
        || api_version.starts_with("apps/")
        || api_version.starts_with("batch/")
        || api_version.starts_with("policy/")
        || api_version.starts_with("autoscaling/");
    core_group && !kind.is_empty()
}

/// The pod specs of an object of `kind`.
pub fn pod_specs<'a>(kind: &str, object: &'a Node) -> Vec<PodSpec<'a>> {
    if let Some(path) = builtin_path(kind) {
        return at_path(object, path).into_iter().collect();
    }
    let api_version = object
        .get("apiVersion")
        .and_then(Node::as_str)
        .unwrap_or("");
    if ARGO_KINDS.contains(&kind) && api_version.starts_with("argoproj.io/") {
        return argo_templates(object);
    }
    if is_core_kind_without_pods(api_version, kind) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for entry in object
        .as_object()
        .map(|o| o.entries.as_slice())
        .unwrap_or_default()
    {
        if matches!(
            entry.key.as_str(),
            "apiVersion" | "kind" | "metadata" | "status"
        ) {
            continue;
        }
        search(&entry.value, entry.key_span, &entry.key, 0, &mut out);
    }
    out
}

/// The pod spec at a fixed path of a built-in kind.
fn at_path<'a>(object: &'a Node, path: &str) -> Option<PodSpec<'a>> {
    let spec = object.at(path)?;
    let (parent, key) = match path.rsplit_once('.') {
        Some((parent, key)) => (object.at(parent)?, key),
        None => (object, path),
    };
    let header = parent.entry(key).map_or(spec.span, |e| e.key_span);
    Some(PodSpec {
        node: spec,
        header,
        path: path.to_string(),
        recognised: Recognised::Builtin,
        containers: containers_of(spec),
    })
}

/// The containers of a pod spec, list by list in source order.
fn containers_of(spec: &Node) -> Vec<(&'static str, &Node)> {
    let mut out = Vec::new();
    for list in spec
        .as_object()
        .map(|o| o.entries.as_slice())
        .unwrap_or_default()
    {
        if let Some(&(_, label)) = CONTAINER_LISTS.iter().find(|(key, _)| *key == list.key) {
            out.extend(list.value.items().iter().map(|c| (label, c)));
        }
    }
    out
}

/// Whether `node` has the shape of a pod spec: a `containers` list of
/// mappings, one of them naming an `image`.
fn is_pod_spec_shape(node: &Node) -> bool {
    let Some(Value::Array(items)) = node.get("containers").map(|n| &n.value) else {
        return false;
    };
    items.iter().all(|c| c.as_object().is_some())
        && items
            .iter()
            .any(|c| c.get("image").and_then(Node::as_str).is_some())
}

fn search<'a>(node: &'a Node, header: Span, path: &str, depth: usize, out: &mut Vec<PodSpec<'a>>) {
    if depth > MAX_DEPTH {
        return;
    }
    if is_pod_spec_shape(node) {
        out.push(PodSpec {
            node,
            header,
            path: path.to_string(),
            recognised: Recognised::ByShape,
            containers: containers_of(node),
        });
        return;
    }
    match &node.value {
        Value::Object(o) => {
            for entry in &o.entries {
                let child = format!("{path}.{}", entry.key);
                search(&entry.value, entry.key_span, &child, depth + 1, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                search(item, item.span, &format!("{path}[{i}]"), depth + 1, out);
            }
        }
        _ => {}
    }
}

/// Argo Workflows: each template that runs a pod (`container`, `script`,
/// `containerSet`) is a pod spec; its `securityContext` is the pod's.
fn argo_templates(object: &Node) -> Vec<PodSpec<'_>> {
    let (path, templates) = match object.at("spec.templates") {
        Some(t) => ("spec.templates", t),
        None => match object.at("spec.workflowSpec.templates") {
            Some(t) => ("spec.workflowSpec.templates", t),
            None => return Vec::new(),
        },
    };
    let mut out = Vec::new();
    for (i, template) in templates.items().iter().enumerate() {
        let mut containers: Vec<(&'static str, &Node)> = Vec::new();
        for entry in template
            .as_object()
            .map(|o| o.entries.as_slice())
            .unwrap_or_default()
        {
            match entry.key.as_str() {
                "container" | "script" => containers.push(("container", &entry.value)),
                "initContainers" => {
                    containers.extend(entry.value.items().iter().map(|c| ("init container", c)))
                }
                "sidecars" => containers.extend(entry.value.items().iter().map(|c| ("sidecar", c))),
                "containerSet" => containers.extend(
                    entry
                        .value
                        .get("containers")
                        .map(Node::items)
                        .unwrap_or_default()
                        .iter()
                        .map(|c| ("container", c)),
                ),
                _ => {}
            }
        }
        if containers.is_empty() {
            continue;
        }
        out.push(PodSpec {
            node: template,
            header: template
                .as_object()
                .and_then(|_| template.entry("name"))
                .map_or(template.span, |e| e.key_span),
            path: format!("{path}[{i}]"),
            recognised: Recognised::ArgoTemplate,
            containers,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::yaml;
    use crate::tree::LineIndex;

    fn document(text: &str) -> Node {
        let index = LineIndex::new(text);
        yaml::parse(text, &index)
            .documents
            .into_iter()
            .next()
            .expect("a document")
    }

    fn found(text: &str) -> Vec<(String, Recognised, usize)> {
        let doc = document(text);
        let kind = doc.get("kind").and_then(Node::as_str).unwrap_or("");
        pod_specs(kind, &doc)
            .into_iter()
            .map(|s| (s.path, s.recognised, s.containers.len()))
            .collect()
    }

    #[test]
    fn built_in_kinds_use_their_path() {
        assert_eq!(
            found(
                "apiVersion: batch/v1\nkind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{name: a, image: x}]\n"
            ),
            vec![(
                "spec.jobTemplate.spec.template.spec".to_string(),
                Recognised::Builtin,
                1
            )]
        );
        // A core kind without pods is never searched.
        assert!(found("apiVersion: v1\nkind: ConfigMap\ndata:\n  x: y\n").is_empty());
    }

    #[test]
    fn other_kinds_are_searched_by_shape() {
        let text = "apiVersion: example.com/v1\nkind: Thing\nspec:\n  a:\n    template:\n      spec:\n        initContainers: [{name: i, image: y}]\n        containers: [{name: c, image: x}]\n  b:\n    containers: [{size: 40ft}]\n  c:\n    containers: []\n";
        assert_eq!(
            found(text),
            vec![("spec.a.template.spec".to_string(), Recognised::ByShape, 2)]
        );
    }

    #[test]
    fn argo_templates_are_pods() {
        let text = "apiVersion: argoproj.io/v1alpha1\nkind: CronWorkflow\nspec:\n  workflowSpec:\n    templates:\n      - name: steps\n        steps: []\n      - name: run\n        container: {image: x}\n        sidecars: [{name: s, image: y}]\n";
        assert_eq!(
            found(text),
            vec![(
                "spec.workflowSpec.templates[1]".to_string(),
                Recognised::ArgoTemplate,
                2
            )]
        );
    }

    #[test]
    fn the_search_stops_at_its_depth() {
        // A pod spec nested deeper than the bound is not looked for: the
        // work stays proportional to the bound, not to the nesting.
        let mut text = String::from("apiVersion: example.com/v1\nkind: Deep\nspec:\n");
        let mut indent = String::from("  ");
        for _ in 0..(MAX_DEPTH + 4) {
            text.push_str(&format!("{indent}n:\n"));
            indent.push_str("  ");
        }
        text.push_str(&format!("{indent}containers: [{{image: x}}]\n"));
        assert!(found(&text).is_empty());
        let shallow = "apiVersion: example.com/v1\nkind: Deep\nspec:\n  n:\n    n:\n      containers: [{image: x}]\n";
        assert_eq!(found(shallow).len(), 1);
    }
}
