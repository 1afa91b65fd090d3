//! The compiled condition tree of a query, and its evaluation over an
//! entity in three-valued logic: a condition *matches* (with the places that
//! made it match), *does not match*, or is *unknown* because a value it
//! needs is not known. Only a match becomes a finding.

use std::collections::HashSet;

use regex::Regex;

use super::path::{Path, Root, Seg, Trail, extend};
use super::relation::Related;
use super::resolve::{
    Context, Found, Hit, HitValue, Outcome, Resolution, Scope, is_unknown, resolve, root_node,
};
use crate::platform::Truth;
use crate::tree::{Node, Number, Span, Value};

/// A compiled condition.
#[derive(Clone, Debug)]
pub enum Condition {
    /// Every condition matches.
    All(Vec<Condition>),
    /// At least one condition matches.
    Any(Vec<Condition>),
    /// The condition does not match (and is not unknown).
    Not(Box<Condition>),
    /// A test on the value at the first of `paths` that is present.
    Test {
        /// Alternatives, first present wins: a container's own setting,
        /// else its pod's.
        paths: Vec<Path>,
        /// What to check of the value.
        test: Test,
    },
    /// A quantifier over the elements of an array (a single object counts
    /// as a one-element array).
    Items {
        /// Which quantifier.
        quantifier: Quantifier,
        /// The array.
        path: Path,
        /// Only elements matching this are considered.
        filter: Option<Box<Condition>>,
        /// The condition on each considered element.
        condition: Option<Box<Condition>>,
    },
    /// A port range, or a protocol meaning all ports, includes `port`.
    PortRange(PortRange),
    /// The condition, with the finding pointing where the query says
    /// (`report_at:`) rather than where the condition matched.
    ReportAt {
        /// The condition.
        condition: Box<Condition>,
        /// Where its findings point.
        at: ReportAt,
    },
    /// Another entity of the unit, of a kind, exists (`any_entity`),
    /// refers to this one (`referenced_by`) or is referred to by this one
    /// (`references`), and matches a condition.
    Related {
        /// The kind of the other entity.
        kind: String,
        /// Where the reference is written: in the other entity
        /// (`referenced_by`), or in this one when `outgoing`; `None` for any
        /// entity of the kind.
        reference: Option<Path>,
        /// The reference is written in this entity (`references`).
        outgoing: bool,
        /// A condition on the other entity.
        condition: Option<Box<Condition>>,
    },
    /// An entity of a kind anywhere in the scan selects this one in its
    /// scope, as the platform reads selectors (a NetworkPolicy's
    /// `podSelector` matching a pod in its namespace): see
    /// [`super::scan_index`].
    SelectedBy {
        /// The kind of the selecting entity.
        kind: String,
    },
}

/// Where a finding points, as a query states it.
#[derive(Clone, Debug)]
pub enum ReportAt {
    /// The entity's header (its block or resource name).
    Entity,
    /// The header of what is in scope: the entity, or the element a
    /// quantifier is visiting.
    Scope,
    /// The value at a path from the scope; when it is missing, the deepest
    /// part of the path that exists, naming the path.
    Path(Path),
}

/// Quantifiers over array elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    /// Some element matches (each matching element is a finding).
    AnyItem,
    /// There is at least one element and every element matches.
    AllItems,
    /// No element matches (a finding on the enclosing scope).
    NoItem,
    /// The last element matches.
    LastItem,
    /// Some entry of an object matches, with `$key` naming its key (each
    /// matching entry is a finding).
    AnyEntry,
    /// Every element but the last matches (each one a finding): the
    /// instructions a later one overrides, such as a second `CMD`.
    AllButLast,
}

