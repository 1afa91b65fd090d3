//! Dockerfiles into the common tree, read the way BuildKit reads them.
//!
//! A finding about a Dockerfile is only useful when it is about what
//! `docker build` would actually run, so this parser follows BuildKit's
//! front end rather than a loose line splitter: parser directives only at the
//! top, the `escape` directive's character for continuations, comment and
//! blank lines dropped from inside a continued instruction, flags before the
//! arguments, JSON (exec) form only when the text is a valid JSON array of
//! strings, heredocs whose bodies follow the instruction line.
//!
//! Every node points at the source it came from. Continuation lines are
//! joined before an instruction is read (as BuildKit does), and offsets into
//! the joined text are mapped back to the file, so a command that starts on
//! the line after a `\` has that line's line and column.
//!
//! The parser reads the file once, front to back, and nothing it does is
//! worse than linear in the input, whatever the input: hostile files (huge
//! lines, unterminated quotes and heredocs, deep brackets) cost no more
//! than ordinary ones of the same size.

use std::borrow::Cow;
use std::cell::Cell;

use crate::parse::{MAX_DEPTH, ParseError, Parsed};
use crate::tree::{Entry, LineIndex, Node, Number, Object, Span, Value};

/// Parses a Dockerfile. `index` was built over `text`.
///
/// Always returns one document: a root object with `directives`,
/// `global_args` and `stages`. What cannot be read (an unknown instruction,
/// an unterminated heredoc, a file without `FROM`) is reported in
/// [`Parsed::errors`] and parsing goes on.
pub fn parse(text: &str, index: &LineIndex) -> Parsed {
    let mut parser = Parser::new(text, index);
    parser.run();
    let mut parsed = parser.finish();
    for document in &mut parsed.documents {
        resolve_base_images(document);
    }
    parsed
}

/// Works out what each stage is built on, as BuildKit would:
///
/// - `FROM ${BASE}` takes the defaults of the global `ARG`s (those before
///   the first `FROM`); when every variable resolves, `image_name`, `tag`
///   and `digest` describe the resolved reference (and `image_resolved`
///   holds it), so `ARG BASE=node:latest` + `FROM $BASE` reads as latest;
/// - `base_stage` names the earlier stage a `FROM builder` builds on (Null
///   when the base is an image): such a base is not pulled from a registry.
fn resolve_base_images(root: &mut Node) {
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
            earlier.push(name);
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

fn set_entry(facts: &mut crate::tree::Object, key: &str, value: Node) {
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

/// The instructions BuildKit knows; anything else is an error it reports.
const KNOWN: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// The keyword as the tree spells it: uppercase, borrowed from [`KNOWN`]
/// for the instructions Docker knows (no allocation for the usual case).
fn keyword_name(raw: &str) -> Cow<'static, str> {
    match KNOWN.iter().find(|k| k.eq_ignore_ascii_case(raw)) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(raw.to_ascii_uppercase()),
    }
}

/// Whitespace as BuildKit's `reWhitespace` (`[\t\v\f\r ]`) splits on.
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | 0x0b | 0x0c | b'\r')
}

/// The end of the line starting at `pos` without its `\r\n` / `\n`, and the
/// start of the next line.
fn line_at(bytes: &[u8], pos: usize) -> (usize, usize) {
    let (mut end, next) = match bytes
        .get(pos..)
        .and_then(|r| r.iter().position(|&b| b == b'\n'))
    {
        Some(i) => (pos + i, pos + i + 1),
        None => (bytes.len(), bytes.len()),
    };
    while end > pos && bytes[end - 1] == b'\r' {
        end -= 1;
    }
    (end, next)
}

fn skip_ws(bytes: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && is_ws(bytes[i]) {
        i += 1;
    }
    i
}

/// `end` moved back over spaces and tabs (what may follow a continuation).
fn trim_end_blanks(bytes: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && matches!(bytes[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    end
}

fn trim_end_ws(bytes: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && is_ws(bytes[end - 1]) {
        end -= 1;
    }
    end
}

/// Byte length of the UTF-8 character whose first byte is `b`.
fn utf8_len(b: u8) -> usize {
    match b {
        0..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// Appends `s[a..b]`; a range that is not on character boundaries (which
/// the callers never produce) is skipped rather than panicking.
fn push_slice(buf: &mut String, s: &str, a: usize, b: usize) {
    if let Some(part) = s.get(a..b) {
        buf.push_str(part);
    }
}

fn node_str(v: impl Into<String>, span: Span) -> Node {
    Node::new(Value::String(v.into()), span)
}

fn entry(key: &str, key_span: Span, value: Node) -> Entry {
    Entry {
        key: key.to_string(),
        key_span,
        value,
    }
}

/// An entry whose key has no source text of its own: it borrows the span of
/// the value it names.
fn synth(key: &str, value: Node) -> Entry {
    Entry {
        key: key.to_string(),
        key_span: value.span,
        value,
    }
}

fn object(entries: Vec<Entry>, span: Span) -> Node {
    Node::new(Value::Object(Object { entries }), span)
}

fn array(items: Vec<Node>, span: Span) -> Node {
    Node::new(Value::Array(items), span)
}

/// The span covering `items`, or `empty` when there are none.
fn cover(items: &[Node], empty: Span) -> Span {
    match (items.first(), items.last()) {
        (Some(a), Some(b)) => a.span.cover(b.span),
        _ => empty,
    }
}

// ---------------------------------------------------------------------------
// Spans

/// Line and column of the last position asked for, and the bounds of its
/// line.
#[derive(Clone, Copy)]
struct Cursor {
    off: usize,
    line: u32,
    col: u32,
    line_start: usize,
    next_line: usize,
    /// The line is ASCII: a column is a byte distance.
    ascii: bool,
}

/// Spans exactly as [`LineIndex::span`] computes them, but without its cost
/// on long lines.
///
/// `LineIndex::position` counts characters from the start of the line, so a
/// node in the middle of a one-megabyte `RUN` line would cost a megabyte
/// and a line of many words would be quadratic. Positions here are asked for
/// nearly in order, so counting from the last one keeps the whole parse
/// linear; whenever the cursor leaves its line the answer comes from the
/// index itself, so lines and columns agree with every other parser.
struct Spanner<'a> {
    index: &'a LineIndex<'a>,
    text: &'a str,
    base: u32,
    cursor: Cell<Cursor>,
}

impl<'a> Spanner<'a> {
    fn new(index: &'a LineIndex<'a>) -> Self {
        // The base (non-zero after a stripped BOM) is not exposed; an empty
        // span at offset 0 reveals it.
        let base = index.span(0, 0).start;
        let spanner = Spanner {
            index,
            text: index.text(),
            base,
            cursor: Cell::new(Cursor {
                off: 0,
                line: 1,
                col: 1,
                line_start: 0,
                next_line: 0,
                ascii: false,
            }),
        };
        let first = spanner.enter(1, 0, index.line_start(2).unwrap_or(usize::MAX));
        spanner.cursor.set(first);
        spanner
    }

    fn position(&self, off: usize) -> (u32, u32) {
        let mut off = off.min(self.text.len());
        while off > 0 && !self.text.is_char_boundary(off) {
            off -= 1;
        }
        let mut c = self.cursor.get();
        if !(off >= c.line_start && off < c.next_line) {
            let (line, line_start, next_line) = match self.nearby_line(c, off) {
                Some(found) => found,
                None => {
                    let line = self.index.position(off).0;
                    let start = self.index.line_start(line).unwrap_or(0);
                    let next = self.index.line_start(line + 1).unwrap_or(usize::MAX);
                    (line, start, next)
                }
            };
            c = self.enter(line, line_start, next_line);
        }
        let count =
            |a: usize, b: usize| self.text.get(a..b).map_or(0, |s| s.chars().count() as u32);
        let col = if c.ascii {
            (off - c.line_start) as u32 + 1
        } else if off >= c.off {
            // Count from whichever known point on the line is nearest.
            c.col + count(c.off, off)
        } else if off - c.line_start < c.off - off {
            count(c.line_start, off) + 1
        } else {
            c.col.saturating_sub(count(off, c.off))
        };
        self.cursor.set(Cursor { off, col, ..c });
        (c.line, col)
    }

    /// A cursor at the start of a line. Whether the line is ASCII (columns
    /// are then byte distances) is only worked out for lines of sane length,
    /// so coming back to a huge line stays cheap.
    fn enter(&self, line: u32, line_start: usize, next_line: usize) -> Cursor {
        let end = next_line.min(self.text.len());
        let ascii = end.saturating_sub(line_start) <= 4096
            && self
                .text
                .as_bytes()
                .get(line_start..end)
                .is_some_and(<[u8]>::is_ascii);
        Cursor {
            off: line_start,
            line,
            col: 1,
            line_start,
            next_line,
            ascii,
        }
    }

    /// The line holding `off` (number, start, next line's start) when it is
    /// a few lines from the cursor's: nodes are visited nearly in order, so
    /// walking the index's line starts beats its binary search.
    fn nearby_line(&self, c: Cursor, off: usize) -> Option<(u32, usize, usize)> {
        const REACH: u32 = 8;
        let (mut line, mut start, mut next) = (c.line, c.line_start, c.next_line);
        for _ in 0..REACH {
            if off >= next {
                line += 1;
                start = next;
                next = self.index.line_start(line + 1).unwrap_or(usize::MAX);
            } else if off < start && line > 1 {
                line -= 1;
                next = start;
                start = self.index.line_start(line)?;
            } else {
                break;
            }
        }
        (start <= off && off < next).then_some((line, start, next))
    }

    fn span(&self, start: usize, end: usize) -> Span {
        let end = end.max(start);
        let (start_line, start_col) = self.position(start);
        let (end_line, end_col) = self.position(end);
        let len = self.text.len();
        Span {
            start: start.min(len) as u32 + self.base,
            end: end.min(len) as u32 + self.base,
            start_line,
            start_col,
            end_line,
            end_col,
        }
    }
}

/// Where a piece of the joined instruction text starts, in the joined text
/// and in the file.
#[derive(Clone, Copy, Debug)]
struct Seg {
    at: usize,
    src: usize,
}

/// Text whose offsets are the file's own (heredoc bodies).
const IDENTITY: &[Seg] = &[Seg { at: 0, src: 0 }];

/// Text to read nodes from, and how its offsets map to the file.
#[derive(Clone, Copy)]
struct Src<'j> {
    s: &'j str,
    segs: &'j [Seg],
}

impl Src<'_> {
    fn file_offset(self, off: usize) -> usize {
        if let [only] = self.segs {
            return only.src + off.saturating_sub(only.at);
        }
        let i = self.segs.partition_point(|seg| seg.at <= off);
        match i.checked_sub(1).and_then(|i| self.segs.get(i)) {
            Some(seg) => seg.src + (off - seg.at),
            None => off,
        }
    }

    fn text(&self, a: usize, b: usize) -> &str {
        self.s.get(a..b).unwrap_or("")
    }
}

// ---------------------------------------------------------------------------
// Words and quotes

/// Removes quotes and escapes the way BuildKit's word expansion does
/// (without expanding variables, which stay as written): outside quotes the
/// escape character escapes anything, inside double quotes only `"`, `$` and
/// itself, inside single quotes nothing.
fn unquote(raw: &str, esc: u8) -> String {
    let b = raw.as_bytes();
    if !b.iter().any(|&c| c == b'"' || c == b'\'' || c == esc) {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == esc {
            if i + 1 < b.len() {
                let w = utf8_len(b[i + 1]);
                push_slice(&mut out, raw, i + 1, (i + 1 + w).min(b.len()));
                i += 1 + w;
            } else {
                i += 1;
            }
        } else if c == b'\'' {
            let close = b[i + 1..].iter().position(|&x| x == b'\'');
            let end = close.map_or(b.len(), |k| i + 1 + k);
            push_slice(&mut out, raw, i + 1, end);
            i = end + 1;
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == esc
                    && i + 1 < b.len()
                    && (b[i + 1] == b'"' || b[i + 1] == b'$' || b[i + 1] == esc)
                {
                    i += 1;
                }
                let w = utf8_len(b[i]);
                push_slice(&mut out, raw, i, (i + w).min(b.len()));
                i += w;
            }
            i += 1;
        } else {
            let start = i;
            while i < b.len() && b[i] != esc && b[i] != b'"' && b[i] != b'\'' {
                i += 1;
            }
            push_slice(&mut out, raw, start, i);
        }
    }
    out
}

/// Splits on whitespace only, as BuildKit's `parseStringsWhitespaceDelimited`
/// (FROM, EXPOSE, and COPY/ADD/VOLUME in shell form).
fn ws_words(s: &str, a: usize, b: usize) -> Vec<(usize, usize)> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = a;
    while i < b {
        i = skip_ws(bytes, i, b);
        if i >= b {
            break;
        }
        let start = i;
        while i < b && !is_ws(bytes[i]) {
            i += 1;
        }
        out.push((start, i));
    }
    out
}

/// Splits on whitespace outside quotes, keeping the quotes, as BuildKit's
/// `parseWords` (ENV, LABEL, ARG) and its heredoc word scan.
fn quoted_words(s: &str, a: usize, b: usize, esc: u8) -> Vec<(usize, usize)> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = a;
    while i < b {
        i = skip_ws(bytes, i, b);
        if i >= b {
            break;
        }
        let start = i;
        let mut quote = 0u8;
        while i < b {
            let c = bytes[i];
            if quote == 0 {
                if is_ws(c) {
                    break;
                }
                if c == b'\'' || c == b'"' {
                    quote = c;
                } else if c == esc {
                    i += 1;
                }
            } else if c == quote {
                quote = 0;
            } else if c == esc && quote != b'\'' {
                i += 1;
            }
            i += 1;
        }
        let end = i.min(b);
        // Never end inside a character that an escape skipped into.
        let mut end_ok = end;
        while end_ok < b && !s.is_char_boundary(end_ok) {
            end_ok += 1;
        }
        out.push((start, end_ok));
        i = end_ok;
    }
    out
}

