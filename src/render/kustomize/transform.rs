//! The generators and built-in transformers of one kustomization, run in
//! kustomize's order: strategic-merge patches, patches, namespace, prefix,
//! suffix, labels, annotations, JSON 6902 patches, replicas, images.

use std::path::Path;

use regex::Regex;

use super::fieldspec::{self, FieldSpec, visit};
use super::generate::{self, Item};
use super::node::{KEntry, KNode, Loc, Val};
use super::resource::Resource;
use super::state::{Builder, Kust, normalize};
use super::{jsonpatch, merge, replace};

/// Runs `configMapGenerator` and `secretGenerator`.
pub fn generators(b: &mut Builder, k: &Kust, ra: &mut Vec<Resource>) {
    let global = k.field("generatorOptions").cloned();
    for (field, secret) in [("configMapGenerator", false), ("secretGenerator", true)] {
        for g in k
            .field(field)
            .map(|n| n.items().to_vec())
            .unwrap_or_default()
        {
            generator(b, k, ra, field, secret, &g, global.as_ref());
        }
    }
}

fn str_field<'a>(n: &'a KNode, key: &str) -> Option<&'a str> {
    n.get(key).and_then(KNode::as_str)
}

fn truthy(n: Option<&KNode>, key: &str) -> bool {
    matches!(
        n.and_then(|n| n.get(key)).map(|v| &v.val),
        Some(Val::Bool(true))
    )
}

fn generator(
    b: &mut Builder,
    k: &Kust,
    ra: &mut Vec<Resource>,
    field: &str,
    secret: bool,
    g: &KNode,
    global: Option<&KNode>,
) {
    let Some(name) = str_field(g, "name") else {
        b.error(k, field, g.at, "a generator without name");
        return;
    };
    let mut items: Vec<Item> = Vec::new();
    let mut envs: Vec<KNode> = g
        .get("envs")
        .map(|n| n.items().to_vec())
        .unwrap_or_default();
    if let Some(e) = g.get("env").filter(|e| e.as_str().is_some()) {
        envs.push(e.clone());
    }
    for e in envs {
        let Some(s) = e.as_str() else { continue };
        let p = normalize(&k.dir.join(s));
        match b.read(&p) {
            Ok((_, text)) => {
                let (pairs, from_env) = generate::env_file(&text);
                for key in from_env {
                    b.notice(k, field, format!("{s}: {key} has no value (kustomize would read the environment); left empty"));
                }
                items.extend(pairs.into_iter().map(|(key, v)| Item {
                    key,
                    value: v.into_bytes(),
                    at: e.at,
                }));
            }
            Err(err) => b.error(k, field, e.at, format!("envs: {s}: {err}")),
        }
    }
    for l in g
        .get("literals")
        .map(|n| n.items().to_vec())
        .unwrap_or_default()
    {
        match l.scalar_text().as_deref().and_then(generate::literal) {
            Some((key, v)) => items.push(Item {
                key,
                value: v.into_bytes(),
                at: l.at,
            }),
            None => b.error(k, field, l.at, "a literal must be key=value"),
        }
    }
    for f in g
        .get("files")
        .map(|n| n.items().to_vec())
        .unwrap_or_default()
    {
        let Some(s) = f.as_str() else { continue };
        let (key, rel) = match s.split_once('=') {
            Some((key, rel)) => (key.to_string(), rel),
            None => (
                Path::new(s)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                s,
            ),
        };
        let p = normalize(&k.dir.join(rel));
        match b.read_bytes(&p) {
            Ok(bytes) => items.push(Item {
                key,
                value: bytes,
                at: f.at,
            }),
            Err(err) => b.error(k, field, f.at, format!("files: {s}: {err}")),
        }
    }
    let at = g.at;
    let local = g.get("options");
    let disable = truthy(global, "disableNameSuffixHash") || truthy(local, "disableNameSuffixHash");
    let immutable = truthy(global, "immutable") || truthy(local, "immutable");
    let meta_pairs = |key: &str| -> Vec<KEntry> {
        let mut out: Vec<KEntry> = Vec::new();
        for src in [global, local].into_iter().flatten() {
            for e in src.get(key).map(KNode::entries).unwrap_or_default() {
                let v = KNode::str(e.node.scalar_text().unwrap_or_default(), e.node.at);
                match out.iter_mut().find(|o| o.key == e.key) {
                    Some(o) => o.node = v,
                    None => out.push(KEntry {
                        key: e.key.clone(),
                        at: e.at,
                        node: v,
                    }),
                }
            }
        }
        out
    };
    let labels = meta_pairs("labels");
    let annotations = meta_pairs("annotations");
    let (data, binary) = generate::data_nodes(&items, secret);
    let kind = if secret { "Secret" } else { "ConfigMap" };
    let behavior = str_field(g, "behavior").unwrap_or("create");
    let namespace = str_field(g, "namespace");
    if behavior == "merge" || behavior == "replace" {
        let found = ra.iter_mut().find(|r| {
            r.kind() == kind
                && r.had_name(name)
                && namespace
                    .is_none_or(|ns| r.namespace() == ns || r.namespaces.iter().any(|n| n == ns))
        });
        let Some(r) = found else {
            b.error(
                k,
                field,
                at,
                format!("behavior {behavior}: no {kind} {name} to {behavior}"),
            );
            return;
        };
        if behavior == "replace" {
            r.obj.remove("data");
            r.obj.remove("binaryData");
        }
        let data_key = "data";
        generate::merge_into(&mut r.obj, data_key, data, at);
        generate::merge_into(&mut r.obj, "binaryData", binary, at);
        if let Some(meta) = r.obj.child_map("metadata", at) {
            generate::merge_into(meta, "labels", labels, at);
            generate::merge_into(meta, "annotations", annotations, at);
        }
        r.needs_hash = r.needs_hash && !disable;
        return;
    }
    let mut obj = KNode::map(at);
    obj.set("apiVersion", KNode::str("v1", at), at);
    obj.set("kind", KNode::str(kind, at), at);
    let mut meta = KNode::map(at);
    meta.set("name", KNode::str(name, at), at);
    if let Some(ns) = namespace {
        meta.set("namespace", KNode::str(ns, at), at);
    }
    if !labels.is_empty() {
        meta.set("labels", KNode::new(Val::Map(labels), at), at);
    }
    if !annotations.is_empty() {
        meta.set("annotations", KNode::new(Val::Map(annotations), at), at);
    }
    obj.set("metadata", meta, at);
    if secret {
        let ty = str_field(g, "type").unwrap_or("Opaque");
        obj.set("type", KNode::str(ty, at), at);
    }
    // kustomize writes `data: {}` on an empty Secret, nothing on an empty ConfigMap.
    if !data.is_empty() || (secret && binary.is_empty()) {
        obj.set("data", KNode::new(Val::Map(data), at), at);
    }
    if !binary.is_empty() {
        obj.set("binaryData", KNode::new(Val::Map(binary), at), at);
    }
    if immutable {
        obj.set("immutable", KNode::new(Val::Bool(true), at), at);
    }
    let r = Resource::new(obj, !disable);
    b.push(k, field, at, ra, r);
}

