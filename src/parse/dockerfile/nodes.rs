//! Constructors for the nodes and entries of the common tree, as the
//! Dockerfile parser builds them: values and spans in, [`Node`]s and
//! [`Entry`]s out.

use crate::tree::{Entry, Node, Object, Span, Value};

pub(super) fn node_str(v: impl Into<String>, span: Span) -> Node {
    Node::new(Value::String(v.into()), span)
}

pub(super) fn entry(key: &str, key_span: Span, value: Node) -> Entry {
    Entry {
        key: key.to_string(),
        key_span,
        value,
    }
}

/// An entry whose key has no source text of its own: it borrows the span of
/// the value it names.
pub(super) fn synth(key: &str, value: Node) -> Entry {
    Entry {
        key: key.to_string(),
        key_span: value.span,
        value,
    }
}

pub(super) fn object(entries: Vec<Entry>, span: Span) -> Node {
    Node::new(Value::Object(Object { entries }), span)
}

pub(super) fn array(items: Vec<Node>, span: Span) -> Node {
    Node::new(Value::Array(items), span)
}

/// The span covering `items`, or `empty` when there are none.
pub(super) fn cover(items: &[Node], empty: Span) -> Span {
    match (items.first(), items.last()) {
        (Some(a), Some(b)) => a.span.cover(b.span),
        _ => empty,
    }
}

pub(super) fn optional_str(value: Option<String>, span: Span) -> Node {
    match value {
        Some(v) => node_str(v, span),
        None => Node::new(Value::Null, span),
    }
}
