//! Kubernetes entities: every object by kind, the pod spec of every workload
//! kind, and every container of a pod spec.
//!
//! Queries about pods select `pod_spec` and `container`, never `Pod`: the
//! same privileged container is as dangerous in a Deployment or a CronJob,
//! and this model finds the pod spec wherever each kind nests it.

mod control_plane;
mod pod_template;
mod selector;
pub mod terraform_provider;

use super::{Entity, Model, Platform, Selectable, Selector, entry_span};
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

    /// A NetworkPolicy's `podSelector`, in its namespace.
    fn selector(&self, entity: &Entity) -> Option<Selector> {
        selector::selector(entity)
    }

    /// A pod spec's namespace and its pod's labels.
    fn selectable(&self, entities: &[Entity], index: usize) -> Option<Selectable> {
        selector::selectable(entities, index)
    }

    fn may_declare(&self, text: &str, kind: &str) -> bool {
        selector::may_declare(text, kind)
    }

    fn id_prefix(&self) -> &'static str {
        "k8s-"
    }

    fn snippet_language(&self) -> &'static str {
        "yaml"
    }
}

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
    for spec in pod_template::pod_specs(kind, node) {
        let spec_index = out.len();
        // A pod spec found elsewhere than a built-in kind's fixed path
        // says where, as an object may hold several.
        let owner = match spec.recognised {
            pod_template::Recognised::Builtin => identity.clone(),
            _ => format!("{identity} at {}", spec.path),
        };
        out.push(Entity {
            kind: spec.recognised.kind().to_string(),
            identity: format!("pod spec in {owner}"),
            name: name.clone(),
            document,
            node: spec.node,
            header: spec.header,
            parent: Some(index),
        });
        for (label, container) in spec.containers {
            let container_name = container.get("name").and_then(Node::as_str).unwrap_or("?");
            let kind = match control_plane::component(container) {
                Some(component) => format!("container.{component}"),
                None => "container".to_string(),
            };
            out.push(Entity {
                kind,
                identity: format!("{label} {container_name} in {owner}"),
                name: container_name.to_string(),
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
    // An object written as a Terraform resource is named by its address.
    if let Some(address) = node
        .get(terraform_provider::ADDRESS_KEY)
        .and_then(Node::as_str)
    {
        return address.to_string();
    }
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