/// What a [`Condition::Test`] checks of a value.
#[derive(Clone, Debug)]
pub enum Test {
    /// The value is present and not null.
    Exists,
    /// The value is absent or null.
    Missing,
    /// Equal, as the platform compares (`"true"` equals `true`).
    Equals(Scalar),
    /// Present and not equal.
    NotEquals(Scalar),
    /// Equal to one of.
    In(Vec<Scalar>),
    /// Present and equal to none of.
    NotIn(Vec<Scalar>),
    /// A string starting with one of the prefixes.
    StartsWith(Vec<String>),
    /// A string starting with none of the prefixes.
    NotStartsWith(Vec<String>),
    /// A string (or a number or boolean as written) matching a regex.
    Matches(Regex),
    /// Present and not matching.
    NotMatches(Regex),
    /// A number compared with a bound.
    Compare(Ordering, f64),
    /// An array with an element equal to, or a string containing, a value.
    Contains(Scalar),
    /// Null, or an empty string, array or object.
    IsEmpty,
    /// A CIDR (or an array of them) that admits every address:
    /// `0.0.0.0/0`, `::/0`, and the wildcards of Azure and GCP rules.
    CidrOpenToWorld,
    /// Equal to the value at another path (`COPY --from` naming the stage
    /// it is in); unknown when that value is absent or unknown.
    EqualsPath(Path),
}

/// Numeric comparisons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ordering {
    /// `gt`
    Greater,
    /// `gte`
    GreaterOrEqual,
    /// `lt`
    Less,
    /// `lte`
    LessOrEqual,
}

/// A literal in a query.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    String(String),
}

/// A port range test.
#[derive(Clone, Debug)]
pub struct PortRange {
    /// The first port of the range (`from_port`).
    pub from: Option<Path>,
    /// The last port (`to_port`).
    pub to: Option<Path>,
    /// The protocol: `-1`, `all` or `*` mean every port.
    pub protocol: Option<Path>,
    /// A range written as text (`"22"`, `"20-30"`, `"*"`), or a list of them.
    pub range: Option<Path>,
    /// The port that must be included.
    pub port: u32,
}

fn header_hit<'a>(scope: &Scope<'a>) -> Hit<'a> {
    Hit {
        span: scope.header,
        path: scope.path.clone(),
        value: None,
    }
}

impl Condition {
    /// The entity kinds the condition's relations look for (`any_entity`,
    /// `referenced_by`, `references`), so that a stream read in batches can keep those
    /// entities in view of every batch.
    pub fn related_kinds(&self, out: &mut Vec<String>) {
        match self {
            Condition::All(parts) | Condition::Any(parts) => {
                parts.iter().for_each(|p| p.related_kinds(out));
            }
            Condition::Not(inner) => inner.related_kinds(out),
            Condition::ReportAt { condition, .. } => condition.related_kinds(out),
            Condition::Items {
                filter, condition, ..
            } => {
                for inner in [filter, condition].into_iter().flatten() {
                    inner.related_kinds(out);
                }
            }
            Condition::Related {
                kind, condition, ..
            } => {
                out.push(kind.clone());
                if let Some(inner) = condition {
                    inner.related_kinds(out);
                }
            }
            // Not a relation within the unit: the scan-wide index holds
            // what it looks for.
            Condition::Test { .. } | Condition::PortRange(_) | Condition::SelectedBy { .. } => {}
        }
    }

    /// The kinds the condition's `selected_by` look for across the scan,
    /// for the scan-wide index ([`super::scan_index`]).
    pub fn selecting_kinds(&self, out: &mut Vec<String>) {
        match self {
            Condition::All(parts) | Condition::Any(parts) => {
                parts.iter().for_each(|p| p.selecting_kinds(out));
            }
            Condition::Not(inner) => inner.selecting_kinds(out),
            Condition::ReportAt { condition, .. } => condition.selecting_kinds(out),
            Condition::Items {
                filter, condition, ..
            } => {
                for inner in [filter, condition].into_iter().flatten() {
                    inner.selecting_kinds(out);
                }
            }
            Condition::Related { condition, .. } => {
                if let Some(inner) = condition {
                    inner.selecting_kinds(out);
                }
            }
            Condition::SelectedBy { kind } => out.push(kind.clone()),
            Condition::Test { .. } | Condition::PortRange(_) => {}
        }
    }

