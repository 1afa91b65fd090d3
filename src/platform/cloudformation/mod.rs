//! CloudFormation entities: resources by type, and parameters (whose
//! defaults let a `Ref` to them resolve).
//!
//! SAM templates are CloudFormation templates with a transform; their
//! `AWS::Serverless::*` resources are entities like any other.

use super::{
    Entity, Model, Names, Platform, References, View, literal_references, policy, secrets,
};
use crate::tree::{Node, Value};

/// The CloudFormation model.
pub struct CloudFormation;

impl Model for CloudFormation {
    fn platform(&self) -> Platform {
        Platform::CloudFormation
    }

    fn entities<'a>(&self, document_index: usize, document: &'a Node, out: &mut Vec<Entity<'a>>) {
        entities(document_index, document, out);
    }

    fn accepts(&self, document: &Node) -> bool {
        is_template(document)
    }

    /// A `Ref` to a parameter reads its default; `Fn::Sub` without a
    /// substitution is its text; every other intrinsic function is a value
    /// only known at deploy time.
    fn view<'a>(&self, node: &'a Node, document: &'a Node) -> View<'a> {
        let obj = match &node.value {
            Value::Object(obj) => obj,
            // An unknown value of a derived document (a policy statement
            // built from an intrinsic function).
            Value::Expr(_) => return View::Unknown,
            _ => return View::Known(node),
        };
        if obj.len() != 1 {
            return View::Known(node);
        }
        let entry = &obj.entries[0];
        match entry.key.as_str() {
            "Ref" => match entry
                .value
                .as_str()
                .and_then(|p| parameter_default(document, p))
            {
                Some(default) => View::Known(default),
                None => View::Unknown,
            },
            "Fn::Sub" => match entry.value.as_str() {
                Some(s) if !s.contains("${") => View::Known(&entry.value),
                _ => View::Unknown,
            },
            key if key.starts_with("Fn::") => View::Unknown,
            _ => View::Known(node),
        }
    }

    /// The logical id, and the physical names (`BucketName`, `QueueName`,
    /// `TopicName`...) another resource may give literally.
    fn names(&self, entity: &Entity) -> Names {
        let mut names = vec![entity.name.clone()];
        let mut complete = true;
        let properties = entity.node.get("Properties").and_then(Node::as_object);
        for entry in properties.map(|o| o.entries.as_slice()).unwrap_or_default() {
            if !entry.key.ends_with("Name") {
                continue;
            }
            match &entry.value.value {
                Value::String(s) => names.push(s.clone()),
                Value::Object(_) => complete = false,
                _ => {}
            }
        }
        Names { names, complete }
    }

    /// `Ref` and `Fn::GetAtt` name their target; `Fn::Sub` names the
    /// variables it substitutes, and may also stand for a parameter's value
    /// (opaque); any other intrinsic function is opaque.
    fn references(&self, node: &Node) -> References {
        let opaque = References {
            opaque: true,
            ..References::default()
        };
        match &node.value {
            Value::Object(o) if o.len() == 1 => {
                let entry = &o.entries[0];
                let target = match entry.key.as_str() {
                    "Ref" => entry.value.as_str(),
                    "Fn::GetAtt" => match &entry.value.value {
                        Value::Array(parts) => parts.first().and_then(Node::as_str),
                        Value::String(s) => s.split('.').next(),
                        _ => None,
                    },
                    "Fn::Sub" => {
                        let text = match &entry.value.value {
                            Value::String(s) => Some(s.as_str()),
                            Value::Array(parts) => parts.first().and_then(Node::as_str),
                            _ => None,
                        };
                        return References {
                            names: text.map(sub_variables).unwrap_or_default(),
                            ..opaque
                        };
                    }
                    _ => None,
                };
                match target {
                    Some(t) => References {
                        names: vec![t.to_string()],
                        ..References::default()
                    },
                    None => opaque,
                }
            }
            _ => literal_references(node),
        }
    }

    fn id_prefix(&self) -> &'static str {
        "cfn-"
    }

    fn snippet_language(&self) -> &'static str {
        "yaml"
    }
}

/// The variables of an `Fn::Sub` text (`${Logs.Arn}`), each with the
/// entity it starts with (`Logs`).
fn sub_variables(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find('}') else {
            break;
        };
        let variable = rest[..end].trim();
        names.push(variable.to_string());
        if let Some((entity, _)) = variable.split_once('.') {
            names.push(entity.to_string());
        }
        rest = &rest[end + 1..];
    }
    names
}

/// The default of a template parameter, if it has one.
fn parameter_default<'a>(document: &'a Node, name: &str) -> Option<&'a Node> {
    document.get("Parameters")?.get(name)?.get("Default")
}

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
    if policy::is_statements_document(root) {
        policy::entities(document, root, out);
        return;
    }
    if secrets::is_secrets_document(root) {
        secrets::entities_of(document, root, out);
        return;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_variables_are_the_names_between_braces() {
        assert_eq!(
            sub_variables("arn:${AWS::Partition}:s3:::${Logs.Arn}/*${ Other }"),
            ["AWS::Partition", "Logs.Arn", "Logs", "Other"]
        );
        assert!(sub_variables("${Unclosed").is_empty());
    }
}
