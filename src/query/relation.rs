//! Relations between the entities of a unit: `referenced_by` ("an
//! `aws_s3_bucket_public_access_block` refers to this bucket"),
//! `references` ("this instance uses a security group that...") and
//! `any_entity` ("some `aws_cloudtrail` exists").
//!
//! Asking every entity of a kind whether it refers to *this* entity made a
//! relation query quadratic: 50,000 buckets took a minute (issue 21, item
//! 10). Instead, the first time a relation is evaluated in a unit, its
//! [`RelationIndex`] lists the entities of the kind asked for (in the
//! entity's module and platform) and indexes them by every name they may
//! refer to; each entity then looks its own names up. An entity of the kind
//! that refers to something rampart cannot identify (a variable, a module
//! output) is *unknown* for every entity but the ones it is known to refer
//! to, so the index also counts those.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::path::{Path, Step};
use super::resolve::{Context, Scope, UnitFile};
use crate::platform::Names;
use crate::tree::{Node, Value};

/// Whether a relation holds for an entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Related {
    /// Another entity of the kind refers to it (or, for `any_entity`,
    /// exists) and matches the condition.
    Holds,
    /// None is known to, but one might.
    Unknown,
    /// None does.
    Fails,
}

/// What a relation asks of a referrer beyond referring: its condition,
/// evaluated by the caller (this module does not evaluate conditions).
pub type Check<'c, 'a> = dyn Fn(&Scope<'a>, &Context<'a>) -> Related + 'c;

/// Whether the relation at address `key` (of entities of `kind` referring
/// to the entity through `reference`, and passing `check` when
/// `has_condition`) holds for the entity of `ctx`. Its index is built the
/// first time the relation is evaluated in the unit.
pub fn eval<'a>(
    key: usize,
    kind: &'a str,
    reference: Option<&'a Path>,
    has_condition: bool,
    check: &Check<'_, 'a>,
    ctx: &Context<'a>,
) -> Related {
    let Some(me) = ctx.entities.get(ctx.entity) else {
        return Related::Fails;
    };
    let key = (key, ctx.model.platform(), ctx.module.map(str::to_string));
    // The borrow ends before any condition is evaluated: a condition may
    // itself hold a relation.
    let existing = ctx.cache.relations.borrow().get(&key).cloned();
    let index = match existing.and_then(|any| any.downcast::<RelationIndex>().ok()) {
        Some(index) => index,
        None => {
            let index = Rc::new(RelationIndex::build(kind, reference, ctx));
            let erased: Rc<dyn std::any::Any> = index.clone();
            ctx.cache.relations.borrow_mut().insert(key, erased);
            index
        }
    };
    let check = has_condition.then_some(check);
    match reference {
        None => index.any(check, ctx),
        Some(path) => index.referring_to(&ctx.model.names(me), path, check, ctx),
    }
}