    /// Evaluates the condition with `scope` in view.
    pub fn eval<'a>(&'a self, scope: &Scope<'a>, ctx: &Context<'a>) -> Outcome<'a> {
        match self {
            Condition::All(parts) => {
                let mut unknown = false;
                let mut hits: Vec<Hit<'a>> = Vec::new();
                for part in parts {
                    match part.eval(scope, ctx) {
                        Outcome::NoMatch => return Outcome::NoMatch,
                        Outcome::Unknown => unknown = true,
                        // The first part that points at a value says where
                        // the finding is; parts that only point at the
                        // header do not override it.
                        Outcome::Match(h) => {
                            let specific = h.iter().any(|x| x.value.is_some());
                            let have_specific = hits.iter().any(|x| x.value.is_some());
                            if hits.is_empty() || (specific && !have_specific) {
                                hits = h;
                            }
                        }
                    }
                }
                if unknown {
                    Outcome::Unknown
                } else {
                    Outcome::Match(hits)
                }
            }
            Condition::Any(parts) => {
                let mut unknown = false;
                let mut hits = Vec::new();
                for part in parts {
                    match part.eval(scope, ctx) {
                        Outcome::Match(h) => hits.extend(h),
                        Outcome::Unknown => unknown = true,
                        Outcome::NoMatch => {}
                    }
                }
                Outcome::from_hits(dedup(hits), unknown)
            }
            Condition::Not(inner) => match inner.eval(scope, ctx) {
                Outcome::Match(_) => Outcome::NoMatch,
                Outcome::NoMatch => Outcome::Match(vec![header_hit(scope)]),
                Outcome::Unknown => Outcome::Unknown,
            },
            Condition::Test { paths, test } => eval_test(paths, test, scope, ctx),
            Condition::Items {
                quantifier,
                path,
                filter,
                condition,
            } => {
                let filter = filter.as_deref();
                let condition = condition.as_deref();
                if !shares_outcome(path, filter, condition) {
                    return eval_items(*quantifier, path, filter, condition, scope, ctx);
                }
                let key = (
                    std::ptr::from_ref(self) as usize,
                    root_node(path, scope, ctx).map_or(0, |n| std::ptr::from_ref(n) as usize),
                    std::ptr::from_ref(ctx.document) as usize,
                );
                let cached = ctx.cache.shared_quantifiers.borrow().get(&key).cloned();
                let outcome = match cached {
                    Some(outcome) => outcome,
                    None => {
                        let outcome = eval_items(*quantifier, path, filter, condition, scope, ctx);
                        ctx.cache
                            .shared_quantifiers
                            .borrow_mut()
                            .insert(key, outcome.clone());
                        outcome
                    }
                };
                match (quantifier, outcome) {
                    // The one outcome that points at the scope asking.
                    (Quantifier::NoItem, Outcome::Match(_)) => {
                        Outcome::Match(vec![header_hit(scope)])
                    }
                    (_, outcome) => outcome,
                }
            }
            Condition::PortRange(range) => eval_port_range(range, scope, ctx),
            Condition::ReportAt { condition, at } => match condition.eval(scope, ctx) {
                Outcome::Match(_) => Outcome::Match(report_at(at, scope, ctx)),
                other => other,
            },
            Condition::Related {
                kind,
                reference,
                outgoing,
                condition,
            } => {
                let check = |scope: &Scope<'a>, ctx: &Context<'a>| match condition.as_deref() {
                    None => Related::Holds,
                    Some(c) => match c.eval(scope, ctx) {
                        Outcome::Match(_) => Related::Holds,
                        Outcome::Unknown => Related::Unknown,
                        Outcome::NoMatch => Related::Fails,
                    },
                };
                if let (true, Some(path)) = (*outgoing, reference) {
                    let (related, at) = super::relation::eval_outgoing(
                        std::ptr::from_ref(self) as usize,
                        kind,
                        path,
                        condition.is_some(),
                        &check,
                        ctx,
                    );
                    return match (related, at) {
                        // The finding points at the reference itself.
                        (Related::Holds, Some((node, name))) => Outcome::Match(vec![Hit {
                            span: node.span,
                            path: scope.path.clone(),
                            value: Some(HitValue::Text(name)),
                        }]),
                        (Related::Holds, None) => Outcome::Match(vec![header_hit(scope)]),
                        (Related::Unknown, _) => Outcome::Unknown,
                        (Related::Fails, _) => Outcome::NoMatch,
                    };
                }
                let related = super::relation::eval(
                    std::ptr::from_ref(self) as usize,
                    kind,
                    reference.as_ref(),
                    condition.is_some(),
                    &check,
                    ctx,
                );
                match related {
                    Related::Holds => Outcome::Match(vec![header_hit(scope)]),
                    Related::Unknown => Outcome::Unknown,
                    Related::Fails => Outcome::NoMatch,
                }
            }
            Condition::SelectedBy { kind } => {
                // No index (admission: one object, no scan around it), or
                // an entity the model cannot place: unknown.
                let (Some(index), Some(target)) =
                    (ctx.scan, ctx.model.selectable(ctx.entities, ctx.entity))
                else {
                    return Outcome::Unknown;
                };
                match index.selects(ctx.model.platform(), kind, &target) {
                    Truth::Yes => Outcome::Match(vec![header_hit(scope)]),
                    Truth::Unknown => Outcome::Unknown,
                    Truth::No => Outcome::NoMatch,
                }
            }
        }
    }
}

