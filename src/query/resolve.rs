//! Following a [`Path`] through an entity, seeing values the way the
//! platform would (its model's [`view`](crate::platform::Model::view)): an
//! expression not yet evaluated, or a value only known at deploy time, is
//! *unknown*.
//!
//! Unknown is not false. A path that runs into an unknown value reports it,
//! and the condition built on it then neither fires nor clears: scanners
//! that guess here flood their users with false positives.

use super::path::{Path, Root, Seg, Step, Trail, extend};
use crate::platform::{Entity, Model, Platform, View, kind_covers};
use crate::tree::{Node, Span, Value};

/// Everything a condition may look at for one entity.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The model of the entity's platform.
    pub model: &'static dyn Model,
    /// All entities of the entity's file (for `$parent`).
    pub entities: &'a [Entity<'a>],
    /// Index of the entity in `entities`.
    pub entity: usize,
    /// The document the entity is in.
    pub document: &'a Node,
    /// Every file of the unit, for relations between entities.
    pub unit: &'a [UnitFile<'a>],
    /// Where values decoded during evaluation live (a JSON policy written
    /// as a string), for as long as the unit's findings are being made.
    pub scratch: &'a Scratch,
    /// The module call chain of the entity's file (`None` for the root
    /// module): relations stay within one module instance.
    pub module: Option<&'a str>,
    /// What the unit's evaluation computes once and reuses.
    pub cache: &'a UnitCache<'a>,
    /// The selectors of the whole scan, for `selected_by`; `None` where
    /// there is no scan around the entity (an admission request).
    pub scan: Option<&'a super::scan_index::ScanIndex>,
}

/// Relation indexes by (the relation's address, platform, module
/// instance), type-erased.
pub type RelationIndexes = std::cell::RefCell<
    std::collections::HashMap<(usize, Platform, Option<String>), std::rc::Rc<dyn std::any::Any>>,
>;

/// What evaluating one unit computes once and reuses across its entities,
/// so that no query costs more than linear time in the unit (issue 21,
/// item 10).
#[derive(Default)]
pub struct UnitCache<'a> {
    /// Relation indexes, built on first use (by the relation's address,
    /// platform and module instance). Held as `Any` so that this module,
    /// which everything in the engine reads, imports none of them.
    pub relations: RelationIndexes,
    /// Outcomes of quantifiers over an enclosing entity's array (every
    /// `RUN` of a stage asking about `$parent.instructions`), by the
    /// quantifier's address, its root's and the document's, for its
    /// siblings.
    pub shared_quantifiers:
        std::cell::RefCell<std::collections::HashMap<(usize, usize, usize), Outcome<'a>>>,
    /// The anchor segments of the elements of arrays findings pointed into.
    pub anchors: AnchorCache,
}

/// The anchor segment of every element of arrays already seen, by the
/// array's address: a RUN of 20,000 commands with a finding on each names
/// its elements once, not once per finding.
#[derive(Default)]
pub struct AnchorCache(
    pub std::cell::RefCell<std::collections::HashMap<usize, std::rc::Rc<Vec<String>>>>,
);

/// Storage for nodes made while evaluating a unit.
pub type Scratch = typed_arena::Arena<Node>;

/// One file of a unit with its entities, for relations.
pub struct UnitFile<'a> {
    /// The file's platform.
    pub platform: Platform,
    /// The module call chain the file was read under (`None` for the root
    /// module): relations stay within one module instance.
    pub module: Option<&'a str>,
    /// The file's parsed documents.
    pub documents: &'a [Node],
    /// The file's entities.
    pub entities: Vec<Entity<'a>>,
    /// Indices into `entities` by kind, so a relation visits only the
    /// entities of the kind it asks for.
    pub by_kind: Vec<(String, Vec<usize>)>,
}

impl<'a> UnitFile<'a> {
    /// A file's entities, indexed by kind.
    pub fn new(
        platform: Platform,
        module: Option<&'a str>,
        documents: &'a [Node],
        entities: Vec<Entity<'a>>,
    ) -> UnitFile<'a> {
        let mut by_kind: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, e) in entities.iter().enumerate() {
            match by_kind.iter_mut().find(|(k, _)| *k == e.kind) {
                Some((_, list)) => list.push(i),
                None => by_kind.push((e.kind.clone(), vec![i])),
            }
        }
        UnitFile {
            platform,
            module,
            documents,
            entities,
            by_kind,
        }
    }

    /// Indices of the entities whose kind the selector covers.
    pub fn of_kind<'s>(&'s self, selector: &'s str) -> impl Iterator<Item = usize> + 's {
        self.by_kind
            .iter()
            .filter(move |(k, _)| kind_covers(selector, k))
            .flat_map(|(_, list)| list.iter().copied())
    }
}

