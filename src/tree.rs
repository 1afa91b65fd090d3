//! The common spanned tree every parser produces.
//!
//! Terraform, YAML, JSON and Dockerfile sources all become [`Node`]s, so the
//! platform models and the queries built on them never see syntax. Every node
//! knows where it came from ([`Span`]): a finding about a value points at that
//! value, one about a missing attribute at the block that lacks it.
//!
//! Lines and columns are 1-based, as editors and SARIF count them. Columns
//! count Unicode scalar values (SARIF `columnKind: unicodeCodePoints`), so a
//! column agrees with what an editor shows on a line with non-ASCII text.

use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

/// Where a node came from: a byte range into the original file and the
/// 1-based line and column of its first character and of the position just
/// after its last character.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset one past the last byte.
    pub end: u32,
    /// 1-based line of the first character.
    pub start_line: u32,
    /// 1-based column of the first character.
    pub start_col: u32,
    /// 1-based line of the position after the last character.
    pub end_line: u32,
    /// 1-based column of the position after the last character.
    pub end_col: u32,
}

impl Span {
    /// The smallest span covering both `self` and `other`.
    pub fn cover(self, other: Span) -> Span {
        let (start, start_line, start_col) = if other.start < self.start {
            (other.start, other.start_line, other.start_col)
        } else {
            (self.start, self.start_line, self.start_col)
        };
        let (end, end_line, end_col) = if other.end > self.end {
            (other.end, other.end_line, other.end_col)
        } else {
            (self.end, self.end_line, self.end_col)
        };
        Span {
            start,
            end,
            start_line,
            start_col,
            end_line,
            end_col,
        }
    }

    /// From the start of `self` to the end of `other` (which must not start
    /// before `self`): a block header from its keyword to its last label.
    pub fn to(self, other: Span) -> Span {
        Span {
            end: other.end,
            end_line: other.end_line,
            end_col: other.end_col,
            ..self
        }
    }

    /// The byte range, for slicing the source.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Span", 6)?;
        st.serialize_field("start", &self.start)?;
        st.serialize_field("end", &self.end)?;
        st.serialize_field("start_line", &self.start_line)?;
        st.serialize_field("start_col", &self.start_col)?;
        st.serialize_field("end_line", &self.end_line)?;
        st.serialize_field("end_col", &self.end_col)?;
        st.end()
    }
}

/// A file's text, ready to parse.
#[derive(Clone, Debug)]
pub struct SourceText {
    /// The text without any UTF-8 byte-order mark.
    pub text: String,
    /// Bytes removed from the front (3 per byte-order mark, else 0); spans
    /// add it back so byte ranges index the file on disk.
    pub bom_len: u32,
}