// ---------------------------------------------------------------------------
// JSON (exec form)

enum Json {
    /// A JSON array of strings: each element and its range (with quotes).
    Strings(Vec<(String, usize, usize)>),
    /// Valid JSON, but not every element is a string: BuildKit refuses it.
    NotStrings,
    /// Not JSON at all: the text is shell form.
    Invalid,
}

fn json_ws(b: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

fn hex4(b: &[u8], i: usize) -> Option<u32> {
    let digits = b.get(i..i + 4)?;
    let mut v = 0u32;
    for &d in digits {
        v = v * 16 + (d as char).to_digit(16)?;
    }
    Some(v)
}

/// Reads the JSON string starting at the `"` at `i`; returns the decoded
/// text and the offset after the closing quote.
fn json_string(s: &str, mut i: usize, end: usize) -> Option<(String, usize)> {
    let b = s.as_bytes();
    i += 1;
    let mut out = String::new();
    loop {
        let c = *b.get(i).filter(|_| i < end)?;
        match c {
            b'"' => return Some((out, i + 1)),
            b'\\' => {
                let e = *b.get(i + 1).filter(|_| i + 1 < end)?;
                i += 2;
                match e {
                    b'"' => out.push('"'),
                    b'\\' => out.push('\\'),
                    b'/' => out.push('/'),
                    b'b' => out.push('\u{8}'),
                    b'f' => out.push('\u{c}'),
                    b'n' => out.push('\n'),
                    b'r' => out.push('\r'),
                    b't' => out.push('\t'),
                    b'u' => {
                        if i + 4 > end {
                            return None;
                        }
                        let hi = hex4(b, i)?;
                        i += 4;
                        let mut ch = char::from_u32(hi);
                        if (0xd800..0xdc00).contains(&hi)
                            && i + 6 <= end
                            && b[i] == b'\\'
                            && b[i + 1] == b'u'
                            && let Some(lo) = hex4(b, i + 2)
                            && (0xdc00..0xe000).contains(&lo)
                        {
                            ch = char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00));
                            i += 6;
                        }
                        // A lone surrogate decodes to U+FFFD, as Go's decoder does.
                        out.push(ch.unwrap_or('\u{fffd}'));
                    }
                    _ => return None,
                }
            }
            0..=0x1f => return None,
            _ => {
                let start = i;
                while i < end && b[i] != b'"' && b[i] != b'\\' && b[i] >= 0x20 {
                    i += 1;
                }
                push_slice(&mut out, s, start, i);
            }
        }
    }
}

/// Skips one JSON value (not a string element of the top array); `None`
/// when it is not valid JSON or nests deeper than [`MAX_DEPTH`].
fn json_skip(s: &str, i: usize, end: usize, depth: usize) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    let b = s.as_bytes();
    let c = *b.get(i).filter(|_| i < end)?;
    match c {
        b'"' => json_string(s, i, end).map(|(_, e)| e),
        b'[' | b'{' => {
            let close = if c == b'[' { b']' } else { b'}' };
            let mut i = json_ws(b, i + 1, end);
            if b.get(i) == Some(&close) && i < end {
                return Some(i + 1);
            }
            loop {
                if c == b'{' {
                    if b.get(i) != Some(&b'"') {
                        return None;
                    }
                    i = json_string(s, i, end)?.1;
                    i = json_ws(b, i, end);
                    if i >= end || b[i] != b':' {
                        return None;
                    }
                    i = json_ws(b, i + 1, end);
                }
                i = json_skip(s, i, end, depth + 1)?;
                i = json_ws(b, i, end);
                if i >= end {
                    return None;
                }
                if b[i] == close {
                    return Some(i + 1);
                }
                if b[i] != b',' {
                    return None;
                }
                i = json_ws(b, i + 1, end);
            }
        }
        b't' => (b.get(i..i + 4) == Some(b"true") && i + 4 <= end).then_some(i + 4),
        b'f' => (b.get(i..i + 5) == Some(b"false") && i + 5 <= end).then_some(i + 5),
        b'n' => (b.get(i..i + 4) == Some(b"null") && i + 4 <= end).then_some(i + 4),
        b'-' | b'0'..=b'9' => {
            let mut i = i;
            if b[i] == b'-' {
                i += 1;
            }
            let digits = |mut i: usize| {
                let start = i;
                while i < end && b[i].is_ascii_digit() {
                    i += 1;
                }
                (i > start).then_some(i)
            };
            if i < end && b[i] == b'0' {
                i += 1;
            } else {
                i = digits(i)?;
            }
            if i < end && b[i] == b'.' {
                i = digits(i + 1)?;
            }
            if i < end && (b[i] == b'e' || b[i] == b'E') {
                i += 1;
                if i < end && (b[i] == b'+' || b[i] == b'-') {
                    i += 1;
                }
                i = digits(i)?;
            }
            Some(i)
        }
        _ => None,
    }
}

/// Reads `s[a..b]` as BuildKit's `parseJSON` does: a JSON array, nothing
/// after it but whitespace.
fn json_array(s: &str, a: usize, b: usize) -> Json {
    let bytes = s.as_bytes();
    if bytes.get(a) != Some(&b'[') || a >= b {
        return Json::Invalid;
    }
    let mut out = Vec::new();
    let mut strings_only = true;
    let mut i = json_ws(bytes, a + 1, b);
    if i < b && bytes[i] == b']' {
        i += 1;
    } else {
        loop {
            if i >= b {
                return Json::Invalid;
            }
            if bytes[i] == b'"' {
                let Some((text, end)) = json_string(s, i, b) else {
                    return Json::Invalid;
                };
                out.push((text, i, end));
                i = end;
            } else {
                let Some(end) = json_skip(s, i, b, 1) else {
                    return Json::Invalid;
                };
                strings_only = false;
                i = end;
            }
            i = json_ws(bytes, i, b);
            if i >= b {
                return Json::Invalid;
            }
            match bytes[i] {
                b',' => i = json_ws(bytes, i + 1, b),
                b']' => {
                    i += 1;
                    break;
                }
                _ => return Json::Invalid,
            }
        }
    }
    if json_ws(bytes, i, b) != b {
        Json::Invalid
    } else if strings_only {
        Json::Strings(out)
    } else {
        Json::NotStrings
    }
}

// ---------------------------------------------------------------------------
// Shell

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tok {
    /// A word; its text is unquoted.
    Word,
    /// `;`, `&&`, `||`, `|`, `&`, `(`, `)`, or a newline.
    Sep,
    /// A redirection operator.
    Redir,
    /// The word a redirection applies to (a file, an fd, a heredoc word).
    Target,
}

struct Token {
    kind: Tok,
    start: usize,
    end: usize,
    /// The unquoted text, when it differs from the source slice: most words
    /// need no unquoting, and not copying them saves an allocation each.
    text: Option<String>,
}

impl Token {
    fn text<'s>(&'s self, s: &'s str) -> &'s str {
        match &self.text {
            Some(t) => t,
            None => s.get(self.start..self.end).unwrap_or(""),
        }
    }

    fn take_text(&mut self, s: &str) -> String {
        match self.text.take() {
            Some(t) => t,
            None => s.get(self.start..self.end).unwrap_or("").to_string(),
        }
    }
}

/// Skips a `$(...)` / `$((...))` whose opening parenthesis is before `i`.
fn skip_paren(b: &[u8], mut i: usize, to: usize) -> usize {
    let mut depth = 1usize;
    while i < to {
        match b[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            b'\\' => i += 1,
            b'\'' => {
                i += 1;
                while i < to && b[i] != b'\'' {
                    i += 1;
                }
            }
            b'"' | b'`' => {
                let q = b[i];
                i += 1;
                while i < to && b[i] != q {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    to
}

/// Skips a `${...}` whose opening brace is before `i`.
fn skip_brace(b: &[u8], mut i: usize, to: usize) -> usize {
    let mut depth = 1usize;
    while i < to {
        match b[i] {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            b'\\' => i += 1,
            _ => {}
        }
        i += 1;
    }
    to
}

/// Skips a backquoted command substitution whose opening quote is before `i`.
fn skip_backtick(b: &[u8], mut i: usize, to: usize) -> usize {
    while i < to {
        match b[i] {
            b'`' => return i + 1,
            b'\\' => i += 1,
            _ => {}
        }
        i += 1;
    }
    to
}

/// Copies a `$...` expansion or substitution starting at `i` as written.
fn lex_dollar(s: &str, i: usize, to: usize, buf: &mut String) -> usize {
    let b = s.as_bytes();
    let end = match b.get(i + 1) {
        Some(b'(') if i + 1 < to => skip_paren(b, i + 2, to),
        Some(b'{') if i + 1 < to => skip_brace(b, i + 2, to),
        _ => i + 1,
    };
    let end = end.min(to);
    push_slice(buf, s, i, end);
    end
}

fn is_shell_special(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t'
            | b'\r'
            | 0x0b
            | 0x0c
            | b'\n'
            | b';'
            | b'&'
            | b'|'
            | b'('
            | b')'
            | b'<'
            | b'>'
            | b'\\'
            | b'\''
            | b'"'
            | b'$'
            | b'`'
    )
}

/// Reads a double-quoted string whose opening quote is before `i`.
fn lex_dquote(s: &str, mut i: usize, to: usize, buf: &mut String) -> usize {
    let b = s.as_bytes();
    while i < to {
        match b[i] {
            b'"' => return i + 1,
            b'\\' => match b.get(i + 1).filter(|_| i + 1 < to) {
                Some(b'\n') => i += 2,
                Some(b'\r') if b.get(i + 2) == Some(&b'\n') && i + 2 < to => i += 3,
                Some(&c @ (b'$' | b'`' | b'"' | b'\\')) => {
                    buf.push(c as char);
                    i += 2;
                }
                _ => {
                    buf.push('\\');
                    i += 1;
                }
            },
            b'$' => i = lex_dollar(s, i, to, buf),
            b'`' => {
                let end = skip_backtick(b, i + 1, to);
                push_slice(buf, s, i, end);
                i = end;
            }
            _ => {
                let start = i;
                while i < to && !matches!(b[i], b'"' | b'\\' | b'$' | b'`') {
                    i += 1;
                }
                push_slice(buf, s, start, i);
            }
        }
    }
    to
}

/// Reads one word starting at `i` (which is not a separator or blank);
/// returns its end.
fn lex_word(s: &str, mut i: usize, to: usize, buf: &mut String) -> usize {
    let b = s.as_bytes();
    while i < to {
        match b[i] {
            b' ' | b'\t' | b'\r' | 0x0b | 0x0c | b'\n' | b';' | b'&' | b'|' | b'(' | b')'
            | b'<' | b'>' => break,
            b'\\' => match b.get(i + 1).filter(|_| i + 1 < to) {
                None => i += 1,
                Some(b'\n') => i += 2,
                Some(b'\r') if b.get(i + 2) == Some(&b'\n') && i + 2 < to => i += 3,
                Some(&c) => {
                    let end = (i + 1 + utf8_len(c)).min(to);
                    push_slice(buf, s, i + 1, end);
                    i = end;
                }
            },
            b'\'' => {
                let close = b[i + 1..to].iter().position(|&x| x == b'\'');
                let end = close.map_or(to, |k| i + 1 + k);
                push_slice(buf, s, i + 1, end);
                i = (end + 1).min(to);
            }
            b'"' => i = lex_dquote(s, i + 1, to, buf),
            // `$'...'` (ANSI-C quoting): read as a single-quoted string.
            b'$' if b.get(i + 1) == Some(&b'\'') && i + 1 < to => i += 1,
            b'$' => i = lex_dollar(s, i, to, buf),
            b'`' => {
                let end = skip_backtick(b, i + 1, to);
                push_slice(buf, s, i, end);
                i = end;
            }
            _ => {
                let start = i;
                while i < to && !is_shell_special(b[i]) {
                    i += 1;
                }
                push_slice(buf, s, start, i);
            }
        }
    }
    i
}

/// Length of the redirection operator at `i` (a `<` or `>`) and, for `<<`
/// and `<<-`, whether it opens a heredoc and strips tabs.
fn redirect_op(b: &[u8], i: usize, to: usize) -> (usize, Option<bool>) {
    let at = |k: usize| {
        if i + k < to {
            b.get(i + k).copied()
        } else {
            None
        }
    };
    if b[i] == b'<' {
        match (at(1), at(2)) {
            (Some(b'<'), Some(b'<')) => (3, None),
            (Some(b'<'), Some(b'-')) => (3, Some(true)),
            (Some(b'<'), _) => (2, Some(false)),
            (Some(b'&' | b'>'), _) => (2, None),
            _ => (1, None),
        }
    } else {
        match at(1) {
            Some(b'>' | b'&' | b'|') => (2, None),
            _ => (1, None),
        }
    }
}

/// Skips the bodies of heredocs opened on the line just ended, starting at
/// the beginning of the next line.
fn skip_shell_heredocs(b: &[u8], mut i: usize, to: usize, pending: &[(String, bool)]) -> usize {
    for (delim, strip) in pending {
        while i < to {
            let nl = b[i..to].iter().position(|&c| c == b'\n');
            let line_end = nl.map_or(to, |k| i + k);
            let mut end = line_end;
            while end > i && b[end - 1] == b'\r' {
                end -= 1;
            }
            let mut start = i;
            if *strip {
                while start < end && b[start] == b'\t' {
                    start += 1;
                }
            }
            i = if line_end < to { line_end + 1 } else { to };
            if &b[start..end] == delim.as_bytes() {
                break;
            }
        }
    }
    i
}

/// Splits shell text `s[from..to]` into tokens.
///
/// This is not a shell: it finds where simple commands start and end and
/// what their words are once quotes are removed, which is what a query about
/// "an `apt-get install` without `--no-install-recommends`" needs. Command
/// substitutions stay inside the word that holds them.
fn lex_shell(s: &str, from: usize, to: usize, out: &mut Vec<Token>, buf: &mut String) {
    let b = s.as_bytes();
    let to = to.min(b.len());
    let mut i = from;
    let mut pending: Vec<(String, bool)> = Vec::new();
    // After a redirection operator the next word is its target; `Some(Some(strip))`
    // when that target is a heredoc word.
    let mut target: Option<Option<bool>> = None;
    loop {
        while i < to {
            match b[i] {
                b' ' | b'\t' | b'\r' | 0x0b | 0x0c => i += 1,
                b'\\' if b.get(i + 1) == Some(&b'\n') && i + 1 < to => i += 2,
                b'\\'
                    if b.get(i + 1) == Some(&b'\r')
                        && b.get(i + 2) == Some(&b'\n')
                        && i + 2 < to =>
                {
                    i += 3
                }
                _ => break,
            }
        }
        if i >= to {
            break;
        }
        let start = i;
        let op = |out: &mut Vec<Token>, kind: Tok, len: usize| {
            out.push(Token {
                kind,
                start,
                end: start + len,
                text: None,
            });
            start + len
        };
        let next = b.get(i + 1).copied().filter(|_| i + 1 < to);
        match b[i] {
            b'\n' => {
                i = op(out, Tok::Sep, 1);
                target = None;
                if !pending.is_empty() {
                    i = skip_shell_heredocs(b, i, to, &pending);
                    pending.clear();
                }
            }
            b'#' => {
                while i < to && b[i] != b'\n' {
                    i += 1;
                }
            }
            b';' => {
                target = None;
                i = op(out, Tok::Sep, if next == Some(b';') { 2 } else { 1 });
            }
            b'&' => match next {
                Some(b'&') => {
                    target = None;
                    i = op(out, Tok::Sep, 2);
                }
                Some(b'>') => {
                    let long = b.get(i + 2) == Some(&b'>') && i + 2 < to;
                    i = op(out, Tok::Redir, if long { 3 } else { 2 });
                    target = Some(None);
                }
                _ => {
                    target = None;
                    i = op(out, Tok::Sep, 1);
                }
            },
            b'|' => {
                target = None;
                let len = if matches!(next, Some(b'|' | b'&')) {
                    2
                } else {
                    1
                };
                i = op(out, Tok::Sep, len);
            }
            b'(' | b')' => {
                target = None;
                i = op(out, Tok::Sep, 1);
            }
            b'<' | b'>' => {
                let (len, heredoc) = redirect_op(b, i, to);
                i = op(out, Tok::Redir, len);
                target = Some(heredoc);
            }
            _ => {
                buf.clear();
                let end = lex_word(s, i, to, buf);
                let end = end.max(i + 1).min(to);
                i = end;
                // `2>` and `1<`: the digits are the redirection's fd, not a word.
                if end < to
                    && matches!(b[end], b'<' | b'>')
                    && b[start..end].iter().all(u8::is_ascii_digit)
                {
                    continue;
                }
                let text = (s.get(start..end) != Some(buf.as_str())).then(|| buf.clone());
                let kind = match target.take() {
                    Some(heredoc) => {
                        if let Some(strip) = heredoc {
                            pending.push((buf.clone(), strip));
                        }
                        Tok::Target
                    }
                    None => Tok::Word,
                };
                out.push(Token {
                    kind,
                    start,
                    end,
                    text,
                });
            }
        }
    }
}

/// Words that open or close a compound command: they are not the name of
/// the simple command that follows them.
fn is_reserved(word: &str) -> bool {
    matches!(
        word,
        "if" | "then"
            | "else"
            | "elif"
            | "fi"
            | "do"
            | "done"
            | "while"
            | "until"
            | "esac"
            | "{"
            | "}"
            | "!"
            | "time"
    )
}

/// Length of `NAME` when `raw` is a `NAME=value` assignment.
fn assignment(raw: &[u8]) -> Option<usize> {
    let first = *raw.first()?;
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return None;
    }
    let k = raw
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))?;
    (raw[k] == b'=').then_some(k)
}

