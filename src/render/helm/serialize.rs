//! `toYaml` and `toJson` as Helm writes them: keys sorted, block style,
//! two-space indent, sequences under a key not indented (sigs.k8s.io/yaml),
//! strings quoted only when YAML would read them as something else.

use gotmpl::Value;

/// Nesting beyond this is refused (a value can hold itself only through a
/// bug, but the emitter must never recurse without bound).
const MAX_NESTING: usize = 200;

/// `toYaml`: the value as a YAML document, without a trailing newline.
pub fn to_yaml(value: &Value) -> Result<String, String> {
    let mut out = String::new();
    match value {
        Value::Map(m) if m.is_empty() => out.push_str("{}"),
        Value::List(l) if l.is_empty() => out.push_str("[]"),
        Value::Map(_) | Value::List(_) => write_block(&mut out, value, 0, 0)?,
        // go-yaml indents a top-level block scalar by two.
        other => write_scalar(&mut out, other, 2),
    }
    while out.ends_with('\n') {
        out.pop();
    }
    Ok(out)
}

fn write_block(out: &mut String, value: &Value, indent: usize, depth: usize) -> Result<(), String> {
    if depth > MAX_NESTING {
        return Err("toYaml: value nested too deeply".into());
    }
    match value {
        Value::Map(map) => {
            for (key, item) in map.iter().filter(|(_, v)| !v.is_function()) {
                push_indent(out, indent);
                write_string(out, key, indent);
                out.push(':');
                write_child(out, item, indent, depth, false)?;
            }
        }
        Value::List(list) => {
            for item in list.iter() {
                push_indent(out, indent);
                out.push('-');
                write_child(out, item, indent, depth, true)?;
            }
        }
        other => {
            push_indent(out, indent);
            write_scalar(out, other, indent);
            out.push('\n');
        }
    }
    Ok(())
}

/// Writes what follows `key:` or `-`.
fn write_child(
    out: &mut String,
    item: &Value,
    indent: usize,
    depth: usize,
    in_list: bool,
) -> Result<(), String> {
    match item {
        Value::Map(m) if !m.is_empty() => {
            if in_list {
                // `- key: v` with the other keys aligned under the first.
                out.push(' ');
                let mut inner = String::new();
                write_block(&mut inner, item, indent + 2, depth + 1)?;
                out.push_str(inner.trim_start_matches(' '));
            } else {
                out.push('\n');
                write_block(out, item, indent + 2, depth + 1)?;
            }
        }
        Value::List(l) if !l.is_empty() => {
            if in_list {
                out.push(' ');
                let mut inner = String::new();
                write_block(&mut inner, item, indent + 2, depth + 1)?;
                out.push_str(inner.trim_start_matches(' '));
            } else {
                out.push('\n');
                // sigs.k8s.io/yaml: a sequence under a key is not indented.
                write_block(out, item, indent, depth + 1)?;
            }
        }
        other => {
            out.push(' ');
            write_scalar(out, other, indent + 2);
            out.push('\n');
        }
    }
    Ok(())
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn write_scalar(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Uint(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&format_float(*f)),
        Value::String(s) => write_string(out, s, indent),
        Value::Map(_) => out.push_str("{}"),
        Value::List(_) => out.push_str("[]"),
        Value::Function(_) => out.push_str("null"),
    }
}

/// A float as Go's JSON writes it (integral values without a fraction).
pub fn format_float(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{}", f as i64)
    } else if f.is_nan() {
        ".nan".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        }
    } else {
        format!("{f}")
    }
}

fn write_string(out: &mut String, s: &str, indent: usize) {
    if s.contains('\n') && literal_ok(s) {
        // Literal block: `|` keeps one trailing newline, `|-` strips it,
        // `|+` keeps several.
        let chomp = if s.ends_with("\n\n") {
            "+"
        } else if s.ends_with('\n') {
            ""
        } else {
            "-"
        };
        let body = s.strip_suffix('\n').unwrap_or(s);
        out.push('|');
        out.push_str(chomp);
        for line in body.split('\n') {
            out.push('\n');
            if !line.is_empty() {
                push_indent(out, indent);
                out.push_str(line);
            }
        }
        return;
    }
    if needs_quotes(s) {
        if s.chars().any(|c| c.is_control()) {
            out.push_str(&serde_json::Value::String(s.to_string()).to_string());
        } else {
            out.push('\'');
            out.push_str(&s.replace('\'', "''"));
            out.push('\'');
        }
    } else {
        out.push_str(s);
    }
}

