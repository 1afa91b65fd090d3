//! Running the registry over a loaded unit: every entity meets the queries
//! that select its kind, and each match becomes a [`Finding`].

use super::path::{Seg, field_path};
use super::registry::Registry;
use super::resolve::{AnchorCache, Context, Hit, Outcome, Scope, Scratch, UnitCache, UnitFile};
use super::scan_index::ScanIndex;
use crate::finding::{Finding, Placement};
use crate::load::LoadedUnit;
use crate::platform::{Entity, LoadedFile, Model, Platform, entities};
use crate::tree::{Node, Value};

/// Entities and findings of one unit.
#[derive(Debug, Default)]
pub struct UnitResult {
    /// The findings, in no particular order (the caller sorts once).
    pub findings: Vec<Finding>,
    /// Number of entities the unit holds.
    pub entities: usize,
}

/// Runs every applicable query over every entity of `unit`, with the
/// scan's selectors in view (`None` where there is no scan: `selected_by`
/// is then unknown). Suppressions are not the engine's business: each
/// finding carries its [`Placement`] for the step after.
pub fn run_unit(registry: &Registry, unit: &LoadedUnit, scan: Option<&ScanIndex>) -> UnitResult {
    let scratch = Scratch::new();
    let files: Vec<UnitFile> = unit.files.iter().map(unit_file).collect();
    let cache = UnitCache::default();
    let mut result = UnitResult::default();
    for (i, loaded) in unit.files.iter().enumerate() {
        run_file(
            registry,
            &files,
            i,
            loaded,
            &scratch,
            &cache,
            scan,
            &mut result,
        );
    }
    result
}

/// Runs every applicable query over a file whose documents arrive in
/// batches (a large Kubernetes stream, issue 21, item 14): only one batch's
/// trees are held at a time. `context` holds the documents of the file that
/// relations may look for (a default ServiceAccount), kept in view of every
/// batch so that findings are those of reading the file whole.
pub fn run_batches(
    registry: &Registry,
    scan: Option<&ScanIndex>,
    loaded: &LoadedFile,
    context: &[Node],
    batches: impl Iterator<Item = Vec<Node>>,
) -> UnitResult {
    let mut result = UnitResult::default();
    for documents in batches {
        let scratch = Scratch::new();
        let files = [
            documents_file(loaded.platform, None, &documents),
            documents_file(loaded.platform, None, context),
        ];
        let cache = UnitCache::default();
        run_file(
            registry,
            &files,
            0,
            loaded,
            &scratch,
            &cache,
            scan,
            &mut result,
        );
    }
    result
}

/// A loaded file's entities, indexed for relations.
fn unit_file(f: &LoadedFile) -> UnitFile<'_> {
    documents_file(f.platform, f.module.as_deref(), &f.documents)
}

/// The entities of `documents`, indexed for relations; those of a module
/// instance are named under its call (`module`).
fn documents_file<'a>(
    platform: Platform,
    module: Option<&'a str>,
    documents: &'a [Node],
) -> UnitFile<'a> {
    let mut found = entities(platform, documents);
    if let Some(chain) = module {
        for e in &mut found {
            e.identity = format!("{chain}.{}", e.identity);
        }
    }
    UnitFile::new(platform, module, documents, found)
}

/// Runs the queries over the entities of `files[index]`, the file `loaded`.
#[allow(clippy::too_many_arguments)]
fn run_file<'a>(
    registry: &'a Registry,
    files: &'a [UnitFile<'a>],
    index: usize,
    loaded: &LoadedFile,
    scratch: &'a Scratch,
    cache: &'a UnitCache<'a>,
    scan: Option<&'a ScanIndex>,
    result: &mut UnitResult,
) {
    let Some(file) = files.get(index) else {
        return;
    };
    result.entities += file.entities.len();
    for (index, entity) in file.entities.iter().enumerate() {
        let queries = registry.for_kind(file.platform, &entity.kind);
        if queries.is_empty() {
            continue;
        }
        let ctx = Context {
            model: file.platform.model(),
            entities: &file.entities,
            entity: index,
            document: &file.documents[entity.document],
            unit: files,
            scratch,
            module: file.module,
            cache,
            scan,
        };
        let scope = Scope {
            node: entity.node,
            header: entity.header,
            path: Vec::new(),
            key: None,
        };
        for (query, rule) in queries {
            let Outcome::Match(hits) = rule.condition.eval(&scope, &ctx) else {
                continue;
            };
            // A set: one entity may have as many hits as a RUN has
            // commands (issue 21, item 10).
            let mut seen: std::collections::HashSet<(u32, u32, &[Seg])> =
                std::collections::HashSet::with_capacity(hits.len());
            for hit in &hits {
                if !seen.insert((hit.span.start, hit.span.end, hit.path.as_slice())) {
                    continue;
                }
                let path = field_path(&hit.path);
                let path_text = path.to_string();
                let value = hit.value.as_ref().map(|v| v.render());
                let placement = placement(ctx.model, &file.entities, index, hit);
                result.findings.push(Finding {
                    query_id: query.id.clone(),
                    severity: query.severity,
                    file: loaded.display.clone(),
                    platform: file.platform,
                    span: hit.span,
                    entity: entity.identity.clone(),
                    message: rule
                        .message
                        .render(value.as_deref(), &path_text, &entity.identity),
                    // Filled in by the scan, which knows where the
                    // repository root is.
                    fingerprint: String::new(),
                    anchor: anchor(&hit.path, &file.entities, index, &ctx, &cache.anchors),
                    path,
                    suppressed: None,
                    placement,
                    value,
                    called_from: loaded.module.as_ref().zip(loaded.module_call.as_ref()).map(
                        |(module, (file, line))| {
                            Box::new(crate::finding::CallSite {
                                file: file.clone(),
                                line: *line,
                                module: module.clone(),
                            })
                        },
                    ),
                });
            }
        }
    }
}

