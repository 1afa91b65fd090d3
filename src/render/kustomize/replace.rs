//! `replacements` (copy a field of one object into fields of others) and
//! the deprecated `vars` (`$(NAME)` in strings, filled from a field of an
//! object), as kustomize resolves them.

use super::node::{KEntry, KNode, Loc, Val};
use super::resource::Resource;

/// One step of a replacement field path.
#[derive(Debug, PartialEq)]
enum Step {
    /// A mapping key (or, on a list, an index when it is a number).
    Key(String),
    /// The list element whose `key` is `value` (`[name=app]`).
    Select(String, String),
    /// Every element of a list or value of a mapping (`*`).
    Any,
}

/// Splits `spec.containers.[name=app].image` and
/// `metadata.annotations.[a.b/c]` into steps.
fn steps(path: &str) -> Vec<Step> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    let push = |cur: &mut String, out: &mut Vec<Step>| {
        let t = std::mem::take(cur);
        if t.is_empty() {
            return;
        }
        if let Some(inner) = t.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            match inner.split_once('=') {
                Some((k, v)) => out.push(Step::Select(k.to_string(), v.to_string())),
                None => out.push(Step::Key(inner.to_string())),
            }
        } else if t == "*" {
            out.push(Step::Any);
        } else {
            out.push(Step::Key(t));
        }
    };
    for c in path.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth -= 1;
                cur.push(c);
            }
            '.' if depth == 0 => push(&mut cur, &mut out),
            c => cur.push(c),
        }
    }
    push(&mut cur, &mut out);
    out
}

/// The value at a field path.
fn lookup<'a>(node: &'a KNode, path: &[Step]) -> Option<&'a KNode> {
    let Some((first, rest)) = path.split_first() else {
        return Some(node);
    };
    let next = match (first, &node.val) {
        (Step::Key(k), Val::Map(_)) => node.get(k)?,
        (Step::Key(k), Val::Seq(items)) => items.get(k.parse::<usize>().ok()?)?,
        (Step::Select(k, v), Val::Seq(items)) => items
            .iter()
            .find(|i| i.get(k).and_then(KNode::scalar_text).as_deref() == Some(v.as_str()))?,
        _ => return None,
    };
    lookup(next, rest)
}

/// Calls `f` on every node at a field path; with `create`, missing mapping
/// keys are made.
fn visit_path(
    node: &mut KNode,
    path: &[Step],
    create: bool,
    at: Loc,
    f: &mut dyn FnMut(&mut KNode),
) {
    let Some((first, rest)) = path.split_first() else {
        f(node);
        return;
    };
    match first {
        Step::Key(k) => {
            if let Val::Seq(items) = &mut node.val {
                if let Some(item) = k.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                    visit_path(item, rest, create, at, f);
                }
                return;
            }
            if node.get(k).is_none() {
                if !create || !(node.is_map() || matches!(node.val, Val::Null)) {
                    return;
                }
                let child = if rest.is_empty() {
                    KNode::new(Val::Null, at)
                } else {
                    KNode::map(at)
                };
                node.set(k, child, at);
            }
            if let Some(child) = node.get_mut(k) {
                visit_path(child, rest, create, at, f);
            }
        }
        Step::Select(k, v) => {
            if let Val::Seq(items) = &mut node.val {
                for item in items.iter_mut() {
                    if item.get(k).and_then(KNode::scalar_text).as_deref() == Some(v.as_str()) {
                        visit_path(item, rest, create, at, f);
                    }
                }
            }
        }
        Step::Any => match &mut node.val {
            Val::Seq(items) => items
                .iter_mut()
                .for_each(|i| visit_path(i, rest, create, at, f)),
            Val::Map(es) => es
                .iter_mut()
                .for_each(|e: &mut KEntry| visit_path(&mut e.node, rest, create, at, f)),
            _ => {}
        },
    }
}