fn is_shell(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name,
        "sh" | "bash" | "ash" | "dash" | "zsh" | "ksh" | "mksh"
    )
}

// ---------------------------------------------------------------------------
// Instructions

/// A `--name[=value]` flag word.
struct Flag {
    word: (usize, usize),
    name: String,
    name_range: (usize, usize),
    value: Option<(String, (usize, usize))>,
}

/// How a shell command is joined to the one before it.
struct Link {
    /// The operator before it (`&&`, `||`, `;`, `|`), `None` for the first.
    after: Option<String>,
    /// The name of the command before it.
    previous: Option<String>,
}

fn optional_str(value: Option<String>, span: Span) -> Node {
    match value {
        Some(v) => node_str(v, span),
        None => Node::new(Value::Null, span),
    }
}

/// An instruction line split as BuildKit's `splitCommand` does.
struct Command {
    keyword: (usize, usize),
    flags: Vec<Flag>,
    rest: (usize, usize),
}

/// Splits the trimmed, non-empty `s[a..b]` into keyword, flags and the rest.
fn split_command(s: &str, a: usize, b: usize) -> Command {
    let bytes = s.as_bytes();
    let mut k = a;
    while k < b && !is_ws(bytes[k]) {
        k += 1;
    }
    let mut flags = Vec::new();
    let mut i = skip_ws(bytes, k, b);
    let mut rest_start = b;
    // BuildKit's `extractBuilderFlags`: leading words that start with `--`,
    // with quotes and backslashes removed; a bare `--` ends them.
    loop {
        i = skip_ws(bytes, i, b);
        if i >= b || !(bytes[i] == b'-' && i + 1 < b && bytes[i + 1] == b'-') {
            rest_start = rest_start.min(i);
            break;
        }
        let start = i;
        let mut word = String::new();
        let mut quote = 0u8;
        while i < b {
            let c = bytes[i];
            if quote == 0 && is_ws(c) {
                break;
            }
            if quote == 0 && (c == b'\'' || c == b'"') {
                quote = c;
                i += 1;
                continue;
            }
            if quote != 0 && c == quote {
                quote = 0;
                i += 1;
                continue;
            }
            let from = if c == b'\\' && i + 1 < b { i + 1 } else { i };
            if c == b'\\' && i + 1 >= b {
                i += 1;
                continue;
            }
            let end = (from + utf8_len(bytes[from])).min(b);
            push_slice(&mut word, s, from, end);
            i = end;
        }
        if word == "--" && i - start == 2 {
            rest_start = skip_ws(bytes, i, b);
            break;
        }
        let eq_raw = bytes[start + 2..i]
            .iter()
            .position(|&c| c == b'=')
            .map(|p| start + 2 + p);
        // The word's own buffer becomes the name; only the value is copied.
        let value = match word.get(2..).and_then(|body| body.find('=')) {
            Some(eq) => {
                let v = word.get(2 + eq + 1..).unwrap_or("").to_string();
                word.truncate(2 + eq);
                Some(v)
            }
            None => None,
        };
        word.drain(..2.min(word.len()));
        let name = word;
        let name_range = (start + 2, eq_raw.unwrap_or(i));
        let value = value.map(|v| (v, (eq_raw.map_or(i, |e| e + 1), i)));
        flags.push(Flag {
            word: (start, i),
            name,
            name_range,
            value,
        });
    }
    Command {
        keyword: (a, k),
        flags,
        rest: (rest_start.min(b), b),
    }
}

/// A heredoc marker on an instruction line (`<<EOF`, `<<-"EOF"`).
struct Marker {
    range: (usize, usize),
    name: String,
    name_range: (usize, usize),
    expand: bool,
    strip_tabs: bool,
}

/// A heredoc with its body read.
struct Heredoc {
    marker: Marker,
    /// The body lines in the file, terminator excluded.
    body: (usize, usize),
    /// The terminator line in the file (the body's end when unterminated).
    terminator: (usize, usize),
    content: String,
}

/// Finds heredoc markers among the words of `s[a..b]`, as BuildKit's
/// `heredocsFromLine`: a word that is `[n]<<[-]WORD` with no other `<`.
fn find_markers(s: &str, a: usize, b: usize) -> Vec<Marker> {
    let bytes = s.as_bytes();
    if !bytes
        .get(a..b)
        .is_some_and(|r| r.windows(2).any(|w| w == b"<<"))
    {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (ws, we) in quoted_words(s, a, b, b'\\') {
        let mut i = ws;
        while i < we && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if !(i + 1 < we && bytes[i] == b'<' && bytes[i + 1] == b'<') {
            continue;
        }
        i += 2;
        let strip_tabs = i < we && bytes[i] == b'-';
        if strip_tabs {
            i += 1;
        }
        let rest = &bytes[i..we];
        if rest.is_empty() || rest.contains(&b'<') {
            continue;
        }
        let raw = s.get(i..we).unwrap_or("");
        let name = unquote(raw, b'\\');
        if name.is_empty() {
            continue;
        }
        // A quote anywhere in the word (not one escaped) means the body is
        // taken literally, as BuildKit decides it.
        let mut quoted = false;
        let mut k = 0;
        while k < rest.len() {
            match rest[k] {
                b'\\' => k += 1,
                b'\'' | b'"' => {
                    quoted = true;
                    break;
                }
                _ => {}
            }
            k += 1;
        }
        out.push(Marker {
            range: (ws, we),
            name,
            name_range: (i, we),
            expand: !quoted,
            strip_tabs,
        });
    }
    out
}

/// What a `FROM` says, for its stage.
#[derive(Default)]
struct FromInfo {
    image: Option<Node>,
    image_name: Option<Node>,
    tag: Option<Node>,
    digest: Option<Node>,
    platform: Option<Node>,
    name: Option<Node>,
}

struct Stage {
    from_span: Span,
    /// `index` to `platform`, already in the stage node's final vector.
    facts: Vec<Entry>,
    instructions: Vec<Node>,
}

/// A byte range, start and end.
type Range = (usize, usize);

/// Splits an image reference into where its name ends, and the ranges of
/// its tag and digest. A `:` before the last `/` is a registry port, and
/// `${...}` is skipped whole (`${BASE:-alpine}` has no tag).
fn split_image(r: &[u8]) -> (usize, Option<Range>, Option<Range>) {
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
fn valid_stage_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|c| c.is_ascii_lowercase())
        && bytes.all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'-' | b'_' | b'.')
        })
}

/// The first `:` of `raw` outside quotes and `${...}` (USER's separator).
fn user_colon(raw: &[u8], esc: u8) -> Option<usize> {
    let mut quote = 0u8;
    let mut depth = 0usize;
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if quote != 0 {
            if c == quote {
                quote = 0;
            } else if c == esc && quote == b'"' {
                i += 1;
            }
        } else if c == esc {
            i += 1;
        } else if c == b'\'' || c == b'"' {
            quote = c;
        } else if c == b'$' && raw.get(i + 1) == Some(&b'{') {
            depth += 1;
            i += 1;
        } else if c == b'}' && depth > 0 {
            depth -= 1;
        } else if c == b':' && depth == 0 {
            return Some(i);
        }
        i += 1;
    }
    None
}

#[derive(Default)]
struct ShellScratch {
    tokens: Vec<Token>,
    word: String,
    /// Token indexes of the command being grouped: its assignments, then
    /// its arguments.
    words: Vec<usize>,
}

