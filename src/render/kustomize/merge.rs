//! Strategic merge patches, as kustomize (kyaml) applies them: mappings
//! merge key by key, `null` deletes, lists of the Kubernetes types merge by
//! their merge key (containers by `name`, ports by `containerPort`, …) and
//! other lists are replaced; `$patch: delete|replace` directives are honoured.

use super::node::{KEntry, KNode, Val};

/// Merge keys of list fields of the built-in Kubernetes types (the
/// `patchMergeKey` of the API's Go types).
const MERGE_KEYS: &[(&str, &str)] = &[
    ("containers", "name"),
    ("initContainers", "name"),
    ("ephemeralContainers", "name"),
    ("volumes", "name"),
    ("volumeMounts", "mountPath"),
    ("volumeDevices", "devicePath"),
    ("env", "name"),
    ("imagePullSecrets", "name"),
    ("hostAliases", "ip"),
    ("topologySpreadConstraints", "topologyKey"),
    ("conditions", "type"),
    ("webhooks", "name"),
    ("resourceClaims", "name"),
    ("schedulingGates", "name"),
];

/// API groups whose types kustomize knows (their lists merge only by the
/// table above; others are replaced).
const BUILTIN_GROUPS: &[&str] = &[
    "",
    "apps",
    "batch",
    "policy",
    "autoscaling",
    "rbac.authorization.k8s.io",
    "networking.k8s.io",
    "admissionregistration.k8s.io",
    "storage.k8s.io",
    "scheduling.k8s.io",
    "apiextensions.k8s.io",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "node.k8s.io",
    "apiregistration.k8s.io",
];

/// Keys that make a list of mappings associative when the type is not
/// known (kyaml's `AssociativeSequenceKeys`, in its order).
const ASSOCIATIVE_KEYS: &[&str] = &[
    "mountPath",
    "devicePath",
    "ip",
    "type",
    "topologyKey",
    "name",
    "containerPort",
];

/// What applying a patch to an object asked for.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The object was patched.
    Patched,
    /// The patch said `$patch: delete`: the object goes.
    Delete,
}

/// Applies strategic merge patch `patch` to object `target` of API group `group`.
pub fn apply(target: &mut KNode, patch: &KNode, group: &str) -> Outcome {
    if directive(patch) == Some("delete") {
        return Outcome::Delete;
    }
    let builtin = BUILTIN_GROUPS.contains(&group);
    merge_map(target, patch, builtin);
    Outcome::Patched
}

fn directive(node: &KNode) -> Option<&str> {
    node.get("$patch").and_then(KNode::as_str)
}

/// The patch value with its directives removed (a value that is added
/// whole must not carry them).
fn clean(node: &KNode) -> KNode {
    let mut n = node.clone();
    strip(&mut n);
    n
}

fn strip(node: &mut KNode) {
    match &mut node.val {
        Val::Map(es) => {
            es.retain(|e| !e.key.starts_with('$'));
            es.iter_mut().for_each(|e| strip(&mut e.node));
        }
        Val::Seq(items) => {
            items.retain(|i| directive(i).is_none() || i.entries().len() > 1);
            items.iter_mut().for_each(strip);
        }
        _ => {}
    }
}

fn merge_map(target: &mut KNode, patch: &KNode, builtin: bool) {
    if directive(patch) == Some("replace") {
        *target = clean(patch);
        return;
    }
    if !target.is_map() {
        *target = clean(patch);
        return;
    }
    // What the patch does not mention is walked alone, and kustomize's
    // walk drops the null fields inside it.
    if let Val::Map(tes) = &mut target.val {
        for e in tes.iter_mut() {
            if patch.get(&e.key).is_none() {
                drop_nulls(&mut e.node);
            }
        }
    }
    for pe in patch.entries() {
        if pe.key.starts_with('$') {
            continue;
        }
        let Val::Map(tes) = &mut target.val else {
            return;
        };
        let existing = tes.iter().position(|e| e.key == pe.key);
        match (&pe.node.val, existing) {
            (Val::Null, Some(i)) => {
                tes.remove(i);
            }
            (Val::Null, None) => {}
            (Val::Map(_), Some(i)) if directive(&pe.node) == Some("delete") => {
                tes.remove(i);
            }
            (Val::Map(_), None) if directive(&pe.node) == Some("delete") => {}
            (Val::Map(_), Some(i)) if tes[i].node.is_map() => {
                merge_map(&mut tes[i].node, &pe.node, builtin);
            }
            (Val::Seq(_), Some(i)) if matches!(tes[i].node.val, Val::Seq(_)) => {
                merge_list(&mut tes[i].node, &pe.node, &pe.key, builtin);
            }
            // An equal value keeps its origin: the patch only repeats it.
            (_, Some(i)) if tes[i].node.to_json() == pe.node.to_json() => {}
            (_, Some(i)) => tes[i].node = clean(&pe.node),
            (_, None) => tes.push(KEntry {
                key: pe.key.clone(),
                at: pe.at,
                node: clean(&pe.node),
            }),
        }
    }
}

