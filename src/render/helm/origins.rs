//! Where a rendered line came from: its template line (from the engine's
//! markers), or, when the value on it came from a values file, that file's
//! line.
//!
//! A value written through `{{ .Values.a.b }}` on a template line, or a block
//! written by `{{ toYaml .Values.a | nindent 8 }}` (or inside
//! `{{ with .Values.a }}`), is traced by the `.Values` paths on the template
//! lines around it: a rendered `key: value` line is attributed to a values
//! file only when that file sets the same key path to the same value, so a
//! wrong guess falls back to the template line, never to an unrelated one.

use std::sync::OnceLock;

use gotmpl::Value;
use regex::Regex;

use super::funcs::string_of;
use super::values::{Map, ValuesFile, lookup_path};
use crate::render::Origin;

/// A values file and the key path under which its values reach the chart
/// (`["db"]` for a parent's values seen by subchart `db`).
pub struct Layer<'a> {
    /// The file.
    pub file: &'a ValuesFile,
    /// Its values reach the chart under this prefix.
    pub prefix: Vec<String>,
    /// The file's display path, shared by the origins that name it.
    pub display: std::sync::Arc<str>,
}

/// What origins are computed from for one template's output.
pub struct Context<'a> {
    /// Template display path.
    pub display: &'a str,
    /// Template source text.
    pub source: &'a str,
    /// Values files, lowest precedence first.
    pub layers: &'a [Layer<'a>],
    /// The chart's final values.
    pub values: &'a Map,
}

fn values_ref() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\.Values((?:\.[A-Za-z0-9_-]+)+)").expect("constant regex"))
}

/// The `.Values` paths written on template line `line` (1-based).
fn refs_on(source_lines: &[&str], line: u32) -> Vec<String> {
    let Some(text) = source_lines.get((line as usize).wrapping_sub(1)) else {
        return Vec::new();
    };
    values_ref()
        .captures_iter(text)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str().trim_start_matches('.').to_string())
        .collect()
}

/// A rendered line as (indent, key, scalar): `  key: value`, `- key: v`.
fn key_and_value(line: &str) -> Option<(usize, String, String)> {
    let mut indent = line.len() - line.trim_start().len();
    let mut content = line.trim_start();
    while let Some(rest) = content.strip_prefix("- ") {
        indent += 2;
        content = rest.trim_start();
    }
    let colon = content.find(':')?;
    let key = content[..colon].trim().trim_matches(['"', '\'']);
    if key.is_empty() || key.contains(' ') || key.starts_with('#') {
        return None;
    }
    let after = &content[colon + 1..];
    if !(after.is_empty() || after.starts_with(' ')) {
        return None;
    }
    let value = after.trim().trim_matches(['"', '\'']).to_string();
    Some((indent, key.to_string(), value))
}

/// The values-file origin of `path` (dot-joined, as the chart sees it),
/// checking that the final value there is `rendered` (or a collection).
fn values_origin(ctx: &Context, path: &str, rendered: &str) -> Option<Origin> {
    let value = lookup_path(ctx.values, path)?;
    let matches = match value {
        Value::Map(_) | Value::List(_) => true,
        other => string_of(other) == rendered,
    };
    if !matches {
        return None;
    }
    for layer in ctx.layers.iter().rev() {
        let full = if layer.prefix.is_empty() {
            path.to_string()
        } else {
            format!("{}.{path}", layer.prefix.join("."))
        };
        if let Some(line) = layer.file.lines.get(&full) {
            return Some(Origin {
                file: std::sync::Arc::clone(&layer.display),
                line: *line,
            });
        }
    }
    None
}

