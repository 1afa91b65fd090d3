//! Kubernetes entities: every object by kind, the pod spec of every workload
//! kind, and every container of a pod spec.
//!
//! Queries about pods select `pod_spec` and `container`, never `Pod`: the
//! same privileged container is as dangerous in a Deployment or a CronJob,
//! and this model finds the pod spec wherever each kind nests it.

mod control_plane;

use super::{Entity, Model, Platform, entry_span};
use crate::tree::Node;

/// The annotation a Kubernetes object uses to suppress queries on itself
/// and its pod spec and containers.
pub const IGNORE_ANNOTATION: &str = "rampart.dev/ignore";

/// The Kubernetes model.
pub struct Kubernetes;

impl Model for Kubernetes {
    fn platform(&self) -> Platform {
        Platform::Kubernetes
    }

    fn entities<'a>(&self, document_index: usize, document: &'a Node, out: &mut Vec<Entity<'a>>) {
        entities(document_index, document, out);
    }

    fn accepts(&self, document: &Node) -> bool {
        object_kind(document).is_some()
    }

    /// `metadata.annotations."rampart.dev/ignore"` on an object.
    fn declared_ignores<'a>(&self, entity: &Entity<'a>) -> Option<(&'a str, u32)> {
        if !entity.kind.starts_with("object.") {
            return None;
        }
        let entry = entity
            .node
            .at("metadata.annotations")?
            .entry(IGNORE_ANNOTATION)?;
        Some((entry.value.as_str()?, entry.key_span.start_line))
    }

    fn id_prefix(&self) -> &'static str {
        "k8s-"
    }

    fn snippet_language(&self) -> &'static str {
        "yaml"
    }
}

/// Where each workload kind keeps its pod spec.
fn pod_spec_path(kind: &str) -> Option<&'static str> {
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

/// The container lists of a pod spec, with how a container of each is named.
const CONTAINER_LISTS: [(&str, &str); 3] = [
    ("containers", "container"),
    ("initContainers", "init container"),
    ("ephemeralContainers", "ephemeral container"),
];

/// Appends the entities of one Kubernetes document to `out`.
pub fn entities<'a>(document: usize, root: &'a Node, out: &mut Vec<Entity<'a>>) {
    object(document, root, out);
}

/// The kind of a Kubernetes object node, if it is one.
pub fn object_kind(node: &Node) -> Option<&str> {
    node.get("apiVersion")?.as_str()?;
    node.get("kind")?.as_str()
}

fn object<'a>(document: usize, node: &'a Node, out: &mut Vec<Entity<'a>>) {
    let Some(kind) = object_kind(node) else {
        return;
    };
    let identity = object_identity(kind, node);
    let name = node
        .at("metadata.name")
        .and_then(Node::as_str)
        .unwrap_or("?")
        .to_string();
    let header = entry_span(node, "kind").unwrap_or(node.span);
    let index = out.len();
    out.push(Entity {
        kind: format!("object.{kind}"),
        identity: identity.clone(),
        name: name.clone(),
        document,
        node,
        header,
        parent: None,
    });
    // `List` and `DeploymentList`-style kinds hold objects in `items`.
    if kind.ends_with("List") {
        for item in node.get("items").map(Node::items).unwrap_or_default() {
            object(document, item, out);
        }
        return;
    }
    let Some(path) = pod_spec_path(kind) else {
        return;
    };
    let Some(spec) = node.at(path) else {
        return;
    };
    let spec_key = path.rsplit('.').next().unwrap_or(path);
    let parent_of_spec = match path.rsplit_once('.') {
        Some((parent, _)) => node.at(parent),
        None => Some(node),
    };
    let spec_header = parent_of_spec
        .and_then(|p| p.entry(spec_key))
        .map_or(spec.span, |e| e.key_span);
    let spec_index = out.len();
    out.push(Entity {
        kind: "pod_spec".to_string(),
        identity: format!("pod spec in {identity}"),
        name,
        document,
        node: spec,
        header: spec_header,
        parent: Some(index),
    });
    // Container lists in the order the pod spec writes them, so entities
    // stay in source order.
    let lists = spec
        .as_object()
        .map(|o| o.entries.as_slice())
        .unwrap_or_default();
    for list in lists {
        let Some(&(_, label)) = CONTAINER_LISTS.iter().find(|(key, _)| *key == list.key) else {
            continue;
        };
        for container in list.value.items() {
            let name = container.get("name").and_then(Node::as_str).unwrap_or("?");
            let kind = match control_plane::component(container) {
                Some(component) => format!("container.{component}"),
                None => "container".to_string(),
            };
            out.push(Entity {
                kind,
                identity: format!("{label} {name} in {identity}"),
                name: name.to_string(),
                document,
                node: container,
                header: entry_span(container, "name").unwrap_or(container.span),
                parent: Some(spec_index),
            });
        }
    }
}

/// `Kind/namespace/name`, or `Kind/name` when no namespace is written (the
/// namespace is then whatever the deploying context uses).
fn object_identity(kind: &str, node: &Node) -> String {
    let metadata = node.get("metadata");
    let name = metadata
        .and_then(|m| m.get("name").or_else(|| m.get("generateName")))
        .and_then(Node::as_str)
        .unwrap_or("?");
    match metadata
        .and_then(|m| m.get("namespace"))
        .and_then(Node::as_str)
    {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    }
}