/// The hits a `report_at:` names.
fn report_at<'a>(at: &'a ReportAt, scope: &Scope<'a>, ctx: &Context<'a>) -> Vec<Hit<'a>> {
    match at {
        ReportAt::Entity => match ctx.entities.get(ctx.entity) {
            Some(e) => vec![Hit {
                span: e.header,
                path: Vec::new(),
                value: None,
            }],
            None => vec![header_hit(scope)],
        },
        ReportAt::Scope => vec![header_hit(scope)],
        ReportAt::Path(path) => {
            let resolution = resolve(path, scope, ctx);
            let present: Vec<Hit<'a>> = resolution
                .found
                .iter()
                .filter(|f| !matches!(f.node.value, Value::Null))
                .chain(&resolution.present_unknown)
                .map(hit)
                .collect();
            if !present.is_empty() {
                return present;
            }
            vec![Hit {
                span: resolution.nearest.map_or(scope.header, |(span, _)| span),
                path: path.trail_from(&scope.path),
                value: None,
            }]
        }
    }
}

/// Keeps the first hit at each span. A set, not a scan of the hits kept: a
/// quantifier over a RUN of 100,000 commands has as many hits, and a scan
/// made that quadratic (issue 21, item 10).
fn dedup(mut hits: Vec<Hit<'_>>) -> Vec<Hit<'_>> {
    let mut seen: HashSet<(u32, u32)> = HashSet::with_capacity(hits.len());
    hits.retain(|h| seen.insert((h.span.start, h.span.end)));
    hits
}

/// Resolves the first present of `paths`. Stops at an unknown: the value
/// that decides is then unknown, not the next alternative.
fn first_present<'a>(paths: &'a [Path], scope: &Scope<'a>, ctx: &Context<'a>) -> Resolution<'a> {
    let mut last = Resolution::default();
    for path in paths {
        let mut r = resolve(path, scope, ctx);
        r.found.retain(|f| !matches!(f.node.value, Value::Null));
        if !r.found.is_empty() || r.unknown {
            return r;
        }
        if last.nearest.is_none() {
            last = r;
        }
    }
    last
}

