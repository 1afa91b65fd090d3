//! Build stages: what a `FROM` says about its stage (image, name, tag,
//! digest, platform), the stage node holding its instructions, and, once
//! the whole file is read, what each stage is built on (global `ARG`
//! defaults substituted into the image, an earlier stage as the base).
//!
//! Takes what the instruction builder found in each `FROM`; returns stage
//! nodes, and completes them in the finished tree.

use super::nodes::{array, cover, object, synth};
use crate::tree::{Entry, Node, Number, Object, Span, Value};

/// Works out what each stage is built on, as BuildKit would:
///
/// - `FROM ${BASE}` takes the defaults of the global `ARG`s (those before
///   the first `FROM`); when every variable resolves, `image_name`, `tag`
///   and `digest` describe the resolved reference (and `image_resolved`
///   holds it), so `ARG BASE=node:latest` + `FROM $BASE` reads as latest;
/// - `base_stage` names the earlier stage a `FROM builder` builds on (Null
///   when the base is an image): such a base is not pulled from a registry;
/// - `name_reused` is true on a stage named like an earlier one;
/// - `in_final_image` says whether the stage's layers ship in the image.
pub(super) fn resolve_base_images(root: &mut Node) {
    let mut defaults: Vec<(String, Option<String>)> = Vec::new();
    for arg in root.get("global_args").map(Node::items).unwrap_or_default() {
        for pair in arg
            .get("pairs")
            .and_then(Node::as_object)
            .map(|o| o.entries.as_slice())
            .unwrap_or_default()
        {
            defaults.push((pair.key.clone(), pair.value.as_str().map(str::to_string)));
        }
    }
    let Some(Value::Array(stages)) = root
        .as_object_mut()
        .and_then(|o| o.entries.iter_mut().find(|e| e.key == "stages"))
        .map(|e| &mut e.value.value)
    else {
        return;
    };
    let mut earlier: Vec<String> = Vec::new();
    for stage in stages.iter_mut() {
        let image = stage
            .get("image")
            .and_then(Node::as_str)
            .map(str::to_string);
        let name = stage.get("name").and_then(Node::as_str).map(str::to_string);
        let from = stage.span;
        let Value::Object(facts) = &mut stage.value else {
            continue;
        };
        let image_span = facts.get("image").map_or(from, |n| n.span);
        let mut base_stage = Node::new(Value::Null, image_span);
        if let Some(image) = &image {
            let resolved = if image.contains('$') {
                substitute(image, &defaults)
            } else {
                None
            };
            if let Some(resolved) = &resolved {
                let (name_end, tag, digest) = split_image(resolved.as_bytes());
                let part = |r: Option<(usize, usize)>| match r.and_then(|(a, b)| resolved.get(a..b))
                {
                    Some(t) => Node::new(Value::String(t.to_string()), image_span),
                    None => Node::new(Value::Null, image_span),
                };
                set_entry(facts, "image_name", part(Some((0, name_end))));
                set_entry(facts, "tag", part(tag));
                set_entry(facts, "digest", part(digest));
                set_entry(
                    facts,
                    "image_resolved",
                    Node::new(Value::String(resolved.clone()), image_span),
                );
            }
            let reference = resolved.as_deref().unwrap_or(image).to_ascii_lowercase();
            if earlier.contains(&reference) {
                base_stage = Node::new(Value::String(reference), image_span);
            }
        }
        set_entry(facts, "base_stage", base_stage);
        if let Some(name) = name {
            // BuildKit refuses a second stage of one name; the first wins
            // for FROM and COPY --from in older builders.
            let name_span = facts.get("name").map_or(from, |n| n.span);
            let reused = Node::new(Value::Bool(earlier.contains(&name)), name_span);
            set_entry(facts, "name_reused", reused);
            earlier.push(name);
        }
    }
    mark_final_image_layers(stages);
}