/// Runs the built-in transformers of `k` on `ra`.
pub fn run(b: &mut Builder, k: &Kust, ra: &mut Vec<Resource>) {
    for p in k
        .field("patchesStrategicMerge")
        .map(|n| n.items().to_vec())
        .unwrap_or_default()
    {
        // An entry is a file path or an inline patch.
        let Some(s) = p.as_str() else { continue };
        let docs = if s.contains('\n') || s.trim_start().starts_with('{') {
            inline_docs(b, k, &p, s)
        } else {
            match patch_file(b, k, "patchesStrategicMerge", &p, s) {
                Some(d) => d,
                None => continue,
            }
        };
        for doc in docs {
            smp_by_id(b, k, "patchesStrategicMerge", ra, &doc, p.at);
        }
    }
    for p in k
        .field("patches")
        .map(|n| n.items().to_vec())
        .unwrap_or_default()
    {
        patch_entry(b, k, "patches", ra, &p);
    }
    if let Some(ns) = k
        .field("namespace")
        .and_then(KNode::as_str)
        .map(str::to_string)
    {
        let at = k.field("namespace").map(|n| n.at).unwrap_or_default();
        namespace(ra, &ns, at);
        let specs: Vec<FieldSpec> = b
            .extra_specs
            .iter()
            .filter(|(f, _)| f == "namespace")
            .map(|(_, s)| s.clone())
            .collect();
        for r in ra.iter_mut() {
            let (group, kind) = (r.group().to_string(), r.kind().to_string());
            for spec in specs.iter().filter(|s| s.applies(&group, &kind)) {
                let path: Vec<&str> = spec.path.split('/').collect();
                visit(&mut r.obj, &path, spec.create, at, &mut |parent, key| {
                    if spec.create || parent.get(key).is_some() {
                        parent.set(key, KNode::str(ns.clone(), at), at);
                    }
                });
            }
        }
    }
    let prefix = k
        .field("namePrefix")
        .and_then(KNode::scalar_text)
        .unwrap_or_default();
    let suffix = k
        .field("nameSuffix")
        .and_then(KNode::scalar_text)
        .unwrap_or_default();
    if !prefix.is_empty() || !suffix.is_empty() {
        for r in ra.iter_mut() {
            if fieldspec::prefix_skipped(r.group(), r.kind()) {
                continue;
            }
            let at = r
                .obj
                .at_path(&["metadata", "name"])
                .map(|n| n.at)
                .unwrap_or(r.at);
            let name = format!("{prefix}{}{suffix}", r.name());
            r.rename(name, at);
        }
    }
    let extra = |name: &str| -> Vec<FieldSpec> {
        b.extra_specs
            .iter()
            .filter(|(f, _)| f == name)
            .map(|(_, s)| s.clone())
            .collect()
    };
    let extra_labels = extra("commonLabels");
    let extra_annotations = extra("commonAnnotations");
    if let Some(labels) = k.field("commonLabels") {
        let mut specs = fieldspec::common_labels();
        specs.extend(extra_labels.iter().cloned());
        add_pairs(ra, labels, &specs);
    }
    for l in k
        .field("labels")
        .map(|n| n.items().to_vec())
        .unwrap_or_default()
    {
        let Some(pairs) = l.get("pairs") else {
            continue;
        };
        let specs = if truthy(Some(&l), "includeSelectors") {
            let mut specs = fieldspec::common_labels();
            specs.extend(extra_labels.iter().cloned());
            specs
        } else if truthy(Some(&l), "includeTemplates") {
            fieldspec::template_labels()
        } else {
            fieldspec::metadata_labels()
        };
        let mut specs = specs;
        specs.extend(
            l.get("fields")
                .map(fieldspec::parse_specs)
                .unwrap_or_default(),
        );
        add_pairs(ra, pairs, &specs);
    }
    if let Some(ann) = k.field("commonAnnotations") {
        let mut specs = fieldspec::common_annotations();
        specs.extend(extra_annotations);
        add_pairs(ra, ann, &specs);
    }
    for p in k
        .field("patchesJson6902")
        .map(|n| n.items().to_vec())
        .unwrap_or_default()
    {
        patch_entry(b, k, "patchesJson6902", ra, &p);
    }
    for rep in k
        .field("replicas")
        .map(|n| n.items().to_vec())
        .unwrap_or_default()
    {
        replicas(b, k, ra, &rep);
    }
    for img in k
        .field("images")
        .map(|n| n.items().to_vec())
        .unwrap_or_default()
    {
        for r in ra.iter_mut() {
            images(&mut r.obj, &img);
        }
    }
    let mut reps = Vec::new();
    for rep in k
        .field("replacements")
        .map(|n| n.items().to_vec())
        .unwrap_or_default()
    {
        match rep.get("path").and_then(KNode::as_str) {
            Some(rel) => {
                for doc in patch_file(b, k, "replacements", &rep, rel).unwrap_or_default() {
                    match &doc.val {
                        Val::Seq(items) => reps.extend(items.iter().cloned()),
                        _ => reps.push(doc),
                    }
                }
            }
            None => reps.push(rep),
        }
    }
    if !reps.is_empty() {
        for message in replace::replacements(ra, &reps) {
            let at = k.loc("replacements");
            b.error(k, "replacements", at, message);
        }
    }
}

