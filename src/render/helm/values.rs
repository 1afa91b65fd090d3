//! Helm values: YAML into template values, coalescing (chart defaults under
//! user values, `null` deleting a key), `--set key=value` paths, and where
//! each value was written (for findings traced back to a values file).

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::Value;

use crate::parse::yaml;
use crate::tree::{LineIndex, Node, Number, Value as TreeValue};

/// A template map: what `.Values` and every dictionary are.
pub type Map = BTreeMap<Arc<str>, Value>;

/// An empty template map.
pub fn empty_map() -> Value {
    Value::Map(Arc::new(Map::new()))
}

/// A parsed values file: its values and the line of each key path.
#[derive(Clone, Debug, Default)]
pub struct ValuesFile {
    /// Display path.
    pub display: String,
    /// The values (a map; an empty file is an empty map).
    pub values: Map,
    /// Line of every key path (keys joined by `.`, sequence items skipped).
    pub lines: BTreeMap<String, u32>,
    /// The text (snippets in reports).
    pub text: String,
}

/// Parses YAML values text. An error names the line.
pub fn parse_values(display: &str, text: &str) -> Result<ValuesFile, (u32, String)> {
    let index = LineIndex::new(text);
    let parsed = yaml::parse(text, &index);
    if let Some(error) = parsed.errors.first() {
        return Err((error.line, error.message.clone()));
    }
    let mut lines = BTreeMap::new();
    let values = match parsed.documents.first() {
        None => Map::new(),
        Some(node) => {
            record_lines(node, "", &mut lines);
            match node_to_value(node) {
                Value::Map(m) => Arc::unwrap_or_clone(m),
                Value::Nil => Map::new(),
                other => {
                    return Err((
                        node.span.start_line,
                        format!("values must be a mapping, not {}", other.type_name()),
                    ));
                }
            }
        }
    };
    Ok(ValuesFile {
        display: display.to_string(),
        values,
        lines,
        text: text.to_string(),
    })
}

fn record_lines(node: &Node, prefix: &str, lines: &mut BTreeMap<String, u32>) {
    match &node.value {
        TreeValue::Object(object) => {
            for entry in &object.entries {
                let path = if prefix.is_empty() {
                    entry.key.clone()
                } else {
                    format!("{prefix}.{}", entry.key)
                };
                lines
                    .entry(path.clone())
                    .or_insert(entry.key_span.start_line);
                record_lines(&entry.value, &path, lines);
            }
        }
        TreeValue::Array(items) => {
            for item in items {
                record_lines(item, prefix, lines);
            }
        }
        _ => {}
    }
}

/// A parsed YAML node as a template value.
pub fn node_to_value(node: &Node) -> Value {
    match &node.value {
        TreeValue::Null => Value::Nil,
        TreeValue::Bool(b) => Value::Bool(*b),
        TreeValue::Number(Number::Int(i)) => Value::Int(*i),
        TreeValue::Number(Number::Float(f)) => Value::Float(*f),
        TreeValue::String(s) => Value::String(s.as_str().into()),
        TreeValue::Array(items) => Value::List(items.iter().map(node_to_value).collect()),
        TreeValue::Object(object) => {
            let mut map = Map::new();
            for entry in &object.entries {
                map.insert(entry.key.as_str().into(), node_to_value(&entry.value));
            }
            Value::Map(Arc::new(map))
        }
        TreeValue::Expr(_) => Value::Nil,
    }
}

/// Every YAML document of `text` as a value (for `fromYaml`, `fromYamlArray`).
pub fn yaml_to_value(text: &str) -> Result<Value, String> {
    let index = LineIndex::new(text);
    let parsed = yaml::parse(text, &index);
    if let Some(error) = parsed.errors.first() {
        return Err(format!("line {}: {}", error.line, error.message));
    }
    Ok(parsed
        .documents
        .first()
        .map(node_to_value)
        .unwrap_or(Value::Nil))
}