/// Sets `in_final_image` on every stage: true for the last stage and the
/// stages it is built on (`FROM builder`), whose layers ship in the image;
/// false for stages the final image only copies files from, or ignores.
/// Cleanup checks (caches, package lists) matter only where it is true.
fn mark_final_image_layers(stages: &mut [Node]) {
    let mut shipped = vec![false; stages.len()];
    let mut at = stages.len().checked_sub(1);
    // Each step moves to an earlier stage, so the walk ends.
    while let Some(i) = at {
        shipped[i] = true;
        let base = stages[i].get("base_stage").and_then(Node::as_str);
        at = base.and_then(|base| {
            stages[..i]
                .iter()
                .rposition(|s| s.get("name").and_then(Node::as_str) == Some(base))
        });
    }
    for (stage, shipped) in stages.iter_mut().zip(shipped) {
        let span = stage.get("image").map_or(stage.span, |n| n.span);
        if let Value::Object(facts) = &mut stage.value {
            set_entry(
                facts,
                "in_final_image",
                Node::new(Value::Bool(shipped), span),
            );
        }
    }
}

/// `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR-default}` replaced from
/// `defaults`; `None` when a variable has no value.
fn substitute(text: &str, defaults: &[(String, Option<String>)]) -> Option<String> {
    let lookup = |name: &str| {
        defaults
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.clone())
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(body) = rest.strip_prefix('{') {
            let end = body.find('}')?;
            let inner = &body[..end];
            let (name, fallback) = match inner.find(":-").or_else(|| inner.find('-')) {
                Some(p) => {
                    let skip = if inner[p..].starts_with(":-") { 2 } else { 1 };
                    (&inner[..p], Some(&inner[p + skip..]))
                }
                None => (inner, None),
            };
            let value = lookup(name)
                .filter(|v| !v.is_empty())
                .or_else(|| fallback.map(str::to_string))?;
            out.push_str(&value);
            rest = &body[end + 1..];
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if end == 0 {
                out.push('$');
                continue;
            }
            out.push_str(&lookup(&rest[..end])?);
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    Some(out)
}

fn set_entry(facts: &mut Object, key: &str, value: Node) {
    match facts.entries.iter_mut().find(|e| e.key == key) {
        Some(e) => e.value = value,
        None => {
            // Before `instructions`, so the stage's facts stay together.
            let at = facts
                .entries
                .iter()
                .position(|e| e.key == "instructions")
                .unwrap_or(facts.entries.len());
            let key_span = value.span;
            facts.entries.insert(
                at,
                Entry {
                    key: key.to_string(),
                    key_span,
                    value,
                },
            );
        }
    }
}

/// What a `FROM` says, for its stage.
#[derive(Default)]
pub(super) struct FromInfo {
    pub(super) image: Option<Node>,
    pub(super) image_name: Option<Node>,
    pub(super) tag: Option<Node>,
    pub(super) digest: Option<Node>,
    pub(super) platform: Option<Node>,
    pub(super) name: Option<Node>,
}

pub(super) struct Stage {
    pub(super) from_span: Span,
    /// `index` to `platform`, already in the stage node's final vector.
    pub(super) facts: Vec<Entry>,
    pub(super) instructions: Vec<Node>,
}

/// A byte range, start and end.
type Range = (usize, usize);

/// Splits an image reference into where its name ends, and the ranges of
/// its tag and digest. A `:` before the last `/` is a registry port, and
/// `${...}` is skipped whole (`${BASE:-alpine}` has no tag).
pub(super) fn split_image(r: &[u8]) -> (usize, Option<Range>, Option<Range>) {
    let mut depth = 0usize;
    let mut at = None;
    let mut colon = None;
    let mut i = 0;
    while i < r.len() {
        match r[i] {
            b'$' if r.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth > 0 => depth -= 1,
            b'@' if depth == 0 => {
                at = Some(i);
                break;
            }
            b'/' if depth == 0 => colon = None,
            b':' if depth == 0 => colon = Some(i),
            _ => {}
        }
        i += 1;
    }
    let len = r.len();
    let name_end = colon.or(at).unwrap_or(len);
    let tag = colon.map(|c| (c + 1, at.unwrap_or(len)));
    let digest = at.map(|a| (a + 1, len));
    (name_end, tag, digest)
}

/// Docker's rule for stage names, applied after lowercasing.
pub(super) fn valid_stage_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|c| c.is_ascii_lowercase())
        && bytes.all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'-' | b'_' | b'.')
        })
}