/// Shifts the lines of an inline patch's nodes to where it sits in the
/// kustomization file.
fn shift(node: &mut KNode, offset: u32) {
    if node.at.line > 0 {
        node.at.line += offset;
    }
    match &mut node.val {
        Val::Seq(items) => items.iter_mut().for_each(|n| shift(n, offset)),
        Val::Map(es) => es.iter_mut().for_each(|e| {
            if e.at.line > 0 {
                e.at.line += offset;
            }
            shift(&mut e.node, offset);
        }),
        _ => {}
    }
}

fn inline_docs(b: &mut Builder, k: &Kust, node: &KNode, text: &str) -> Vec<KNode> {
    let docs = b.parse_docs(text, k.file, &k.display);
    // A block scalar's text starts on the line after its key.
    let offset = if text.contains('\n') {
        node.at.line
    } else {
        node.at.line.saturating_sub(1)
    };
    docs.into_iter()
        .filter(|d| !matches!(d.val, Val::Null))
        .map(|mut d| {
            shift(&mut d, offset);
            if !text.contains('\n') {
                d.relocate(node.at);
            }
            d
        })
        .collect()
}

fn patch_file(
    b: &mut Builder,
    k: &Kust,
    field: &str,
    node: &KNode,
    rel: &str,
) -> Option<Vec<KNode>> {
    let p = normalize(&k.dir.join(rel));
    match b.read(&p) {
        Ok((file, text)) => {
            let display = b.files_display(file);
            Some(
                b.parse_docs(&text, file, &display)
                    .into_iter()
                    .filter(|d| !matches!(d.val, Val::Null))
                    .collect(),
            )
        }
        Err(e) => {
            b.error(k, field, node.at, format!("{rel}: {e}"));
            None
        }
    }
}