/// A literal block reads back as the same string.
fn literal_ok(s: &str) -> bool {
    !s.starts_with(' ')
        && !s.starts_with('\n')
        && !s.chars().any(|c| c.is_control() && c != '\n')
        && !s.lines().any(|l| l.ends_with(' '))
}

/// Whether a plain scalar would be read back as something other than this
/// string (a bool, a number, null, an indicator, a comment).
pub fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || s.trim() != s {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "y"
            | "n"
            | "null"
            | "~"
            | ".inf"
            | "-.inf"
            | "+.inf"
            | ".nan"
    ) {
        return true;
    }
    if looks_numeric(s) {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        // `-x` and `:x` are plain in YAML, but quoting them is always safe.
        return true;
    }
    s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.chars().any(|c| c.is_control())
}

fn looks_numeric(s: &str) -> bool {
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    if t.is_empty() {
        return false;
    }
    if t.starts_with("0x") || t.starts_with("0o") || t.starts_with("0b") {
        return true;
    }
    // Digits with at most one dot and an exponent, or YAML 1.1 sexagesimal.
    t.chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '.')
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+' | '_' | ':'))
        && t.chars().any(|c| c.is_ascii_digit())
}

/// The value as JSON (maps with sorted keys, as Go's encoder writes them).
pub fn to_json_value(value: &Value) -> serde_json::Value {
    json_at(value, 0)
}

/// [`to_json_value`] at nesting `depth`: past [`MAX_NESTING`] a value is
/// null, so a hostile template cannot exhaust the stack here.
fn json_at(value: &Value, depth: usize) -> serde_json::Value {
    if depth > MAX_NESTING {
        return serde_json::Value::Null;
    }
    match value {
        Value::Nil | Value::Function(_) => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Uint(u) => serde_json::Value::from(*u),
        Value::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 9e15 {
                serde_json::Value::from(*f as i64)
            } else {
                serde_json::Number::from_f64(*f)
                    .map(serde_json::Value::Number)
                    .unwrap_or(serde_json::Value::Null)
            }
        }
        Value::String(s) => serde_json::Value::String(s.to_string()),
        Value::List(l) => {
            serde_json::Value::Array(l.iter().map(|v| json_at(v, depth + 1)).collect())
        }
        Value::Map(m) => serde_json::Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_function())
                .map(|(k, v)| (k.to_string(), json_at(v, depth + 1)))
                .collect(),
        ),
    }
}

/// A JSON value as a template value (for `fromJson`).
pub fn from_json_value(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map(Value::Int)
            .unwrap_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0))),
        serde_json::Value::String(s) => Value::String(s.as_str().into()),
        serde_json::Value::Array(a) => Value::List(a.iter().map(from_json_value).collect()),
        serde_json::Value::Object(o) => Value::Map(std::sync::Arc::new(
            o.iter()
                .map(|(k, v)| (k.as_str().into(), from_json_value(v)))
                .collect(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::helm::values::yaml_to_value;

    fn roundtrip(text: &str) {
        let value = yaml_to_value(text).expect("parse");
        let yaml = to_yaml(&value).expect("emit");
        let back = yaml_to_value(&yaml).expect("reparse");
        assert_eq!(to_json_value(&value), to_json_value(&back), "yaml:\n{yaml}");
    }

    #[test]
    fn to_yaml_sorts_keys_and_does_not_indent_sequences() {
        let value = yaml_to_value("b: 1\na:\n  - x\n  - k: v\n    j: w\n").expect("parse");
        assert_eq!(
            to_yaml(&value).expect("emit"),
            "a:\n- x\n- j: w\n  k: v\nb: 1"
        );
    }

    #[test]
    fn to_yaml_quotes_what_would_change_type() {
        let value = yaml_to_value("a: 'true'\nb: '010'\nc: ''\nd: 'x: y'\ne: plain\nf: '1.5'\n")
            .expect("parse");
        assert_eq!(
            to_yaml(&value).expect("emit"),
            "a: 'true'\nb: '010'\nc: ''\nd: 'x: y'\ne: plain\nf: '1.5'"
        );
    }

    #[test]
    fn to_yaml_round_trips() {
        roundtrip("a: \"line1\\nline2\\n\"\nb: [1, 2.5, null, {c: d}]\ne: {}\nf: []\n");
        roundtrip("- - a\n  - b\n- {x: 'y # z'}\n");
        roundtrip("k: \" lead\\ttab\"\n");
    }
}