/// Origins for each line of one template's rendered text.
pub fn origins(ctx: &Context, text: &str, marks: &[Option<u32>]) -> Vec<Option<Origin>> {
    let source_lines: Vec<&str> = ctx.source.split('\n').collect();
    let template: std::sync::Arc<str> = ctx.display.into();
    let template_origin = |line: u32| Origin {
        file: std::sync::Arc::clone(&template),
        line,
    };
    let mut out = Vec::with_capacity(marks.len());
    let mut last_mark: Option<u32> = None;
    // Key stack of the current unmarked run: (indent, key).
    let mut stack: Vec<(usize, String)> = Vec::new();
    for (line, mark) in text.split('\n').zip(marks.iter().copied()) {
        let parsed = key_and_value(line);
        match mark {
            Some(t) => {
                last_mark = Some(t);
                stack.clear();
                let mut origin = template_origin(t);
                if let Some((indent, key, value)) = &parsed {
                    let refs = refs_on(&source_lines, t);
                    if let [only] = refs.as_slice()
                        && let Some(found) = values_origin(ctx, only, value)
                    {
                        origin = found;
                    }
                    stack.push((*indent, key.clone()));
                }
                out.push(Some(origin));
            }
            None => {
                let Some(t0) = last_mark else {
                    out.push(None);
                    continue;
                };
                let mut origin = template_origin(t0);
                if let Some((indent, key, value)) = parsed {
                    while stack.last().is_some_and(|(i, _)| *i >= indent) {
                        stack.pop();
                    }
                    stack.push((indent, key));
                    // Relative paths: the whole stack, then shorter suffixes
                    // (the block may start below the marked line's key).
                    let keys: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).collect();
                    let window = t0.saturating_sub(5).max(1)..=t0 + 3;
                    'search: for t in window {
                        for base in refs_on(&source_lines, t) {
                            for skip in 0..keys.len() {
                                let path = format!("{base}.{}", keys[skip..].join("."));
                                if let Some(found) = values_origin(ctx, &path, &value) {
                                    origin = found;
                                    break 'search;
                                }
                            }
                        }
                    }
                }
                out.push(Some(origin));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::helm::values::parse_values;

    #[test]
    fn traces_values_through_actions_and_blocks() {
        let values = parse_values(
            "web/values.yaml",
            "image: nginx\nsecurityContext:\n  privileged: true\n  runAsUser: 0\n",
        )
        .expect("values");
        let layers = [Layer {
            display: values.display.as_str().into(),
            file: &values,
            prefix: Vec::new(),
        }];
        let source = "spec:\n  image: {{ .Values.image }}\n  securityContext:\n    {{- toYaml .Values.securityContext | nindent 4 }}\n  name: literal\n";
        let ctx = Context {
            display: "web/templates/pod.yaml",
            source,
            layers: &layers,
            values: &values.values,
        };
        let text = "spec:\n  image: nginx\n  securityContext:\n    privileged: true\n    runAsUser: 0\n  name: literal\n";
        let marks = [Some(1), Some(2), Some(3), None, None, Some(5), Some(6)];
        let got: Vec<(String, u32)> = origins(&ctx, text, &marks)
            .into_iter()
            .map(|o| o.map(|o| (o.file.to_string(), o.line)).unwrap_or_default())
            .collect();
        let want = [
            ("web/templates/pod.yaml", 1),
            ("web/values.yaml", 1),
            ("web/templates/pod.yaml", 3),
            ("web/values.yaml", 3),
            ("web/values.yaml", 4),
            ("web/templates/pod.yaml", 5),
            ("web/templates/pod.yaml", 6),
        ];
        let want: Vec<(String, u32)> = want.iter().map(|(f, l)| (f.to_string(), *l)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_different_value_is_not_attributed() {
        let values = parse_values("v.yaml", "image: nginx\n").expect("values");
        let layers = [Layer {
            display: values.display.as_str().into(),
            file: &values,
            prefix: Vec::new(),
        }];
        let ctx = Context {
            display: "t.yaml",
            source: "image: {{ .Values.image | upper }}\n",
            layers: &layers,
            values: &values.values,
        };
        let got = origins(&ctx, "image: NGINX", &[Some(1)]);
        assert_eq!(got[0].as_ref().map(|o| &*o.file), Some("t.yaml"));
    }
}