fn eval_test<'a>(
    paths: &'a [Path],
    test: &'a Test,
    scope: &Scope<'a>,
    ctx: &Context<'a>,
) -> Outcome<'a> {
    let resolution = first_present(paths, scope, ctx);
    match test {
        Test::Missing => {
            // A value written as an expression is present, even unknown.
            if !resolution.found.is_empty() || !resolution.present_unknown.is_empty() {
                Outcome::NoMatch
            } else if resolution.unknown {
                Outcome::Unknown
            } else {
                // The finding points at the deepest parent that exists, and
                // names the path that is missing.
                let span = resolution.nearest.map_or(scope.header, |(span, _)| span);
                let path = paths
                    .first()
                    .map(|p| p.trail_from(&scope.path))
                    .unwrap_or_default();
                Outcome::Match(vec![Hit {
                    span,
                    path,
                    value: None,
                }])
            }
        }
        Test::Exists => {
            let hits = resolution
                .found
                .iter()
                .chain(&resolution.present_unknown)
                .map(hit)
                .collect();
            Outcome::from_hits(hits, resolution.unknown)
        }
        Test::EqualsPath(other) => {
            let target = resolve(other, scope, ctx);
            let Some(expected) = target.found.first() else {
                return if target.unknown || resolution.unknown {
                    Outcome::Unknown
                } else {
                    Outcome::NoMatch
                };
            };
            let Some(expected) = scalar_of(expected.node) else {
                return Outcome::NoMatch;
            };
            let hits: Vec<Hit<'a>> = resolution
                .found
                .iter()
                .filter(|f| loosely_equal(f.node, &expected))
                .map(hit)
                .collect();
            Outcome::from_hits(hits, resolution.unknown)
        }
        _ => {
            let mut unknown = resolution.unknown;
            let mut hits = Vec::new();
            for found in &resolution.found {
                match check(test, found, ctx, &mut hits) {
                    Truth::Yes => hits.push(hit(found)),
                    Truth::Unknown => unknown = true,
                    Truth::No => {}
                }
            }
            Outcome::from_hits(dedup(hits), unknown)
        }
    }
}

fn hit<'a>(found: &Found<'a>) -> Hit<'a> {
    Hit {
        span: found.site,
        path: found.path.clone(),
        value: Some(HitValue::Node(found.node)),
    }
}

/// Checks one value. Tests that look inside arrays (`contains`,
/// `cidr_open_to_world`) push hits on the offending elements themselves
/// and answer `False` for the array, or `Unknown` when an element is.
fn check<'a>(
    test: &Test,
    found: &Found<'a>,
    ctx: &Context<'a>,
    element_hits: &mut Vec<Hit<'a>>,
) -> Truth {
    let node = found.node;
    let known = |b: bool| if b { Truth::Yes } else { Truth::No };
    match test {
        Test::Exists | Test::Missing | Test::EqualsPath(_) => Truth::No,
        Test::Equals(s) => known(loosely_equal(node, s)),
        Test::NotEquals(s) => known(!loosely_equal(node, s)),
        Test::In(set) => known(set.iter().any(|s| loosely_equal(node, s))),
        Test::NotIn(set) => known(!set.iter().any(|s| loosely_equal(node, s))),
        Test::StartsWith(prefixes) => match text_of(node) {
            Some(t) => known(prefixes.iter().any(|p| t.starts_with(p.as_str()))),
            None => Truth::No,
        },
        Test::NotStartsWith(prefixes) => match text_of(node) {
            Some(t) => known(!prefixes.iter().any(|p| t.starts_with(p.as_str()))),
            None => Truth::No,
        },
        Test::Matches(re) => match text_of(node) {
            Some(t) => known(re.is_match(&t)),
            None => Truth::No,
        },
        Test::NotMatches(re) => match text_of(node) {
            Some(t) => known(!re.is_match(&t)),
            None => Truth::No,
        },
        Test::Compare(ord, bound) => match number_of(node) {
            Some(n) => known(match ord {
                Ordering::Greater => n > *bound,
                Ordering::GreaterOrEqual => n >= *bound,
                Ordering::Less => n < *bound,
                Ordering::LessOrEqual => n <= *bound,
            }),
            None => Truth::No,
        },
        Test::Contains(s) => match &node.value {
            // The finding points at the matching element itself.
            Value::Array(items) => {
                let mut unknown = false;
                for (i, item) in items.iter().enumerate() {
                    if is_unknown(item, ctx) {
                        unknown = true;
                    } else if loosely_equal(item, s) {
                        element_hits.push(Hit {
                            span: item.span,
                            path: extend(&found.path, Seg::Index(i)),
                            value: Some(HitValue::Node(item)),
                        });
                    }
                }
                if unknown { Truth::Unknown } else { Truth::No }
            }
            Value::String(text) => match s {
                Scalar::String(needle) => known(text.contains(needle.as_str())),
                _ => Truth::No,
            },
            _ => Truth::No,
        },
        Test::IsEmpty => known(match &node.value {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            _ => false,
        }),
        Test::CidrOpenToWorld => match &node.value {
            Value::Array(items) => {
                let mut unknown = false;
                for (i, item) in items.iter().enumerate() {
                    if is_unknown(item, ctx) {
                        unknown = true;
                    } else if item.as_str().is_some_and(is_open_cidr) {
                        element_hits.push(Hit {
                            span: item.span,
                            path: extend(&found.path, Seg::Index(i)),
                            value: Some(HitValue::Node(item)),
                        });
                    }
                }
                if unknown { Truth::Unknown } else { Truth::No }
            }
            _ => known(node.as_str().is_some_and(is_open_cidr)),
        },
    }
}