/// What `references` found from the entity of `ctx`: whether an entity of
/// `kind` it refers to at `reference` (through lists) passes `check`, and
/// when it does, the node that refers to it and the name it refers by.
pub fn eval_outgoing<'a>(
    key: usize,
    kind: &'a str,
    reference: &'a Path,
    has_condition: bool,
    check: &Check<'_, 'a>,
    ctx: &Context<'a>,
) -> (Related, Option<(&'a Node, String)>) {
    let Some(me) = ctx.entities.get(ctx.entity) else {
        return (Related::Fails, None);
    };
    let key = (key, ctx.model.platform(), ctx.module.map(str::to_string));
    let existing = ctx.cache.relations.borrow().get(&key).cloned();
    let index = match existing.and_then(|any| any.downcast::<TargetIndex>().ok()) {
        Some(index) => index,
        None => {
            let index = Rc::new(TargetIndex::build(kind, ctx));
            let erased: Rc<dyn std::any::Any> = index.clone();
            ctx.cache.relations.borrow_mut().insert(key, erased);
            index
        }
    };
    let check = has_condition.then_some(check);
    let mut nodes: Vec<&'a Node> = Vec::new();
    collect_raw(me.node, &reference.steps, &mut nodes);
    let mut unknown = false;
    for node in nodes {
        let references = ctx.model.references(node);
        unknown |= references.opaque;
        let mut found = false;
        for name in &references.names {
            for id in index.named(name) {
                found = true;
                match outcome_of(&index.outcomes, id, index.targets[id as usize], check, ctx) {
                    Related::Holds => return (Related::Holds, Some((node, name.clone()))),
                    Related::Unknown => unknown = true,
                    Related::Fails => {}
                }
            }
        }
        // A literal name that names no entity here may be the physical
        // name of one whose own name is an expression.
        if references.literal && !found && index.incomplete > 0 {
            unknown = true;
        }
    }
    let related = if unknown {
        Related::Unknown
    } else {
        Related::Fails
    };
    (related, None)
}

/// The entities of one kind in one module instance, indexed by their own
/// names, for `references`.
pub struct TargetIndex {
    /// (file index, entity index) of each entity of the kind.
    targets: Vec<(usize, usize)>,
    /// Each target's names, to confirm a hash lookup.
    names: Vec<Vec<String>>,
    /// Targets by a hash of each of their names.
    by_name: HashMap<u64, Vec<u32>>,
    /// Targets whose names are not complete.
    incomplete: usize,
    /// The condition's outcome on each target, once evaluated.
    outcomes: RefCell<Vec<Option<Related>>>,
}

impl TargetIndex {
    fn build(kind: &str, ctx: &Context<'_>) -> TargetIndex {
        let mut index = TargetIndex {
            targets: Vec::new(),
            names: Vec::new(),
            by_name: HashMap::new(),
            incomplete: 0,
            outcomes: RefCell::new(Vec::new()),
        };
        for (file_index, file) in ctx.unit.iter().enumerate() {
            if file.platform != ctx.model.platform() || file.module != ctx.module {
                continue;
            }
            for entity in file.of_kind(kind) {
                let id = index.targets.len() as u32;
                let names = ctx.model.names(&file.entities[entity]);
                index.incomplete += usize::from(!names.complete);
                for name in &names.names {
                    let list = index.by_name.entry(fnv(name.as_bytes())).or_default();
                    if list.last() != Some(&id) {
                        list.push(id);
                    }
                }
                index.targets.push((file_index, entity));
                index.names.push(names.names);
            }
        }
        index.outcomes = RefCell::new(vec![None; index.targets.len()]);
        index
    }

    /// The targets named `name`.
    fn named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = u32> + 's {
        self.by_name
            .get(&fnv(name.as_bytes()))
            .into_iter()
            .flatten()
            .copied()
            .filter(move |&id| self.names[id as usize].iter().any(|n| n == name))
    }
}

/// The condition on the entity at (file, entity) of the unit, evaluated
/// once and kept in `outcomes[id]`.
fn outcome_of<'a>(
    outcomes: &RefCell<Vec<Option<Related>>>,
    id: u32,
    (file_index, entity): (usize, usize),
    check: Option<&Check<'_, 'a>>,
    ctx: &Context<'a>,
) -> Related {
    let Some(check) = check else {
        return Related::Holds;
    };
    if let Some(Some(known)) = outcomes.borrow().get(id as usize) {
        return *known;
    }
    let file = &ctx.unit[file_index];
    let other = &file.entities[entity];
    let other_ctx = Context {
        model: file.platform.model(),
        entities: &file.entities,
        entity,
        document: document_of(file, other.document),
        unit: ctx.unit,
        scratch: ctx.scratch,
        module: file.module,
        cache: ctx.cache,
        scan: ctx.scan,
    };
    let other_scope = Scope {
        node: other.node,
        header: other.header,
        path: Vec::new(),
        key: None,
    };
    let result = check(&other_scope, &other_ctx);
    if let Some(slot) = outcomes.borrow_mut().get_mut(id as usize) {
        *slot = Some(result);
    }
    result
}

