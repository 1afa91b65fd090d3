//! One IAM policy statement, in the JSON shape AWS defines, read into the
//! normalised fields queries test (see the module documentation).
//!
//! The statement given is already *materialised*: every value rampart
//! cannot know is an expression node (unknown), every value it can know is
//! a plain node at the place it was written.

use crate::platform::Truth;
use crate::tree::{Entry, Node, Object, Span, Value};

/// Condition keys (lower case) that narrow who may use a grant: an Allow
/// to everyone with one of these is not public. A value of `*` alone
/// narrows nothing.
pub const RESTRICTING_KEYS: [&str; 24] = [
    "aws:sourcevpce",
    "aws:sourcevpc",
    "aws:sourcevpcarn",
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalservicename",
    "aws:sourceip",
    "aws:vpcsourceip",
    "aws:userid",
    "aws:username",
    "aws:calledvia",
    "kms:calleraccount",
    "kms:viaservice",
    "s3:dataaccesspointaccount",
    "s3:dataaccesspointarn",
    "sts:externalid",
    "aws:resourceaccount",
];

/// The normalised statements of a policy (an object with `Statement`, one
/// statement or a list), appended to `out`. A policy or statement that is
/// not an object (unknown, or malformed) yields nothing: there is nothing
/// to say about it.
pub fn normalise_policy(policy: &Node, document: &str, out: &mut Vec<Node>, budget: usize) {
    let Some(statements) = policy.get("Statement") else {
        return;
    };
    for statement in statements.items() {
        if out.len() >= budget {
            return;
        }
        if statement.as_object().is_some() {
            out.push(normalise_statement(statement, document));
        }
    }
}

/// The normalised form of one statement object.
pub fn normalise_statement(statement: &Node, document: &str) -> Node {
    let at = statement.span;
    let mut fields = Fields::new(at);
    fields.text("document", document, at);
    if let Some(sid) = statement.get("Sid") {
        fields.push("sid", sid.clone());
    }
    let effect = statement.get("Effect");
    if let Some(e) = effect {
        fields.push("effect", e.clone());
    }
    for (key, name) in [
        ("Action", "actions"),
        ("NotAction", "not_actions"),
        ("Resource", "resources"),
        ("NotResource", "not_resources"),
    ] {
        if let Some(v) = statement.get(key) {
            fields.push(name, list(v));
        }
    }
    let principal = statement.get("Principal");
    let not_principal = statement.get("NotPrincipal");
    if let Some(p) = principal {
        fields.push("principals", principals(p));
    }
    if let Some(p) = not_principal {
        fields.push("not_principals", principals(p));
    }

    let allow = match effect {
        None => Truth::No,
        Some(e) if is_unknown(e) => Truth::Unknown,
        Some(e) => truth(e.as_str() == Some("Allow")),
    };
    // Who the statement is about: everyone when the principal is "*" (of
    // any type), or when an Allow names who is *not* meant.
    let (anyone, anyone_at) = match (principal, not_principal) {
        (Some(p), _) => names_anyone(p),
        (None, Some(p)) => (
            if is_unknown(p) {
                Truth::Unknown
            } else {
                Truth::Yes
            },
            p.span,
        ),
        (None, None) => (Truth::No, at),
    };
    fields.push("anyone", truth_node(anyone, anyone_at));

    let condition = statement.get("Condition");
    let (keys, restricting, condition_known) = condition_keys(condition);
    let condition_at = condition.map_or(at, |c| c.span);
    fields.push("condition_keys", strings(&keys, condition_at));
    fields.push(
        "restricted_by",
        if condition_known {
            strings(&restricting, condition_at)
        } else {
            super::unknown(&Node::new(Value::Null, condition_at))
        },
    );
    if let Some(c) = condition {
        fields.push("conditions", c.clone());
    }
    let restricted = if !restricting.is_empty() {
        Truth::Yes
    } else if condition_known {
        Truth::No
    } else {
        Truth::Unknown
    };
    let public = and(and(allow, anyone), not(restricted));
    fields.push("public", truth_node(public, anyone_at));
    fields.into_node()
}

/// Builds the statement object, every key placed at the statement.
struct Fields {
    at: Span,
    entries: Vec<Entry>,
}

impl Fields {
    fn new(at: Span) -> Fields {
        Fields {
            at,
            entries: Vec::new(),
        }
    }

    fn push(&mut self, key: &str, value: Node) {
        self.entries.push(Entry {
            key: key.to_string(),
            key_span: self.at,
            value,
        });
    }