/// Whether a source or destination admits every address.
pub fn is_open_cidr(text: &str) -> bool {
    let t = text.trim();
    if matches!(
        t.to_ascii_lowercase().as_str(),
        "*" | "internet" | "any" | "0.0.0.0" | "::"
    ) {
        return true;
    }
    match t.split_once('/') {
        Some((addr, prefix)) => {
            prefix.trim().parse::<u8>() == Ok(0) && addr.trim().parse::<std::net::IpAddr>().is_ok()
        }
        None => false,
    }
}

/// Text of a scalar as written (numbers and booleans too).
fn text_of(node: &Node) -> Option<String> {
    match &node.value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number_of(node: &Node) -> Option<f64> {
    match &node.value {
        Value::Number(n) => Some(n.as_f64()),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// Equality as the platforms coerce values: `"true"` equals `true` and
/// `"22"` equals `22`.
pub fn loosely_equal(node: &Node, scalar: &Scalar) -> bool {
    match (&node.value, scalar) {
        (Value::Null, Scalar::Null) => true,
        (Value::Bool(a), Scalar::Bool(b)) => a == b,
        (Value::String(s), Scalar::Bool(b)) => {
            s.eq_ignore_ascii_case(if *b { "true" } else { "false" })
        }
        (Value::Number(n), Scalar::Number(b)) => n.as_f64() == *b,
        (Value::String(s), Scalar::Number(b)) => s.trim().parse::<f64>() == Ok(*b),
        (Value::String(a), Scalar::String(b)) => a == b,
        (Value::Number(n), Scalar::String(b)) => n.to_string() == *b,
        (Value::Bool(a), Scalar::String(b)) => {
            b.eq_ignore_ascii_case(if *a { "true" } else { "false" })
        }
        _ => false,
    }
}

/// Whether a quantifier gives the same outcome to every entity under one
/// enclosing entity: it runs over an array of that entity
/// (`$parent.instructions`), and its conditions look only at each item.
/// Every `RUN` of a stage asking whether an earlier instruction configured
/// apt made a stage of 10,000 `RUN`s take 79 s (issue 21, item 10); the
/// outcome is now computed once per stage.
fn shares_outcome(path: &Path, filter: Option<&Condition>, condition: Option<&Condition>) -> bool {
    matches!(path.root, Root::Parent(_))
        && filter.is_none_or(reads_only_item)
        && condition.is_none_or(reads_only_item)
}

/// Whether a condition reads only the node in scope (and its document),
/// never the entity, its enclosing entities or other entities.
fn reads_only_item(condition: &Condition) -> bool {
    let local = |path: &Path| matches!(path.root, Root::Current | Root::Key | Root::Document);
    match condition {
        Condition::All(parts) | Condition::Any(parts) => parts.iter().all(reads_only_item),
        Condition::Not(inner) => reads_only_item(inner),
        Condition::Test { paths, test } => {
            paths.iter().all(local)
                && match test {
                    Test::EqualsPath(other) => local(other),
                    _ => true,
                }
        }
        Condition::Items {
            path,
            filter,
            condition,
            ..
        } => {
            local(path)
                && filter.as_deref().is_none_or(reads_only_item)
                && condition.as_deref().is_none_or(reads_only_item)
        }
        Condition::PortRange(range) => [&range.from, &range.to, &range.protocol, &range.range]
            .into_iter()
            .flatten()
            .all(local),
        Condition::Related { .. } | Condition::SelectedBy { .. } => false,
        Condition::ReportAt { condition, at } => {
            reads_only_item(condition)
                && match at {
                    ReportAt::Entity => false,
                    ReportAt::Scope => true,
                    ReportAt::Path(path) => local(path),
                }
        }
    }
}

fn eval_items<'a>(
    quantifier: Quantifier,
    path: &'a Path,
    filter: Option<&'a Condition>,
    condition: Option<&'a Condition>,
    scope: &Scope<'a>,
    ctx: &Context<'a>,
) -> Outcome<'a> {
    let resolution = resolve(path, scope, ctx);
    let mut unknown = resolution.unknown;
    // Each element in scope with its own header: the first line of it.
    let mut items: Vec<Scope<'a>> = Vec::new();
    for found in &resolution.found {
        match &found.node.value {
            Value::Array(elements) => {
                // Unknown elements are items too: present for `exists`,
                // unknown to every other test.
                for (i, e) in elements.iter().enumerate() {
                    items.push(Scope {
                        node: e,
                        header: first_line(e.span),
                        path: extend(&found.path, Seg::Index(i)),
                        key: None,
                    });
                }
            }
            Value::Object(o) if quantifier == Quantifier::AnyEntry => {
                for e in &o.entries {
                    if is_unknown(&e.value, ctx) {
                        unknown = true;
                        continue;
                    }
                    items.push(Scope {
                        node: &e.value,
                        header: e.key_span,
                        path: extend(&found.path, Seg::Key(e.key.as_str())),
                        key: Some(e),
                    });
                }
            }
            Value::Null => {}
            _ if quantifier == Quantifier::AnyEntry => {}
            _ => items.push(Scope {
                node: found.node,
                header: first_line(found.site),
                path: found.path.clone(),
                key: None,
            }),
        }
    }
    if let Some(filter) = filter {
        let mut kept = Vec::with_capacity(items.len());
        for item in items {
            match filter.eval(&item, ctx) {
                Outcome::Match(_) => kept.push(item),
                Outcome::Unknown => unknown = true,
                Outcome::NoMatch => {}
            }
        }
        items = kept;
    }
    let eval_item = |item: &Scope<'a>| match condition {
        Some(c) => c.eval(item, ctx),
        None => Outcome::Match(vec![header_hit(item)]),
    };
    match quantifier {
        Quantifier::AnyItem | Quantifier::AnyEntry => {
            let mut hits = Vec::new();
            for item in &items {
                match eval_item(item) {
                    Outcome::Match(h) => hits.extend(h),
                    Outcome::Unknown => unknown = true,
                    Outcome::NoMatch => {}
                }
            }
            Outcome::from_hits(dedup(hits), unknown)
        }
        Quantifier::AllItems => {
            if items.is_empty() {
                return if unknown {
                    Outcome::Unknown
                } else {
                    Outcome::NoMatch
                };
            }
            let mut hits = Vec::new();
            for item in &items {
                match eval_item(item) {
                    Outcome::Match(h) => hits.extend(h),
                    Outcome::Unknown => unknown = true,
                    Outcome::NoMatch => return Outcome::NoMatch,
                }
            }
            if unknown {
                Outcome::Unknown
            } else {
                Outcome::Match(dedup(hits))
            }
        }
        Quantifier::NoItem => {
            for item in &items {
                match eval_item(item) {
                    Outcome::Match(_) => return Outcome::NoMatch,
                    Outcome::Unknown => unknown = true,
                    Outcome::NoMatch => {}
                }
            }
            if unknown {
                Outcome::Unknown
            } else {
                Outcome::Match(vec![header_hit(scope)])
            }
        }
        Quantifier::LastItem => {
            if unknown {
                return Outcome::Unknown;
            }
            match items.last() {
                Some(item) => eval_item(item),
                None => Outcome::NoMatch,
            }
        }
        Quantifier::AllButLast => {
            if unknown {
                return Outcome::Unknown;
            }
            let mut hits = Vec::new();
            for item in items.iter().take(items.len().saturating_sub(1)) {
                match eval_item(item) {
                    Outcome::Match(h) => hits.extend(h),
                    Outcome::Unknown => unknown = true,
                    Outcome::NoMatch => {}
                }
            }
            Outcome::from_hits(dedup(hits), unknown)
        }
    }
}