/// Whether resource `r` is picked by a replacement's `select`/`reject`/`source`.
fn selects(sel: &KNode, r: &Resource) -> bool {
    let get = |k: &str| sel.get(k).and_then(KNode::scalar_text);
    get("kind").is_none_or(|k| k == r.kind())
        && get("group").is_none_or(|g| g == r.group())
        && get("version").is_none_or(|v| v == r.version())
        && get("name").is_none_or(|n| r.had_name(&n))
        && get("namespace").is_none_or(|n| r.namespaces.contains(&n))
}

/// Runs the replacements in `list` on `ra`; problems are returned as messages.
pub fn replacements(ra: &mut [Resource], list: &[KNode]) -> Vec<String> {
    let mut errors = Vec::new();
    for rep in list {
        let Some(source) = rep.get("source") else {
            errors.push("a replacement without source".to_string());
            continue;
        };
        let found: Vec<&Resource> = ra.iter().filter(|r| selects(source, r)).collect();
        let src = match found.as_slice() {
            [one] => *one,
            [] => {
                errors.push(format!("source {} matches no object", describe(source)));
                continue;
            }
            _ => {
                errors.push(format!(
                    "source {} matches {} objects",
                    describe(source),
                    found.len()
                ));
                continue;
            }
        };
        let field = source
            .get("fieldPath")
            .and_then(KNode::as_str)
            .unwrap_or("metadata.name");
        let Some(value) = lookup(&src.obj, &steps(field)).cloned() else {
            errors.push(format!("source {}: no field {field}", describe(source)));
            continue;
        };
        let value = match source.get("options") {
            Some(o) if o.get("delimiter").is_some() => {
                let delim = o
                    .get("delimiter")
                    .and_then(KNode::scalar_text)
                    .unwrap_or_default();
                let index = o
                    .get("index")
                    .and_then(KNode::scalar_text)
                    .and_then(|i| i.parse::<usize>().ok())
                    .unwrap_or(0);
                let text = value.scalar_text().unwrap_or_default();
                let part = text
                    .split(delim.as_str())
                    .nth(index)
                    .unwrap_or("")
                    .to_string();
                KNode::str(part, value.at)
            }
            _ => value,
        };
        for target in rep.get("targets").map(KNode::items).unwrap_or_default() {
            let Some(select) = target.get("select") else {
                continue;
            };
            let rejects = target.get("reject").map(KNode::items).unwrap_or_default();
            let opts = target.get("options");
            let create = matches!(
                opts.and_then(|o| o.get("create")).map(|c| &c.val),
                Some(Val::Bool(true))
            );
            let delim = opts
                .and_then(|o| o.get("delimiter"))
                .and_then(KNode::scalar_text);
            let index = opts
                .and_then(|o| o.get("index"))
                .and_then(KNode::scalar_text)
                .and_then(|i| i.parse::<usize>().ok())
                .unwrap_or(0);
            for r in ra.iter_mut() {
                if !selects(select, r) || rejects.iter().any(|rej| selects(rej, r)) {
                    continue;
                }
                for fp in target
                    .get("fieldPaths")
                    .map(KNode::items)
                    .unwrap_or_default()
                {
                    let Some(fp) = fp.as_str() else { continue };
                    visit_path(
                        &mut r.obj,
                        &steps(fp),
                        create,
                        value.at,
                        &mut |slot| match &delim {
                            Some(d) => {
                                let old = slot.scalar_text().unwrap_or_default();
                                let mut parts: Vec<String> =
                                    old.split(d.as_str()).map(str::to_string).collect();
                                let new = value.scalar_text().unwrap_or_default();
                                if index < parts.len() {
                                    parts[index] = new;
                                } else {
                                    parts.push(new);
                                }
                                *slot = KNode::str(parts.join(d), value.at);
                            }
                            None => *slot = value.clone(),
                        },
                    );
                }
                r.sync_identity();
            }
        }
    }
    errors
}

fn describe(sel: &KNode) -> String {
    let get = |k: &str| sel.get(k).and_then(KNode::scalar_text).unwrap_or_default();
    format!("{} {}", get("kind"), get("name"))
        .trim()
        .to_string()
}

