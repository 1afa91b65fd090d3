//! What every fuzz target shares: turning the fuzzer's bytes into text the
//! way rampart reads a file, and checking the invariants of a parse.

use rampart::parse::Parsed;
use rampart::source::decode;
use rampart::tree::{LineIndex, Node, Span, Value};

/// The text rampart would parse from these bytes, or `None` where it
/// refuses the file before any parser sees it (binary, UTF-16, not UTF-8).
pub fn text_of(bytes: &[u8]) -> Option<String> {
    decode(bytes.to_vec()).ok().map(|source| source.text)
}

/// Panics unless every span of `parsed` lies inside `text`: a span past the
/// end would make a report slice out of bounds or point at nothing.
pub fn assert_spans_inside(parsed: &Parsed, text: &str) {
    let index = LineIndex::new(text);
    let lines = index.line_count() as u32 + 1;
    for document in &parsed.documents {
        check_node(document, text.len(), lines);
    }
    for error in &parsed.errors {
        assert!(
            error.line >= 1 && error.line <= lines,
            "error line {} outside 1..={lines}: {error}",
            error.line
        );
    }
}

fn check_node(node: &Node, len: usize, lines: u32) {
    check_span(node.span, len, lines);
    match &node.value {
        Value::Array(items) => items.iter().for_each(|n| check_node(n, len, lines)),
        Value::Object(object) => {
            for entry in &object.entries {
                check_span(entry.key_span, len, lines);
                check_node(&entry.value, len, lines);
            }
        }
        _ => {}
    }
}

fn check_span(span: Span, len: usize, lines: u32) {
    // A default span marks a value that was made, not read (an implied
    // null); it points nowhere, which reports handle.
    if span == Span::default() {
        return;
    }
    assert!(
        span.start <= span.end && span.end as usize <= len,
        "span {span:?} outside the text of {len} bytes"
    );
    assert!(
        span.start_line >= 1 && span.start_line <= span.end_line && span.end_line <= lines,
        "span {span:?} outside lines 1..={lines}"
    );
}