/// A span cut to its first line, where a finding about a multi-line
/// element points.
fn first_line(span: Span) -> Span {
    if span.end_line > span.start_line {
        Span {
            end: span.start,
            end_line: span.start_line,
            end_col: span.start_col,
            ..span
        }
    } else {
        span
    }
}

fn eval_port_range<'a>(range: &'a PortRange, scope: &Scope<'a>, ctx: &Context<'a>) -> Outcome<'a> {
    let port = f64::from(range.port);
    if let Some(path) = &range.range {
        let r = resolve(path, scope, ctx);
        let mut unknown = r.unknown;
        let mut hits = Vec::new();
        for found in &r.found {
            let elements: Vec<(&Node, Trail<'a>)> = match &found.node.value {
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (e, extend(&found.path, Seg::Index(i))))
                    .collect(),
                _ => vec![(found.node, found.path.clone())],
            };
            for (node, path) in elements {
                if is_unknown(node, ctx) {
                    unknown = true;
                } else if text_range_includes(node, port) {
                    hits.push(Hit {
                        span: if std::ptr::eq(node, found.node) {
                            found.site
                        } else {
                            node.span
                        },
                        path,
                        value: Some(HitValue::Node(node)),
                    });
                }
            }
        }
        return Outcome::from_hits(hits, unknown);
    }
    if let Some(path) = &range.protocol {
        let r = resolve(path, scope, ctx);
        if let Some(found) = r.found.first() {
            let text = text_of(found.node).unwrap_or_default().to_ascii_lowercase();
            if matches!(text.as_str(), "-1" | "all" | "*") {
                return Outcome::Match(vec![hit(found)]);
            }
            // ICMP "ports" are message types, not ports.
            if matches!(text.as_str(), "icmp" | "icmpv6" | "1" | "58") {
                return Outcome::NoMatch;
            }
        } else if r.unknown {
            return Outcome::Unknown;
        }
    }
    let bound = |path: &'a Option<Path>| -> Result<Option<(f64, Found<'a>)>, ()> {
        let Some(path) = path else { return Ok(None) };
        let r = resolve(path, scope, ctx);
        match r.found.into_iter().next() {
            Some(found) => Ok(number_of(found.node).map(|n| (n, found))),
            None if r.unknown => Err(()),
            None => Ok(None),
        }
    };
    let (Ok(from), Ok(to)) = (bound(&range.from), bound(&range.to)) else {
        return Outcome::Unknown;
    };
    match (from, to) {
        (Some((lo, found)), Some((hi, _))) => {
            // `-1` on both ends is AWS's "all ports".
            let all = lo < 0.0 && hi < 0.0;
            if all || (lo <= port && port <= hi) {
                Outcome::Match(vec![hit(&found)])
            } else {
                Outcome::NoMatch
            }
        }
        (Some((lo, found)), None) => {
            if lo == port {
                Outcome::Match(vec![hit(&found)])
            } else {
                Outcome::NoMatch
            }
        }
        _ => Outcome::NoMatch,
    }
}

/// `"22"`, `22`, `"20-30"`, `"*"` include `port`?
fn text_range_includes(node: &Node, port: f64) -> bool {
    let Some(text) = text_of(node) else {
        return false;
    };
    let text = text.trim();
    if text == "*" || text.eq_ignore_ascii_case("any") || text.eq_ignore_ascii_case("all") {
        return true;
    }
    match text.split_once('-') {
        Some((lo, hi)) => match (lo.trim().parse::<f64>(), hi.trim().parse::<f64>()) {
            (Ok(lo), Ok(hi)) => lo <= port && port <= hi,
            _ => false,
        },
        None => text.parse::<f64>() == Ok(port),
    }
}

/// A literal from a query file.
pub fn scalar_of(node: &Node) -> Option<Scalar> {
    Some(match &node.value {
        Value::Null => Scalar::Null,
        Value::Bool(b) => Scalar::Bool(*b),
        Value::Number(Number::Int(i)) => Scalar::Number(*i as f64),
        Value::Number(Number::Float(f)) => Scalar::Number(*f),
        Value::String(s) => Scalar::String(s.clone()),
        _ => return None,
    })
}