fn merge_key(
    field: &str,
    target: &[KNode],
    patch: &[KNode],
    builtin: bool,
) -> Option<&'static str> {
    let all_maps = target.iter().chain(patch).all(KNode::is_map);
    if !all_maps {
        return None;
    }
    if builtin {
        if field == "ports" {
            let has = |k: &str| {
                patch
                    .iter()
                    .chain(target)
                    .all(|i| i.get(k).is_some() || directive(i).is_some())
            };
            return if has("containerPort") {
                Some("containerPort")
            } else if has("port") {
                Some("port")
            } else {
                None
            };
        }
        return MERGE_KEYS
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, k)| *k);
    }
    ASSOCIATIVE_KEYS
        .iter()
        .copied()
        .find(|k| target.iter().chain(patch).all(|i| i.get(k).is_some()))
}

fn merge_list(target: &mut KNode, patch: &KNode, field: &str, builtin: bool) {
    let patch_items = patch.items();
    if patch_items
        .iter()
        .any(|i| directive(i) == Some("replace") && i.entries().len() == 1)
    {
        *target = clean(patch);
        return;
    }
    let Some(key) = merge_key(field, target.items(), patch_items, builtin) else {
        *target = clean(patch);
        return;
    };
    let Val::Seq(items) = &mut target.val else {
        return;
    };
    // kustomize merges lists "prepending": the patch's elements come first,
    // in the patch's order, then the elements only the target has.
    let mut old: Vec<Option<KNode>> = std::mem::take(items).into_iter().map(Some).collect();
    let key_of = |n: &KNode| n.get(key).and_then(KNode::scalar_text);
    let mut merged = Vec::new();
    for p in patch_items {
        let Some(kv) = key_of(p) else {
            continue;
        };
        let found = old
            .iter()
            .position(|t| t.as_ref().and_then(key_of).as_deref() == Some(kv.as_str()));
        let existing = found.and_then(|i| old[i].take());
        match (directive(p), existing) {
            (Some("delete"), _) => {}
            (_, Some(mut t)) => {
                merge_map(&mut t, p, builtin);
                merged.push(t);
            }
            (_, None) => merged.push(clean(p)),
        }
    }
    merged.extend(old.into_iter().flatten());
    *items = merged;
}

/// Removes mapping entries whose value is null, as kustomize's merge
/// leaves none behind.
pub fn drop_nulls(node: &mut KNode) {
    match &mut node.val {
        Val::Map(es) => {
            es.retain(|e| !matches!(e.node.val, Val::Null));
            es.iter_mut().for_each(|e| drop_nulls(&mut e.node));
        }
        Val::Seq(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::kustomize::node::KNode;
    use crate::tree::LineIndex;

    fn yaml(text: &str) -> KNode {
        let idx = LineIndex::new(text);
        let parsed = crate::parse::yaml::parse(text, &idx);
        KNode::from_tree(&parsed.documents[0], 0)
    }

    #[test]
    fn containers_merge_by_name_and_args_replace() {
        let mut t = yaml(
            "spec:\n  containers:\n  - name: a\n    image: x\n    args: [1, 2]\n  - name: b\n    image: y\n",
        );
        let p = yaml(
            "spec:\n  containers:\n  - name: a\n    args: [3]\n    securityContext:\n      privileged: true\n",
        );
        apply(&mut t, &p, "apps");
        let want = yaml(
            "spec:\n  containers:\n  - name: a\n    image: x\n    args: [3]\n    securityContext:\n      privileged: true\n  - name: b\n    image: y\n",
        );
        assert_eq!(t.to_json(), want.to_json());
    }

    #[test]
    fn delete_directives_and_null_remove() {
        let mut t = yaml("a: 1\nb: 2\nl:\n- name: x\n- name: y\n");
        let p = yaml("a: null\nl:\n- name: x\n  $patch: delete\n");
        apply(&mut t, &p, "custom.io");
        assert_eq!(t.to_json(), yaml("b: 2\nl:\n- name: y\n").to_json());
        assert_eq!(
            apply(&mut t, &yaml("$patch: delete\n"), ""),
            Outcome::Delete
        );
    }
}
