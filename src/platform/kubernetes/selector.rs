//! Label selectors across objects: which pods a NetworkPolicy's
//! `podSelector` selects in its namespace, for `selected_by` queries ("a
//! pod no NetworkPolicy isolates").
//!
//! A selector is `matchLabels` and `matchExpressions` (`In`, `NotIn`,
//! `Exists`, `DoesNotExist`), every requirement of which must hold; an
//! empty selector (`{}`) selects every pod of the namespace. An object
//! with no namespace is in `default`: a kustomization's `namespace:` or a
//! chart that writes `.Release.Namespace` has already put one in the
//! rendered object. A value rampart cannot know (a Terraform expression)
//! makes the answer unknown, never a guess.

use std::collections::BTreeMap;

use super::super::{Entity, Selectable, Selector, SelectorTest, Truth};
use crate::tree::{Node, Value};

/// The namespace an object without one is created in.
const DEFAULT_NAMESPACE: &str = "default";

/// How deep the search for the mapping holding a pod spec goes (the pod
/// template search stops at 24 levels; a little more for its parents).
const MAX_DEPTH: usize = 32;

/// The kinds whose objects select pods, and where their selector is.
fn selector_path(kind: &str) -> Option<&'static str> {
    match kind {
        "object.NetworkPolicy" => Some("spec.podSelector"),
        _ => None,
    }
}

/// The selector of a selecting object (a NetworkPolicy), in its namespace.
pub fn selector(entity: &Entity) -> Option<Selector> {
    let path = selector_path(&entity.kind)?;
    Some(Selector {
        scope: namespace(entity.node),
        test: Box::new(LabelSelector::read(entity.node.at(path))),
    })
}

/// A pod spec's namespace (its object's) and its pod's labels.
pub fn selectable(entities: &[Entity], index: usize) -> Option<Selectable> {
    let entity = entities.get(index)?;
    if !crate::platform::kind_covers("pod_spec", &entity.kind) {
        return None;
    }
    let object = entities.get(entity.parent?)?;
    let mut target = Selectable {
        scope: namespace(object.node),
        ..Selectable::default()
    };
    // An Argo template's pod takes labels from the template and the
    // workflow's podMetadata: not read, so only an empty selector is sure.
    if entity.kind == super::pod_template::Recognised::ArgoTemplate.kind() {
        target.labels_unknown = true;
        return Some(target);
    }
    // The pod's labels sit beside its spec: `metadata.labels` of the
    // mapping that holds it (the Pod itself, or a template).
    let labels = holder(object.node, entity.node, 0).and_then(|h| h.at("metadata.labels"));
    match labels.map(|l| &l.value) {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for entry in &map.entries {
                match text(&entry.value) {
                    Some(value) => {
                        target.labels.insert(entry.key.clone(), value);
                    }
                    None => target.labels_unknown = true,
                }
            }
        }
        Some(_) => target.labels_unknown = true,
    }
    Some(target)
}

/// Whether `text` may declare an object of `kind` (`object.NetworkPolicy`):
/// it names the kind, as YAML does or as Terraform's provider does
/// (`kubernetes_network_policy`), or holds an escape that could spell it.
pub fn may_declare(text: &str, kind: &str) -> bool {
    let Some(name) = kind.strip_prefix("object.") else {
        return true;
    };
    text.contains(name) || text.contains(&snake_case(name)) || text.contains('\\')
}

/// `NetworkPolicy` as `network_policy`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// An object's namespace: `default` when none is written, `None` when it
/// is not known.
fn namespace(object: &Node) -> Option<String> {
    match object.at("metadata.namespace").map(|n| &n.value) {
        None | Some(Value::Null) => Some(DEFAULT_NAMESPACE.to_string()),
        Some(Value::String(s)) if s.is_empty() => Some(DEFAULT_NAMESPACE.to_string()),
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => None,
    }
}