/// A strategic merge patch applied to the object with its kind and name.
fn smp_by_id(
    b: &mut Builder,
    k: &Kust,
    field: &str,
    ra: &mut Vec<Resource>,
    patch: &KNode,
    at: Loc,
) {
    let kind = patch.get("kind").and_then(KNode::as_str).unwrap_or("");
    let name = patch
        .at_path(&["metadata", "name"])
        .and_then(KNode::scalar_text)
        .unwrap_or_default();
    let ns = patch
        .at_path(&["metadata", "namespace"])
        .and_then(KNode::as_str);
    let idx: Vec<usize> = ra
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.kind() == kind
                && r.had_name(&name)
                && ns.is_none_or(|ns| {
                    r.namespaces
                        .iter()
                        .any(|n| n == ns || (n.is_empty() && ns == "default"))
                })
        })
        .map(|(i, _)| i)
        .collect();
    if idx.is_empty() {
        b.error(k, field, at, format!("no object {kind} {name} to patch"));
        return;
    }
    if idx.len() > 1 && ns.is_none() {
        b.error(
            k,
            field,
            at,
            format!(
                "{kind} {name} matches {} objects; the patch must name a namespace",
                idx.len()
            ),
        );
        return;
    }
    apply_smp(ra, &idx, patch);
}

fn apply_smp(ra: &mut Vec<Resource>, idx: &[usize], patch: &KNode) {
    let mut delete = Vec::new();
    for &i in idx {
        let r = &mut ra[i];
        let keep_name = r.obj.at_path(&["metadata", "name"]).cloned();
        let keep_ns = r.obj.at_path(&["metadata", "namespace"]).cloned();
        let group = r.group().to_string();
        if merge::apply(&mut r.obj, patch, &group) == merge::Outcome::Delete {
            delete.push(i);
            continue;
        }
        // A patch names its target; it does not rename it.
        if let Some(meta) = r.obj.child_map("metadata", r.at) {
            for (key, kept) in [("name", keep_name), ("namespace", keep_ns)] {
                match kept {
                    Some(n) => meta.set(key, n, Loc::default()),
                    None => {
                        meta.remove(key);
                    }
                }
            }
        }
    }
    for i in delete.into_iter().rev() {
        ra.remove(i);
    }
}

/// One entry of `patches` (or `patchesJson6902`): a patch file or inline
/// patch, with an optional target selector.
fn patch_entry(b: &mut Builder, k: &Kust, field: &str, ra: &mut Vec<Resource>, p: &KNode) {
    let docs = if let Some(text) = p.get("patch").and_then(KNode::as_str) {
        let node = p.get("patch").cloned().unwrap_or_else(|| p.clone());
        inline_docs(b, k, &node, text)
    } else if let Some(rel) = p.get("path").and_then(KNode::as_str) {
        match patch_file(b, k, field, p, rel) {
            Some(d) => d,
            None => return,
        }
    } else {
        b.error(k, field, p.at, "an entry needs path or patch");
        return;
    };
    let target = p.get("target");
    let json6902 = docs.first().is_some_and(|d| matches!(d.val, Val::Seq(_)));
    if json6902 {
        let Some(target) = target else {
            b.error(k, field, p.at, "a JSON 6902 patch needs a target");
            return;
        };
        let idx = select(ra, target);
        if idx.is_empty() {
            b.notice(
                k,
                field,
                format!("target at line {} matches no object", target.at.line),
            );
            return;
        }
        for i in idx {
            if let Err(e) = jsonpatch::apply(&mut ra[i].obj, &docs[0]) {
                b.error(
                    k,
                    field,
                    p.at,
                    format!("{} {}: {e}", ra[i].kind(), ra[i].name()),
                );
            }
            ra[i].sync_identity();
        }
        return;
    }
    for doc in docs {
        match target {
            Some(t) => {
                let idx = select(ra, t);
                if idx.is_empty() {
                    b.notice(
                        k,
                        field,
                        format!("target at line {} matches no object", t.at.line),
                    );
                    continue;
                }
                apply_smp(ra, &idx, &doc);
            }
            None => smp_by_id(b, k, field, ra, &doc, p.at),
        }
    }
}

