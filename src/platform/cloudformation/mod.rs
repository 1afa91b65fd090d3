//! CloudFormation entities: resources by type, and parameters (whose
//! defaults let a `Ref` to them resolve).
//!
//! SAM templates are CloudFormation templates with a transform; their
//! `AWS::Serverless::*` resources are entities like any other.

use super::Entity;
use crate::tree::Node;

/// Whether a parsed document is a CloudFormation template: it declares a
/// template format version, or its `Resources` have CloudFormation types.
pub fn is_template(root: &Node) -> bool {
    if root.get("AWSTemplateFormatVersion").is_some() {
        return true;
    }
    let Some(resources) = root.get("Resources").and_then(Node::as_object) else {
        return false;
    };
    resources.entries.iter().any(|r| {
        r.value
            .get("Type")
            .and_then(Node::as_str)
            .is_some_and(|t| t.contains("::"))
    })
}

/// Appends the entities of one CloudFormation template to `out`.
pub fn entities<'a>(document: usize, root: &'a Node, out: &mut Vec<Entity<'a>>) {
    if let Some(parameters) = root.get("Parameters").and_then(Node::as_object) {
        for p in &parameters.entries {
            out.push(Entity {
                kind: "parameter".to_string(),
                identity: format!("parameter {}", p.key),
                name: p.key.clone(),
                document,
                node: &p.value,
                header: p.key_span,
                parent: None,
            });
        }
    }
    if let Some(resources) = root.get("Resources").and_then(Node::as_object) {
        for r in &resources.entries {
            let Some(ty) = r.value.get("Type").and_then(Node::as_str) else {
                continue;
            };
            out.push(Entity {
                kind: format!("resource.{ty}"),
                identity: format!("{ty} {}", r.key),
                name: r.key.clone(),
                document,
                node: &r.value,
                header: r.key_span,
                parent: None,
            });
        }
    }
}