/// The mapping under `node` one of whose values is `target` itself.
fn holder<'a>(node: &'a Node, target: &Node, depth: usize) -> Option<&'a Node> {
    if depth > MAX_DEPTH {
        return None;
    }
    match &node.value {
        Value::Object(map) => {
            if map.entries.iter().any(|e| std::ptr::eq(&e.value, target)) {
                return Some(node);
            }
            map.entries
                .iter()
                .find_map(|e| holder(&e.value, target, depth + 1))
        }
        Value::Array(items) => items.iter().find_map(|i| holder(i, target, depth + 1)),
        _ => None,
    }
}

/// A label value as Kubernetes compares it, if known.
fn text(node: &Node) -> Option<String> {
    match &node.value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A label selector: every requirement must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

/// One requirement of a label selector.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Requirement {
    /// `matchLabels` entries and the `In` operator: the label is one of.
    In(String, Vec<String>),
    /// `NotIn`: the label is absent or none of.
    NotIn(String, Vec<String>),
    /// `Exists`: the label is present.
    Exists(String),
    /// `DoesNotExist`: the label is absent.
    DoesNotExist(String),
    /// A requirement rampart cannot read (an expression, an unknown
    /// operator): it may or may not hold.
    Unknown,
}

impl LabelSelector {
    /// Reads a selector; absent or null selects everything, as the API
    /// server reads an empty selector.
    pub fn read(node: Option<&Node>) -> LabelSelector {
        let mut requirements = Vec::new();
        match node.map(|n| &n.value) {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                if let Some(labels) = map.get("matchLabels") {
                    read_match_labels(labels, &mut requirements);
                }
                if let Some(expressions) = map.get("matchExpressions") {
                    read_match_expressions(expressions, &mut requirements);
                }
            }
            Some(_) => requirements.push(Requirement::Unknown),
        }
        LabelSelector { requirements }
    }
}

fn read_match_labels(node: &Node, out: &mut Vec<Requirement>) {
    match &node.value {
        Value::Null => {}
        Value::Object(map) => {
            for entry in &map.entries {
                out.push(match text(&entry.value) {
                    Some(value) => Requirement::In(entry.key.clone(), vec![value]),
                    None => Requirement::Unknown,
                });
            }
        }
        _ => out.push(Requirement::Unknown),
    }
}

fn read_match_expressions(node: &Node, out: &mut Vec<Requirement>) {
    let items = match &node.value {
        Value::Null => return,
        Value::Array(items) => items,
        _ => {
            out.push(Requirement::Unknown);
            return;
        }
    };
    for item in items {
        let key = item.get("key").and_then(Node::as_str).map(str::to_string);
        let operator = item.get("operator").and_then(Node::as_str);
        let values: Option<Vec<String>> = match item.get("values").map(|v| &v.value) {
            None | Some(Value::Null) => Some(Vec::new()),
            Some(Value::Array(values)) => values.iter().map(text).collect(),
            Some(_) => None,
        };
        out.push(match (key, operator, values) {
            (Some(key), Some("In"), Some(values)) => Requirement::In(key, values),
            (Some(key), Some("NotIn"), Some(values)) => Requirement::NotIn(key, values),
            (Some(key), Some("Exists"), _) => Requirement::Exists(key),
            (Some(key), Some("DoesNotExist"), _) => Requirement::DoesNotExist(key),
            _ => Requirement::Unknown,
        });
    }
}

impl Requirement {
    fn holds(&self, labels: &BTreeMap<String, String>, labels_unknown: bool) -> Truth {
        // An absent label may be one rampart could not read.
        let absent = if labels_unknown {
            Truth::Unknown
        } else {
            Truth::Yes
        };
        let present = |yes: bool| if yes { Truth::Yes } else { Truth::No };
        let negate = |t: Truth| match t {
            Truth::Yes => Truth::No,
            Truth::No => Truth::Yes,
            Truth::Unknown => Truth::Unknown,
        };
        match self {
            Requirement::In(key, values) => match labels.get(key) {
                Some(v) => present(values.contains(v)),
                None => negate(absent),
            },
            Requirement::NotIn(key, values) => match labels.get(key) {
                Some(v) => present(!values.contains(v)),
                None => absent,
            },
            Requirement::Exists(key) => match labels.get(key) {
                Some(_) => Truth::Yes,
                None => negate(absent),
            },
            Requirement::DoesNotExist(key) => match labels.get(key) {
                Some(_) => Truth::No,
                None => absent,
            },
            Requirement::Unknown => Truth::Unknown,
        }
    }
}