/// `base` with `over` on top, as Helm coalesces: maps merge key by key,
/// anything else in `over` replaces, and a `null` in `over` deletes the key.
pub fn coalesce(base: &Map, over: &Map) -> Map {
    let mut out = base.clone();
    for (key, value) in over {
        match (out.get(key), value) {
            (_, Value::Nil) => {
                out.remove(key);
            }
            (Some(Value::Map(b)), Value::Map(o)) => {
                let merged = coalesce(b, o);
                out.insert(key.clone(), Value::Map(Arc::new(merged)));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    out
}

/// Applies one `--set key=value` (comma-separated assignments, `a.b[0]=x`,
/// `{a,b}` lists, `\,` and `\.` escapes; values typed as Helm's strvals does:
/// integers, `true`/`false`, `null`, else strings).
pub fn apply_set(values: &mut Map, assignment: &str) -> Result<(), String> {
    for part in split_unescaped(assignment, ',', true) {
        if part.is_empty() {
            continue;
        }
        let Some((key, raw)) = split_once_unescaped(&part, '=') else {
            return Err(format!("key \"{part}\" has no value"));
        };
        let value = if raw.starts_with('{') && raw.ends_with('}') {
            Value::List(
                split_unescaped(&raw[1..raw.len() - 1], ',', false)
                    .iter()
                    .map(|s| typed_scalar(s))
                    .collect(),
            )
        } else {
            typed_scalar(&unescape(&raw))
        };
        let path = parse_key_path(&key)?;
        set_path(values, &path, value)?;
    }
    Ok(())
}

/// One step of a `--set` key: a map key or a list index.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

fn parse_key_path(key: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for segment in split_unescaped(key, '.', false) {
        let segment = segment.as_str();
        let (name, mut rest) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if name.is_empty() && steps.is_empty() && rest.is_empty() {
            return Err(format!("key \"{key}\" has an empty part"));
        }
        if !name.is_empty() {
            steps.push(Step::Key(unescape(name)));
        }
        while let Some(stripped) = rest.strip_prefix('[') {
            let Some(end) = stripped.find(']') else {
                return Err(format!("key \"{key}\" has an unclosed ["));
            };
            let index: usize = stripped[..end]
                .parse()
                .map_err(|_| format!("key \"{key}\" has a bad list index"))?;
            if index > 65_536 {
                return Err(format!("key \"{key}\": list index {index} is too large"));
            }
            steps.push(Step::Index(index));
            rest = &stripped[end + 1..];
        }
    }
    if steps.is_empty() {
        return Err(format!("key \"{key}\" is empty"));
    }
    Ok(steps)
}

fn set_path(map: &mut Map, path: &[Step], value: Value) -> Result<(), String> {
    let Some((Step::Key(first), rest)) = path.split_first() else {
        return Err("a --set key must start with a name".into());
    };
    let slot = map.remove(first.as_str()).unwrap_or(Value::Nil);
    let updated = set_in(slot, rest, value)?;
    map.insert(first.as_str().into(), updated);
    Ok(())
}

fn set_in(current: Value, path: &[Step], value: Value) -> Result<Value, String> {
    match path.split_first() {
        None => Ok(value),
        Some((Step::Key(key), rest)) => {
            let mut map = match current {
                Value::Map(m) => Arc::unwrap_or_clone(m),
                _ => Map::new(),
            };
            let slot = map.remove(key.as_str()).unwrap_or(Value::Nil);
            map.insert(key.as_str().into(), set_in(slot, rest, value)?);
            Ok(Value::Map(Arc::new(map)))
        }
        Some((Step::Index(index), rest)) => {
            let mut list: Vec<Value> = match current {
                Value::List(l) => l.to_vec(),
                _ => Vec::new(),
            };
            while list.len() <= *index {
                list.push(Value::Nil);
            }
            let slot = std::mem::replace(&mut list[*index], Value::Nil);
            list[*index] = set_in(slot, rest, value)?;
            Ok(Value::List(list.into()))
        }
    }
}

fn typed_scalar(raw: &str) -> Value {
    match raw {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Nil,
        _ => match raw.parse::<i64>() {
            // Helm keeps a leading zero ("007") a string.
            Ok(i) if !(raw.len() > 1 && raw.starts_with('0')) => Value::Int(i),
            _ => Value::String(raw.into()),
        },
    }
}

/// Splits at `sep` not preceded by a backslash; `braces` keeps `{a,b}` whole.
fn split_unescaped(text: &str, sep: char, braces: bool) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            '{' if braces => {
                depth += 1;
                current.push(c);
            }
            '}' if braces => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            c if c == sep && depth == 0 => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
}

fn split_once_unescaped(text: &str, sep: char) -> Option<(String, String)> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            return Some((text[..i].to_string(), text[i + 1..].to_string()));
        }
    }
    None
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The value at a dotted path of map keys, if any.
pub fn lookup_path<'a>(values: &'a Map, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut current = values.get(parts.next()?)?;
    for part in parts {
        current = current.field(part)?;
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> Map {
        parse_values("v.yaml", text).expect("values parse").values
    }

    #[test]
    fn values_keep_types_and_lines() {
        let file = parse_values("v.yaml", "a:\n  b: 1\n  c: [x, y]\nd: true\n").expect("parse");
        assert_eq!(lookup_path(&file.values, "a.b"), Some(&Value::Int(1)));
        assert_eq!(lookup_path(&file.values, "d"), Some(&Value::Bool(true)));
        assert_eq!(file.lines.get("a.b"), Some(&2));
        assert_eq!(file.lines.get("d"), Some(&4));
    }

    #[test]
    fn coalesce_merges_maps_and_null_deletes() {
        let base = map("a:\n  b: 1\n  c: 2\nd: 3\n");
        let over = map("a:\n  b: 9\nd: null\n");
        let merged = coalesce(&base, &over);
        assert_eq!(lookup_path(&merged, "a.b"), Some(&Value::Int(9)));
        assert_eq!(lookup_path(&merged, "a.c"), Some(&Value::Int(2)));
        assert_eq!(merged.get("d"), None);
    }

    #[test]
    fn set_parses_paths_lists_and_types() {
        let mut values = Map::new();
        apply_set(&mut values, "a.b=1,c=true,s=007,l={x,y}").expect("set");
        apply_set(&mut values, "list[1].name=two,dot\\.key=v").expect("set");
        assert_eq!(lookup_path(&values, "a.b"), Some(&Value::Int(1)));
        assert_eq!(values.get("c"), Some(&Value::Bool(true)));
        assert_eq!(values.get("s"), Some(&Value::String("007".into())));
        assert_eq!(values.get("dot.key"), Some(&Value::String("v".into())));
        let Some(Value::List(list)) = values.get("list") else {
            panic!("list expected")
        };
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].field("name"), Some(&Value::String("two".into())));
        assert!(apply_set(&mut values, "novalue").is_err());
        assert!(apply_set(&mut values, "x[99999999]=1").is_err());
    }
}
