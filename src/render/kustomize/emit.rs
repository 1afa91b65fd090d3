//! Serialises built objects to YAML text in the block style `kubectl
//! kustomize` prints, recording for every output line the origin of the
//! value written on it.

use super::node::{KEntry, KNode, Loc, Val};
use crate::tree::Number;

/// Lines of YAML text, each with where its value came from.
#[derive(Default)]
pub struct Emitted {
    /// The lines, without newlines.
    pub lines: Vec<(String, Loc)>,
}

impl Emitted {
    /// Appends one document (a mapping) preceded by `---` when it is not
    /// the first; `header` lines (comments) go right after the marker.
    pub fn document(&mut self, doc: &KNode, header: &[String]) {
        if !self.lines.is_empty() {
            self.lines.push(("---".to_string(), Loc::default()));
        }
        for h in header {
            self.lines.push((h.clone(), Loc::default()));
        }
        match &doc.val {
            Val::Map(es) if !es.is_empty() => map(es, 0, &mut self.lines),
            _ => self.lines.push((inline(doc), doc.at)),
        }
    }
}

fn pad(n: usize) -> String {
    " ".repeat(n)
}

/// The location of a value, falling back to its key's.
fn value_loc(node: &KNode, key: Loc) -> Loc {
    if node.at.line == 0 { key } else { node.at }
}

fn map(entries: &[KEntry], indent: usize, out: &mut Vec<(String, Loc)>) {
    for e in entries {
        let key = format!("{}{}:", pad(indent), scalar_str(&e.key));
        match &e.node.val {
            Val::Map(es) if !es.is_empty() => {
                out.push((key, e.at));
                map(es, indent + 2, out);
            }
            Val::Seq(items) if !items.is_empty() => {
                out.push((key, e.at));
                seq(items, indent, out);
            }
            Val::Str(s) if is_block(s) => {
                let loc = value_loc(&e.node, e.at);
                out.push((format!("{key} {}", block_header(s)), loc));
                block_lines(s, indent + 2, loc, out);
            }
            _ => out.push((
                format!("{key} {}", inline(&e.node)),
                value_loc(&e.node, e.at),
            )),
        }
    }
}

fn seq(items: &[KNode], indent: usize, out: &mut Vec<(String, Loc)>) {
    for item in items {
        let start = out.len();
        match &item.val {
            Val::Map(es) if !es.is_empty() => map(es, indent + 2, out),
            Val::Seq(inner) if !inner.is_empty() => seq(inner, indent + 2, out),
            Val::Str(s) if is_block(s) => {
                out.push((format!("{}{}", pad(indent + 2), block_header(s)), item.at));
                block_lines(s, indent + 4, item.at, out);
            }
            _ => out.push((format!("{}{}", pad(indent + 2), inline(item)), item.at)),
        }
        // The first line of the item takes the dash: `  name: x` → `- name: x`.
        if let Some((line, _)) = out.get_mut(start) {
            line.replace_range(indent..indent + 2, "- ");
        }
    }
}

/// A value written on one line: a scalar, `{}` or `[]`.
fn inline(node: &KNode) -> String {
    match &node.val {
        Val::Null => "null".to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Num(Number::Int(i)) => i.to_string(),
        Val::Num(Number::Float(f)) => float(*f),
        Val::Str(s) => scalar_str(s),
        Val::Seq(_) => "[]".to_string(),
        Val::Map(_) => "{}".to_string(),
    }
}

fn float(f: f64) -> String {
    let s = f.to_string();
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// Multi-line text of printable characters is written as a literal block.
fn is_block(s: &str) -> bool {
    s.contains('\n') && !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

fn block_header(s: &str) -> String {
    let chomp = if !s.ends_with('\n') {
        "-"
    } else if s.ends_with("\n\n") {
        "+"
    } else {
        ""
    };
    let first = s.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let needs_indicator = first.starts_with([' ', '\t']) || s.starts_with(['\n', ' ']);
    format!("|{}{chomp}", if needs_indicator { "2" } else { "" })
}

fn block_lines(s: &str, indent: usize, loc: Loc, out: &mut Vec<(String, Loc)>) {
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        if line.is_empty() {
            out.push((String::new(), loc));
        } else {
            out.push((format!("{}{line}", pad(indent)), loc));
        }
    }
}

/// A string as a plain scalar when every YAML reader (1.1 and 1.2) reads it
/// back as the same string, else double-quoted.
pub fn scalar_str(s: &str) -> String {
    if plain_ok(s) {
        s.to_string()
    } else {
        quoted(s)
    }
}

fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if "-?:,[]{}#&*!|>'\"%@`=<".contains(first)
        && !(first == '-'
            && s.len() > 1
            && !looks_numeric(s)
            && !s.starts_with("- ")
            && !s.starts_with("---"))
    {
        return false;
    }
    if s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) || s.ends_with(':') {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.contains(":\t") {
        return false;
    }
    if s.chars().any(|c| c.is_control()) {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "y" | "n" | "yes" | "no" | "true" | "false" | "on" | "off" | "null" | "~"
    ) {
        return false;
    }
    !looks_numeric(s)
}

/// Whether a YAML 1.1 or 1.2 reader might take `s` for a number, a date
/// or a sexagesimal value.
fn looks_numeric(s: &str) -> bool {
    let rest = s.strip_prefix(['+', '-']).unwrap_or(s);
    let starts = rest.starts_with(|c: char| c.is_ascii_digit())
        || (rest.starts_with('.')
            && rest[1..].starts_with(|c: char| c.is_ascii_digit() || "iInN".contains(c)));
    starts
        && rest
            .chars()
            .all(|c| c.is_ascii_hexdigit() || "xXoO_.:+-eEinfINFaNT ".contains(c))
}

fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{feff}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "yes",
            "On",
            "1.0",
            "0644",
            "1:20",
            "2024-01-01",
            "",
            " x",
            "a: b",
            "-1",
            "~",
            "*x",
        ] {
            assert!(scalar_str(s).starts_with('"'), "{s}");
        }
        for s in ["nginx:1.2", "-c", "a-b", "http://x", "v1", "--flag=1"] {
            assert_eq!(scalar_str(s), s);
        }
    }
}