/// The stage's entries before `instructions`; `from` is the FROM's span,
/// which absent facts point at.
pub(super) fn stage_facts_entries(i: usize, from: Span, info: FromInfo) -> Vec<Entry> {
    let null = Node::new(Value::Null, from);
    let mut entries = Vec::with_capacity(8);
    entries.push(synth(
        "index",
        Node::new(Value::Number(Number::Int(i as i64)), from),
    ));
    entries.push(synth("name", info.name.unwrap_or_else(|| null.clone())));
    entries.push(synth("image", info.image.unwrap_or_else(|| null.clone())));
    entries.push(synth(
        "image_name",
        info.image_name.unwrap_or_else(|| null.clone()),
    ));
    entries.push(synth("tag", info.tag.unwrap_or_else(|| null.clone())));
    entries.push(synth("digest", info.digest.unwrap_or_else(|| null.clone())));
    entries.push(synth("platform", info.platform.unwrap_or(null)));
    entries
}

pub(super) fn stage_node(stage: Stage) -> Node {
    let span = cover(&stage.instructions, stage.from_span);
    let mut entries = stage.facts;
    entries.push(synth("instructions", array(stage.instructions, span)));
    object(entries, span)
}

#[cfg(test)]
mod tests {
    use super::substitute;
    use crate::parse::dockerfile::testing::*;
    use crate::tree::{Number, Value};

