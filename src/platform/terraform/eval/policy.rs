//! `aws_iam_policy_document` evaluated into the IAM policy JSON it
//! produces, the same shape as a policy written as a heredoc or with
//! `jsonencode`, so one query covers every way of writing a policy.

use serde_json::{Map, Value as J, json};

use crate::tree::{Node, Value};

/// The policy JSON of an evaluated `aws_iam_policy_document` body, when
/// everything it needs is known.
pub fn document_json(body: &Node) -> Option<String> {
    if !super::is_known(body) {
        return None;
    }
    // Documents built from other documents: not combined yet, unknown.
    for key in [
        "source_policy_documents",
        "override_policy_documents",
        "source_json",
        "override_json",
    ] {
        if body.get(key).is_some() {
            return None;
        }
    }
    let mut statements = Vec::new();
    for s in body.get("statement").map(Node::items).unwrap_or_default() {
        statements.push(statement(s)?);
    }
    let mut policy = Map::new();
    policy.insert(
        "Version".into(),
        body.get("version")
            .map_or(json!("2012-10-17"), Node::to_json),
    );
    if let Some(id) = body.get("policy_id") {
        policy.insert("Id".into(), id.to_json());
    }
    policy.insert("Statement".into(), J::Array(statements));
    Some(J::Object(policy).to_string())
}

fn statement(s: &Node) -> Option<J> {
    let mut out = Map::new();
    if let Some(sid) = s.get("sid") {
        out.insert("Sid".into(), sid.to_json());
    }
    out.insert(
        "Effect".into(),
        s.get("effect").map_or(json!("Allow"), Node::to_json),
    );
    for (key, name) in [
        ("actions", "Action"),
        ("not_actions", "NotAction"),
        ("resources", "Resource"),
        ("not_resources", "NotResource"),
    ] {
        if let Some(v) = s.get(key) {
            out.insert(name.into(), v.to_json());
        }
    }
    for (key, name) in [
        ("principals", "Principal"),
        ("not_principals", "NotPrincipal"),
    ] {
        let blocks = s.get(key).map(Node::items).unwrap_or_default();
        if blocks.is_empty() {
            continue;
        }
        let mut principal = Map::new();
        for p in blocks {
            let ty = p.get("type")?.as_str()?.to_string();
            let ids = p.get("identifiers")?.to_json();
            // `type = "*"` with `identifiers = ["*"]` is the anonymous "*".
            if ty == "*" {
                out.insert(name.into(), json!("*"));
                principal.clear();
                break;
            }
            principal.insert(ty, ids);
        }
        if !principal.is_empty() {
            out.insert(name.into(), J::Object(principal));
        }
    }
    let conditions = s.get("condition").map(Node::items).unwrap_or_default();
    if !conditions.is_empty() {
        let mut by_test: Map<String, J> = Map::new();
        for c in conditions {
            let test = c.get("test")?.as_str()?.to_string();
            let variable = c.get("variable")?.as_str()?.to_string();
            let values = c.get("values")?.to_json();
            let entry = by_test.entry(test).or_insert_with(|| J::Object(Map::new()));
            if let J::Object(m) = entry {
                m.insert(variable, values);
            }
        }
        out.insert("Condition".into(), J::Object(by_test));
    }
    if matches!(s.value, Value::Object(_)) {
        Some(J::Object(out))
    } else {
        None
    }
}