/// Where a finding sits, for the suppression step: the lines a directive
/// may name, the entity's extent, and what the entity itself declares
/// ignored (the nearest entity, walking up, that declares anything).
fn placement(model: &dyn Model, entities: &[Entity], index: usize, hit: &Hit) -> Placement {
    let Some(entity) = entities.get(index) else {
        return Placement::default();
    };
    let start = entity.header.start_line.min(entity.node.span.start_line);
    let mut declared_ignores = None;
    let mut at = Some(index);
    while let Some(e) = at.and_then(|i| entities.get(i)) {
        if let Some((ids, line)) = model.declared_ignores(e) {
            declared_ignores = Some((ids.to_string(), line));
            break;
        }
        at = e.parent;
    }
    Placement {
        anchor_lines: anchor_lines(entities, index, hit),
        entity_lines: (start, entity.node.span.end_line.max(start)),
        declared_ignores,
    }
}

/// A finding's path with each array position replaced by what identifies
/// the element, for its fingerprint: an object's `name` (containers, env
/// variables, ports, listeners by name) or else a hash of its content, so a
/// block added above another leaves the other's fingerprint as it was.
fn anchor(
    trail: &[Seg],
    entities: &[Entity],
    index: usize,
    ctx: &Context,
    anchors: &AnchorCache,
) -> String {
    let Some(entity) = entities.get(index) else {
        return String::new();
    };
    let mut node: Option<&Node> = Some(entity.node);
    let mut at = index;
    let mut out = String::new();
    for seg in trail {
        match *seg {
            Seg::Parent => {
                at = entities.get(at).and_then(|e| e.parent).unwrap_or(at);
                node = entities.get(at).map(|e| e.node);
                out.push_str("$parent.");
            }
            Seg::Document => {
                node = Some(ctx.document);
                out.push_str("$document.");
            }
            Seg::Key(key) => {
                node = node.and_then(|n| n.get(key));
                if !out.is_empty() && !out.ends_with('.') {
                    out.push('.');
                }
                out.push_str(key);
            }
            Seg::Each => out.push_str("[*]"),
            Seg::Index(i) => {
                let array = node.and_then(|n| n.as_array());
                let element = array.and_then(|a| a.get(i));
                match (array, element) {
                    (Some(array), Some(_)) => {
                        let identities = element_identities(array, anchors);
                        out.push_str(identities.get(i).map_or("", String::as_str));
                    }
                    _ => out.push_str(&format!("[{i}]")),
                }
                node = element;
            }
        }
    }
    out
}

/// The anchor segments of an array's elements: each element's identity,
/// with identical elements (two equal statements) told apart by their
/// order among themselves (`[name=web]`, `[name=web]~1`).
fn element_identities(array: &[Node], anchors: &AnchorCache) -> std::rc::Rc<Vec<String>> {
    let key = array.as_ptr() as usize;
    if let Some(known) = anchors.0.borrow().get(&key) {
        return known.clone();
    }
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let identities: Vec<String> = array
        .iter()
        .map(|e| {
            let identity = element_identity(e);
            let twins_before = seen.entry(identity.clone()).or_insert(0);
            let segment = if *twins_before > 0 {
                format!("{identity}~{twins_before}")
            } else {
                identity
            };
            *twins_before += 1;
            segment
        })
        .collect();
    let identities = std::rc::Rc::new(identities);
    anchors.0.borrow_mut().insert(key, identities.clone());
    identities
}

/// How an array element is known in an anchor: `[name=web]`, or
/// `[#<hash of its content>]`.
fn element_identity(element: &Node) -> String {
    if let Some(name) = element.get("name").and_then(Node::as_str) {
        return format!("[name={name}]");
    }
    let content = element.to_json().to_string();
    format!("[#{:016x}]", crate::finding::fnv([content.as_bytes()]))
}

/// The lines an inline suppression may name to cover a finding: where the
/// entity and its enclosing entities start, and where each attribute on the
/// way from the entity to the offending value starts.
fn anchor_lines(entities: &[Entity], index: usize, hit: &Hit) -> Vec<u32> {
    let mut lines = vec![hit.span.start_line];
    let mut at = Some(index);
    while let Some(i) = at {
        let Some(e) = entities.get(i) else {
            break;
        };
        lines.push(e.header.start_line);
        lines.push(e.node.span.start_line);
        at = e.parent;
    }
    if let Some(e) = entities.get(index)
        && !matches!(hit.path.first(), Some(Seg::Parent | Seg::Document))
    {
        let mut node: &Node = e.node;
        for step in &hit.path {
            let next = match (step, &node.value) {
                (Seg::Key(k), Value::Object(o)) => o.entry(k).map(|entry| {
                    lines.push(entry.key_span.start_line);
                    &entry.value
                }),
                (Seg::Index(i), Value::Array(items)) => items.get(*i),
                _ => None,
            };
            let Some(next) = next else {
                break;
            };
            lines.push(next.span.start_line);
            node = next;
        }
    }
    lines.sort_unstable();
    lines.dedup();
    lines
}