    #[test]
    fn base_images_resolve_global_args_and_earlier_stages() {
        let text = "ARG BASE=node\nARG TAG=latest\nFROM ${BASE}:${TAG} AS build\nFROM build\nFROM $MISSING\nFROM scratch\n";
        let p = parse_str(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let r = root(&p);
        assert_eq!(s(at(r, "stages.0"), "image_name"), "node");
        assert_eq!(s(at(r, "stages.0"), "tag"), "latest");
        assert_eq!(s(at(r, "stages.0"), "image_resolved"), "node:latest");
        assert_eq!(at(r, "stages.0.base_stage").value, Value::Null);
        assert_eq!(s(at(r, "stages.1"), "base_stage"), "build");
        assert!(at(r, "stages.2").get("image_resolved").is_none());
        assert_eq!(at(r, "stages.3.base_stage").value, Value::Null);
        assert_eq!(
            substitute("${A:-x}/${B-y}:$C", &[("C".into(), Some("1".into()))]),
            Some("x/y:1".into())
        );
        assert_eq!(substitute("$NOPE", &[]), None);
    }

    #[test]
    fn stages_whose_layers_ship_in_the_final_image() {
        let text = "FROM alpine AS base
FROM golang AS build
FROM base AS runtime
FROM runtime
COPY --from=build /app /app
";
        let p = parse_str(text);
        let r = root(&p);
        let shipped: Vec<bool> = (0..4)
            .map(|i| at(r, &format!("stages.{i}.in_final_image")).value == Value::Bool(true))
            .collect();
        assert_eq!(shipped, [true, false, true, true]);
        let p = parse_str("FROM a AS x\nFROM b AS X\nFROM c AS y\n");
        let reused: Vec<bool> = (0..3)
            .map(|i| at(root(&p), &format!("stages.{i}.name_reused")).value == Value::Bool(true))
            .collect();
        assert_eq!(reused, [false, true, false]);
    }

    #[test]
    fn from_forms() {
        let text = "FROM --platform=$BUILDPLATFORM localhost:5000/team/img:1.2@sha256:abc AS Builder\nFROM localhost:5000/img\nFROM img@sha256:0123\nFROM ${BASE}:latest\nFROM ${BASE:-alpine}\nFROM builder\n";
        let p = parse_str(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let r = root(&p);
        let st = at(r, "stages.0");
        assert_eq!(at(st, "index").as_number(), Some(Number::Int(0)));
        assert_eq!(s(st, "name"), "builder");
        assert_eq!(start(at(st, "name")), (1, 74));
        assert_eq!(s(st, "image"), "localhost:5000/team/img:1.2@sha256:abc");
        assert_eq!(s(st, "image_name"), "localhost:5000/team/img");
        assert_eq!(s(st, "tag"), "1.2");
        assert_eq!(start(at(st, "tag")), (1, 56));
        assert_eq!(s(st, "digest"), "sha256:abc");
        assert_eq!(s(st, "platform"), "$BUILDPLATFORM");
        assert_eq!(start(at(st, "platform")), (1, 17));
        let from = at(st, "instructions.0");
        assert_eq!(s(from, "flags.platform"), "$BUILDPLATFORM");
        assert_eq!(s(from, "image"), "localhost:5000/team/img:1.2@sha256:abc");
        assert_eq!(s(from, "name"), "builder");

        let st = at(r, "stages.1");
        assert_eq!(s(st, "image_name"), "localhost:5000/img");
        assert_eq!(at(st, "tag").value, Value::Null);
        assert_eq!(at(st, "name").value, Value::Null);
        assert_eq!(at(st, "platform").value, Value::Null);
        let st = at(r, "stages.2");
        assert_eq!(s(st, "image_name"), "img");
        assert_eq!(at(st, "tag").value, Value::Null);
        assert_eq!(s(st, "digest"), "sha256:0123");
        let st = at(r, "stages.3");
        assert_eq!((s(st, "image_name"), s(st, "tag")), ("${BASE}", "latest"));
        let st = at(r, "stages.4");
        // The default in the reference applies (no global ARG BASE).
        assert_eq!(s(st, "image_name"), "alpine");
        assert_eq!(s(st, "image_resolved"), "alpine");
        assert_eq!(at(st, "tag").value, Value::Null);
        assert_eq!(at(r, "stages.5.index").as_number(), Some(Number::Int(5)));
        // A stage runs from its FROM to its last instruction.
        assert_eq!(
            (start(at(r, "stages.0")), end(at(r, "stages.0"))),
            ((1, 1), (1, 81))
        );
    }

    #[test]
    fn from_errors() {
        let p = parse_str("FROM\nFROM a b\nFROM a AS 1x\nRUN true\n");
        assert_eq!(
            messages(&p),
            [
                "FROM requires either one or three arguments",
                "FROM requires either one or three arguments",
                "invalid name for build stage \"1x\": name can't start with a number or contain symbols",
            ]
        );
        let r = root(&p);
        assert_eq!(at(r, "stages.0.image").value, Value::Null);
        assert_eq!(s(r, "stages.2.instructions.1.instruction"), "RUN");
    }

    #[test]
    fn global_args_before_from() {
        let text = "# syntax=docker/dockerfile:1\nARG BASE=alpine:3.19\nARG VERSION\n\nFROM ${BASE}\nARG VERSION\nRUN echo $VERSION\n";
        let p = parse_str(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let r = root(&p);
        let globals = at(r, "global_args").as_array().expect("array");
        assert_eq!(globals.len(), 2);
        assert_eq!(s(r, "global_args.0.pairs.BASE"), "alpine:3.19");
        assert_eq!(start(at(r, "global_args.0.pairs.BASE")), (2, 10));
        assert_eq!(at(r, "global_args.1.pairs.VERSION").value, Value::Null);
        assert_eq!(s(r, "stages.0.instructions.1.instruction"), "ARG");
        assert_eq!(s(r, "stages.0.image"), "${BASE}");
    }
}