struct Parser<'a> {
    text: &'a str,
    spans: Spanner<'a>,
    escape: u8,
    errors: Vec<ParseError>,
    joined: String,
    segs: Vec<Seg>,
    /// Buffers the shell lexer reuses from one RUN to the next.
    shell: ShellScratch,
    directives: Vec<Entry>,
    global_args: Vec<Node>,
    stages: Vec<Stage>,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, index: &'a LineIndex<'a>) -> Self {
        Parser {
            text,
            spans: Spanner::new(index),
            escape: b'\\',
            errors: Vec::new(),
            joined: String::new(),
            segs: Vec::new(),
            shell: ShellScratch::default(),
            directives: Vec::new(),
            global_args: Vec::new(),
            stages: Vec::new(),
        }
    }

    fn error_at(&mut self, file_off: usize, message: impl Into<String>) {
        let (line, column) = self.spans.position(file_off);
        self.errors.push(ParseError::new(line, column, message));
    }

    /// The file span of `src` range `a..b`.
    fn span(&self, src: &Src, a: usize, b: usize) -> Span {
        if b <= a {
            let p = src.file_offset(a);
            self.spans.span(p, p)
        } else {
            // The last byte's mapping, not the end's: the end may be where
            // the next joined line begins.
            self.spans
                .span(src.file_offset(a), src.file_offset(b - 1) + 1)
        }
    }

    fn string_node(&self, src: &Src, a: usize, b: usize) -> Node {
        node_str(src.text(a, b), self.span(src, a, b))
    }

    fn unquoted_node(&self, src: &Src, a: usize, b: usize) -> Node {
        node_str(unquote(src.text(a, b), self.escape), self.span(src, a, b))
    }

    fn run(&mut self) {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut pos = self.directives_at_top();
        while pos < bytes.len() {
            let (end, next) = line_at(bytes, pos);
            let t = skip_ws(bytes, pos, end);
            if t == end || bytes[t] == b'#' {
                pos = next;
                continue;
            }
            pos = next;
            if !self.continues(t, end) {
                // Most instructions are one line: read them in place.
                let seg = [Seg { at: 0, src: t }];
                let src = Src {
                    s: text.get(t..end).unwrap_or(""),
                    segs: &seg,
                };
                self.instruction(&src, trim_end_ws(bytes, t, end), &mut pos);
                continue;
            }
            let mut joined = std::mem::take(&mut self.joined);
            let mut segs = std::mem::take(&mut self.segs);
            joined.clear();
            segs.clear();
            let mut last_end = t;
            let mut cont = self.append_fragment(&mut joined, &mut segs, t, end, &mut last_end);
            while cont && pos < bytes.len() {
                let (end, next) = line_at(bytes, pos);
                let line_start = pos;
                pos = next;
                let t = skip_ws(bytes, line_start, end);
                // BuildKit drops comment and blank lines inside a continued
                // instruction.
                if t == end || bytes[t] == b'#' {
                    continue;
                }
                cont = self.append_fragment(&mut joined, &mut segs, line_start, end, &mut last_end);
            }
            let src = Src {
                s: &joined,
                segs: &segs,
            };
            self.instruction(&src, last_end, &mut pos);
            self.joined = joined;
            self.segs = segs;
        }
    }

    /// Whether the line `start..end` ends with the escape character
    /// (trailing blanks allowed), continuing on the next line.
    fn continues(&self, start: usize, end: usize) -> bool {
        let bytes = self.text.as_bytes();
        let e = trim_end_blanks(bytes, start, end);
        e > start && bytes[e - 1] == self.escape
    }

    /// Appends one physical line (without a trailing escape) to the joined
    /// instruction text; true when the line continues.
    fn append_fragment(
        &self,
        joined: &mut String,
        segs: &mut Vec<Seg>,
        start: usize,
        end: usize,
        last_end: &mut usize,
    ) -> bool {
        let bytes = self.text.as_bytes();
        let cont = self.continues(start, end);
        let frag_end = if cont {
            trim_end_blanks(bytes, start, end) - 1
        } else {
            end
        };
        segs.push(Seg {
            at: joined.len(),
            src: start,
        });
        push_slice(joined, self.text, start, frag_end);
        let content_end = trim_end_ws(bytes, start, frag_end);
        if content_end > skip_ws(bytes, start, content_end) {
            *last_end = (*last_end).max(content_end);
        }
        cont
    }

    /// Reads parser directives at the top of the file; returns where the
    /// rest of the file starts (the first line that is not a directive).
    fn directives_at_top(&mut self) -> usize {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut pos = 0;
        let mut seen: [bool; 3] = [false; 3];
        while pos < bytes.len() {
            let (end, next) = line_at(bytes, pos);
            let Some((name, value)) = directive(bytes, pos, end) else {
                break;
            };
            let key = text.get(name.0..name.1).unwrap_or("").to_ascii_lowercase();
            let slot = match key.as_str() {
                "syntax" => 0,
                "escape" => 1,
                "check" => 2,
                // An unknown directive is a comment, and ends the directives.
                _ => break,
            };
            let val = text.get(value.0..value.1).unwrap_or("");
            if seen[slot] {
                self.error_at(
                    name.0,
                    format!("only one {key} parser directive can be used"),
                );
            } else {
                seen[slot] = true;
                if slot == 1 {
                    match val {
                        "\\" => self.escape = b'\\',
                        "`" => self.escape = b'`',
                        _ => self.error_at(
                            value.0,
                            format!("invalid escape token \"{val}\" does not match ` or \\"),
                        ),
                    }
                }
                let key_span = self.spans.span(name.0, name.1);
                let value_span = self.spans.span(value.0, value.1);
                self.directives
                    .push(entry(&key, key_span, node_str(val, value_span)));
            }
            pos = next;
        }
        pos
    }

    /// Handles one logical instruction: reads its heredoc bodies (advancing
    /// `pos`), builds its node and files it under its stage.
    fn instruction(&mut self, src: &Src, last_end: usize, pos: &mut usize) {
        let bytes = src.s.as_bytes();
        let a = skip_ws(bytes, 0, bytes.len());
        let b = trim_end_ws(bytes, a, bytes.len());
        if a >= b {
            return;
        }
        let mut cmd = split_command(src.s, a, b);
        let keyword = keyword_name(src.text(cmd.keyword.0, cmd.keyword.1));

        // Heredocs belong to RUN/COPY/ADD in shell form, also as an ONBUILD
        // trigger.
        let inner = (keyword == "ONBUILD" && cmd.rest.0 < cmd.rest.1)
            .then(|| split_command(src.s, cmd.rest.0, cmd.rest.1));
        let (target_kw, target_rest) = match &inner {
            Some(c) => (keyword_name(src.text(c.keyword.0, c.keyword.1)), c.rest),
            None => (keyword.clone(), cmd.rest),
        };
        let mut heredocs = Vec::new();
        if matches!(&*target_kw, "RUN" | "COPY" | "ADD")
            && !matches!(
                json_array(src.s, target_rest.0, target_rest.1),
                Json::Strings(_) | Json::NotStrings
            )
        {
            let markers = find_markers(src.s, target_rest.0, target_rest.1);
            if !markers.is_empty() {
                heredocs = self.read_heredocs(src, markers, pos);
            }
        }
        let end = heredocs
            .last()
            .map_or(last_end, |h| h.terminator.1.max(last_end));

        let (node, from) = self.build(src, &mut cmd, &keyword, heredocs, end, false);
        if keyword == "FROM" {
            self.stages.push(Stage {
                from_span: node.span,
                facts: stage_facts_entries(self.stages.len(), node.span, from.unwrap_or_default()),
                instructions: vec![node],
            });
        } else if let Some(stage) = self.stages.last_mut() {
            stage.instructions.push(node);
        } else if keyword == "ARG" {
            self.global_args.push(node);
        } else if KNOWN.contains(&&*keyword) {
            let at = src.file_offset(cmd.keyword.0);
            self.error_at(
                at,
                format!("instruction \"{keyword}\" comes before the first FROM"),
            );
        }
    }

    /// Reads the bodies of `markers` from the lines at `pos`, in order.
    fn read_heredocs(&mut self, src: &Src, markers: Vec<Marker>, pos: &mut usize) -> Vec<Heredoc> {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(markers.len());
        let mut reported = false;
        for marker in markers {
            let body_start = *pos;
            let mut terminator = None;
            while *pos < bytes.len() {
                let line_start = *pos;
                let (end, next) = line_at(bytes, line_start);
                *pos = next;
                let mut cs = line_start;
                if marker.strip_tabs {
                    while cs < end && bytes[cs] == b'\t' {
                        cs += 1;
                    }
                }
                if &bytes[cs..end] == marker.name.as_bytes() {
                    terminator = Some((line_start, end));
                    break;
                }
            }
            let (body_end, terminator) = match terminator {
                Some(t) => (t.0, t),
                None => {
                    if !reported {
                        reported = true;
                        let at = src.file_offset(marker.range.0);
                        self.error_at(at, format!("unterminated heredoc \"{}\"", marker.name));
                    }
                    (bytes.len(), (bytes.len(), bytes.len()))
                }
            };
            let content = heredoc_content(text, body_start, body_end, marker.strip_tabs);
            out.push(Heredoc {
                marker,
                body: (body_start, body_end),
                terminator,
                content,
            });
        }
        out
    }

    /// The `flags` object; takes the flags' strings rather than copying them.
    fn flags_node(&self, src: &Src, keyword_end: usize, flags: &mut [Flag]) -> Node {
        let empty = self.span(src, keyword_end, keyword_end);
        let mut entries: Vec<Entry> = Vec::with_capacity(flags.len());
        // Many flags on one line must not make finding repeats quadratic;
        // for the usual few a scan is cheaper than hashing.
        let many = flags.len() > 16;
        let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for flag in flags.iter_mut() {
            let key_span = self.span(src, flag.name_range.0, flag.name_range.1);
            let value = match &mut flag.value {
                Some((v, (a, b))) => node_str(std::mem::take(v), self.span(src, *a, *b)),
                None => Node::new(Value::Bool(true), self.span(src, flag.word.0, flag.word.1)),
            };
            let found = if many {
                seen.get(flag.name.as_str()).copied()
            } else {
                entries.iter().position(|e| e.key == flag.name)
            };
            match found {
                Some(i) => {
                    let existing = &mut entries[i].value;
                    let span = existing.span.cover(value.span);
                    match &mut existing.value {
                        Value::Array(items) => items.push(value),
                        _ => {
                            let first = std::mem::replace(existing, Node::new(Value::Null, span));
                            existing.value = Value::Array(vec![first, value]);
                        }
                    }
                    existing.span = span;
                }
                None => {
                    if many {
                        seen.insert(flag.name.clone(), entries.len());
                    }
                    entries.push(Entry {
                        key: std::mem::take(&mut flag.name),
                        key_span,
                        value,
                    });
                }
            }
        }
        let span = match (flags.first(), flags.last()) {
            (Some(f), Some(l)) => self.span(src, f.word.0, l.word.1),
            _ => empty,
        };
        object(entries, span)
    }

    /// Exec form when `s[a..b]` is a JSON array of strings; reports the
    /// array of non-strings BuildKit refuses.
    fn exec_form(&mut self, src: &Src, a: usize, b: usize) -> Option<Vec<Node>> {
        match json_array(src.s, a, b) {
            Json::Strings(items) => Some(
                items
                    .into_iter()
                    .map(|(t, s, e)| node_str(t, self.span(src, s, e)))
                    .collect(),
            ),
            Json::NotStrings => {
                let at = src.file_offset(a);
                self.error_at(
                    at,
                    "when using JSON array syntax, arrays must be comprised of strings only",
                );
                None
            }
            Json::Invalid => None,
        }
    }

    /// Builds the node of the instruction `cmd`; `end` is where it ends in
    /// the file (heredoc bodies included). Also returns what a FROM says.
    fn build(
        &mut self,
        src: &Src,
        cmd: &mut Command,
        keyword: &str,
        heredocs: Vec<Heredoc>,
        end: usize,
        nested: bool,
    ) -> (Node, Option<FromInfo>) {
        let kw_span = self.span(src, cmd.keyword.0, cmd.keyword.1);
        let start = src.file_offset(cmd.keyword.0);
        let node_span = self.spans.span(start, end.max(start));
        let (ra, rb) = cmd.rest;
        let mut e = Vec::with_capacity(entry_count(keyword, !heredocs.is_empty()));
        e.push(entry("instruction", kw_span, node_str(keyword, kw_span)));
        let flags = self.flags_node(src, cmd.keyword.1, &mut cmd.flags);
        e.push(synth("flags", flags));
        let value = self.string_node(src, ra, rb);
        let value_span = value.span;
        let mut from = None;
        let known = KNOWN.contains(&keyword);
        if !known {
            self.error_at(start, format!("unknown instruction \"{keyword}\""));
        }
        if ra >= rb
            && matches!(
                keyword,
                "RUN"
                    | "WORKDIR"
                    | "USER"
                    | "EXPOSE"
                    | "STOPSIGNAL"
                    | "MAINTAINER"
                    | "VOLUME"
                    | "ONBUILD"
                    | "SHELL"
            )
        {
            self.error_at(start, format!("{keyword} requires at least one argument"));
        }
        match keyword {
            "RUN" | "CMD" | "ENTRYPOINT" | "SHELL" => {
                let exec = if ra < rb {
                    self.exec_form(src, ra, rb)
                } else {
                    None
                };
                if keyword == "SHELL" && exec.is_none() && ra < rb {
                    self.error_at(start, "SHELL requires the arguments to be in JSON form");
                }
                self.push_command_form(
                    src,
                    &mut e,
                    value,
                    (ra, rb),
                    exec,
                    keyword == "RUN",
                    heredocs,
                );
            }
            "COPY" | "ADD" | "VOLUME" => {
                let exec = if ra < rb {
                    self.exec_form(src, ra, rb)
                } else {
                    None
                };
                let form = if exec.is_some() { "exec" } else { "shell" };
                let args = match exec {
                    Some(items) => items,
                    None => ws_words(src.s, ra, rb)
                        .into_iter()
                        .map(|(a, b)| self.unquoted_node(src, a, b))
                        .collect(),
                };
                e.push(synth("form", node_str(form, value_span)));
                e.push(synth("value", value));
                e.push(synth("arguments", array(args.clone(), value_span)));
                if !heredocs.is_empty() {
                    e.push(self.heredocs_node(src, &heredocs));
                }
                if keyword != "VOLUME" {
                    if args.len() < 2 {
                        self.error_at(start, format!("{keyword} requires at least two arguments"));
                    }
                    let mut sources = args;
                    let destination = if sources.len() >= 2 {
                        sources.pop()
                    } else {
                        None
                    };
                    let span = cover(&sources, value_span);
                    e.push(synth("sources", array(sources, span)));
                    let dest = destination.unwrap_or_else(|| Node::new(Value::Null, value_span));
                    e.push(synth("destination", dest));
                }
            }
            "FROM" => {
                let info = self.stage_facts(src, cmd, start, &mut e, value);
                from = Some(info);
            }
            "ENV" | "LABEL" | "ARG" => {
                e.push(synth("value", value));
                let (args, pairs) = self.pairs(src, keyword, ra, rb, start);
                e.push(synth("arguments", array(args, value_span)));
                e.push(synth("pairs", object(pairs, value_span)));
            }
            "EXPOSE" => {
                e.push(synth("value", value));
                let ports: Vec<Node> = ws_words(src.s, ra, rb)
                    .into_iter()
                    .map(|(a, b)| self.unquoted_node(src, a, b))
                    .collect();
                e.push(synth("arguments", array(ports.clone(), value_span)));
                e.push(synth("ports", array(ports, value_span)));
            }
            "USER" => {
                e.push(synth("value", value));
                let raw = src.text(ra, rb);
                let args = self.single_argument(src, ra, rb);
                e.push(synth("arguments", array(args, value_span)));
                match user_colon(raw.as_bytes(), self.escape) {
                    Some(c) => {
                        e.push(synth("user", self.unquoted_node(src, ra, ra + c)));
                        e.push(synth("group", self.unquoted_node(src, ra + c + 1, rb)));
                    }
                    None => {
                        e.push(synth("user", self.unquoted_node(src, ra, rb)));
                        e.push(synth("group", Node::new(Value::Null, value_span)));
                    }
                }
            }
            "WORKDIR" => {
                e.push(synth("value", value));
                let args = self.single_argument(src, ra, rb);
                e.push(synth("arguments", array(args, value_span)));
                e.push(synth("path", self.unquoted_node(src, ra, rb)));
            }
            "STOPSIGNAL" | "MAINTAINER" => {
                e.push(synth("value", value));
                let args = self.single_argument(src, ra, rb);
                e.push(synth("arguments", array(args, value_span)));
            }
            "HEALTHCHECK" => {
                e.push(synth("value", value));
                self.healthcheck(src, cmd, start, &mut e);
            }
            "ONBUILD" => {
                e.push(synth("value", value));
                if ra < rb {
                    let mut inner = split_command(src.s, ra, rb);
                    let inner_kw = keyword_name(src.text(inner.keyword.0, inner.keyword.1));
                    let inner_start = src.file_offset(inner.keyword.0);
                    match &*inner_kw {
                        "ONBUILD" => self.error_at(
                            inner_start,
                            "chaining ONBUILD via \"ONBUILD ONBUILD\" isn't allowed",
                        ),
                        "FROM" | "MAINTAINER" => self.error_at(
                            inner_start,
                            format!("{inner_kw} isn't allowed as an ONBUILD trigger"),
                        ),
                        _ => {}
                    }
                    // A nested trigger is not unfolded further: it is an
                    // error anyway, and this keeps recursion to one level.
                    let trigger = if nested || inner_kw == "ONBUILD" {
                        let span = self.span(src, ra, rb);
                        let kw_span = self.span(src, inner.keyword.0, inner.keyword.1);
                        let v = self.string_node(src, inner.rest.0, inner.rest.1);
                        object(
                            vec![
                                entry("instruction", kw_span, node_str(&*inner_kw, kw_span)),
                                synth("value", v),
                            ],
                            span,
                        )
                    } else {
                        self.build(src, &mut inner, &inner_kw, heredocs, end, true)
                            .0
                    };
                    e.push(synth("trigger", trigger));
                }
            }
            _ => e.push(synth("value", value)),
        }
        (object(e, node_span), from)
    }

    /// `arguments` for instructions whose argument is one string.
    fn single_argument(&self, src: &Src, a: usize, b: usize) -> Vec<Node> {
        if a < b {
            vec![self.unquoted_node(src, a, b)]
        } else {
            Vec::new()
        }
    }

    /// `form`, `value`, `arguments`, `heredocs` and (for RUN) `commands` of
    /// an instruction that has an exec and a shell form.
    #[allow(clippy::too_many_arguments)]
    fn push_command_form(
        &mut self,
        src: &Src,
        e: &mut Vec<Entry>,
        value: Node,
        (ra, rb): (usize, usize),
        exec: Option<Vec<Node>>,
        commands: bool,
        heredocs: Vec<Heredoc>,
    ) {
        let value_span = value.span;
        match exec {
            Some(items) => {
                e.push(synth("form", node_str("exec", value_span)));
                let cmd_node = commands.then(|| self.exec_command(&items, &value));
                e.push(synth("value", value));
                e.push(synth("arguments", array(items, value_span)));
                if let Some(c) = cmd_node {
                    e.push(synth(
                        "commands",
                        array(c.into_iter().collect(), value_span),
                    ));
                }
            }
            None => {
                e.push(synth("form", node_str("shell", value_span)));
                e.push(synth("value", value));
                let mut sh = std::mem::take(&mut self.shell);
                sh.tokens.clear();
                lex_shell(src.s, ra, rb, &mut sh.tokens, &mut sh.word);
                let mut args = Vec::with_capacity(sh.tokens.len());
                for t in &sh.tokens {
                    let text = t.text(src.s);
                    if !(t.kind == Tok::Sep && text == "\n") {
                        args.push(node_str(text, self.span(src, t.start, t.end)));
                    }
                }
                e.push(synth("arguments", array(args, value_span)));
                if !heredocs.is_empty() {
                    e.push(self.heredocs_node(src, &heredocs));
                }
                if commands {
                    let seps = sh.tokens.iter().filter(|t| t.kind == Tok::Sep).count();
                    let mut out = Vec::with_capacity(seps + 1);
                    let line_has_commands = self.commands(src, &mut sh, &mut out);
                    let first_name = out
                        .first()
                        .and_then(|c| c.get("name"))
                        .and_then(Node::as_str)
                        .map(str::to_string);
                    let file = Src {
                        s: self.text,
                        segs: IDENTITY,
                    };
                    for h in &heredocs {
                        if heredoc_is_script(self.text, h, line_has_commands, first_name.as_deref())
                        {
                            sh.tokens.clear();
                            lex_shell(self.text, h.body.0, h.body.1, &mut sh.tokens, &mut sh.word);
                            self.commands(&file, &mut sh, &mut out);
                        }
                    }
                    let span = cover(&out, value_span);
                    e.push(synth("commands", array(out, span)));
                }
                self.shell = sh;
            }
        }
    }

    /// The one command of an exec-form RUN.
    fn exec_command(&self, items: &[Node], value: &Node) -> Option<Node> {
        let (name, args) = items.split_first()?;
        let args_span = cover(args, name.span);
        Some(object(
            vec![
                entry("name", name.span, name.clone()),
                synth("args", array(args.to_vec(), args_span)),
                synth("env", object(Vec::new(), name.span)),
                synth("text", value.clone()),
            ],
            value.span,
        ))
    }

    /// Groups shell tokens into simple commands; true when any was found.
    fn commands(&self, src: &Src, sh: &mut ShellScratch, out: &mut Vec<Node>) -> bool {
        let before = out.len();
        let mut first: Option<usize> = None;
        let mut last = 0usize;
        let mut name: Option<usize> = None;
        let tokens = &mut sh.tokens;
        let words = &mut sh.words;
        words.clear();
        let mut n_env = 0;
        let n = tokens.len();
        // What joins each command to the one before (`&&`, `|`, ...) and the
        // previous command's name: `curl ... | sh` is a pipe into a shell.
        let mut joined_by: Option<String> = None;
        let mut previous: Option<String> = None;
        for i in 0..=n {
            let kind = tokens.get(i).map_or(Tok::Sep, |t| t.kind);
            match kind {
                Tok::Sep => {
                    if let Some(f) = first.filter(|_| name.is_some() || n_env > 0) {
                        let (env, args) = words.split_at(n_env);
                        let link = Link {
                            after: joined_by.take(),
                            previous: previous.take(),
                        };
                        let node = self.command_node(src, tokens, f, last, name, args, env, link);
                        previous = node.get("name").and_then(Node::as_str).map(str::to_string);
                        out.push(node);
                    }
                    if let Some(t) = tokens.get(i) {
                        let sep = src.text(t.start, t.end).trim();
                        // A newline inside a heredoc script separates like `;`.
                        joined_by = Some(if sep.is_empty() {
                            ";".to_string()
                        } else {
                            sep.to_string()
                        });
                    }
                    first = None;
                    name = None;
                    words.clear();
                    n_env = 0;
                }
                Tok::Redir | Tok::Target => {
                    first.get_or_insert(i);
                    last = i;
                }
                Tok::Word => {
                    let t = &tokens[i];
                    let raw = src.text(t.start, t.end);
                    if name.is_none() {
                        if assignment(raw.as_bytes()).is_some() {
                            words.push(i);
                            n_env += 1;
                        } else if n_env == 0 && first.is_none() && is_reserved(raw) {
                            continue;
                        } else {
                            name = Some(i);
                        }
                    } else {
                        words.push(i);
                    }
                    first.get_or_insert(i);
                    last = i;
                }
            }
        }
        out.len() > before
    }

    #[allow(clippy::too_many_arguments)]
    fn command_node(
        &self,
        src: &Src,
        tokens: &mut [Token],
        first: usize,
        last: usize,
        name: Option<usize>,
        args: &[usize],
        env: &[usize],
        link: Link,
    ) -> Node {
        let (a, b) = (tokens[first].start, tokens[last].end);
        let span = self.span(src, a, b);
        let mut env_entries = Vec::with_capacity(env.len());
        for &i in env {
            let t = &tokens[i];
            let raw = src.text(t.start, t.end);
            let k = assignment(raw.as_bytes()).unwrap_or(0);
            let key_span = self.span(src, t.start, t.start + k);
            let value = t.text(src.s).get(k + 1..).unwrap_or("").to_string();
            let value_span = self.span(src, t.start + k + 1, t.end);
            env_entries.push(entry(
                raw.get(..k).unwrap_or(""),
                key_span,
                node_str(value, value_span),
            ));
        }
        let env_span = match (env.first(), env.last()) {
            (Some(&f), Some(&l)) => self.span(src, tokens[f].start, tokens[l].end),
            _ => self.span(src, a, a),
        };
        let name_node = match name {
            Some(i) => {
                let t = &mut tokens[i];
                node_str(t.take_text(src.s), self.span(src, t.start, t.end))
            }
            None => node_str("", self.span(src, a, a)),
        };
        let mut arg_nodes = Vec::with_capacity(args.len());
        for &i in args {
            let t = &mut tokens[i];
            arg_nodes.push(node_str(t.take_text(src.s), self.span(src, t.start, t.end)));
        }
        let args_span = if arg_nodes.is_empty() {
            let p = name.map_or(a, |i| tokens[i].end);
            self.span(src, p, p)
        } else {
            cover(&arg_nodes, span)
        };
        object(
            vec![
                entry("name", name_node.span, name_node),
                synth("args", array(arg_nodes, args_span)),
                synth("env", object(env_entries, env_span)),
                synth("text", node_str(src.text(a, b), span)),
                synth(
                    "input_from",
                    optional_str(
                        link.previous.filter(|_| link.after.as_deref() == Some("|")),
                        span,
                    ),
                ),
                synth("after", optional_str(link.after, span)),
            ],
            span,
        )
    }

    fn heredocs_node(&self, src: &Src, heredocs: &[Heredoc]) -> Entry {
        let mut items = Vec::with_capacity(heredocs.len());
        for h in heredocs {
            let m = &h.marker;
            let marker_span = self.span(src, m.range.0, m.range.1);
            let delim_span = self.span(src, m.name_range.0, m.name_range.1);
            let content_span = self.spans.span(h.body.0, h.body.1);
            let term_span = self.spans.span(h.terminator.0, h.terminator.1);
            items.push(object(
                vec![
                    synth("delimiter", node_str(m.name.as_str(), delim_span)),
                    synth("content", node_str(h.content.as_str(), content_span)),
                    entry(
                        "expand",
                        marker_span,
                        Node::new(Value::Bool(m.expand), marker_span),
                    ),
                    entry(
                        "strip_tabs",
                        marker_span,
                        Node::new(Value::Bool(m.strip_tabs), marker_span),
                    ),
                ],
                marker_span.cover(term_span),
            ));
        }
        let span = cover(&items, Span::default());
        synth("heredocs", array(items, span))
    }

    /// FROM's `value`, `arguments`, `image` and `name`, and its stage's facts.
    fn stage_facts(
        &mut self,
        src: &Src,
        cmd: &Command,
        start: usize,
        e: &mut Vec<Entry>,
        value: Node,
    ) -> FromInfo {
        let (ra, rb) = cmd.rest;
        let value_span = value.span;
        e.push(synth("value", value));
        let words = ws_words(src.s, ra, rb);
        let args: Vec<Node> = words
            .iter()
            .map(|&(a, b)| self.unquoted_node(src, a, b))
            .collect();
        e.push(synth("arguments", array(args, value_span)));
        let has_as =
            words.len() >= 3 && src.text(words[1].0, words[1].1).eq_ignore_ascii_case("AS");
        if !(words.len() == 1 || (words.len() == 3 && has_as)) {
            self.error_at(start, "FROM requires either one or three arguments");
        }
        let mut info = FromInfo::default();
        if let Some(&(a, b)) = words.first() {
            let raw = src.text(a, b);
            let image = unquote(raw, self.escape);
            let image_span = self.span(src, a, b);
            let (name_end, tag, digest) = split_image(image.as_bytes());
            // Parts get their own spans when the reference was written
            // without quotes or escapes, so offsets line up with the source.
            let part = |r: (usize, usize)| -> Node {
                let text = image.get(r.0..r.1).unwrap_or("");
                let span = if raw == image {
                    self.span(src, a + r.0, a + r.1)
                } else {
                    image_span
                };
                node_str(text, span)
            };
            info.image_name = Some(part((0, name_end)));
            info.tag = tag.map(part);
            info.digest = digest.map(part);
            info.image = Some(node_str(image.as_str(), image_span));
        }
        if has_as {
            let (a, b) = words[2];
            let name = unquote(src.text(a, b), self.escape).to_ascii_lowercase();
            if !valid_stage_name(&name) {
                let at = src.file_offset(a);
                self.error_at(
                    at,
                    format!(
                        "invalid name for build stage \"{name}\": name can't start with a number or contain symbols"
                    ),
                );
            }
            info.name = Some(node_str(name, self.span(src, a, b)));
        }
        // The flags node already holds the platform (the flag strings were
        // moved into it); a repeated flag counts by its first value.
        info.platform = e
            .iter()
            .find(|x| x.key == "flags")
            .and_then(|f| f.value.get("platform"))
            .and_then(|p| p.items().first())
            .filter(|p| p.as_str().is_some())
            .cloned();
        let null = Node::new(Value::Null, value_span);
        e.push(synth(
            "image",
            info.image.clone().unwrap_or_else(|| null.clone()),
        ));
        e.push(synth("name", info.name.clone().unwrap_or(null)));
        info
    }

    /// ENV / LABEL / ARG: the words, and the key → value pairs.
    fn pairs(
        &mut self,
        src: &Src,
        keyword: &str,
        ra: usize,
        rb: usize,
        start: usize,
    ) -> (Vec<Node>, Vec<Entry>) {
        let esc = self.escape;
        let words = quoted_words(src.s, ra, rb, esc);
        let args: Vec<Node> = words
            .iter()
            .map(|&(a, b)| self.unquoted_node(src, a, b))
            .collect();
        let mut pairs = Vec::new();
        let Some(&(fa, fb)) = words.first() else {
            self.error_at(start, format!("{keyword} requires at least one argument"));
            return (args, pairs);
        };
        if keyword != "ARG" && !src.text(fa, fb).contains('=') {
            // The legacy `ENV key value`: the value is the rest of the line.
            let bytes = src.s.as_bytes();
            let mut k = ra;
            while k < rb && !is_ws(bytes[k]) {
                k += 1;
            }
            let v = skip_ws(bytes, k, rb);
            let key = unquote(src.text(ra, k), esc);
            let key_span = self.span(src, ra, k);
            if v >= rb {
                self.error_at(start, format!("{keyword} must have two arguments"));
                pairs.push(entry(&key, key_span, Node::new(Value::Null, key_span)));
            } else {
                pairs.push(entry(&key, key_span, self.unquoted_node(src, v, rb)));
            }
            return (args, pairs);
        }
        for &(a, b) in &words {
            let raw = src.text(a, b);
            match raw.find('=') {
                Some(eq) => {
                    let key = unquote(&raw[..eq], esc);
                    let key_span = self.span(src, a, a + eq);
                    pairs.push(entry(
                        &key,
                        key_span,
                        self.unquoted_node(src, a + eq + 1, b),
                    ));
                }
                None if keyword == "ARG" => {
                    let key_span = self.span(src, a, b);
                    let key = unquote(raw, esc);
                    pairs.push(entry(&key, key_span, Node::new(Value::Null, key_span)));
                }
                None => {
                    let at = src.file_offset(a);
                    self.error_at(
                        at,
                        format!("syntax error - can't find = in \"{raw}\"; must be of the form name=value"),
                    );
                }
            }
        }
        (args, pairs)
    }

    /// HEALTHCHECK's `none` and `command`.
    fn healthcheck(&mut self, src: &Src, cmd: &Command, start: usize, e: &mut Vec<Entry>) {
        let (ra, rb) = cmd.rest;
        let bytes = src.s.as_bytes();
        if ra >= rb {
            self.error_at(start, "HEALTHCHECK requires an argument");
            return;
        }
        let mut sep = ra;
        while sep < rb && !is_ws(bytes[sep]) {
            sep += 1;
        }
        let next = skip_ws(bytes, sep, rb);
        let kind = src.text(ra, sep).to_ascii_uppercase();
        let kind_span = self.span(src, ra, sep);
        match kind.as_str() {
            "NONE" => {
                if next < rb {
                    self.error_at(start, "HEALTHCHECK NONE takes no arguments");
                }
                e.push(entry(
                    "none",
                    kind_span,
                    Node::new(Value::Bool(true), kind_span),
                ));
            }
            "CMD" => {
                e.push(entry(
                    "none",
                    kind_span,
                    Node::new(Value::Bool(false), kind_span),
                ));
                let exec = if next < rb {
                    self.exec_form(src, next, rb)
                } else {
                    None
                };
                let mut inner = vec![
                    entry("instruction", kind_span, node_str("CMD", kind_span)),
                    synth("flags", object(Vec::new(), self.span(src, sep, sep))),
                ];
                let value = self.string_node(src, next, rb);
                self.push_command_form(src, &mut inner, value, (next, rb), exec, false, Vec::new());
                let span = self.span(src, ra, rb);
                e.push(synth("command", object(inner, span)));
            }
            _ => {
                let at = src.file_offset(ra);
                self.error_at(
                    at,
                    format!("unknown type \"{kind}\" in HEALTHCHECK (try CMD)"),
                );
                e.push(entry(
                    "none",
                    kind_span,
                    Node::new(Value::Bool(false), kind_span),
                ));
            }
        }
    }

    fn finish(mut self) -> Parsed {
        let len = self.text.len();
        let root_span = self.spans.span(0, len);
        let empty = self.spans.span(0, 0);
        if self.stages.is_empty() {
            self.errors
                .push(ParseError::new(1, 1, "no FROM instruction"));
        }
        let directives_span = match (self.directives.first(), self.directives.last()) {
            (Some(f), Some(l)) => f.key_span.cover(l.value.span),
            _ => empty,
        };
        let directives = object(std::mem::take(&mut self.directives), directives_span);
        let globals_span = cover(&self.global_args, empty);
        let global_args = array(std::mem::take(&mut self.global_args), globals_span);
        let mut stages = Vec::with_capacity(self.stages.len());
        for stage in std::mem::take(&mut self.stages) {
            stages.push(stage_node(stage));
        }
        let stages_span = cover(&stages, empty);
        let root = object(
            vec![
                synth("directives", directives),
                synth("global_args", global_args),
                synth("stages", array(stages, stages_span)),
            ],
            root_span,
        );
        // Errors are found in order except the file-level one; keep the
        // promise of source order.
        self.errors.sort_by_key(|e| (e.line, e.column));
        Parsed {
            documents: vec![root],
            errors: self.errors,
        }
    }
}