/// Turns byte offsets into lines and columns for one source text.
///
/// Built once per file; every parser uses it, so all spans agree on what a
/// line and a column are. `base` is added to every byte offset: it is 3 when
/// a UTF-8 byte-order mark was stripped before parsing, so byte ranges still
/// index the file as it is on disk while columns match what editors show.
pub struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<u32>,
    base: u32,
    /// All ASCII: a column is a byte count, no characters to walk.
    ascii: bool,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text` (the source after any BOM was removed).
    pub fn new(text: &'a str) -> Self {
        Self::with_base(text, 0)
    }

    /// Indexes `text`, whose byte 0 is at `base` in the file on disk.
    pub fn with_base(text: &'a str, base: u32) -> Self {
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 1);
        line_starts.push(0);
        line_starts.extend(memchr_newlines(text.as_bytes()).map(|i| i as u32 + 1));
        LineIndex {
            text,
            line_starts,
            base,
            ascii: text.is_ascii(),
        }
    }

    /// The text this index was built on.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Number of lines (a final line without a newline counts).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte offset (into the indexed text) where 1-based `line` starts.
    pub fn line_start(&self, line: u32) -> Option<usize> {
        self.line_starts
            .get((line as usize).checked_sub(1)?)
            .map(|&o| o as usize)
    }

    /// The span of line `line` (1-based) from its first non-blank character
    /// to its end; where the text has no such line, a position on that line
    /// with no extent (the text may be unknown).
    pub fn line_span(&self, line: u32) -> Span {
        let Some(start) = self.line_start(line) else {
            return Span {
                start_line: line,
                start_col: 1,
                end_line: line,
                end_col: 1,
                ..Span::default()
            };
        };
        let rest = &self.text[start.min(self.text.len())..];
        let end = start + rest.find('\n').unwrap_or(rest.len());
        let content = &self.text[start..end];
        let end = start + content.trim_end().len();
        let first = start + (content.len() - content.trim_start().len());
        self.span(first.min(end), end)
    }

    /// 1-based (line, column) of a byte offset into the indexed text.
    /// An offset inside a multi-byte character is rounded down to it.
    pub fn position(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&(offset as u32)) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        if self.ascii {
            return (line as u32 + 1, (offset - start) as u32 + 1);
        }
        let mut end = offset;
        while end > start && !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let col = self.text[start..end].chars().count();
        (line as u32 + 1, col as u32 + 1)
    }

    /// The span of a byte range of the indexed text.
    pub fn span(&self, start: usize, end: usize) -> Span {
        let end = end.max(start);
        let (start_line, start_col) = self.position(start);
        let (end_line, end_col) = self.position(end);
        Span {
            start: start.min(self.text.len()) as u32 + self.base,
            end: end.min(self.text.len()) as u32 + self.base,
            start_line,
            start_col,
            end_line,
            end_col,
        }
    }

    /// Byte offset (into the indexed text) of a 0-based character index, as
    /// parsers that count characters report positions.
    pub fn char_to_byte(&self, char_line: u32, char_col: u32) -> usize {
        let Some(start) = self.line_start(char_line) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        rest.char_indices()
            .nth(char_col as usize)
            .map(|(i, _)| start + i)
            .unwrap_or(self.text.len())
    }
}

fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter_map(|(i, &b)| (b == b'\n').then_some(i))
}

/// A value with the span it was read from.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// What the node holds.
    pub value: Value,
    /// Where it was written.
    pub span: Span,
}

/// A number as written: integers stay exact, everything else is a float.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// A number with no fraction or exponent that fits in 64 bits.
    Int(i64),
    /// Any other number.
    Float(f64),
}

impl Number {
    /// The number as a float (exact for integers below 2^53).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// Parses the number forms YAML, JSON and HCL share (decimal integers,
    /// fractions, exponents). Returns `None` for anything else.
    pub fn parse(text: &str) -> Option<Number> {
        if let Ok(i) = text.parse::<i64>() {
            return Some(Number::Int(i));
        }
        let f = text.parse::<f64>().ok()?;
        f.is_finite().then_some(Number::Float(f))
    }
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

/// The kinds of value a node holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`, `~`, an empty YAML value.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string, after unquoting and escape processing.
    String(String),
    /// A sequence; also repeated Terraform blocks of one type.
    Array(Vec<Node>),
    /// A mapping with ordered keys; also a Terraform block body.
    Object(Object),
    /// A Terraform expression that is not a literal.
    Expr(Box<Expression>),
}

/// An ordered mapping. Keys keep their own spans, and keep source order
/// (a query's message and a report list them as the author wrote them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object {
    /// The entries in source order.
    pub entries: Vec<Entry>,
}

/// One key of an [`Object`] with its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The key, unquoted.
    pub key: String,
    /// Where the key was written.
    pub key_span: Span,
    /// The value.
    pub value: Node,
}

impl Object {
    /// The value of the first entry named `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// The first entry named `key`.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A Terraform expression the parser does not reduce to a literal: a
/// reference, a function call, a template with interpolations, a
/// conditional, a `for` expression.
///
/// Its value is not known until evaluation; until then a query sees it as
/// unknown and does not fire on it, but can still ask what it refers to.
#[derive(Clone, Debug, PartialEq)]
pub struct Expression {
    /// The expression as written.
    pub source: String,
    /// What it refers to (`var.x`, `local.y`, `aws_s3_bucket.b.id`), in
    /// source order, without duplicates.
    pub references: Vec<String>,
    /// The literal text of a template or heredoc between its interpolations.
    pub literal_parts: Vec<String>,
}

impl Node {
    /// A node holding `value` at `span`.
    pub fn new(value: Value, span: Span) -> Self {
        Node { value, span }
    }