fn full_match(pattern: &str, value: &str) -> bool {
    match Regex::new(&format!("^(?:{pattern})$")) {
        Ok(re) => re.is_match(value),
        Err(_) => pattern == value,
    }
}

/// Indexes of the objects a `target` selector picks.
fn select(ra: &[Resource], t: &KNode) -> Vec<usize> {
    let get = |key: &str| t.get(key).and_then(KNode::scalar_text);
    let (group, version, kind, name, ns) = (
        get("group"),
        get("version"),
        get("kind"),
        get("name"),
        get("namespace"),
    );
    let labels = get("labelSelector");
    let annotations = get("annotationSelector");
    ra.iter()
        .enumerate()
        .filter(|(_, r)| {
            group.as_deref().is_none_or(|g| full_match(g, r.group()))
                && version
                    .as_deref()
                    .is_none_or(|v| full_match(v, r.version()))
                && kind.as_deref().is_none_or(|k| full_match(k, r.kind()))
                && name
                    .as_deref()
                    .is_none_or(|n| r.names.iter().any(|have| full_match(n, have)))
                && ns.as_deref().is_none_or(|n| {
                    r.namespaces
                        .iter()
                        .any(|have| full_match(n, if have.is_empty() { "default" } else { have }))
                })
                && labels
                    .as_deref()
                    .is_none_or(|s| selector_matches(s, &r.labels()))
                && annotations
                    .as_deref()
                    .is_none_or(|s| selector_matches(s, &r.annotations()))
        })
        .map(|(i, _)| i)
        .collect()
}

/// A Kubernetes label selector (`a=b,c!=d,e in (x,y),!f,g`).
fn selector_matches(selector: &str, labels: &[(String, String)]) -> bool {
    let get = |k: &str| {
        labels
            .iter()
            .find(|(lk, _)| lk == k)
            .map(|(_, v)| v.as_str())
    };
    let mut terms = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&selector[start..]);
    terms
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .all(|t| {
            if let Some(k) = t.strip_prefix('!') {
                return get(k.trim()).is_none();
            }
            if let Some((k, v)) = t.split_once("!=") {
                return get(k.trim()) != Some(v.trim());
            }
            if let Some((k, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
                return get(k.trim()) == Some(v.trim());
            }
            let set = |rest: &str| -> Vec<String> {
                rest.trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .collect()
            };
            if let Some((k, rest)) = t.split_once(" notin ") {
                return get(k.trim()).is_none_or(|v| !set(rest).iter().any(|s| s == v));
            }
            if let Some((k, rest)) = t.split_once(" in ") {
                return get(k.trim()).is_some_and(|v| set(rest).iter().any(|s| s == v));
            }
            get(t).is_some()
        })
}

fn namespace(ra: &mut [Resource], ns: &str, at: Loc) {
    for r in ra.iter_mut() {
        let kind = r.kind().to_string();
        let group = r.group().to_string();
        if !fieldspec::CLUSTER_SCOPED.contains(&kind.as_str()) {
            r.set_namespace(ns, at);
        }
        if (kind == "RoleBinding" || kind == "ClusterRoleBinding")
            && let Some(Val::Seq(subjects)) = r.obj.get_mut("subjects").map(|n| &mut n.val)
        {
            for s in subjects {
                if s.get("name").and_then(KNode::as_str) == Some("default") {
                    s.set("namespace", KNode::str(ns, at), at);
                }
            }
        }
        if kind == "APIService"
            && group == "apiregistration.k8s.io"
            && let Some(svc) = r.obj.get_mut("spec").and_then(|s| s.get_mut("service"))
        {
            svc.set("namespace", KNode::str(ns, at), at);
        }
        if kind == "CustomResourceDefinition" {
            let path = ["spec", "conversion", "webhook", "clientConfig", "service"];
            let mut cur = Some(&mut r.obj);
            for p in path {
                cur = cur.and_then(|n| n.get_mut(p));
            }
            if let Some(svc) = cur.filter(|n| n.get("namespace").is_some()) {
                svc.set("namespace", KNode::str(ns, at), at);
            }
        }
    }
}

