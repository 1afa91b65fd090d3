//! Helpers the Dockerfile parser's unit tests share: parse a string, walk
//! the tree by a dotted path (`stages.0.instructions.1`), read strings,
//! positions and error messages, and check every span against
//! [`LineIndex::span`].

use super::parse;
use crate::parse::Parsed;
use crate::tree::{LineIndex, Node, Value};

pub(super) fn parse_str(text: &str) -> Parsed {
    let index = LineIndex::new(text);
    parse(text, &index)
}

/// Walks `a.b.0.c` through objects and arrays.
pub(super) fn at<'n>(node: &'n Node, path: &str) -> &'n Node {
    let mut cur = node;
    for part in path.split('.') {
        cur = match &cur.value {
            Value::Object(o) => o
                .get(part)
                .unwrap_or_else(|| panic!("no key {part:?} in path {path:?}")),
            Value::Array(a) => {
                let i: usize = part.parse().expect("array index");
                a.get(i)
                    .unwrap_or_else(|| panic!("no index {i} in path {path:?}"))
            }
            _ => panic!("cannot descend into {} at {part:?}", cur.type_name()),
        };
    }
    cur
}

pub(super) fn s<'n>(node: &'n Node, path: &str) -> &'n str {
    at(node, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path:?} is not a string"))
}

pub(super) fn strs(node: &Node, path: &str) -> Vec<String> {
    at(node, path)
        .as_array()
        .unwrap_or_else(|| panic!("{path:?} is not an array"))
        .iter()
        .map(|n| n.as_str().unwrap_or("<not a string>").to_string())
        .collect()
}

pub(super) fn start(node: &Node) -> (u32, u32) {
    (node.span.start_line, node.span.start_col)
}

pub(super) fn end(node: &Node) -> (u32, u32) {
    (node.span.end_line, node.span.end_col)
}

pub(super) fn root(p: &Parsed) -> &Node {
    assert_eq!(p.documents.len(), 1);
    &p.documents[0]
}

pub(super) fn messages(p: &Parsed) -> Vec<String> {
    p.errors.iter().map(|e| e.message.clone()).collect()
}

/// Every node's span must be what `LineIndex::span` gives for its bytes.
pub(super) fn check_spans(node: &Node, index: &LineIndex, len: usize) {
    let sp = node.span;
    assert!(sp.start <= sp.end && sp.end as usize <= len, "{sp:?}");
    assert_eq!(sp, index.span(sp.start as usize, sp.end as usize));
    match &node.value {
        Value::Array(a) => a.iter().for_each(|c| check_spans(c, index, len)),
        Value::Object(o) => o.entries.iter().for_each(|e| {
            let k = e.key_span;
            assert_eq!(k, index.span(k.start as usize, k.end as usize));
            check_spans(&e.value, index, len)
        }),
        _ => {}
    }
}
