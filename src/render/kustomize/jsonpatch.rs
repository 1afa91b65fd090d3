//! JSON patches (RFC 6902): `add`, `remove`, `replace`, `move`, `copy` and
//! `test` on one object, paths as JSON pointers (RFC 6901).

use super::node::{KEntry, KNode, Val};

/// Applies the operations of `ops` (a sequence) to `target` in order; the
/// first failing operation stops it with a message.
pub fn apply(target: &mut KNode, ops: &KNode) -> Result<(), String> {
    for op in ops.items() {
        let kind = op.get("op").and_then(KNode::as_str).unwrap_or("");
        let path = op
            .get("path")
            .and_then(KNode::as_str)
            .ok_or_else(|| format!("{kind} operation without a path"))?;
        let path = pointer(path)?;
        match kind {
            "add" => add(target, &path, value(op)?.clone())?,
            "replace" => {
                let v = value(op)?.clone();
                let slot = get_mut(target, &path).ok_or_else(|| missing(&path))?;
                *slot = v;
            }
            "remove" => {
                remove(target, &path)?;
            }
            "move" | "copy" => {
                let from = op
                    .get("from")
                    .and_then(KNode::as_str)
                    .ok_or_else(|| format!("{kind} operation without from"))?;
                let from = pointer(from)?;
                let v = if kind == "move" {
                    remove(target, &from)?
                } else {
                    get_mut(target, &from)
                        .ok_or_else(|| missing(&from))?
                        .clone()
                };
                add(target, &path, v)?;
            }
            "test" => {
                let want = value(op)?.to_json();
                let got = get_mut(target, &path)
                    .ok_or_else(|| missing(&path))?
                    .to_json();
                if want != got {
                    return Err(format!("test failed at /{}", path.join("/")));
                }
            }
            other => return Err(format!("unknown operation {other:?}")),
        }
    }
    Ok(())
}

fn value(op: &KNode) -> Result<&KNode, String> {
    op.get("value")
        .ok_or_else(|| "operation without a value".to_string())
}

fn missing(path: &[String]) -> String {
    format!("no value at path /{}", path.join("/"))
}

fn pointer(p: &str) -> Result<Vec<String>, String> {
    if p.is_empty() {
        return Ok(Vec::new());
    }
    let rest = p
        .strip_prefix('/')
        .ok_or_else(|| format!("path {p:?} does not start with /"))?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn get_mut<'a>(node: &'a mut KNode, path: &[String]) -> Option<&'a mut KNode> {
    let mut cur = node;
    for tok in path {
        cur = match &mut cur.val {
            Val::Map(es) => &mut es.iter_mut().find(|e| &e.key == tok)?.node,
            Val::Seq(items) => items.get_mut(tok.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn add(target: &mut KNode, path: &[String], v: KNode) -> Result<(), String> {
    let Some((last, parent)) = path.split_last() else {
        *target = v;
        return Ok(());
    };
    let at = v.at;
    let node = get_mut(target, parent).ok_or_else(|| missing(parent))?;
    if matches!(node.val, Val::Null) {
        node.val = Val::Map(Vec::new());
    }
    match &mut node.val {
        Val::Map(es) => {
            if let Some(e) = es.iter_mut().find(|e| &e.key == last) {
                e.node = v;
            } else {
                es.push(KEntry {
                    key: last.clone(),
                    at,
                    node: v,
                });
            }
            Ok(())
        }
        Val::Seq(items) => {
            let i = if last == "-" {
                items.len()
            } else {
                last.parse::<usize>()
                    .ok()
                    .filter(|&i| i <= items.len())
                    .ok_or_else(|| format!("index {last} out of range"))?
            };
            items.insert(i, v);
            Ok(())
        }
        _ => Err(format!(
            "cannot add under a scalar at /{}",
            parent.join("/")
        )),
    }
}

fn remove(target: &mut KNode, path: &[String]) -> Result<KNode, String> {
    let (last, parent) = path.split_last().ok_or("cannot remove the whole object")?;
    let node = get_mut(target, parent).ok_or_else(|| missing(parent))?;
    match &mut node.val {
        Val::Map(es) => {
            let i = es
                .iter()
                .position(|e| &e.key == last)
                .ok_or_else(|| missing(path))?;
            Ok(es.remove(i).node)
        }
        Val::Seq(items) => {
            let i = last
                .parse::<usize>()
                .ok()
                .filter(|&i| i < items.len())
                .ok_or_else(|| missing(path))?;
            Ok(items.remove(i))
        }
        _ => Err(missing(path)),
    }
}