/// How many entries an instruction node gets, so its vector is allocated
/// once and no larger than needed (a big Dockerfile has many of them).
fn entry_count(keyword: &str, heredocs: bool) -> usize {
    let extra = match keyword {
        "RUN" => 3 + usize::from(heredocs),
        "COPY" | "ADD" => 4 + usize::from(heredocs),
        "FROM" | "USER" => 3,
        "CMD" | "ENTRYPOINT" | "SHELL" | "VOLUME" => 2,
        "ENV" | "LABEL" | "ARG" | "EXPOSE" | "WORKDIR" | "HEALTHCHECK" => 2,
        "STOPSIGNAL" | "MAINTAINER" | "ONBUILD" => 1,
        _ => 0,
    };
    3 + extra
}

/// The stage's entries before `instructions`; `from` is the FROM's span,
/// which absent facts point at.
fn stage_facts_entries(i: usize, from: Span, info: FromInfo) -> Vec<Entry> {
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

fn stage_node(stage: Stage) -> Node {
    let span = cover(&stage.instructions, stage.from_span);
    let mut entries = stage.facts;
    entries.push(synth("instructions", array(stage.instructions, span)));
    object(entries, span)
}

/// Whether a RUN heredoc's body is shell to split into commands: the body
/// of `RUN <<EOF` is the script itself (unless its `#!` names another
/// interpreter), and so is one fed to a shell (`RUN bash <<EOF`).
fn heredoc_is_script(
    text: &str,
    h: &Heredoc,
    line_has_commands: bool,
    first: Option<&str>,
) -> bool {
    if line_has_commands {
        return first.is_some_and(is_shell);
    }
    let body = text.get(h.body.0..h.body.1).unwrap_or("");
    let body = body.trim_start_matches('\t');
    match body.strip_prefix("#!") {
        None => true,
        Some(rest) => {
            let line = rest.lines().next().unwrap_or("");
            let mut words = line.split_whitespace();
            match words.next() {
                Some(interp) if interp.ends_with("/env") => words.next().is_some_and(is_shell),
                Some(interp) => is_shell(interp),
                None => true,
            }
        }
    }
}

/// A heredoc body as the program receiving it sees it: leading tabs
/// removed for `<<-`, CRLF read as LF.
fn heredoc_content(text: &str, a: usize, b: usize, strip_tabs: bool) -> String {
    let body = text.get(a..b).unwrap_or("");
    if !strip_tabs && !body.contains('\r') {
        return body.to_string();
    }
    let mut out = String::with_capacity(body.len());
    for line in body.split_inclusive('\n') {
        let line = if strip_tabs {
            line.trim_start_matches('\t')
        } else {
            line
        };
        match line.strip_suffix('\n') {
            Some(l) => {
                out.push_str(l.trim_end_matches('\r'));
                out.push('\n');
            }
            None => out.push_str(line),
        }
    }
    out
}

/// Recognises `# name=value` (BuildKit's `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`
/// on the line without leading whitespace); returns the name and value ranges.
fn directive(b: &[u8], start: usize, end: usize) -> Option<((usize, usize), (usize, usize))> {
    let sp = |c: u8| matches!(c, b' ' | b'\t' | b'\r' | 0x0c);
    let mut i = skip_ws(b, start, end);
    if i >= end || b[i] != b'#' {
        return None;
    }
    i += 1;
    while i < end && sp(b[i]) {
        i += 1;
    }
    let ns = i;
    if !(i < end && b[i].is_ascii_alphabetic()) {
        return None;
    }
    while i < end && b[i].is_ascii_alphanumeric() {
        i += 1;
    }
    let ne = i;
    while i < end && sp(b[i]) {
        i += 1;
    }
    if !(i < end && b[i] == b'=') {
        return None;
    }
    i += 1;
    while i < end && sp(b[i]) {
        i += 1;
    }
    let mut ve = end;
    while ve > i && sp(b[ve - 1]) {
        ve -= 1;
    }
    (ve > i).then_some(((ns, ne), (i, ve)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Parsed {
        let index = LineIndex::new(text);
        parse(text, &index)
    }

    /// Walks `a.b.0.c` through objects and arrays.
    fn at<'n>(node: &'n Node, path: &str) -> &'n Node {
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

    fn s<'n>(node: &'n Node, path: &str) -> &'n str {
        at(node, path)
            .as_str()
            .unwrap_or_else(|| panic!("{path:?} is not a string"))
    }

    fn strs(node: &Node, path: &str) -> Vec<String> {
        at(node, path)
            .as_array()
            .unwrap_or_else(|| panic!("{path:?} is not an array"))
            .iter()
            .map(|n| n.as_str().unwrap_or("<not a string>").to_string())
            .collect()
    }

    fn start(node: &Node) -> (u32, u32) {
        (node.span.start_line, node.span.start_col)
    }

    fn end(node: &Node) -> (u32, u32) {
        (node.span.end_line, node.span.end_col)
    }

    fn root(p: &Parsed) -> &Node {
        assert_eq!(p.documents.len(), 1);
        &p.documents[0]
    }

    fn messages(p: &Parsed) -> Vec<String> {
        p.errors.iter().map(|e| e.message.clone()).collect()
    }

    #[test]
    fn continuation_maps_commands_to_their_own_line() {
        let p = parse_str("FROM debian\nRUN apt-get update && \\\n    apt-get install -y curl\n");
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let run = at(root(&p), "stages.0.instructions.1");
        assert_eq!(s(run, "instruction"), "RUN");
        assert_eq!(s(run, "form"), "shell");
        assert_eq!(
            s(run, "value"),
            "apt-get update &&     apt-get install -y curl"
        );
        assert_eq!(start(at(run, "value")), (2, 5));
        assert_eq!(end(at(run, "value")), (3, 28));
        assert_eq!(start(run), (2, 1));
        assert_eq!(end(run), (3, 28));
        let second = at(run, "commands.1");
        assert_eq!(s(second, "name"), "apt-get");
        assert_eq!(strs(second, "args"), ["install", "-y", "curl"]);
        assert_eq!(start(second), (3, 5));
        assert_eq!(start(at(second, "name")), (3, 5));
        assert_eq!(start(at(second, "args.2")), (3, 24));
        assert_eq!(s(second, "text"), "apt-get install -y curl");
        let first = at(run, "commands.0");
        assert_eq!(s(first, "name"), "apt-get");
        assert_eq!(strs(first, "args"), ["update"]);
        assert_eq!((start(first), end(first)), ((2, 5), (2, 19)));
        assert_eq!(
            strs(run, "arguments"),
            [
                "apt-get", "update", "&&", "apt-get", "install", "-y", "curl"
            ]
        );
    }

    #[test]
    fn run_one_line_first_in_file() {
        // The brief's own example, on the file's first two lines.
        let p = parse_str("FROM a\nRUN apt-get update && \\\n    apt-get install -y curl");
        let cmd = at(root(&p), "stages.0.instructions.1.commands.1");
        assert_eq!(start(cmd), (3, 5));
    }

    #[test]
    fn backtick_escape_directive() {
        let text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN dir `\n    C:\\Windows\nCOPY C:\\src C:\\dst\\\n";
        let p = parse_str(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let r = root(&p);
        assert_eq!(s(r, "directives.escape"), "`");
        assert_eq!(start(at(r, "directives.escape")), (1, 10));
        let run = at(r, "stages.0.instructions.1");
        assert_eq!(s(run, "value"), "dir     C:\\Windows");
        assert_eq!(s(run, "commands.0.name"), "dir");
        assert_eq!(start(at(run, "commands.0.args.0")), (4, 5));
        // A trailing backslash is not a continuation under a backtick escape,
        // and is not an escape inside COPY's words either.
        let copy = at(r, "stages.0.instructions.2");
        assert_eq!(strs(copy, "sources"), ["C:\\src"]);
        assert_eq!(s(copy, "destination"), "C:\\dst\\");
    }

    #[test]
    fn directives_only_at_top_and_case_insensitive() {
        let p = parse_str(
            "# Syntax=docker/dockerfile:1.7\n#check = skip=all\n# escape=\\\n\n# escape=`\nFROM a\n",
        );
        let r = root(&p);
        let d = at(r, "directives").as_object().expect("object");
        let keys: Vec<&str> = d.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["syntax", "check", "escape"]);
        assert_eq!(s(r, "directives.syntax"), "docker/dockerfile:1.7");
        assert_eq!(s(r, "directives.check"), "skip=all");
        assert_eq!(start(&d.entries[0].value), (1, 10));
        assert_eq!(
            (
                d.entries[0].key_span.start_line,
                d.entries[0].key_span.start_col
            ),
            (1, 3)
        );
        assert!(p.errors.is_empty(), "{:?}", p.errors);

        // A comment ends the directives: the later one is a plain comment.
        let p = parse_str("# hello\n# escape=`\nFROM a\nRUN a `\n b\n");
        assert!(
            at(root(&p), "directives")
                .as_object()
                .is_some_and(Object::is_empty)
        );
        assert_eq!(s(root(&p), "stages.0.instructions.1.value"), "a `");
        assert_eq!(
            at(root(&p), "stages.0.instructions")
                .as_array()
                .map(<[Node]>::len),
            Some(3)
        );
    }

    #[test]
    fn heredoc_run_commands_and_lines() {
        let text = "FROM alpine\nRUN <<EOF\nset -eux\napk add --no-cache curl\nEOF\nUSER app\n";
        let p = parse_str(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let run = at(root(&p), "stages.0.instructions.1");
        assert_eq!(s(run, "value"), "<<EOF");
        assert_eq!((start(run), end(run)), ((2, 1), (5, 4)));
        assert_eq!(s(run, "heredocs.0.delimiter"), "EOF");
        assert_eq!(
            s(run, "heredocs.0.content"),
            "set -eux\napk add --no-cache curl\n"
        );
        assert_eq!(at(run, "heredocs.0.expand").as_bool(), Some(true));
        assert_eq!(at(run, "heredocs.0.strip_tabs").as_bool(), Some(false));
        assert_eq!(start(at(run, "heredocs.0.content")), (3, 1));
        assert_eq!(end(at(run, "heredocs.0.content")), (5, 1));
        assert_eq!(s(run, "commands.0.name"), "set");
        assert_eq!(strs(run, "commands.0.args"), ["-eux"]);
        assert_eq!(s(run, "commands.1.name"), "apk");
        assert_eq!(start(at(run, "commands.1")), (4, 1));
        assert_eq!(start(at(run, "commands.1.args.2")), (4, 20));
        assert_eq!(at(run, "commands").as_array().map(<[Node]>::len), Some(2));
        assert_eq!(s(root(&p), "stages.0.instructions.2.user"), "app");
    }

    #[test]
    fn heredoc_variants() {
        let text = "FROM a\nRUN <<-\"EOT\" bash\n\techo $HOME && \\\n\t  ls\n\tEOT\nCOPY <<a <<'b' /dst/\none\na\ntwo\nb\nRUN python3 <<PY\nprint(1)\nPY\n";
        let p = parse_str(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let r = root(&p);
        let run = at(r, "stages.0.instructions.1");
        assert_eq!(s(run, "heredocs.0.delimiter"), "EOT");
        assert_eq!(at(run, "heredocs.0.expand").as_bool(), Some(false));
        assert_eq!(at(run, "heredocs.0.strip_tabs").as_bool(), Some(true));
        assert_eq!(s(run, "heredocs.0.content"), "echo $HOME && \\\n  ls\n");
        // `bash <<EOT`: the body is bash's script.
        let names: Vec<String> = at(run, "commands")
            .items()
            .iter()
            .map(|c| s(c, "name").to_string())
            .collect();
        assert_eq!(names, ["bash", "echo", "ls"]);
        assert_eq!(start(at(run, "commands.2")), (4, 4));

        let copy = at(r, "stages.0.instructions.2");
        assert_eq!(s(copy, "heredocs.0.delimiter"), "a");
        assert_eq!(s(copy, "heredocs.0.content"), "one\n");
        assert_eq!(s(copy, "heredocs.1.delimiter"), "b");
        assert_eq!(s(copy, "heredocs.1.content"), "two\n");
        assert_eq!(at(copy, "heredocs.1.expand").as_bool(), Some(false));
        assert_eq!(start(at(copy, "heredocs.1.content")), (9, 1));
        assert_eq!(s(copy, "destination"), "/dst/");
        assert_eq!(strs(copy, "sources"), ["<<a", "<<b"]);
        assert_eq!(end(copy), (10, 2));

        // A Python body is not shell: only the line's command.
        let py = at(r, "stages.0.instructions.3");
        assert_eq!(at(py, "commands").as_array().map(<[Node]>::len), Some(1));
        assert_eq!(s(py, "commands.0.name"), "python3");
        assert!(
            at(py, "commands.0.args")
                .as_array()
                .is_some_and(<[Node]>::is_empty)
        );
    }

    #[test]
    fn unterminated_heredoc_is_an_error_with_position() {
        let p = parse_str("FROM a\nRUN echo hi\nRUN  cat <<EOF\nline\n");
        assert_eq!(messages(&p), ["unterminated heredoc \"EOF\""]);
        assert_eq!((p.errors[0].line, p.errors[0].column), (3, 10));
        let run = at(root(&p), "stages.0.instructions.2");
        assert_eq!(s(run, "heredocs.0.content"), "line\n");
    }

    #[test]
    fn exec_and_shell_forms() {
        let text = "FROM a\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\nENTRYPOINT [\"a\" \"b\"]\nRUN [\"a\", 1]\nSHELL [\"/bin/bash\", \"-c\"]\nRUN [ -f /x ] && echo \"a b\"\nCMD [\"\\u00e9\\n\"]\n";
        let p = parse_str(text);
        let r = root(&p);
        let cmd = at(r, "stages.0.instructions.1");
        assert_eq!(s(cmd, "form"), "exec");
        assert_eq!(strs(cmd, "arguments"), ["nginx", "-g", "daemon off;"]);
        assert_eq!(start(at(cmd, "arguments.1")), (2, 15));
        assert_eq!(end(at(cmd, "arguments.1")), (2, 19));
        let ep = at(r, "stages.0.instructions.2");
        assert_eq!(s(ep, "form"), "shell");
        assert_eq!(strs(ep, "arguments"), ["[a", "b]"]);
        let bad = at(r, "stages.0.instructions.3");
        assert_eq!(s(bad, "form"), "shell");
        let shell = at(r, "stages.0.instructions.4");
        assert_eq!(s(shell, "form"), "exec");
        let test = at(r, "stages.0.instructions.5");
        assert_eq!(s(test, "form"), "shell");
        assert_eq!(s(test, "commands.0.name"), "[");
        assert_eq!(s(test, "commands.1.name"), "echo");
        assert_eq!(strs(test, "commands.1.args"), ["a b"]);
        assert_eq!(strs(at(r, "stages.0.instructions.6"), "arguments"), ["é\n"]);
        assert_eq!(
            messages(&p),
            ["when using JSON array syntax, arrays must be comprised of strings only"]
        );
        assert_eq!(p.errors[0].line, 4);
    }

    #[test]
    fn exec_form_run_has_one_command() {
        let p = parse_str("FROM a\nRUN [\"apt-get\", \"install\", \"-y\", \"x\"]\n");
        let run = at(root(&p), "stages.0.instructions.1");
        assert_eq!(s(run, "commands.0.name"), "apt-get");
        assert_eq!(strs(run, "commands.0.args"), ["install", "-y", "x"]);
    }

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

    #[test]
    fn flags_repeat_and_booleans() {
        let text = "FROM a\nRUN --mount=type=cache,target=/var/cache/apt --mount=type=secret,id=npm \\\n    --network=none npm ci\nCOPY --link --chown=app:app --chmod=0755 --from=builder /out /app\n";
        let p = parse_str(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let r = root(&p);
        let run = at(r, "stages.0.instructions.1");
        assert_eq!(
            strs(run, "flags.mount"),
            ["type=cache,target=/var/cache/apt", "type=secret,id=npm"]
        );
        assert_eq!(start(at(run, "flags.mount.1")), (2, 54));
        assert_eq!(s(run, "flags.network"), "none");
        assert_eq!(start(at(run, "flags.network")), (3, 15));
        let key = at(run, "flags").as_object().expect("object").entries[1].key_span;
        assert_eq!((key.start_line, key.start_col), (3, 7));
        assert_eq!(s(run, "value"), "npm ci");
        assert_eq!(s(run, "commands.0.name"), "npm");
        let copy = at(r, "stages.0.instructions.2");
        assert_eq!(at(copy, "flags.link").as_bool(), Some(true));
        assert_eq!(s(copy, "flags.chown"), "app:app");
        assert_eq!(s(copy, "flags.chmod"), "0755");
        assert_eq!(s(copy, "flags.from"), "builder");
        assert_eq!(strs(copy, "sources"), ["/out"]);
        assert_eq!(s(copy, "destination"), "/app");
        assert_eq!(start(at(copy, "destination")), (4, 62));
        // Quoted flag values lose their quotes.
        let p = parse_str("FROM a\nRUN --mount=\"type=bind,source=a b\" x\n");
        assert_eq!(
            s(root(&p), "stages.0.instructions.1.flags.mount"),
            "type=bind,source=a b"
        );
    }

    #[test]
    fn onbuild_trigger_is_a_nested_instruction() {
        let text = "FROM a\nONBUILD RUN --mount=type=cache,target=/x make && make install\nonbuild COPY . /src\nONBUILD ONBUILD RUN x\nONBUILD RUN <<EOF\necho hi\nEOF\n";
        let p = parse_str(text);
        let r = root(&p);
        let ob = at(r, "stages.0.instructions.1");
        assert_eq!(s(ob, "instruction"), "ONBUILD");
        let t = at(ob, "trigger");
        assert_eq!(s(t, "instruction"), "RUN");
        assert_eq!(start(at(t, "instruction")), (2, 9));
        assert_eq!(s(t, "flags.mount"), "type=cache,target=/x");
        assert_eq!(s(t, "commands.1.name"), "make");
        assert_eq!(strs(t, "commands.1.args"), ["install"]);
        let ob = at(r, "stages.0.instructions.2");
        assert_eq!(s(ob, "instruction"), "ONBUILD");
        assert_eq!(s(ob, "trigger.instruction"), "COPY");
        assert_eq!(s(ob, "trigger.destination"), "/src");
        let ob = at(r, "stages.0.instructions.4");
        assert_eq!(s(ob, "trigger.heredocs.0.content"), "echo hi\n");
        assert_eq!(s(ob, "trigger.commands.0.name"), "echo");
        assert_eq!(end(ob), (7, 4));
        assert_eq!(
            messages(&p),
            ["chaining ONBUILD via \"ONBUILD ONBUILD\" isn't allowed"]
        );
    }

    #[test]
    fn crlf_gives_the_same_positions() {
        let lf = "FROM alpine AS base\nRUN apk add \\\n    curl && \\\n  # note\n    rm -rf /var/cache\nRUN <<EOF\nsh -c x\nEOF\nENV A=1 B=\"two words\"\n";
        let crlf = lf.replace('\n', "\r\n");
        let a = parse_str(lf);
        let b = parse_str(&crlf);
        assert!(a.errors.is_empty() && b.errors.is_empty());
        let positions = |p: &Parsed| {
            let mut out = Vec::new();
            collect(root(p), &mut out);
            out
        };
        fn collect(n: &Node, out: &mut Vec<(u32, u32, String)>) {
            out.push((
                n.span.start_line,
                n.span.start_col,
                format!("{:?}", n.as_str()),
            ));
            match &n.value {
                Value::Array(a) => a.iter().for_each(|c| collect(c, out)),
                Value::Object(o) => o.entries.iter().for_each(|e| collect(&e.value, out)),
                _ => {}
            }
        }
        let (pa, pb) = (positions(&a), positions(&b));
        assert_eq!(pa.len(), pb.len());
        for (x, y) in pa.iter().zip(&pb) {
            // Only the root's and the multi-line nodes' text differ (CR).
            assert_eq!((x.0, x.1), (y.0, y.1));
        }
        let run = at(root(&b), "stages.0.instructions.1");
        assert_eq!(s(run, "value"), "apk add     curl &&     rm -rf /var/cache");
        assert_eq!(start(at(run, "commands.1")), (5, 5));
        assert_eq!(
            s(
                at(root(&b), "stages.0.instructions.2"),
                "heredocs.0.content"
            ),
            "sh -c x\n"
        );
    }

    #[test]
    fn comments_and_blank_lines_inside_continuation() {
        let text = "FROM a\nRUN apt-get update \\\n# a comment\n\n   \n    # indented comment\n    && apt-get install -y --no-install-recommends git \\\n    && rm -rf /var/lib/apt/lists/*\n# after\nEXPOSE 80\n";
        let p = parse_str(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let r = root(&p);
        let run = at(r, "stages.0.instructions.1");
        assert_eq!(
            s(run, "value"),
            "apt-get update     && apt-get install -y --no-install-recommends git     && rm -rf /var/lib/apt/lists/*"
        );
        assert_eq!(start(at(run, "commands.1")), (7, 8));
        assert_eq!(start(at(run, "commands.2")), (8, 8));
        assert_eq!(s(run, "commands.2.name"), "rm");
        assert_eq!(end(run), (8, 35));
        assert_eq!(s(r, "stages.0.instructions.2.instruction"), "EXPOSE");
    }

    #[test]
    fn shell_commands_env_quotes_and_operators() {
        let text = "FROM a\nRUN DEBIAN_FRONTEND=noninteractive A='x y' apt-get install -y \"pkg\"'s' > /dev/null 2>&1; set -eux; curl -fsSL https://x | sh || true; if [ -f a ]; then apt-get install -y b; fi; echo \"$(date; id)\" `uname`\n";
        let p = parse_str(text);
        let run = at(root(&p), "stages.0.instructions.1");
        let names: Vec<String> = at(run, "commands")
            .items()
            .iter()
            .map(|c| s(c, "name").to_string())
            .collect();
        assert_eq!(
            names,
            [
                "apt-get", "set", "curl", "sh", "true", "[", "apt-get", "echo"
            ]
        );
        let c0 = at(run, "commands.0");
        assert_eq!(strs(c0, "args"), ["install", "-y", "pkgs"]);
        assert_eq!(s(c0, "env.DEBIAN_FRONTEND"), "noninteractive");
        assert_eq!(s(c0, "env.A"), "x y");
        assert_eq!(start(at(c0, "env.A")), (2, 38));
        let key = at(c0, "env").as_object().expect("env").entries[0].key_span;
        assert_eq!((key.start_line, key.start_col), (2, 5));
        assert_eq!(
            s(c0, "text"),
            "DEBIAN_FRONTEND=noninteractive A='x y' apt-get install -y \"pkg\"'s' > /dev/null 2>&1"
        );
        assert_eq!(strs(run, "commands.1.args"), ["-eux"]);
        assert_eq!(strs(run, "commands.6.args"), ["install", "-y", "b"]);
        assert_eq!(strs(run, "commands.7.args"), ["$(date; id)", "`uname`"]);
    }

    #[test]
    fn env_label_arg_pairs() {
        let text = "FROM a\nENV A=1 B=\"two words\" C=three\\ words\nENV LEGACY value with spaces\nLABEL \"com.example.vendor\"=\"ACME Inc\" version=1.0\nARG X Y=2\nENV broken\nENV A=1 nope\n";
        let p = parse_str(text);
        let r = root(&p);
        let env = at(r, "stages.0.instructions.1");
        assert_eq!(s(env, "pairs.A"), "1");
        assert_eq!(s(env, "pairs.B"), "two words");
        assert_eq!(s(env, "pairs.C"), "three words");
        assert_eq!(start(at(env, "pairs.B")), (2, 11));
        let key = at(env, "pairs").as_object().expect("pairs").entries[1].key_span;
        assert_eq!((key.start_line, key.start_col), (2, 9));
        assert_eq!(
            s(r, "stages.0.instructions.2.pairs.LEGACY"),
            "value with spaces"
        );
        let label = at(r, "stages.0.instructions.3");
        let pairs = at(label, "pairs").as_object().expect("pairs");
        assert_eq!(pairs.entries[0].key, "com.example.vendor");
        assert_eq!(pairs.entries[0].value.as_str(), Some("ACME Inc"));
        assert_eq!(pairs.entries[1].value.as_str(), Some("1.0"));
        let arg = at(r, "stages.0.instructions.4");
        assert_eq!(at(arg, "pairs.X").value, Value::Null);
        assert_eq!(s(arg, "pairs.Y"), "2");
        assert_eq!(
            messages(&p),
            [
                "ENV must have two arguments",
                "syntax error - can't find = in \"nope\"; must be of the form name=value",
            ]
        );
        assert_eq!((p.errors[1].line, p.errors[1].column), (7, 9));
    }

    #[test]
    fn other_instructions() {
        let text = "FROM a\nUSER app:staff\nUSER 1000\nEXPOSE 80 443/tcp $PORT\nWORKDIR /srv/app\nHEALTHCHECK --interval=30s CMD curl -f http://localhost/ || exit 1\nHEALTHCHECK NONE\nHEALTHCHECK CMD [\"/bin/check\"]\nSTOPSIGNAL SIGTERM\nMAINTAINER Jane <j@x>\nVOLUME [\"/data\", \"/logs\"]\nVOLUME /a /b\nCMD echo hi\nENTRYPOINT [\"/entry\"]\n";
        let p = parse_str(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let i = |n: usize| at(root(&p), "stages.0.instructions").items()[n].clone();
        let user = i(1);
        assert_eq!((s(&user, "user"), s(&user, "group")), ("app", "staff"));
        assert_eq!(start(at(&user, "group")), (2, 10));
        assert_eq!(at(&i(2), "group").value, Value::Null);
        assert_eq!(strs(&i(3), "ports"), ["80", "443/tcp", "$PORT"]);
        assert_eq!(s(&i(4), "path"), "/srv/app");
        let hc = i(5);
        assert_eq!(s(&hc, "flags.interval"), "30s");
        assert_eq!(at(&hc, "none").as_bool(), Some(false));
        assert_eq!(s(&hc, "command.instruction"), "CMD");
        assert_eq!(s(&hc, "command.form"), "shell");
        assert_eq!(
            s(&hc, "command.value"),
            "curl -f http://localhost/ || exit 1"
        );
        assert_eq!(start(at(&hc, "command.value")), (6, 32));
        assert_eq!(at(&i(6), "none").as_bool(), Some(true));
        assert!(i(6).get("command").is_none());
        assert_eq!(s(&i(7), "command.form"), "exec");
        assert_eq!(s(&i(8), "value"), "SIGTERM");
        assert_eq!(s(&i(9), "value"), "Jane <j@x>");
        assert_eq!(strs(&i(10), "arguments"), ["/data", "/logs"]);
        assert_eq!(s(&i(10), "form"), "exec");
        assert_eq!(strs(&i(11), "arguments"), ["/a", "/b"]);
        assert_eq!(s(&i(12), "form"), "shell");
        assert!(i(12).get("commands").is_none());
        assert_eq!(s(&i(13), "form"), "exec");
    }

    #[test]
    fn entry_order_of_an_instruction() {
        let p = parse_str("FROM a\nRUN --network=none echo hi\n");
        let run = at(root(&p), "stages.0.instructions.1");
        let keys: Vec<&str> = run
            .as_object()
            .expect("object")
            .entries
            .iter()
            .map(|e| e.key.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "instruction",
                "flags",
                "form",
                "value",
                "arguments",
                "commands"
            ]
        );
        let keys: Vec<&str> = root(&p)
            .get("stages")
            .and_then(|s| s.items().first())
            .and_then(Node::as_object)
            .expect("stage")
            .entries
            .iter()
            .map(|e| e.key.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "index",
                "name",
                "image",
                "image_name",
                "tag",
                "digest",
                "platform",
                "base_stage",
                "instructions"
            ]
        );
    }

    #[test]
    fn unknown_instruction_is_kept_and_reported() {
        let p = parse_str("FROM a\nfoo --x bar baz\nRUN ok\n");
        assert_eq!(messages(&p), ["unknown instruction \"FOO\""]);
        assert_eq!((p.errors[0].line, p.errors[0].column), (2, 1));
        let r = root(&p);
        assert_eq!(s(r, "stages.0.instructions.1.instruction"), "FOO");
        assert_eq!(s(r, "stages.0.instructions.1.value"), "bar baz");
        assert_eq!(s(r, "stages.0.instructions.2.instruction"), "RUN");
    }

    #[test]
    fn instructions_before_from_are_errors() {
        let p = parse_str("ARG A\nRUN x\nFROM a\n");
        assert_eq!(
            messages(&p),
            ["instruction \"RUN\" comes before the first FROM"]
        );
        assert_eq!(p.errors[0].line, 2);
        assert_eq!(at(root(&p), "global_args").items().len(), 1);
    }

    #[test]
    fn empty_and_fromless_files() {
        for text in ["", "\n\n", "# just a comment\n", "ARG A=1\n"] {
            let p = parse_str(text);
            assert_eq!(messages(&p), ["no FROM instruction"], "{text:?}");
            let r = root(&p);
            assert!(at(r, "stages").items().is_empty());
        }
    }

    #[test]
    fn keywords_are_case_insensitive() {
        let p = parse_str("from alpine as Base\nrun echo hi\nCopy a b\n");
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let r = root(&p);
        assert_eq!(s(r, "stages.0.name"), "base");
        assert_eq!(s(r, "stages.0.instructions.1.instruction"), "RUN");
        assert_eq!(s(r, "stages.0.instructions.2.instruction"), "COPY");
    }

    #[test]
    fn multibyte_columns_count_characters() {
        let p = parse_str("FROM a\nRUN echo 'héllo' && ls\n");
        let cmd = at(root(&p), "stages.0.instructions.1.commands.1");
        assert_eq!(start(cmd), (2, 21));
    }

    /// Every node's span must be what `LineIndex::span` gives for its bytes.
    fn check_spans(node: &Node, index: &LineIndex, len: usize) {
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

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
    }

    #[test]
    fn random_input_never_panics_and_spans_agree() {
        const PIECES: &[&str] = &[
            "FROM ",
            "RUN ",
            "run ",
            "COPY ",
            "ADD ",
            "ENV ",
            "ARG ",
            "LABEL ",
            "ONBUILD ",
            "HEALTHCHECK ",
            "CMD ",
            "USER ",
            "EXPOSE ",
            "SHELL ",
            "WORKDIR ",
            "FOO ",
            "\n",
            "\r\n",
            "\\\n",
            "\\",
            "`\n",
            "`",
            " ",
            "\t",
            "\"",
            "'",
            "[",
            "]",
            ",",
            "=",
            "--mount=",
            "--link ",
            "<<EOF",
            "<<-EOF",
            "<<'X'",
            "EOF\n",
            "\tEOF\n",
            "X\n",
            "# escape=`\n",
            "# syntax=x\n",
            "#",
            "$(",
            "${",
            "}",
            ")",
            "&&",
            "||",
            "|",
            ";",
            "é",
            "日本",
            "@",
            ":",
            "/",
            "AS ",
            "a",
            "b1",
            "NONE",
            "2>",
            "\0",
            "\u{feff}",
            "\"\\u00",
            "1",
        ];
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for round in 0..3000 {
            let mut text = String::new();
            if round % 3 == 0 {
                let n = (rng.next() % 200) as usize;
                let bytes: Vec<u8> = (0..n).map(|_| (rng.next() & 0xff) as u8).collect();
                text.push_str(&String::from_utf8_lossy(&bytes));
            } else {
                let n = (rng.next() % 60) as usize;
                for _ in 0..n {
                    text.push_str(PIECES[(rng.next() % PIECES.len() as u64) as usize]);
                }
            }
            let index = LineIndex::new(&text);
            let p = parse(&text, &index);
            assert_eq!(p.documents.len(), 1);
            check_spans(&p.documents[0], &index, text.len());
        }
    }

    #[test]
    fn pathological_inputs_terminate() {
        let long_line = format!("FROM a\nRUN {}\n", "x && ".repeat(50_000));
        let p = parse_str(&long_line);
        let cmds = at(root(&p), "stages.0.instructions.1.commands")
            .items()
            .len();
        assert_eq!(cmds, 50_000);
        let last = at(root(&p), "stages.0.instructions.1.commands.49999");
        assert_eq!(start(last), (2, 5 + 49_999 * 5));
        let flags = format!(
            "FROM a\nRUN {} x\n",
            (0..20_000).map(|i| format!("--f{i} ")).collect::<String>()
        );
        assert!(parse_str(&flags).errors.is_empty());
        let nested = format!("FROM a\nRUN [{}]\n", "[".repeat(100_000));
        assert!(parse_str(&nested).errors.is_empty());
        for text in [
            "\\",
            "FROM",
            "FROM a\nRUN \"unterminated",
            "FROM a\nRUN <<",
            "FROM a\nRUN $((((",
            "FROM a\n\\\n\\\n",
        ] {
            let p = parse_str(text);
            assert_eq!(p.documents.len(), 1, "{text:?}");
        }
    }

    #[test]
    fn long_non_ascii_lines_keep_exact_columns() {
        // Lines over the ASCII shortcut's limit, with continuations, so
        // columns are counted in characters while moving back and forth.
        let words = "éé ".repeat(3000);
        let text =
            format!("FROM a\nRUN echo {words}&& \\\n  日本 {words}; ls\nLABEL k=\"{words}\"\n");
        let index = LineIndex::new(&text);
        let p = parse(&text, &index);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        check_spans(&p.documents[0], &index, text.len());
        let run = at(&p.documents[0], "stages.0.instructions.1");
        assert_eq!(s(run, "commands.1.name"), "日本");
        assert_eq!(start(at(run, "commands.1")), (3, 3));
        assert_eq!(start(at(run, "commands.2")), (3, 3 + 3 + 3000 * 3 + 2));
    }

    #[test]
    fn heredoc_with_foreign_shebang_is_not_shell() {
        let p = parse_str(
            "FROM a\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\nRUN <<EOF\n#!/bin/bash\nls\nEOF\n",
        );
        let r = root(&p);
        assert!(at(r, "stages.0.instructions.1.commands").items().is_empty());
        assert_eq!(s(r, "stages.0.instructions.2.commands.0.name"), "ls");
        assert_eq!(start(at(r, "stages.0.instructions.2.commands.0")), (8, 1));
    }

    #[test]
    fn bom_base_shifts_bytes_only() {
        let text = "FROM a\nRUN x\n";
        let index = LineIndex::with_base(text, 3);
        let p = parse(text, &index);
        let run = at(&p.documents[0], "stages.0.instructions.1");
        assert_eq!((run.span.start, run.span.end), (10, 15));
        assert_eq!(start(run), (2, 1));
    }

    /// Release-mode throughput: `cargo test --release -- --ignored --nocapture throughput`.
    #[test]
    #[ignore]
    fn throughput() {
        let block = "FROM --platform=$BUILDPLATFORM golang:1.22@sha256:abcdef AS build\n\
ARG VERSION=1.0\n\
ENV CGO_ENABLED=0 GOOS=linux LABEL_X=\"some value\"\n\
WORKDIR /src\n\
COPY --chown=app:app go.mod go.sum ./\n\
RUN --mount=type=cache,target=/go/pkg/mod go mod download\n\
RUN apt-get update && \\\n    apt-get install -y --no-install-recommends ca-certificates curl git && \\\n    rm -rf /var/lib/apt/lists/*\n\
RUN <<EOF\nset -eux\ngo build -o /out/app ./cmd/app\nEOF\n\
# a comment\n\
EXPOSE 8080/tcp\n\
USER 65532:65532\n\
HEALTHCHECK --interval=30s CMD [\"/app\", \"health\"]\n\
ENTRYPOINT [\"/out/app\", \"serve\"]\n\n";
        let mut text = String::new();
        while text.len() < 5 * 1024 * 1024 {
            text.push_str(block);
        }
        let index = LineIndex::new(&text);
        let mb = text.len() as f64 / (1024.0 * 1024.0);
        let (mut parse_secs, mut drop_secs, mut nodes) = (0.0, 0.0, 0);
        const ROUNDS: u32 = 5;
        for _ in 0..ROUNDS {
            let t = std::time::Instant::now();
            let p = parse(&text, &index);
            parse_secs += t.elapsed().as_secs_f64();
            nodes = p.documents[0].count();
            let t = std::time::Instant::now();
            drop(p);
            drop_secs += t.elapsed().as_secs_f64();
        }
        let (parse_secs, drop_secs) = (parse_secs / ROUNDS as f64, drop_secs / ROUNDS as f64);
        println!(
            "{mb:.1} MiB, {nodes} nodes: parse {:.1} MiB/s, parse+drop {:.1} MiB/s",
            mb / parse_secs,
            mb / (parse_secs + drop_secs)
        );
    }
}