    /// The value of key `key` when this node is an object.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Object(o) => o.get(key),
            _ => None,
        }
    }

    /// The entry (key, key span, value) of key `key` when this node is an
    /// object.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_object()?.entry(key)
    }

    /// The node at a dotted path of object keys (`spec.template.spec`).
    pub fn at(&self, path: &str) -> Option<&Node> {
        path.split('.').try_fold(self, |node, key| node.get(key))
    }

    /// The object, when this node is one.
    pub fn as_object(&self) -> Option<&Object> {
        match &self.value {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The object, mutably, when this node is one.
    pub fn as_object_mut(&mut self) -> Option<&mut Object> {
        match &mut self.value {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The elements, when this node is an array.
    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The string, when this node is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, when this node is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The number, when this node is one.
    pub fn as_number(&self) -> Option<Number> {
        match self.value {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The expression, when this node is an unevaluated one.
    pub fn as_expr(&self) -> Option<&Expression> {
        match &self.value {
            Value::Expr(e) => Some(e),
            _ => None,
        }
    }

    /// An array's elements; nothing for null; else the node itself as a
    /// one-node slice. A Terraform block written once and a block written
    /// twice are walked the same way, and an empty YAML value (`containers:`)
    /// holds nothing.
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Array(a) => a,
            Value::Null => &[],
            _ => std::slice::from_ref(self),
        }
    }

    /// The type name used in `inspect --tree` output and messages.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
            Value::Expr(_) => "expression",
        }
    }

    /// True when nothing in this subtree is an unevaluated expression.
    pub fn is_literal(&self) -> bool {
        match &self.value {
            Value::Expr(_) => false,
            Value::Array(a) => a.iter().all(Node::is_literal),
            Value::Object(o) => o.entries.iter().all(|e| e.value.is_literal()),
            _ => true,
        }
    }

    /// The value as plain JSON (no spans); an expression becomes its
    /// source text.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(Number::Int(i)) => J::from(*i),
            Value::Number(Number::Float(f)) => J::from(*f),
            Value::String(s) => J::String(s.clone()),
            Value::Array(a) => J::Array(a.iter().map(Node::to_json).collect()),
            Value::Object(o) => J::Object(
                o.entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
            Value::Expr(e) => J::String(e.source.clone()),
        }
    }

    /// Sets every span in this subtree (keys' too) to `at`: a value decoded
    /// from, or computed out of, one place in the source points there.
    pub fn respan(&mut self, at: Span) {
        self.span = at;
        match &mut self.value {
            Value::Array(items) => items.iter_mut().for_each(|n| n.respan(at)),
            Value::Object(o) => o.entries.iter_mut().for_each(|e| {
                e.key_span = at;
                e.value.respan(at);
            }),
            _ => {}
        }
    }

    /// Number of nodes in this subtree, itself included.
    pub fn count(&self) -> usize {
        1 + match &self.value {
            Value::Array(a) => a.iter().map(Node::count).sum(),
            Value::Object(o) => o.entries.iter().map(|e| e.value.count()).sum(),
            _ => 0,
        }
    }
}

/// `inspect --tree` form: every node is `{"type", "span", ...}` so a policy
/// author sees exactly what a query path will walk and where it points.
impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("type", self.type_name())?;
        m.serialize_entry("span", &self.span)?;
        match &self.value {
            Value::Null => {}
            Value::Bool(b) => m.serialize_entry("value", b)?,
            Value::Number(Number::Int(i)) => m.serialize_entry("value", i)?,
            Value::Number(Number::Float(f)) => m.serialize_entry("value", f)?,
            Value::String(v) => m.serialize_entry("value", v)?,
            Value::Array(items) => m.serialize_entry("items", items)?,
            Value::Object(o) => m.serialize_entry("entries", &EntriesSer(&o.entries))?,
            Value::Expr(e) => {
                m.serialize_entry("source", &e.source)?;
                m.serialize_entry("references", &e.references)?;
                if !e.literal_parts.is_empty() {
                    m.serialize_entry("literal_parts", &e.literal_parts)?;
                }
            }
        }
        m.end()
    }
}

struct EntriesSer<'a>(&'a [Entry]);

impl Serialize for EntriesSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for e in self.0 {
            seq.serialize_element(&EntrySer(e))?;
        }
        seq.end()
    }
}

struct EntrySer<'a>(&'a Entry);

impl Serialize for EntrySer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Entry", 3)?;
        st.serialize_field("key", &self.0.key)?;
        st.serialize_field("key_span", &self.0.key_span)?;
        st.serialize_field("value", &self.0.value)?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let idx = LineIndex::new("ab\nçé x\n");
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(2), (1, 3));
        assert_eq!(idx.position(3), (2, 1));
        // "çé " is 5 bytes, 3 characters: 'x' is column 4.
        assert_eq!(idx.position(8), (2, 4));
        assert_eq!(idx.position(100), (3, 1));
    }

    #[test]
    fn base_shifts_bytes_not_columns() {
        let idx = LineIndex::with_base("key: v", 3);
        let span = idx.span(5, 6);
        assert_eq!((span.start, span.end), (8, 9));
        assert_eq!((span.start_line, span.start_col), (1, 6));
    }

    #[test]
    fn char_to_byte_handles_multibyte() {
        let idx = LineIndex::new("x\nçé: 1\n");
        assert_eq!(idx.char_to_byte(2, 2), 2 + 4);
    }

    #[test]
    fn numbers_parse_exactly() {
        assert_eq!(Number::parse("22"), Some(Number::Int(22)));
        assert_eq!(Number::parse("-1"), Some(Number::Int(-1)));
        assert_eq!(Number::parse("1.5"), Some(Number::Float(1.5)));
        assert_eq!(Number::parse("1e3"), Some(Number::Float(1000.0)));
        assert_eq!(Number::parse("abc"), None);
        assert_eq!(Number::parse("inf"), None);
    }
}