    fn text(&mut self, key: &str, value: &str, at: Span) {
        self.push(key, Node::new(Value::String(value.to_string()), at));
    }

    fn into_node(self) -> Node {
        Node::new(
            Value::Object(Object {
                entries: self.entries,
            }),
            self.at,
        )
    }
}

/// A value as a list: a single value becomes a list of one.
fn list(node: &Node) -> Node {
    match &node.value {
        Value::Array(_) => node.clone(),
        _ => Node::new(Value::Array(vec![node.clone()]), node.span),
    }
}

/// Every principal identifier, whatever its type (`"*"`, `{"AWS": [...]}`,
/// `{"Service": "..."}`), as one list.
fn principals(node: &Node) -> Node {
    let mut ids = Vec::new();
    match &node.value {
        Value::Object(o) => {
            for entry in &o.entries {
                ids.extend(entry.value.items().iter().cloned());
            }
        }
        _ => ids.push(node.clone()),
    }
    Node::new(Value::Array(ids), node.span)
}

/// Whether a `Principal` is everyone: `"*"`, or `"*"` among the identifiers
/// of a type; and where to point: at that `"*"`, else at the principal.
fn names_anyone(principal: &Node) -> (Truth, Span) {
    if is_unknown(principal) {
        return (Truth::Unknown, principal.span);
    }
    let mut unknown = false;
    let ids: Vec<&Node> = match &principal.value {
        Value::Object(o) => {
            let mut ids = Vec::new();
            for entry in &o.entries {
                if is_unknown(&entry.value) {
                    unknown = true;
                }
                ids.extend(entry.value.items());
            }
            ids
        }
        _ => vec![principal],
    };
    for id in ids {
        match &id.value {
            Value::String(s) if s.trim() == "*" => return (Truth::Yes, id.span),
            Value::Expr(_) => unknown = true,
            _ => {}
        }
    }
    let truth = if unknown { Truth::Unknown } else { Truth::No };
    (truth, principal.span)
}

/// The condition keys of a `Condition` (lower case), those among them that
/// narrow the principal, and whether the condition could be read.
fn condition_keys(condition: Option<&Node>) -> (Vec<String>, Vec<String>, bool) {
    let mut keys = Vec::new();
    let mut restricting = Vec::new();
    let Some(condition) = condition else {
        return (keys, restricting, true);
    };
    let Some(operators) = condition.as_object() else {
        return (keys, restricting, !is_unknown(condition));
    };
    let mut known = true;
    for operator in &operators.entries {
        let Some(tests) = operator.value.as_object() else {
            known &= !is_unknown(&operator.value);
            continue;
        };
        // A negated test (`StringNotEquals`), an `...IfExists` test (which
        // holds when the key is absent, as for an anonymous caller) and a
        // `Null` test never narrow who may act.
        let op = operator.key.to_ascii_lowercase();
        let narrows = !op.contains("not") && !op.ends_with("ifexists") && op != "null";
        for test in &tests.entries {
            let key = test.key.to_ascii_lowercase();
            let only_wildcards = !test.value.items().is_empty()
                && test
                    .value
                    .items()
                    .iter()
                    .all(|v| v.as_str().is_some_and(|s| s.trim() == "*"));
            if narrows && !only_wildcards && RESTRICTING_KEYS.contains(&key.as_str()) {
                restricting.push(key.clone());
            }
            keys.push(key);
        }
    }
    (keys, restricting, known)
}

fn is_unknown(node: &Node) -> bool {
    matches!(node.value, Value::Expr(_))
}

fn strings(values: &[String], at: Span) -> Node {
    Node::new(
        Value::Array(
            values
                .iter()
                .map(|v| Node::new(Value::String(v.clone()), at))
                .collect(),
        ),
        at,
    )
}

fn truth(b: bool) -> Truth {
    if b { Truth::Yes } else { Truth::No }
}

fn truth_node(t: Truth, at: Span) -> Node {
    match t {
        Truth::Yes => Node::new(Value::Bool(true), at),
        Truth::No => Node::new(Value::Bool(false), at),
        Truth::Unknown => super::unknown(&Node::new(Value::Null, at)),
    }
}

fn and(a: Truth, b: Truth) -> Truth {
    match (a, b) {
        (Truth::No, _) | (_, Truth::No) => Truth::No,
        (Truth::Yes, Truth::Yes) => Truth::Yes,
        _ => Truth::Unknown,
    }
}

fn not(a: Truth) -> Truth {
    match a {
        Truth::Yes => Truth::No,
        Truth::No => Truth::Yes,
        Truth::Unknown => Truth::Unknown,
    }
}