/// Where a condition matched.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit<'a> {
    /// The offending value, or the header of what lacks something.
    pub span: Span,
    /// Its path from the entity, for the fingerprint.
    pub path: Trail<'a>,
    /// The value found; `None` when missing. Rendered as a message shows
    /// it only for the hits that become findings (most hits of `not`,
    /// `any` and relations are discarded).
    pub value: Option<HitValue<'a>>,
}

/// The value a [`Hit`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum HitValue<'a> {
    /// A node of the tree.
    Node(&'a Node),
    /// A text made by the condition (the name a reference points at).
    Text(String),
}

impl HitValue<'_> {
    /// As a message shows it: strings quoted, the rest as written.
    pub fn render(&self) -> String {
        match self {
            HitValue::Node(node) => render(node),
            HitValue::Text(text) => text.clone(),
        }
    }
}

/// The result of a condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<'a> {
    /// It holds, here.
    Match(Vec<Hit<'a>>),
    /// It does not hold.
    NoMatch,
    /// It depends on a value rampart does not know.
    Unknown,
}

impl<'a> Outcome<'a> {
    pub(super) fn from_hits(hits: Vec<Hit<'a>>, unknown: bool) -> Outcome<'a> {
        if !hits.is_empty() {
            Outcome::Match(hits)
        } else if unknown {
            Outcome::Unknown
        } else {
            Outcome::NoMatch
        }
    }
}

/// What a quantifier or the entity puts in scope for relative paths.
#[derive(Clone, Debug)]
pub struct Scope<'a> {
    /// The node relative paths start from.
    pub node: &'a Node,
    /// Where a finding about this scope as a whole points.
    pub header: Span,
    /// Its path from the entity (empty for the entity itself).
    pub path: Trail<'a>,
    /// The key of the object entry in scope, inside `any_entry`.
    pub key: Option<&'a crate::tree::Entry>,
}

/// A value a path reached.
#[derive(Clone, Debug)]
pub struct Found<'a> {
    /// The value, as the platform sees it (a parameter's default for a
    /// reference to a parameter).
    pub node: &'a Node,
    /// Where the value was written in the entity (the reference itself,
    /// not the parameter's default).
    pub site: Span,
    /// Its concrete path from the entity (`ingress[1].cidr_blocks[0]`).
    pub path: Trail<'a>,
}

/// Everything a path reached, and whether some of it could not be seen.
#[derive(Clone, Debug, Default)]
pub struct Resolution<'a> {
    /// The values reached.
    pub found: Vec<Found<'a>>,
    /// Some branch stopped at a value rampart cannot know.
    pub unknown: bool,
    /// Values the path reached that are present but unknown (an
    /// unevaluated expression): present for `exists`/`missing`, unknown for
    /// every other test.
    pub present_unknown: Vec<Found<'a>>,
    /// Where the deepest existing parent of a missing value was written
    /// (its key), and its path: a missing `versioning.enabled` points at
    /// `versioning` when that exists.
    pub nearest: Option<(Span, Trail<'a>)>,
    nearest_depth: usize,
}

fn view<'a>(node: &'a Node, ctx: &Context<'a>) -> View<'a> {
    ctx.model.view(node, ctx.document)
}

/// The node a path's root names.
fn root<'a>(
    path: &Path,
    scope: &Scope<'a>,
    ctx: &Context<'a>,
) -> Option<(&'a Node, Span, Trail<'a>)> {
    match path.root {
        Root::Current => Some((scope.node, scope.header, scope.path.clone())),
        Root::Entity => {
            let e = ctx.entities.get(ctx.entity)?;
            Some((e.node, e.header, Vec::new()))
        }
        Root::Document => Some((ctx.document, ctx.document.span, vec![Seg::Document])),
        Root::Key => {
            let entry = scope.key?;
            let key: &'a Node = ctx
                .scratch
                .alloc(Node::new(Value::String(entry.key.clone()), entry.key_span));
            Some((key, entry.key_span, scope.path.clone()))
        }
        Root::Parent(levels) => {
            let mut index = ctx.entity;
            for _ in 0..levels {
                index = ctx.entities.get(index)?.parent?;
            }
            let e = ctx.entities.get(index)?;
            Some((e.node, e.header, vec![Seg::Parent; levels]))
        }
    }
}