/// Writes the pairs of a `commonLabels`/`commonAnnotations`/`labels` map at
/// every field spec that applies.
fn add_pairs(ra: &mut [Resource], pairs: &KNode, specs: &[FieldSpec]) {
    if pairs.entries().is_empty() {
        return;
    }
    for r in ra.iter_mut() {
        let (group, kind) = (r.group().to_string(), r.kind().to_string());
        for spec in specs.iter().filter(|s| s.applies(&group, &kind)) {
            let path: Vec<&str> = spec.path.split('/').collect();
            visit(
                &mut r.obj,
                &path,
                spec.create,
                pairs.at,
                &mut |parent, key| {
                    let exists = parent.get(key).is_some_and(|n| n.is_map());
                    if !exists && !spec.create {
                        return;
                    }
                    if let Some(map) = parent.child_map(key, pairs.at) {
                        for e in pairs.entries() {
                            let v = KNode::str(e.node.scalar_text().unwrap_or_default(), e.node.at);
                            map.set(&e.key, v, e.at);
                        }
                    }
                },
            );
        }
    }
}

fn replicas(b: &mut Builder, k: &Kust, ra: &mut [Resource], rep: &KNode) {
    let Some(name) = rep.get("name").and_then(KNode::as_str) else {
        b.error(k, "replicas", rep.at, "an entry without name");
        return;
    };
    let Some(count) = rep.get("count").filter(|c| matches!(c.val, Val::Num(_))) else {
        b.error(k, "replicas", rep.at, "an entry without a numeric count");
        return;
    };
    let specs = fieldspec::replicas();
    let mut any = false;
    for r in ra.iter_mut().filter(|r| r.had_name(name)) {
        let (group, kind) = (r.group().to_string(), r.kind().to_string());
        for spec in specs.iter().filter(|s| s.applies(&group, &kind)) {
            any = true;
            let path: Vec<&str> = spec.path.split('/').collect();
            visit(&mut r.obj, &path, true, rep.at, &mut |parent, key| {
                parent.set(key, count.clone(), rep.at);
            });
        }
    }
    if !any {
        b.notice(k, "replicas", format!("{name} matches no object"));
    }
}

/// Applies one `images` entry to every container image of `obj`.
fn images(obj: &mut KNode, img: &KNode) {
    match &mut obj.val {
        Val::Map(es) => {
            for e in es.iter_mut() {
                if matches!(
                    e.key.as_str(),
                    "containers" | "initContainers" | "ephemeralContainers"
                ) && let Val::Seq(items) = &mut e.node.val
                {
                    for c in items.iter_mut() {
                        if let Some(image) = c.get_mut("image") {
                            retag(image, img);
                        }
                    }
                }
                images(&mut e.node, img);
            }
        }
        Val::Seq(items) => items.iter_mut().for_each(|i| images(i, img)),
        _ => {}
    }
}

/// `name[:tag][@digest]` split into its parts.
fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    match rest.rfind(':') {
        Some(i) if !rest[i + 1..].contains('/') => (&rest[..i], Some(&rest[i + 1..]), digest),
        _ => (rest, None, digest),
    }
}

fn retag(image: &mut KNode, img: &KNode) {
    let Some(current) = image.as_str() else {
        return;
    };
    let Some(want) = img.get("name").and_then(KNode::as_str) else {
        return;
    };
    let (name, tag, digest) = split_image(current);
    if name != want {
        return;
    }
    let new_name = img
        .get("newName")
        .and_then(KNode::scalar_text)
        .unwrap_or_else(|| name.to_string());
    let new_tag = img.get("newTag").and_then(KNode::scalar_text);
    let new_digest = img.get("digest").and_then(KNode::scalar_text);
    let result = match (new_tag, new_digest) {
        (Some(t), Some(d)) => format!("{new_name}:{t}@{d}"),
        (Some(t), None) => format!("{new_name}:{t}"),
        (None, Some(d)) => format!("{new_name}@{d}"),
        (None, None) => {
            let mut s = new_name;
            if let Some(t) = tag {
                s = format!("{s}:{t}");
            }
            if let Some(d) = digest {
                s = format!("{s}@{d}");
            }
            s
        }
    };
    image.val = Val::Str(result);
    image.at = img.at;
}