impl SelectorTest for LabelSelector {
    fn selects(&self, target: &Selectable) -> Truth {
        let mut answer = Truth::Yes;
        for requirement in &self.requirements {
            match requirement.holds(&target.labels, target.labels_unknown) {
                Truth::No => return Truth::No,
                Truth::Unknown => answer = Truth::Unknown,
                Truth::Yes => {}
            }
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::parse::yaml::first_document as node;

    fn pod(labels: &[(&str, &str)], unknown: bool) -> Selectable {
        Selectable {
            scope: Some("default".into()),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            labels_unknown: unknown,
        }
    }

    fn selects(selector: &str, target: &Selectable) -> Truth {
        let n = node(selector);
        LabelSelector::read(Some(&n)).selects(target)
    }

    #[test]
    fn an_empty_selector_selects_every_pod() {
        assert_eq!(selects("{}", &pod(&[], false)), Truth::Yes);
        assert_eq!(selects("{}", &pod(&[], true)), Truth::Yes);
        assert_eq!(
            LabelSelector::read(None).selects(&pod(&[("a", "b")], false)),
            Truth::Yes
        );
    }

    #[test]
    fn match_labels_must_all_hold() {
        let s = "matchLabels: {app: web, tier: front}";
        assert_eq!(
            selects(s, &pod(&[("app", "web"), ("tier", "front")], false)),
            Truth::Yes
        );
        assert_eq!(selects(s, &pod(&[("app", "web")], false)), Truth::No);
        assert_eq!(selects(s, &pod(&[("app", "api")], true)), Truth::No);
        assert_eq!(selects(s, &pod(&[("app", "web")], true)), Truth::Unknown);
    }

    #[test]
    fn match_expressions_follow_their_operators() {
        let web = pod(&[("app", "web")], false);
        let none = pod(&[], false);
        let expr = |op: &str, values: &str| {
            format!("matchExpressions: [{{key: app, operator: {op}, values: {values}}}]")
        };
        assert_eq!(selects(&expr("In", "[web, api]"), &web), Truth::Yes);
        assert_eq!(selects(&expr("In", "[api]"), &web), Truth::No);
        assert_eq!(selects(&expr("NotIn", "[api]"), &web), Truth::Yes);
        assert_eq!(selects(&expr("NotIn", "[web]"), &web), Truth::No);
        assert_eq!(selects(&expr("NotIn", "[web]"), &none), Truth::Yes);
        assert_eq!(selects(&expr("Exists", "[]"), &web), Truth::Yes);
        assert_eq!(selects(&expr("Exists", "[]"), &none), Truth::No);
        assert_eq!(selects(&expr("DoesNotExist", "[]"), &none), Truth::Yes);
        assert_eq!(selects(&expr("DoesNotExist", "[]"), &web), Truth::No);
        assert_eq!(selects(&expr("Near", "[web]"), &web), Truth::Unknown);
    }

    #[test]
    fn namespaces_default_and_kinds_are_found_in_text() {
        assert_eq!(
            namespace(&node("metadata: {name: a}")),
            Some("default".into())
        );
        assert_eq!(
            namespace(&node("metadata: {name: a, namespace: prod}")),
            Some("prod".into())
        );
        assert!(may_declare("kind: NetworkPolicy", "object.NetworkPolicy"));
        assert!(may_declare(
            "resource \"kubernetes_network_policy_v1\" \"p\" {}",
            "object.NetworkPolicy"
        ));
        assert!(!may_declare("kind: Deployment", "object.NetworkPolicy"));
    }
}
