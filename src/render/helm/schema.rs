//! `values.schema.json`: the chart's JSON Schema checked against the values
//! a render uses, as `helm template` does (a violation fails the render).
//! Supported keywords: `type`, `required`, `properties`,
//! `additionalProperties`, `items`, `enum`, `const`, `minimum`, `maximum`,
//! `minLength`, `maxLength`, `pattern`; others are ignored.

use gotmpl::Value;

use super::serialize::to_json_value;
use super::values::Map;
use crate::diagnostic::Diagnostic;

/// Schema nesting followed at most this deep.
const MAX_DEPTH: usize = 64;

/// Problems with `values` against the schema text (an unreadable schema is
/// one problem).
pub fn check(display: &str, schema_text: &str, values: &Map) -> Vec<Diagnostic> {
    let schema: serde_json::Value = match serde_json::from_str(schema_text) {
        Ok(s) => s,
        Err(e) => {
            return vec![Diagnostic::error(
                display,
                e.line() as u32,
                e.column() as u32,
                format!("invalid values schema: {e}"),
            )];
        }
    };
    let instance = to_json_value(&Value::Map(std::sync::Arc::new(values.clone())));
    let mut problems = Vec::new();
    validate(&schema, &instance, "", 0, &mut problems);
    problems
        .into_iter()
        .map(|p| {
            Diagnostic::error(
                display,
                0,
                0,
                format!("values do not match the chart's schema: {p}"),
            )
        })
        .collect()
}

fn type_matches(wanted: &str, v: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match wanted {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => {
            matches!(v, J::Number(n) if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0))
        }
        _ => true,
    }
}

fn validate(
    schema: &serde_json::Value,
    v: &serde_json::Value,
    at: &str,
    depth: usize,
    out: &mut Vec<String>,
) {
    let Some(s) = schema.as_object() else {
        return;
    };
    if depth > MAX_DEPTH || out.len() > 50 {
        return;
    }
    let here = if at.is_empty() {
        "(root)".to_string()
    } else {
        at.to_string()
    };
    match s.get("type") {
        Some(serde_json::Value::String(t)) if !type_matches(t, v) => {
            out.push(format!("{here}: expected {t}"));
            return;
        }
        Some(serde_json::Value::Array(ts))
            if !ts
                .iter()
                .filter_map(|t| t.as_str())
                .any(|t| type_matches(t, v)) =>
        {
            out.push(format!("{here}: wrong type"));
            return;
        }
        _ => {}
    }
    if let Some(serde_json::Value::Array(options)) = s.get("enum")
        && !options.contains(v)
    {
        out.push(format!(
            "{here}: must be one of {}",
            serde_json::Value::Array(options.clone())
        ));
    }
    if let Some(c) = s.get("const")
        && c != v
    {
        out.push(format!("{here}: must be {c}"));
    }
    if let Some(n) = v.as_f64() {
        if let Some(min) = s.get("minimum").and_then(|m| m.as_f64())
            && n < min
        {
            out.push(format!("{here}: must be >= {min}"));
        }
        if let Some(max) = s.get("maximum").and_then(|m| m.as_f64())
            && n > max
        {
            out.push(format!("{here}: must be <= {max}"));
        }
    }
    if let Some(text) = v.as_str() {
        let len = text.chars().count() as u64;
        if s.get("minLength")
            .and_then(|m| m.as_u64())
            .is_some_and(|m| len < m)
        {
            out.push(format!("{here}: too short"));
        }
        if s.get("maxLength")
            .and_then(|m| m.as_u64())
            .is_some_and(|m| len > m)
        {
            out.push(format!("{here}: too long"));
        }
        if let Some(p) = s.get("pattern").and_then(|p| p.as_str())
            && let Ok(re) = regex::RegexBuilder::new(p).size_limit(1 << 20).build()
            && !re.is_match(text)
        {
            out.push(format!("{here}: does not match pattern {p:?}"));
        }
    }
    if let Some(object) = v.as_object() {
        if let Some(serde_json::Value::Array(required)) = s.get("required") {
            for key in required.iter().filter_map(|k| k.as_str()) {
                if !object.contains_key(key) {
                    out.push(format!("{here}: missing required property {key:?}"));
                }
            }
        }
        let properties = s.get("properties").and_then(|p| p.as_object());
        for (key, value) in object {
            let path = if at.is_empty() {
                key.clone()
            } else {
                format!("{at}.{key}")
            };
            match properties.and_then(|p| p.get(key)) {
                Some(sub) => validate(sub, value, &path, depth + 1, out),
                None => match s.get("additionalProperties") {
                    Some(serde_json::Value::Bool(false)) => {
                        out.push(format!(
                            "{here}: additional property {key:?} is not allowed"
                        ));
                    }
                    Some(sub @ serde_json::Value::Object(_)) => {
                        validate(sub, value, &path, depth + 1, out)
                    }
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(array)) = (s.get("items"), v.as_array()) {
        for (i, item) in array.iter().enumerate() {
            validate(items, item, &format!("{here}[{i}]"), depth + 1, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::helm::values::parse_values;

    #[test]
    fn schema_violations_are_reported() {
        let schema = r#"{"type":"object","required":["image"],"properties":{"replicas":{"type":"integer","minimum":1},"pull":{"enum":["Always","IfNotPresent"]},"image":{"type":"object","additionalProperties":false,"properties":{"repo":{"type":"string"}}}}}"#;
        let ok = parse_values("v", "image: {repo: nginx}\nreplicas: 2\n").expect("v");
        assert!(check("s.json", schema, &ok.values).is_empty());
        let bad =
            parse_values("v", "replicas: 0\npull: Never\nimage: {repo: 1, tag: x}\n").expect("v");
        let messages: Vec<String> = check("s.json", schema, &bad.values)
            .into_iter()
            .map(|d| d.message)
            .collect();
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(
            messages
                .iter()
                .any(|m| m.contains("replicas: must be >= 1"))
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("image.repo: expected string"))
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("additional property \"tag\""))
        );
        assert!(messages.iter().any(|m| m.contains("pull: must be one of")));
        assert!(!check("s.json", "{", &ok.values).is_empty());
    }
}