/// A `vars` entry: a name and where its value is read.
#[derive(Clone, Debug)]
pub struct Var {
    /// The name used as `$(NAME)`.
    pub name: String,
    /// The object (`kind`, `name`, `apiVersion`, `namespace`).
    pub objref: KNode,
    /// The field path (default `metadata.name`).
    pub fieldpath: String,
}

/// Reads the `vars` of a kustomization.
pub fn read_vars(list: &KNode) -> Vec<Var> {
    list.items()
        .iter()
        .filter_map(|v| {
            Some(Var {
                name: v.get("name")?.as_str()?.to_string(),
                objref: v.get("objref")?.clone(),
                fieldpath: v
                    .get("fieldref")
                    .and_then(|f| f.get("fieldpath").or_else(|| f.get("fieldPath")))
                    .and_then(KNode::as_str)
                    .unwrap_or("metadata.name")
                    .to_string(),
            })
        })
        .collect()
}

/// Resolves `vars` and replaces every `$(NAME)` of a declared var in the
/// strings of `ra`; problems are returned as messages.
pub fn resolve_vars(ra: &mut [Resource], vars: &[Var]) -> Vec<String> {
    let mut errors = Vec::new();
    let mut values: Vec<(String, KNode)> = Vec::new();
    for v in vars {
        let group = v
            .objref
            .get("apiVersion")
            .and_then(KNode::as_str)
            .map(|a| a.rsplit_once('/').map_or("", |(g, _)| g).to_string());
        let kind = v.objref.get("kind").and_then(KNode::as_str).unwrap_or("");
        let name = v.objref.get("name").and_then(KNode::as_str).unwrap_or("");
        let ns = v.objref.get("namespace").and_then(KNode::as_str);
        let found = ra.iter().find(|r| {
            r.kind() == kind
                && r.had_name(name)
                && group.as_deref().is_none_or(|g| g == r.group())
                && ns.is_none_or(|n| r.namespaces.iter().any(|h| h == n))
        });
        let Some(r) = found else {
            errors.push(format!("var {}: no object {kind} {name}", v.name));
            continue;
        };
        let path = v.fieldpath.replace('[', ".[");
        let path: Vec<Step> = steps(&path)
            .into_iter()
            .map(|s| match s {
                Step::Key(k) if k.starts_with('[') => {
                    Step::Key(k.trim_matches(['[', ']']).to_string())
                }
                s => s,
            })
            .collect();
        match lookup(&r.obj, &path) {
            Some(n) => values.push((
                v.name.clone(),
                KNode::str(n.scalar_text().unwrap_or_default(), n.at),
            )),
            None => errors.push(format!(
                "var {}: {kind} {name} has no field {}",
                v.name, v.fieldpath
            )),
        }
    }
    if values.is_empty() {
        return errors;
    }
    for r in ra.iter_mut() {
        substitute(&mut r.obj, &values);
    }
    errors
}

fn substitute(node: &mut KNode, values: &[(String, KNode)]) {
    match &mut node.val {
        Val::Str(s) if s.contains("$(") => {
            let mut out = s.clone();
            let mut at = None;
            for (name, v) in values {
                let pat = format!("$({name})");
                if out.contains(&pat) {
                    // A string that is only the reference takes the value's origin.
                    if out == pat {
                        at = Some(v.at);
                    }
                    out = out.replace(&pat, v.as_str().unwrap_or(""));
                }
            }
            *s = out;
            if let Some(at) = at {
                node.at = at;
            }
        }
        Val::Seq(items) => items.iter_mut().for_each(|i| substitute(i, values)),
        Val::Map(es) => es.iter_mut().for_each(|e| substitute(&mut e.node, values)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_at_dots_outside_brackets() {
        assert_eq!(
            steps("spec.containers.[name=app].image"),
            vec![
                Step::Key("spec".into()),
                Step::Key("containers".into()),
                Step::Select("name".into(), "app".into()),
                Step::Key("image".into())
            ]
        );
        assert_eq!(
            steps("metadata.annotations.[a.b/c]"),
            vec![
                Step::Key("metadata".into()),
                Step::Key("annotations".into()),
                Step::Key("a.b/c".into())
            ]
        );
    }
}