/// The entities of one kind in one module instance, indexed by the names
/// they refer to.
pub struct RelationIndex {
    /// The entities of the kind, in unit order.
    referrers: Vec<Referrer>,
    /// Referrers by a hash of each name they refer to; a lookup checks that
    /// a referrer found really refers to the name, not just to its hash. A
    /// Terraform reference `aws_s3_bucket.b[0].id` is filed under each of
    /// its prefixes that end a step (`aws_s3_bucket`, `aws_s3_bucket.b`,
    /// `aws_s3_bucket.b[0]`, the whole), hashed in one pass over it.
    by_name: HashMap<u64, Vec<u32>>,
    /// Referrers unknown to an entity whose names are complete (see
    /// [`SelfNames::complete`]), when not known to refer to it.
    unknown_if_complete: usize,
    /// The same, for an entity whose names are not complete.
    unknown_if_incomplete: usize,
    /// The condition's outcome on each referrer, once evaluated.
    outcomes: RefCell<Vec<Option<Related>>>,
    /// For `any_entity`, the answer, once known.
    any: RefCell<Option<Related>>,
}

/// An entity of the kind a relation asks for.
struct Referrer {
    /// Index of its file in the unit.
    file: usize,
    /// Index of the entity in its file.
    entity: usize,
    /// Where it refers is unknown (a variable), so it might be any entity.
    unknown_if_complete: bool,
    /// It also gives a literal name, which might be that of an entity whose
    /// own name is an expression.
    unknown_if_incomplete: bool,
}

impl RelationIndex {
    /// Lists and indexes the entities of `kind` in the platform and module
    /// of `ctx`.
    fn build<'a>(kind: &str, reference: Option<&Path>, ctx: &Context<'a>) -> RelationIndex {
        let mut index = RelationIndex {
            referrers: Vec::new(),
            by_name: HashMap::new(),
            unknown_if_complete: 0,
            unknown_if_incomplete: 0,
            outcomes: RefCell::new(Vec::new()),
            any: RefCell::new(None),
        };
        for (file_index, file) in ctx.unit.iter().enumerate() {
            if file.platform != ctx.model.platform() || file.module != ctx.module {
                continue;
            }
            for entity in file.of_kind(kind) {
                let id = index.referrers.len() as u32;
                let mut referrer = Referrer {
                    file: file_index,
                    entity,
                    unknown_if_complete: false,
                    unknown_if_incomplete: false,
                };
                if let Some(path) = reference {
                    // The raw nodes, not their platform views: a reference
                    // is exactly what a view would turn into "unknown".
                    let mut nodes: Vec<&Node> = Vec::new();
                    collect_raw(file.entities[entity].node, &path.steps, &mut nodes);
                    for node in nodes {
                        index.file_node(id, node, ctx, &mut referrer);
                    }
                }
                index.unknown_if_complete += usize::from(referrer.unknown_if_complete);
                index.unknown_if_incomplete += usize::from(referrer.unknown_if_incomplete);
                index.referrers.push(referrer);
            }
        }
        index.outcomes = RefCell::new(vec![None; index.referrers.len()]);
        index
    }

    /// Files referrer `id` under the names `node` refers to, as its
    /// platform's model reads them, and notes whether it might refer to
    /// others.
    fn file_node<'a>(&mut self, id: u32, node: &Node, ctx: &Context<'a>, referrer: &mut Referrer) {
        let references = ctx.model.references(node);
        for name in &references.names {
            self.file_name(id, fnv(name.as_bytes()));
        }
        if references.opaque {
            referrer.unknown_if_complete = true;
            referrer.unknown_if_incomplete = true;
        }
        // A literal name may be that of an entity whose own name is an
        // expression.
        if references.literal {
            referrer.unknown_if_incomplete = true;
        }
    }

    fn file_name(&mut self, id: u32, hash: u64) {
        let list = self.by_name.entry(hash).or_default();
        // A referrer's names are filed together, so a repeat is adjacent.
        if list.last() != Some(&id) {
            list.push(id);
        }
    }

    /// `referenced_by`: some referrer refers to one of `names` and matches
    /// `condition`.
    fn referring_to<'a>(
        &self,
        names: &Names,
        reference: &Path,
        check: Option<&Check<'_, 'a>>,
        ctx: &Context<'a>,
    ) -> Related {
        let mut known: HashSet<u32> = HashSet::new();
        let mut unknown = false;
        for name in &names.names {
            let Some(list) = self.by_name.get(&fnv(name.as_bytes())) else {
                continue;
            };
            for &id in list {
                if known.contains(&id) || !self.refers(id, reference, name, ctx) {
                    continue;
                }
                known.insert(id);
                match self.outcome(id, check, ctx) {
                    Related::Holds => return Related::Holds,
                    Related::Unknown => unknown = true,
                    Related::Fails => {}
                }
            }
        }
        // A referrer that is not known to refer here but might.
        let (might, flag): (usize, fn(&Referrer) -> bool) = if names.complete {
            (self.unknown_if_complete, |r| r.unknown_if_complete)
        } else {
            (self.unknown_if_incomplete, |r| r.unknown_if_incomplete)
        };
        if might > 0 {
            let among_known = known
                .iter()
                .filter(|&&id| flag(&self.referrers[id as usize]))
                .count();
            unknown |= might > among_known;
        }
        if unknown {
            Related::Unknown
        } else {
            Related::Fails
        }
    }

    /// `any_entity`: some entity of the kind matches `condition`. The same
    /// for every entity of the module, so answered once.
    fn any<'a>(&self, check: Option<&Check<'_, 'a>>, ctx: &Context<'a>) -> Related {
        if let Some(answer) = *self.any.borrow() {
            return answer;
        }
        let mut answer = Related::Fails;
        for id in 0..self.referrers.len() as u32 {
            match self.outcome(id, check, ctx) {
                Related::Holds => {
                    answer = Related::Holds;
                    break;
                }
                Related::Unknown => answer = Related::Unknown,
                Related::Fails => {}
            }
        }
        *self.any.borrow_mut() = Some(answer);
        answer
    }

    /// Whether referrer `id` refers to `name` at `reference` (not only to a
    /// name with the same hash).
    fn refers<'a>(&self, id: u32, reference: &Path, name: &str, ctx: &Context<'a>) -> bool {
        let referrer = &self.referrers[id as usize];
        let file = &ctx.unit[referrer.file];
        let mut nodes: Vec<&Node> = Vec::new();
        collect_raw(
            file.entities[referrer.entity].node,
            &reference.steps,
            &mut nodes,
        );
        let model = file.platform.model();
        nodes
            .into_iter()
            .any(|node| model.references(node).names.iter().any(|n| n == name))
    }

    /// The condition on referrer `id`, evaluated once.
    fn outcome<'a>(&self, id: u32, check: Option<&Check<'_, 'a>>, ctx: &Context<'a>) -> Related {
        let referrer = &self.referrers[id as usize];
        outcome_of(
            &self.outcomes,
            id,
            (referrer.file, referrer.entity),
            check,
            ctx,
        )
    }
}