/// The node `path` starts from, seen from `scope`.
pub fn root_node<'a>(path: &Path, scope: &Scope<'a>, ctx: &Context<'a>) -> Option<&'a Node> {
    root(path, scope, ctx).map(|(node, _, _)| node)
}

/// Follows `path` from `scope`.
pub fn resolve<'a>(path: &'a Path, scope: &Scope<'a>, ctx: &Context<'a>) -> Resolution<'a> {
    let mut out = Resolution::default();
    let Some((start, header, base)) = root(path, scope, ctx) else {
        return out;
    };
    out.nearest = Some((header, base.clone()));
    walk(start, start.span, base, &path.steps, ctx, &mut out, 0);
    out
}

fn walk<'a>(
    node: &'a Node,
    site: Span,
    path: Trail<'a>,
    steps: &'a [Step],
    ctx: &Context<'a>,
    out: &mut Resolution<'a>,
    depth: usize,
) {
    let node = match view(node, ctx) {
        View::Known(n) => n,
        View::Unknown => {
            out.unknown = true;
            if steps.is_empty() {
                out.present_unknown.push(Found { node, site, path });
            }
            return;
        }
    };
    let Some((step, rest)) = steps.split_first() else {
        out.found.push(Found { node, site, path });
        return;
    };
    match (step, &node.value) {
        (Step::Key(key), Value::Object(obj)) => match obj.entry(key) {
            Some(entry) => {
                let child_path = extend(&path, Seg::Key(entry.key.as_str()));
                if !rest.is_empty() && depth + 1 > out.nearest_depth {
                    out.nearest = Some((entry.key_span, child_path.clone()));
                    out.nearest_depth = depth + 1;
                }
                walk(
                    &entry.value,
                    entry.value.span,
                    child_path,
                    rest,
                    ctx,
                    out,
                    depth + 1,
                );
            }
            None => {
                // Absent here, but the platform may generate it (a block
                // not yet expanded): whether it exists is unknown.
                if ctx.model.may_generate(node, key) {
                    out.unknown = true;
                }
            }
        },
        // A JSON document written as a string (an IAM policy in a heredoc,
        // a policy given as text) is walked like the object
        // it encodes; its nodes point at the string.
        (_, Value::String(text)) if looks_like_json(text) => {
            if let Some(decoded) = decode_json(text, node.span) {
                let decoded: &'a Node = ctx.scratch.alloc(decoded);
                walk(decoded, site, path, steps, ctx, out, depth);
            }
        }
        (Step::Key(_), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                walk(
                    item,
                    item.span,
                    extend(&path, Seg::Index(i)),
                    steps,
                    ctx,
                    out,
                    depth,
                );
            }
        }
        (Step::Each, Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                walk(
                    item,
                    item.span,
                    extend(&path, Seg::Index(i)),
                    rest,
                    ctx,
                    out,
                    depth + 1,
                );
            }
        }
        (Step::Each, Value::Null) => {}
        (Step::Each, _) => walk(node, site, path, rest, ctx, out, depth + 1),
        (Step::Index(i), Value::Array(items)) => {
            if let Some(item) = items.get(*i) {
                walk(
                    item,
                    item.span,
                    extend(&path, Seg::Index(*i)),
                    rest,
                    ctx,
                    out,
                    depth + 1,
                );
            }
        }
        _ => {}
    }
}

fn looks_like_json(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('{') || t.starts_with('[')
}

/// Parses JSON text into a node whose every span is `at`.
fn decode_json(text: &str, at: Span) -> Option<Node> {
    let index = crate::tree::LineIndex::new(text);
    let parsed = crate::parse::json::parse(text, &index, crate::parse::json::Strings::Plain);
    if !parsed.errors.is_empty() {
        return None;
    }
    let mut node = parsed.documents.into_iter().next()?;
    node.respan(at);
    Some(node)
}

/// Whether `node` is a value rampart cannot know, as the platform sees it.
pub fn is_unknown<'a>(node: &'a Node, ctx: &Context<'a>) -> bool {
    matches!(view(node, ctx), View::Unknown)
}

/// A value as a message shows it: strings quoted, the rest as written.
pub fn render(node: &Node) -> String {
    match &node.value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Expr(e) => e.source.clone(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().take(8).map(render).collect();
            let more = if items.len() > 8 { ", ..." } else { "" };
            format!("[{}{more}]", inner.join(", "))
        }
        Value::Object(o) => {
            let keys: Vec<&str> = o.entries.iter().take(8).map(|e| e.key.as_str()).collect();
            format!("{{{}}}", keys.join(", "))
        }
    }
}
