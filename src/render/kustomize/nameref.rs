//! Name references: after prefixes, suffixes and hashes changed names, the
//! fields that name another object of the build (a pod's ConfigMap volume,
//! a RoleBinding's subjects, an HPA's target…) are rewritten to the new
//! name, as kustomize's name-reference transformer does.

use super::fieldspec::{CLUSTER_SCOPED, NameRef, RefShape, visit};
use super::node::{KNode, Loc, Val};
use super::resource::Resource;

struct Referral {
    kind: String,
    group: String,
    names: Vec<String>,
    namespaces: Vec<String>,
    name: String,
    namespace: String,
}

/// Rewrites every reference in `ra` to an object of `ra` that was renamed.
pub fn fix(ra: &mut [Resource], refs: &[NameRef]) {
    let referrals: Vec<Referral> = ra
        .iter()
        .filter(|r| r.names.len() > 1 || r.namespaces.len() > 1)
        .map(|r| Referral {
            kind: r.kind().to_string(),
            group: r.group().to_string(),
            names: r.names.clone(),
            namespaces: r.namespaces.clone(),
            name: r.name().to_string(),
            namespace: r.namespace().to_string(),
        })
        .collect();
    if referrals.is_empty() {
        return;
    }
    for r in ra.iter_mut() {
        let (group, kind, ns) = (
            r.group().to_string(),
            r.kind().to_string(),
            r.namespace().to_string(),
        );
        for nr in refs {
            let candidates: Vec<&Referral> = referrals
                .iter()
                .filter(|c| {
                    c.kind == nr.kind
                        && (nr.group.is_empty() || c.group == nr.group || c.group.is_empty())
                })
                .collect();
            if candidates.is_empty() {
                continue;
            }
            for (spec, shape) in &nr.referrers {
                if !spec.applies(&group, &kind) {
                    continue;
                }
                let path: Vec<&str> = spec.path.split('/').collect();
                visit(
                    &mut r.obj,
                    &path,
                    false,
                    Loc::default(),
                    &mut |parent, key| {
                        if let Some(node) = parent.get_mut(key) {
                            rewrite(node, *shape, &nr.kind, &candidates, &ns);
                        }
                    },
                );
            }
        }
    }
}

/// `""` and `default` are the same namespace.
fn same_ns(a: &str, b: &str) -> bool {
    let norm = |s: &str| if s.is_empty() { "default" } else { s }.to_string();
    norm(a) == norm(b)
}

/// The renamed object a reference `old` means: by an explicit namespace
/// when the reference has one; else, from a namespaced referrer, only an
/// object of the referrer's namespace (or a cluster-scoped one).
fn pick<'a>(
    candidates: &[&'a Referral],
    old: &str,
    ns: Option<&str>,
    referrer_ns: &str,
) -> Option<&'a Referral> {
    let matching: Vec<&Referral> = candidates
        .iter()
        .copied()
        .filter(|c| c.names.iter().any(|n| n == old))
        .filter(|c| match ns {
            Some(ns) => c.namespaces.iter().any(|h| same_ns(h, ns)),
            None => {
                referrer_ns.is_empty()
                    || CLUSTER_SCOPED.contains(&c.kind.as_str())
                    || same_ns(&c.namespace, referrer_ns)
            }
        })
        .collect();
    if matching.len() <= 1 {
        return matching.first().copied();
    }
    let want = ns.unwrap_or(referrer_ns);
    matching
        .iter()
        .copied()
        .find(|c| c.namespace == want)
        .or_else(|| matching.first().copied())
}

fn set_str(node: &mut KNode, s: &str) {
    node.val = Val::Str(s.to_string());
}

fn rewrite(
    node: &mut KNode,
    shape: RefShape,
    kind: &str,
    candidates: &[&Referral],
    referrer_ns: &str,
) {
    match shape {
        RefShape::Name => match &mut node.val {
            Val::Str(old) => {
                if let Some(c) = pick(candidates, old, None, referrer_ns).filter(|c| c.name != *old)
                {
                    let new = c.name.clone();
                    set_str(node, &new);
                }
            }
            Val::Seq(items) => {
                for item in items {
                    rewrite(item, shape, kind, candidates, referrer_ns);
                }
            }
            _ => {}
        },
        RefShape::Object => {
            let Some(old) = node.get("name").and_then(KNode::as_str).map(str::to_string) else {
                return;
            };
            let ns = node
                .get("namespace")
                .and_then(KNode::as_str)
                .map(str::to_string);
            if let Some(c) = pick(candidates, &old, ns.as_deref(), referrer_ns) {
                let at = node.get("name").map(|n| n.at).unwrap_or_default();
                node.set("name", KNode::str(c.name.clone(), at), at);
                if !c.namespace.is_empty() {
                    let at = node.get("namespace").map(|n| n.at).unwrap_or(at);
                    node.set("namespace", KNode::str(c.namespace.clone(), at), at);
                }
            }
        }
        RefShape::Subjects => {
            let Val::Seq(items) = &mut node.val else {
                return;
            };
            for item in items {
                if item.get("kind").and_then(KNode::as_str) != Some(kind) {
                    continue;
                }
                let Some(old) = item.get("name").and_then(KNode::as_str).map(str::to_string) else {
                    continue;
                };
                let ns = item
                    .get("namespace")
                    .and_then(KNode::as_str)
                    .map(str::to_string);
                if let Some(c) = pick(candidates, &old, ns.as_deref(), referrer_ns) {
                    let at = item.get("name").map(|n| n.at).unwrap_or_default();
                    item.set("name", KNode::str(c.name.clone(), at), at);
                    if !c.namespace.is_empty() {
                        let at = item.get("namespace").map(|n| n.at).unwrap_or(at);
                        item.set("namespace", KNode::str(c.namespace.clone(), at), at);
                    }
                }
            }
        }
    }
}