fn document_of<'a>(file: &'a UnitFile<'a>, index: usize) -> &'a Node {
    &file.documents[index.min(file.documents.len().saturating_sub(1))]
}

/// The nodes at `steps` from `node`, without platform views. A list at the
/// end of the path stands for its elements (`vpc_security_group_ids =
/// [aws_security_group.a.id]` refers through each element; no `[*]`
/// needed).
fn collect_raw<'a>(node: &'a Node, steps: &[Step], out: &mut Vec<&'a Node>) {
    let Some((step, rest)) = steps.split_first() else {
        match &node.value {
            Value::Array(items) => {
                for item in items {
                    collect_raw(item, steps, out);
                }
            }
            _ => out.push(node),
        }
        return;
    };
    match (step, &node.value) {
        (Step::Key(k), Value::Object(o)) => {
            if let Some(v) = o.get(k) {
                collect_raw(v, rest, out);
            }
        }
        (Step::Key(_), Value::Array(items)) => {
            for item in items {
                collect_raw(item, steps, out);
            }
        }
        (Step::Each, Value::Array(items)) => {
            for item in items {
                collect_raw(item, rest, out);
            }
        }
        (Step::Index(i), Value::Array(items)) => {
            if let Some(item) = items.get(*i) {
                collect_raw(item, rest, out);
            }
        }
        (Step::Each, _) => collect_raw(node, rest, out),
        _ => {}
    }
}

/// A name's hash in the index; a lookup confirms the name itself.
fn fnv(bytes: &[u8]) -> u64 {
    crate::finding::fnv([bytes])
}
