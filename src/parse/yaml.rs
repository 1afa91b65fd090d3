//! YAML (Kubernetes manifests, CloudFormation templates) into the common
//! tree, built on saphyr-parser's event stream.
//!
//! The tree is assembled with an explicit stack rather than by recursion, so
//! nesting depth is a counter checked against [`MAX_DEPTH`], never the call
//! stack. Plain scalars resolve the way Kubernetes and CloudFormation read
//! them, which is YAML 1.1 (`privileged: yes` is `true` to the API server,
//! `defaultMode: 0644` is octal), CloudFormation short-form tags become the long form
//! CloudFormation itself reads, aliases are expanded under the
//! [`MAX_ALIAS_EXPANSION`] budget and merge keys (`<<`) are applied.
//!
//! saphyr reports positions in characters; every position is converted to a
//! byte offset and then to the same lines and columns [`LineIndex`] gives, so
//! a YAML finding points where a JSON or HCL one would.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Tag};

use crate::parse::{MAX_ALIAS_EXPANSION, MAX_DEPTH, ParseError, Parsed};
use crate::tree::{Entry, LineIndex, Node, Number, Object, Span, Value};

/// The first document of `text`, for tests that need a tree.
#[cfg(test)]
pub fn first_document(text: &str) -> Node {
    let index = LineIndex::new(text);
    parse(text, &index)
        .documents
        .into_iter()
        .next()
        .expect("a document")
}

/// Parses a YAML stream into one node per document. `index` was built over `text`.
pub fn parse(text: &str, index: &LineIndex) -> Parsed {
    let stream = Stream::new(text, index);
    let mut documents = Vec::new();
    let mut budget = Budget::for_text(text);
    let errors = stream.read(0..stream.len(), &mut budget, |doc| documents.push(doc));
    Parsed { documents, errors }
}

/// [`parse`], with a key written twice in one mapping an error: for files
/// rampart itself is configured by (query files), where a second `flag:`
/// or `aliases:` silently replacing the first is a mistake. Scanned files
/// keep YAML loaders' reading (the later one wins), as kubectl applies them.
pub fn parse_strict(text: &str, index: &LineIndex) -> Parsed {
    let stream = Stream::new(text, index);
    let mut documents = Vec::new();
    let mut budget = Budget::for_text(text);
    let mut builder = Builder::new(&stream, &mut budget);
    builder.duplicates = Some(Vec::new());
    for range in stream.pieces.clone() {
        builder.read_piece(range, &mut |doc| documents.push(doc));
    }
    let mut errors = builder.errors;
    errors.extend(builder.duplicates.unwrap_or_default());
    // A piece read again (the lenient reading) meets its keys again.
    errors.sort_by_key(|e| (e.line, e.column));
    errors.dedup();
    Parsed { documents, errors }
}

/// A YAML stream cut at its document markers, so that its documents can be
/// read one at a time (a large Kubernetes stream is never held as trees all
/// at once) and a broken document costs only itself: reading resumes at the
/// next `---` (issue 21, item 9).
///
/// A `---` or `...` line at column 0 ends whatever is open (a block scalar,
/// a flow collection, a quoted scalar) in every YAML reader, so each piece
/// parses alone exactly as it would inside the stream. Each piece holds at
/// most one document, with the comments and directives before it.
pub struct Stream<'a> {
    text: &'a str,
    index: &'a LineIndex<'a>,
    /// Byte ranges of the pieces, in order, covering the text.
    pieces: Vec<std::ops::Range<usize>>,
    /// A column is then a byte distance.
    ascii: bool,
    /// Line starts as saphyr counts lines, when a lone `\r` makes that
    /// differ from [`LineIndex`] (which breaks lines at `\n` only).
    saphyr_lines: Option<Vec<usize>>,
}

/// What one file may spend, whatever its number of documents.
#[derive(Clone, Debug)]
pub struct Budget {
    /// Nodes created by alias expansion (and anchored copies) so far: the
    /// cap is per file, or 150 documents each just under it would hold 150
    /// times the cap (issue 21, item 13).
    expanded: usize,
    /// Bytes the lenient second reading may still parse again.
    reread: usize,
}

impl Budget {
    /// The budget for one file: [`MAX_ALIAS_EXPANSION`] nodes from aliases,
    /// and re-reading at most a few times the text to be lenient.
    pub fn for_text(text: &str) -> Self {
        Budget {
            expanded: 0,
            reread: text.len().saturating_mul(4).saturating_add(64 * 1024),
        }
    }
}

impl<'a> Stream<'a> {
    /// Cuts `text` (indexed by `index`) at its document markers.
    pub fn new(text: &'a str, index: &'a LineIndex<'a>) -> Self {
        let bytes = text.as_bytes();
        let lone_cr = |i: usize| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n');
        let saphyr_lines = memchr_cr(bytes).any(lone_cr).then(|| {
            let mut starts = vec![0];
            starts.extend(
                (0..bytes.len())
                    .filter(|&i| bytes[i] == b'\n' || lone_cr(i))
                    .map(|i| i + 1),
            );
            starts
        });
        Stream {
            text,
            index,
            pieces: document_pieces(text),
            ascii: text.is_ascii(),
            saphyr_lines,
        }
    }

    /// The whole text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Number of pieces (documents, empty or not).
    pub fn len(&self) -> usize {
        self.pieces.len()
    }

    /// Whether the text holds no piece at all (it is empty).
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// The source text of piece `i`.
    pub fn piece_text(&self, i: usize) -> &'a str {
        self.pieces
            .get(i)
            .and_then(|r| self.text.get(r.clone()))
            .unwrap_or("")
    }

    /// Reads pieces `pieces`, handing each document that parses to `each`
    /// in source order, and returns the errors met. A broken document is
    /// reported (with the lines skipped) and reading goes on with the next.
    pub fn read(
        &self,
        pieces: std::ops::Range<usize>,
        budget: &mut Budget,
        mut each: impl FnMut(Node),
    ) -> Vec<ParseError> {
        let mut builder = Builder::new(self, budget);
        for i in pieces {
            if let Some(range) = self.pieces.get(i) {
                builder.read_piece(range.clone(), &mut each);
            }
        }
        builder.errors
    }
}

/// Offsets of the `\r` bytes in `bytes`.
fn memchr_cr(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'\r')
        .map(|(i, _)| i)
}

/// Whether the line starting at `at` is a document marker (`---` or `...`
/// followed by a blank or the end of the line).
fn marker_at(bytes: &[u8], at: usize, marker: &[u8; 3]) -> bool {
    bytes.get(at..at + 3) == Some(marker.as_slice())
        && matches!(bytes.get(at + 3), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
}

/// The pieces of a stream: a new piece starts at a `---` line once the
/// current one holds content (not only blank, comment or directive lines),
/// and after a `...` line.
fn document_pieces(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut has_content = false;
    let mut line = 0;
    while line < bytes.len() {
        let next = bytes[line..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| line + i + 1);
        if marker_at(bytes, line, b"---") {
            if has_content {
                pieces.push(start..line);
                start = line;
            }
            has_content = true;
        } else if marker_at(bytes, line, b"...") {
            pieces.push(start..next);
            start = next;
            has_content = false;
        } else if !has_content {
            let first = bytes[line..next]
                .iter()
                .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
            let directive = bytes[line] == b'%';
            has_content = !(directive || matches!(first, None | Some(b'#')));
        }
        line = next;
    }
    if start < bytes.len() || pieces.is_empty() {
        pieces.push(start..bytes.len());
    }
    pieces
}

/// The handle saphyr gives `!!` tags unless a `%TAG` directive changes it.
const CORE_HANDLE: &str = "tag:yaml.org,2002:";

/// Above this many entries a mapping indexes its keys, so duplicate-key and
/// merge-key checks stay linear on huge mappings (ConfigMap data, etc.).
const LOOKUP_THRESHOLD: usize = 16;

/// Why event handling stopped early.
type Step = Result<(), ParseError>;

/// Converts saphyr markers to byte offsets, and byte offsets to [`Span`]s.
///
/// The results equal [`LineIndex::char_to_byte`] and [`LineIndex::span`];
/// the difference is cursors: positions arrive almost in source order, so
/// walking from the previous one keeps a long single-line document (minified
/// flow YAML) linear, where counting from the line start each time would be
/// quadratic.
///
/// saphyr reads one piece of the stream at a time, sometimes a copy of it
/// with lines indented further (the lenient reading): its lines count from
/// the piece's first, and its columns on a re-indented line are shifted by
/// the spaces added. Positions are always those of the original file.
struct Locator<'a> {
    text: &'a str,
    index: &'a LineIndex<'a>,
    /// A column is then a byte distance.
    ascii: bool,
    /// What [`LineIndex`] adds to every byte offset (a stripped BOM).
    base: u32,
    /// Line starts as saphyr counts lines, when a lone `\r` makes that
    /// differ from [`LineIndex`] (which breaks lines at `\n` only).
    saphyr_lines: Option<&'a [usize]>,
    /// Lines (as saphyr counts them) before the piece being read.
    line_offset: usize,
    /// End of the piece being read.
    piece_end: usize,
    /// Spaces added at the start of lines of the piece (saphyr's line in the
    /// piece, spaces), sorted by line.
    shifts: Vec<(usize, usize)>,
    /// Last marker converted: (saphyr line, column, byte offset).
    mark_cursor: (usize, usize, usize),
    /// 1-based line of the position cursor.
    line: u32,
    line_start: usize,
    /// Start of the following line, `usize::MAX` on the last one.
    next_start: usize,
    /// A byte offset on the cursor line whose 1-based column is `col`.
    col_at: usize,
    col: u32,
}

impl<'a> Locator<'a> {
    fn new(stream: &'a Stream<'a>) -> Self {
        let index = stream.index;
        let mut loc = Locator {
            text: stream.text,
            index,
            ascii: stream.ascii,
            base: index.span(0, 0).start,
            saphyr_lines: stream.saphyr_lines.as_deref(),
            line_offset: 0,
            piece_end: stream.text.len(),
            shifts: Vec::new(),
            mark_cursor: (usize::MAX, 0, 0),
            line: 1,
            line_start: 0,
            next_start: usize::MAX,
            col_at: 0,
            col: 1,
        };
        loc.set_line(1);
        loc
    }

    /// Starts converting markers of a reading of the piece `piece`, with
    /// `shifts` spaces added at the start of some of its lines.
    fn enter(&mut self, piece: &std::ops::Range<usize>, shifts: Vec<(usize, usize)>) {
        self.line_offset = match self.saphyr_lines {
            Some(starts) => starts.partition_point(|&s| s <= piece.start) - 1,
            None => self.index.position(piece.start).0 as usize - 1,
        };
        self.piece_end = piece.end;
        self.shifts = shifts;
        self.mark_cursor = (usize::MAX, 0, 0);
    }

    /// Byte offset where line `line` of the piece (1-based, as saphyr counts
    /// lines) starts.
    fn piece_line_start(&self, line: usize) -> Option<usize> {
        let line = line + self.line_offset;
        match self.saphyr_lines {
            Some(starts) => line.checked_sub(1).and_then(|i| starts.get(i)).copied(),
            None => u32::try_from(line)
                .ok()
                .and_then(|l| self.index.line_start(l)),
        }
    }

    /// Spaces the lenient reading added at the start of line `line` of the
    /// piece.
    fn shift(&self, line: usize) -> usize {
        if self.shifts.is_empty() {
            return 0;
        }
        match self.shifts.binary_search_by_key(&line, |&(l, _)| l) {
            Ok(i) => self.shifts[i].1,
            Err(_) => 0,
        }
    }

    /// Byte offset of a saphyr marker: 1-based line, 0-based column in
    /// characters. Its character index is not used: saphyr advances it by
    /// bytes in places (directive parameters), and an error there would
    /// shift every later position, where a column error ends with its line.
    fn byte(&mut self, mark: Marker) -> usize {
        let line = mark.line();
        let col = mark.col().saturating_sub(self.shift(line));
        let Some(line_start) = self.piece_line_start(line) else {
            return self.piece_end;
        };
        if self.ascii {
            return (line_start + col).min(self.piece_end);
        }
        let (c_line, c_col, c_byte) = self.mark_cursor;
        let (from_col, from_byte) = if c_line == line && c_col <= col {
            (c_col, c_byte)
        } else {
            (0, line_start)
        };
        let mut byte = from_byte;
        let mut chars = self.text[from_byte.min(self.text.len())..].char_indices();
        for _ in from_col..col {
            match chars.next() {
                Some((_, '\n' | '\r')) | None => break,
                Some((i, c)) => byte = from_byte + i + c.len_utf8(),
            }
        }
        self.mark_cursor = (line, col, byte);
        byte
    }

    fn set_line(&mut self, line: u32) {
        self.line = line;
        self.line_start = self.index.line_start(line).unwrap_or(0);
        self.next_start = self.index.line_start(line + 1).unwrap_or(usize::MAX);
        self.col_at = self.line_start;
        self.col = 1;
    }

    /// 1-based (line, column) of a byte offset, as [`LineIndex::position`].
    fn position(&mut self, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(self.text.len());
        while offset > 0 && !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        if offset < self.line_start || offset >= self.next_start {
            let following = self.index.line_start(self.line + 2).unwrap_or(usize::MAX);
            if offset >= self.next_start && offset < following {
                self.set_line(self.line + 1);
            } else {
                let mut lo = 1u32;
                let mut hi = self.index.line_count() as u32;
                while lo < hi {
                    let mid = lo + (hi - lo).div_ceil(2);
                    if self.index.line_start(mid).unwrap_or(usize::MAX) <= offset {
                        lo = mid;
                    } else {
                        hi = mid - 1;
                    }
                }
                self.set_line(lo);
            }
        }
        if self.ascii {
            return (self.line, (offset - self.line_start) as u32 + 1);
        }
        if offset >= self.col_at {
            self.col += self.text[self.col_at..offset].chars().count() as u32;
        } else if self.col_at - offset < offset - self.line_start {
            self.col -= self.text[offset..self.col_at].chars().count() as u32;
        } else {
            self.col = 1 + self.text[self.line_start..offset].chars().count() as u32;
        }
        self.col_at = offset;
        (self.line, self.col)
    }

    /// The span of a byte range, as [`LineIndex::span`].
    fn span(&mut self, start: usize, end: usize) -> Span {
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

    /// The source text a span covers.
    fn source(&self, span: Span) -> &'a str {
        let start = span.start.saturating_sub(self.base) as usize;
        let end = span.end.saturating_sub(self.base) as usize;
        self.text.get(start..end).unwrap_or("")
    }

    fn error(&mut self, offset: usize, message: impl Into<String>) -> ParseError {
        let (line, column) = self.position(offset);
        ParseError::new(line, column, message)
    }
}

/// What a tag asks of the node it is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TagKind {
    /// No tag, or one that changes nothing (`!!map`, `!Foo`, `!!timestamp`).
    Plain,
    /// `!!str`, `!!binary`, the non-specific `!`.
    Str,
    Int,
    Float,
    Bool,
    Null,
    /// A CloudFormation short form, with the long-form key it becomes.
    Cfn(&'static str),
}

fn classify(tag: Option<&Tag>) -> TagKind {
    let Some(tag) = tag else {
        return TagKind::Plain;
    };
    let core = if tag.handle == CORE_HANDLE {
        Some(tag.suffix.as_str())
    } else if tag.handle.is_empty() {
        // Verbatim `!<tag:yaml.org,2002:str>` and the non-specific `!`.
        if tag.suffix == "!" {
            return TagKind::Str;
        }
        tag.suffix.strip_prefix(CORE_HANDLE)
    } else {
        None
    };
    if let Some(suffix) = core {
        return match suffix {
            "str" | "binary" => TagKind::Str,
            "int" => TagKind::Int,
            "float" => TagKind::Float,
            "bool" => TagKind::Bool,
            "null" => TagKind::Null,
            _ => TagKind::Plain,
        };
    }
    if tag.handle == "!"
        && let Some(key) = cfn_key(&tag.suffix)
    {
        return TagKind::Cfn(key);
    }
    TagKind::Plain
}

/// The long-form key of a CloudFormation short-form tag: `Fn::` and the
/// name, except `Ref` and `Condition`, which keep theirs (as CloudFormation,
/// the AWS CLI and cfn-lint read them). Only the functions CloudFormation
/// knows: any other local tag is not CloudFormation's and changes nothing.
fn cfn_key(name: &str) -> Option<&'static str> {
    Some(match name {
        "Ref" => "Ref",
        "Condition" => "Condition",
        "Base64" => "Fn::Base64",
        "Cidr" => "Fn::Cidr",
        "FindInMap" => "Fn::FindInMap",
        "ForEach" => "Fn::ForEach",
        "GetAtt" => "Fn::GetAtt",
        "GetAZs" => "Fn::GetAZs",
        "GetParam" => "Fn::GetParam",
        "ImportValue" => "Fn::ImportValue",
        "Join" => "Fn::Join",
        "Length" => "Fn::Length",
        "Select" => "Fn::Select",
        "Split" => "Fn::Split",
        "Sub" => "Fn::Sub",
        "ToJsonString" => "Fn::ToJsonString",
        "Transform" => "Fn::Transform",
        "And" => "Fn::And",
        "Equals" => "Fn::Equals",
        "If" => "Fn::If",
        "Not" => "Fn::Not",
        "Or" => "Fn::Or",
        "Contains" => "Fn::Contains",
        "EachMemberEquals" => "Fn::EachMemberEquals",
        "EachMemberIn" => "Fn::EachMemberIn",
        "RefAll" => "Fn::RefAll",
        "ValueOf" => "Fn::ValueOf",
        "ValueOfAll" => "Fn::ValueOfAll",
        "Implies" => "Fn::Implies",
        _ => return None,
    })
}

/// A node's properties, read from its source.
struct Props<'a> {
    /// Byte range of the tag, `!` included.
    tag: Option<(usize, usize)>,
    anchor: Option<&'a str>,
    /// Where the content after the properties starts.
    content: usize,
}

impl Props<'_> {
    fn none(content: usize) -> Self {
        Props {
            tag: None,
            anchor: None,
            content,
        }
    }
}

/// saphyr's anchor name characters: anything but blanks, breaks, a BOM and
/// flow indicators.
fn is_anchor_char(c: char) -> bool {
    !matches!(
        c,
        ' ' | '\t' | '\r' | '\n' | '\0' | '\u{FEFF}' | ',' | '[' | ']' | '{' | '}'
    )
}

/// The name at the start of `s` (after `&` or `*`).
fn anchor_name(s: &str) -> &str {
    &s[..s.find(|c| !is_anchor_char(c)).unwrap_or(s.len())]
}

/// Every name written after a `*` anywhere in the text: a superset of the
/// aliases saphyr will report, found without parsing.
fn alias_names(text: &str) -> HashSet<&str> {
    let mut names = HashSet::new();
    let mut rest = text;
    while let Some(at) = rest.find('*') {
        let name = anchor_name(&rest[at + 1..]);
        if !name.is_empty() {
            names.insert(name);
        }
        rest = &rest[at + 1 + name.len()..];
    }
    names
}

/// A node an anchor names, with what inserting a copy costs.
struct Anchored {
    node: Node,
    /// Nodes in it: what one alias adds to the expansion budget.
    count: usize,
    /// Container levels in it: what one alias adds to the depth.
    height: usize,
}

/// A CloudFormation wrapper to put around a node once it is complete.
#[derive(Clone, Copy)]
struct Wrap {
    key: &'static str,
    tag: Span,
}

/// A mapping key waiting for its value.
struct PendingKey {
    key: String,
    span: Span,
    /// A plain, untagged `<<`.
    merge: bool,
}

#[derive(Default)]
struct MapFrame {
    entries: Vec<Entry>,
    /// Key to entry index, once the mapping is large.
    lookup: Option<HashMap<String, usize>>,
    key: Option<PendingKey>,
    /// `<<` values, with the entry index they were written at.
    merges: Vec<(usize, Node)>,
}

impl MapFrame {
    fn find(&self, key: &str) -> Option<usize> {
        match &self.lookup {
            Some(lookup) => lookup.get(key).copied(),
            None => self.entries.iter().position(|e| e.key == key),
        }
    }

    /// Adds an entry; on a duplicate key, returns where the key was first
    /// written.
    fn insert(&mut self, key: PendingKey, value: Node) -> Option<Span> {
        if key.merge && mergeable(&value) {
            self.merges.push((self.entries.len(), value));
            return None;
        }
        // A later duplicate wins, as YAML loaders (and so kubectl) read it;
        // one entry keeps `Object::get` and iteration in agreement.
        if let Some(i) = self.find(&key.key) {
            let entry = &mut self.entries[i];
            let first = entry.key_span;
            entry.key_span = key.span;
            entry.value = value;
            return Some(first);
        }
        if let Some(lookup) = &mut self.lookup {
            lookup.insert(key.key.clone(), self.entries.len());
        } else if self.entries.len() + 1 >= LOOKUP_THRESHOLD {
            let mut lookup: HashMap<String, usize> = self
                .entries
                .iter()
                .enumerate()
                .map(|(i, e)| (e.key.clone(), i))
                .collect();
            lookup.insert(key.key.clone(), self.entries.len());
            self.lookup = Some(lookup);
        }
        self.entries.push(Entry {
            key: key.key,
            key_span: key.span,
            value,
        });
        None
    }

    /// The entries, with merged-in entries (those whose key the mapping does
    /// not set itself, earlier sources first) where their `<<` was written.
    fn finish(mut self) -> Vec<Entry> {
        if self.merges.is_empty() {
            return self.entries;
        }
        let merges = std::mem::take(&mut self.merges);
        let mut taken: HashSet<String> = HashSet::new();
        let mut merged: Vec<(usize, Entry)> = Vec::new();
        for (at, source) in merges {
            let sources = match source.value {
                Value::Object(o) => vec![o],
                Value::Array(items) => items
                    .into_iter()
                    .filter_map(|n| match n.value {
                        Value::Object(o) => Some(o),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            for object in sources {
                for entry in object.entries {
                    if self.find(&entry.key).is_none() && !taken.contains(&entry.key) {
                        taken.insert(entry.key.clone());
                        merged.push((at, entry));
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(self.entries.len() + merged.len());
        let mut merged = merged.into_iter().peekable();
        for (i, entry) in self.entries.into_iter().enumerate() {
            while let Some((_, m)) = merged.next_if(|(at, _)| *at <= i) {
                out.push(m);
            }
            out.push(entry);
        }
        out.extend(merged.map(|(_, m)| m));
        out
    }
}

/// `<<` merges a mapping or a list of mappings; anything else is an
/// ordinary key named `<<`.
fn mergeable(value: &Node) -> bool {
    match &value.value {
        Value::Object(_) => true,
        Value::Array(items) => items.iter().all(|n| matches!(n.value, Value::Object(_))),
        _ => false,
    }
}

enum Kind {
    Seq(Vec<Node>),
    Map(MapFrame),
}

/// A collection being built.
struct Frame {
    kind: Kind,
    anchor: usize,
    wrap: Option<Wrap>,
    /// Byte offset of `[` / `{` for a flow collection.
    open: Option<usize>,
    /// Span of the first key or item, and of the last thing written in it.
    first: Option<Span>,
    last: Option<Span>,
    /// Container levels from the document root to this one, inclusive.
    depth: usize,
    /// Where it started, for when it has no children to take a span from.
    start: usize,
}

impl Frame {
    fn note(&mut self, span: Span) {
        if self.first.is_none() {
            self.first = Some(span);
        }
        self.last = Some(span);
    }
}

struct Builder<'a, 'b> {
    text: &'a str,
    loc: Locator<'a>,
    /// Errors met so far, in source order.
    errors: Vec<ParseError>,
    /// The file's budgets, shared by all its pieces.
    budget: &'b mut Budget,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    /// Names some alias may use; other anchors are not recorded.
    aliased: HashSet<&'a str>,
    /// The current document's root, kept until the document ends cleanly.
    root: Option<Node>,
    /// The piece's document, once it has ended cleanly.
    document: Option<Node>,
    /// End of the previous event: a block scalar's indicator is searched
    /// from here, as saphyr's span starts at its first content line.
    last_end: usize,
    /// Lines the lenient reading indented further, sorted by offset.
    fixes: Vec<Fix>,
    /// Keys written twice in a mapping, when they are errors
    /// ([`parse_strict`]).
    duplicates: Option<Vec<ParseError>>,
}

/// A line of a piece that the lenient reading indents further: a line
/// inside a flow collection or a quoted scalar that is less indented than
/// saphyr requires, as go-yaml and PyYAML (which ignore indentation there)
/// accept it.
#[derive(Clone, Debug)]
struct Fix {
    /// Byte offset of the start of the line in the file.
    at: usize,
    /// The line in the piece, as saphyr counts lines.
    line: usize,
    /// Spaces added in front of it.
    spaces: usize,
    /// The error saphyr gave without the fix, reported if the fix turns out
    /// not to be inside a flow collection or a quoted scalar.
    error: ParseError,
    /// Seen inside a flow collection or a quoted scalar.
    inside: bool,
}

/// Why reading a piece stopped.
struct Failure {
    error: ParseError,
    /// For an indentation error from saphyr: the error's line in the piece,
    /// whether it is about a quoted scalar (the marker is then the opening
    /// quote), and the column the line must reach (one past the innermost
    /// block collection's).
    indentation: Option<Indentation>,
}

struct Indentation {
    line: usize,
    at: usize,
    quoted: bool,
    target: usize,
}

impl<'a, 'b> Builder<'a, 'b> {
    fn new(stream: &'a Stream<'a>, budget: &'b mut Budget) -> Self {
        Builder {
            text: stream.text,
            loc: Locator::new(stream),
            errors: Vec::new(),
            budget,
            stack: Vec::new(),
            anchors: HashMap::new(),
            aliased: HashSet::new(),
            root: None,
            document: None,
            last_end: 0,
            fixes: Vec::new(),
            duplicates: None,
        }
    }

    /// Reads one piece; its document goes to `each`, or its error to
    /// `errors`. An indentation error inside a flow collection or a quoted
    /// scalar is read again with the offending lines indented further.
    fn read_piece(&mut self, piece: std::ops::Range<usize>, each: &mut impl FnMut(Node)) {
        let source = self.text.get(piece.clone()).unwrap_or("");
        self.aliased = alias_names(source);
        self.fixes.clear();
        let expanded = self.budget.expanded;
        loop {
            self.stack.clear();
            self.anchors.clear();
            self.root = None;
            self.document = None;
            self.last_end = piece.start;
            self.budget.expanded = expanded;
            let shifts = self.fixes.iter().map(|f| (f.line, f.spaces)).collect();
            self.loc.enter(&piece, shifts);
            let outcome = if self.fixes.is_empty() {
                self.run(source)
            } else {
                let copy = self.indented(&piece);
                self.run(&copy)
            };
            let failure = match outcome {
                Ok(()) => match self.fixes.iter().find(|f| !f.inside) {
                    // Indenting that line changed how block structure reads:
                    // the original error stands.
                    Some(fix) => Failure {
                        error: fix.error.clone(),
                        indentation: None,
                    },
                    None => {
                        if let Some(document) = self.document.take() {
                            each(document);
                        }
                        return;
                    }
                },
                Err(failure) => failure,
            };
            if !self.lenient(&failure, &piece) {
                let error = self.skipped(failure.error, &piece);
                self.errors.push(error);
                return;
            }
        }
    }

    /// Adds the fixes an indentation error asks for; false when it is not
    /// one the lenient reading handles (or the budget is spent).
    fn lenient(&mut self, failure: &Failure, piece: &std::ops::Range<usize>) -> bool {
        let Some(ind) = &failure.indentation else {
            return false;
        };
        if self.budget.reread < piece.len() {
            return false;
        }
        let mut lines: Vec<(usize, usize)> = Vec::new();
        if ind.quoted {
            // Every continuation line of the quoted scalar: saphyr names
            // only where it opens.
            let close = self.closing_quote(ind.at, piece.end);
            let mut line = ind.line + 1;
            while let Some(start) = self.loc.piece_line_start(line) {
                if start >= close || start >= piece.end {
                    break;
                }
                lines.push((line, start));
                line += 1;
            }
        } else if let Some(start) = self.loc.piece_line_start(ind.line) {
            lines.push((ind.line, start));
        }
        let bytes = self.text.as_bytes();
        let mut added = false;
        for (line, start) in lines {
            let blank = bytes[start..]
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            let empty = matches!(bytes.get(start + blank), None | Some(b'\r' | b'\n'));
            if empty || blank >= ind.target || self.fixes.iter().any(|f| f.line == line) {
                continue;
            }
            self.fixes.push(Fix {
                at: start,
                line,
                spaces: ind.target - blank,
                error: failure.error.clone(),
                inside: false,
            });
            added = true;
        }
        if added {
            self.budget.reread -= piece.len();
            self.fixes.sort_by_key(|f| f.at);
        }
        added
    }

    /// The piece with the fixes' spaces added.
    fn indented(&self, piece: &std::ops::Range<usize>) -> String {
        let extra: usize = self.fixes.iter().map(|f| f.spaces).sum();
        let mut copy = String::with_capacity(piece.len() + extra);
        let mut from = piece.start;
        for fix in &self.fixes {
            copy.push_str(self.text.get(from..fix.at).unwrap_or(""));
            copy.extend(std::iter::repeat_n(' ', fix.spaces));
            from = fix.at;
        }
        copy.push_str(self.text.get(from..piece.end).unwrap_or(""));
        copy
    }

    /// Marks the fixes whose line starts strictly inside `start..end` (a
    /// flow collection or a quoted scalar) as harmless.
    fn cover_fixes(&mut self, start: usize, end: usize) {
        if self.fixes.is_empty() {
            return;
        }
        let first = self.fixes.partition_point(|f| f.at <= start);
        for fix in self.fixes[first..].iter_mut().take_while(|f| f.at < end) {
            fix.inside = true;
        }
    }

    /// The error with what reading skips because of it: the rest of its
    /// document, up to the next document marker.
    fn skipped(&mut self, error: ParseError, piece: &std::ops::Range<usize>) -> ParseError {
        let first = self.loc.position(piece.start).0;
        let last = self
            .loc
            .position(piece.end.saturating_sub(1).max(piece.start))
            .0;
        let lines = if first == last {
            format!("line {first}")
        } else {
            format!("lines {first}\u{2013}{last}")
        };
        let resume = if piece.end < self.text.len() {
            let next = self.loc.position(piece.end).0;
            format!("; reading resumes at line {next}")
        } else {
            String::new()
        };
        ParseError {
            message: format!(
                "{} (the document at {lines} is skipped{resume})",
                error.message
            ),
            ..error
        }
    }

    fn run(&mut self, source: &str) -> Result<(), Failure> {
        let mut parser = Parser::new_from_str(source);
        // saphyr repeats its error forever once it has one, so the first
        // error ends the piece.
        while let Some(next) = parser.next_event() {
            let (event, span) = match next {
                Ok(ok) => ok,
                Err(err) => return Err(self.scan_error(&err)),
            };
            if event == Event::StreamEnd {
                return Ok(());
            }
            let start = self.loc.byte(span.start);
            let end = self.loc.byte(span.end).max(start);
            let step = self.event(event, start, end);
            self.last_end = end;
            if let Err(error) = step {
                return Err(Failure {
                    error,
                    indentation: None,
                });
            }
        }
        Ok(())
    }

    fn scan_error(&mut self, err: &ScanError) -> Failure {
        let mark = *err.marker();
        let offset = self.loc.byte(mark);
        let info = err.info().trim().trim_end_matches('.');
        let message = if info == "recursion limit exceeded" {
            // saphyr's own flow-nesting limit (255) is above ours.
            format!("nesting deeper than {MAX_DEPTH} levels")
        } else {
            info.to_lowercase()
        };
        let quoted = info == "invalid indentation in quoted scalar";
        let flow = matches!(
            info,
            "invalid indentation" | "invalid indentation in flow construct"
        );
        let indentation = (quoted || flow).then(|| Indentation {
            line: mark.line(),
            at: offset,
            quoted,
            target: self.block_column() + 1,
        });
        Failure {
            error: self.loc.error(offset, message),
            indentation,
        }
    }

    /// The 0-based column (in characters) of the innermost block collection
    /// being built: saphyr wants what is inside a flow collection or a
    /// quoted scalar there to be indented past it.
    fn block_column(&mut self) -> usize {
        let Some(start) = self
            .stack
            .iter()
            .rev()
            .find(|f| f.open.is_none())
            .map(|f| f.start)
        else {
            return 0;
        };
        self.loc.position(start).1 as usize - 1
    }

    fn event(&mut self, event: Event<'_>, start: usize, end: usize) -> Step {
        match event {
            Event::DocumentStart(_) => {
                self.anchors.clear();
                self.stack.clear();
                self.root = None;
            }
            Event::DocumentEnd => {
                if let Some(root) = self.root.take() {
                    self.document = Some(root);
                }
                self.anchors.clear();
            }
            Event::Scalar(value, style, anchor, tag) => {
                self.scalar(value, style, anchor, tag.as_deref(), start, end)?;
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(Kind::Seq(Vec::new()), anchor, tag.as_deref(), start, end)?;
            }
            Event::MappingStart(anchor, tag) => {
                let kind = Kind::Map(MapFrame::default());
                self.open(kind, anchor, tag.as_deref(), start, end)?;
            }
            // The closing bracket is one byte; saphyr's span runs on over
            // blanks and a comment. Block ends are zero-width.
            Event::SequenceEnd | Event::MappingEnd => self.close((start + 1).min(end))?,
            Event::Alias(id) => self.alias(id, start, end)?,
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn depth(&self) -> usize {
        self.stack.last().map_or(0, |f| f.depth)
    }

    fn too_deep(&mut self, offset: usize) -> ParseError {
        self.loc
            .error(offset, format!("nesting deeper than {MAX_DEPTH} levels"))
    }

    fn expects_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame {
                kind: Kind::Map(MapFrame { key: None, .. }),
                ..
            })
        )
    }

    /// Reads the properties (tag, anchor, and any space or comment between
    /// them) at the start of a node, and where its content starts.
    fn properties(&self, start: usize, limit: usize) -> Props<'a> {
        let text = self.text;
        let bytes = text.as_bytes();
        let limit = limit.min(bytes.len());
        let mut tag = None;
        let mut anchor = None;
        let mut i = start;
        while i < limit {
            match bytes[i] {
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'#' => {
                    while i < limit && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'!' | b'&' => {
                    let token = i;
                    while i < limit && !matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n') {
                        i += 1;
                    }
                    if bytes[token] == b'!' && tag.is_none() {
                        tag = Some((token, i));
                    } else if bytes[token] == b'&' && anchor.is_none() {
                        anchor = text.get(token + 1..i).map(anchor_name);
                    }
                }
                _ => break,
            }
        }
        Props {
            tag,
            anchor,
            content: i.min(limit),
        }
    }

    /// The anchor id to record a node under: none unless some alias in the
    /// text could name it, so documents without aliases copy nothing.
    fn kept_anchor(&self, id: usize, props: &Props<'_>) -> usize {
        match props.anchor {
            Some(name) if id != 0 && self.aliased.contains(name) => id,
            _ => 0,
        }
    }

    /// The `|` / `>` of a block scalar whose content starts at `content`:
    /// saphyr's span starts at the first content line, not the indicator.
    fn block_indicator(&self, from: usize, content: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let limit = content.min(bytes.len());
        let mut i = from;
        while i < limit {
            match bytes[i] {
                b'|' | b'>' => return Some(i),
                b' ' | b'\t' | b'\r' | b'\n' | b':' | b'-' | b'?' => i += 1,
                b'#' => {
                    while i < limit && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'!' | b'&' => {
                    while i < limit && !matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n') {
                        i += 1;
                    }
                }
                _ => return None,
            }
        }
        None
    }

    /// Byte range of a block scalar: from the indicator to the end of its
    /// last content line (saphyr's span runs on to the next line's indent).
    fn block_range(&self, indicator: Option<usize>, content: usize, end: usize) -> (usize, usize) {
        let bytes = self.text.as_bytes();
        let (start, mut floor) = match indicator {
            Some(at) => {
                let mut header = at + 1;
                while header < bytes.len() && matches!(bytes[header], b'+' | b'-' | b'0'..=b'9') {
                    header += 1;
                }
                (at, header)
            }
            None => (content, content),
        };
        floor = floor.min(end);
        let mut end = end.min(bytes.len());
        while end > floor && matches!(bytes[end - 1], b' ' | b'\t' | b'\r' | b'\n') {
            end -= 1;
        }
        (start, end.max(floor))
    }

    /// End of the quoted scalar opening at `start` (just past its closing
    /// quote), no further than `limit`.
    fn closing_quote(&self, start: usize, limit: usize) -> usize {
        let bytes = self.text.as_bytes();
        let limit = limit.min(bytes.len());
        let Some(&quote) = bytes.get(start) else {
            return limit;
        };
        let mut i = start + 1;
        while i < limit {
            match bytes[i] {
                b'\\' if quote == b'"' => i += 2,
                b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
                b if b == quote => return i + 1,
                _ => i += 1,
            }
        }
        limit
    }

    fn scalar(
        &mut self,
        value: Cow<'_, str>,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        start: usize,
        end: usize,
    ) -> Step {
        let kind = classify(tag);
        let has_props = anchor != 0 || tag.is_some();
        let props = if has_props {
            self.properties(start, end)
        } else {
            Props::none(start)
        };
        let anchor = self.kept_anchor(anchor, &props);
        let (tag_range, content) = (props.tag, props.content);
        let (c_start, c_end) = match style {
            ScalarStyle::Literal | ScalarStyle::Folded => {
                let indicator = if has_props {
                    matches!(self.text.as_bytes().get(content), Some(b'|' | b'>'))
                        .then_some(content)
                } else {
                    self.block_indicator(self.last_end, start)
                };
                self.block_range(indicator, content, end)
            }
            // An empty value's event may carry the next token's span.
            ScalarStyle::Plain if value.is_empty() => (content, content),
            ScalarStyle::Plain => (content, end),
            // saphyr's span runs on over trailing blanks and a comment.
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                let close = self.closing_quote(content, end);
                self.cover_fixes(content, close);
                (content, close)
            }
        };

        if anchor == 0 && self.expects_key() {
            let merge = style == ScalarStyle::Plain && tag.is_none() && value == "<<";
            let span = self.loc.span(c_start, c_end);
            return self.key(value.into_owned(), span, merge);
        }

        if self.stack.is_empty() && !has_props && style == ScalarStyle::Plain && value.is_empty() {
            // An empty document: a trailing `---`, a file of comments.
            return Ok(());
        }

        let node = if let TagKind::Cfn(key) = kind {
            let getatt = key == "Fn::GetAtt";
            if self.depth() + 1 + usize::from(getatt) > MAX_DEPTH {
                return Err(self.too_deep(start));
            }
            let (t_start, t_end) = tag_range.unwrap_or((start, start));
            let tag_span = self.loc.span(t_start, t_end);
            let inner_span = self.loc.span(c_start, c_end);
            // CloudFormation reads a tagged scalar as a string, whatever it looks like.
            let value = value.into_owned();
            let inner = if getatt {
                self.split_getatt(value, style, c_start, c_end, inner_span)
            } else {
                Node::new(Value::String(value), inner_span)
            };
            wrap(inner, Wrap { key, tag: tag_span })
        } else {
            let span = self.loc.span(c_start, c_end);
            Node::new(scalar_value(value, style, kind), span)
        };
        self.finish(node, anchor, start)
    }

    /// `!GetAtt Bucket.Arn` is `["Bucket", "Arn"]`: split at the first dot.
    fn split_getatt(
        &mut self,
        value: String,
        style: ScalarStyle,
        c_start: usize,
        c_end: usize,
        span: Span,
    ) -> Node {
        let Some(dot) = value.find('.') else {
            return Node::new(
                Value::Array(vec![Node::new(Value::String(value), span)]),
                span,
            );
        };
        let (from, to) = match style {
            ScalarStyle::Plain => (c_start, c_end),
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted if c_end >= c_start + 2 => {
                (c_start + 1, c_end - 1)
            }
            _ => (c_end, c_end),
        };
        // Exact sub-spans only when the source is the value verbatim (no
        // escapes, no folded lines); otherwise both parts point at the whole.
        let (first_span, second_span) = if self.text.get(from..to) == Some(value.as_str()) {
            (
                self.loc.span(from, from + dot),
                self.loc.span(from + dot + 1, to),
            )
        } else {
            (span, span)
        };
        let items = vec![
            Node::new(Value::String(value[..dot].to_string()), first_span),
            Node::new(Value::String(value[dot + 1..].to_string()), second_span),
        ];
        Node::new(Value::Array(items), span)
    }

    fn open(
        &mut self,
        kind: Kind,
        anchor: usize,
        tag: Option<&Tag>,
        start: usize,
        end: usize,
    ) -> Step {
        // A block collection's event ends where its first key or `-` is (it
        // is zero-width without properties); a flow one's runs past its
        // bracket, over any blanks and comment after it.
        let props = if anchor != 0 || tag.is_some() {
            self.properties(start, end)
        } else {
            Props::none(start)
        };
        let anchor = self.kept_anchor(anchor, &props);
        let (tag_range, content) = (props.tag, props.content);
        let flow = content < end;
        let content = if flow { content } else { end };
        let wrap = match classify(tag) {
            TagKind::Cfn(key) => {
                let (t_start, t_end) = tag_range.unwrap_or((start, start));
                Some(Wrap {
                    key,
                    tag: self.loc.span(t_start, t_end),
                })
            }
            _ => None,
        };
        let depth = self.depth() + 1 + usize::from(wrap.is_some());
        if depth > MAX_DEPTH {
            return Err(self.too_deep(start));
        }
        self.stack.push(Frame {
            kind,
            anchor,
            wrap,
            open: flow.then_some(content),
            first: None,
            last: None,
            depth,
            start: content,
        });
        Ok(())
    }

    fn close(&mut self, end: usize) -> Step {
        let Some(frame) = self.stack.pop() else {
            return Err(self.loc.error(end, "unbalanced yaml collection end"));
        };
        if let Some(open) = frame.open {
            self.cover_fixes(open, end);
        }
        let span = match (frame.open, frame.first, frame.last) {
            (Some(open), _, _) => self.loc.span(open, end),
            (None, Some(first), Some(last)) => first.cover(last),
            _ => self.loc.span(frame.start, frame.start),
        };
        let value = match frame.kind {
            Kind::Seq(items) => Value::Array(items),
            Kind::Map(mut map) => {
                if let Some(key) = map.key.take() {
                    // saphyr always sends a value; stay total if it did not.
                    let at = key.span;
                    let empty = Span {
                        start: at.end,
                        start_line: at.end_line,
                        start_col: at.end_col,
                        ..at
                    };
                    map.insert(key, Node::new(Value::Null, empty));
                }
                Value::Object(Object {
                    entries: map.finish(),
                })
            }
        };
        let mut node = Node::new(value, span);
        if let Some(w) = frame.wrap {
            node = wrap(node, w);
        }
        self.finish(node, frame.anchor, frame.start)
    }

    fn alias(&mut self, id: usize, start: usize, end: usize) -> Step {
        let span = self.loc.span(start, end);
        let Some(anchored) = self.anchors.get(&id) else {
            let name = self.text.get(start..end).unwrap_or("*");
            return Err(self
                .loc
                .error(start, format!("undefined yaml alias {name}")));
        };
        if self.depth() + anchored.height > MAX_DEPTH {
            return Err(self.too_deep(start));
        }
        if self.budget.expanded + anchored.count > MAX_ALIAS_EXPANSION {
            return Err(self.too_many_nodes(start));
        }
        self.budget.expanded += anchored.count;
        if self.expects_key() {
            let key = match &anchored.node.value {
                Value::String(s) => s.clone(),
                _ => self.loc.source(anchored.node.span).to_string(),
            };
            return self.key(key, span, false);
        }
        let mut node = anchored.node.clone();
        // The copy sits where the alias is written; what is inside still
        // points at where it was written.
        node.span = span;
        self.attach(node);
        Ok(())
    }

    fn key(&mut self, key: String, span: Span, merge: bool) -> Step {
        if let Some(frame) = self.stack.last_mut() {
            frame.note(span);
            if let Kind::Map(map) = &mut frame.kind {
                map.key = Some(PendingKey { key, span, merge });
            }
        }
        Ok(())
    }

    /// Records an anchored node, then places the node in its parent.
    fn finish(&mut self, node: Node, anchor: usize, at: usize) -> Step {
        if anchor != 0 {
            // The stored copy is charged like an expansion: otherwise nested
            // anchors over one large node would copy it once a level before
            // any alias is read.
            let count = node.count();
            self.charge(count, at)?;
            self.anchors.insert(
                anchor,
                Anchored {
                    count,
                    height: height(&node),
                    node: node.clone(),
                },
            );
        }
        self.attach(node);
        Ok(())
    }

    fn charge(&mut self, count: usize, at: usize) -> Step {
        if self.budget.expanded + count > MAX_ALIAS_EXPANSION {
            return Err(self.too_many_nodes(at));
        }
        self.budget.expanded += count;
        Ok(())
    }

    fn too_many_nodes(&mut self, at: usize) -> ParseError {
        let message =
            format!("yaml aliases expand to more than {MAX_ALIAS_EXPANSION} nodes in this file");
        self.loc.error(at, message)
    }

    fn attach(&mut self, node: Node) {
        let text = self.text;
        let base = self.loc.base;
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return;
        };
        frame.note(node.span);
        match &mut frame.kind {
            Kind::Seq(items) => items.push(node),
            Kind::Map(map) => match map.key.take() {
                Some(key) => {
                    let later = key.span;
                    if let (Some(first), Some(duplicates)) =
                        (map.insert(key, node), &mut self.duplicates)
                    {
                        duplicates.push(ParseError::new(
                            later.start_line,
                            later.start_col,
                            format!("duplicate key (first written at line {})", first.start_line),
                        ));
                    }
                }
                None => {
                    // A key that is not a plain scalar: an anchored scalar
                    // as written, a collection as its source text.
                    let span = node.span;
                    let key = match node.value {
                        Value::String(s) => s,
                        _ => {
                            let start = span.start.saturating_sub(base) as usize;
                            let end = span.end.saturating_sub(base) as usize;
                            text.get(start..end).unwrap_or("").to_string()
                        }
                    };
                    map.key = Some(PendingKey {
                        key,
                        span,
                        merge: false,
                    });
                }
            },
        }
    }
}

/// `{key: inner}`, spanning the tag and the node it is on.
fn wrap(inner: Node, w: Wrap) -> Node {
    let span = w.tag.cover(inner.span);
    let entries = vec![Entry {
        key: w.key.to_string(),
        key_span: w.tag,
        value: inner,
    }];
    Node::new(Value::Object(Object { entries }), span)
}

/// Container levels in a node (0 for a scalar).
fn height(node: &Node) -> usize {
    match &node.value {
        Value::Array(items) => 1 + items.iter().map(height).max().unwrap_or(0),
        Value::Object(o) => {
            1 + o
                .entries
                .iter()
                .map(|e| height(&e.value))
                .max()
                .unwrap_or(0)
        }
        _ => 0,
    }
}

/// The value of a scalar that is not a CloudFormation short form.
fn scalar_value(value: Cow<'_, str>, style: ScalarStyle, kind: TagKind) -> Value {
    let resolved = match kind {
        TagKind::Plain if style == ScalarStyle::Plain => resolve_plain(&value),
        TagKind::Null => Some(Value::Null),
        TagKind::Bool => parse_bool(&value).map(Value::Bool),
        TagKind::Int => parse_int(&value).map(Value::Number),
        TagKind::Float => parse_float(&value)
            .or_else(|| parse_int(&value).map(|n| Number::Float(n.as_f64())))
            .map(Value::Number),
        _ => None,
    };
    resolved.unwrap_or_else(|| Value::String(value.into_owned()))
}

/// Resolution of an untagged plain scalar; `None` means it is a string.
///
/// The YAML 1.2 core schema, widened with the YAML 1.1 forms that the
/// loaders in front of Kubernetes (go-yaml v2 behind sigs.k8s.io/yaml) and
/// CloudFormation accept: `yes`/`no`/`on`/`off`/`y`/`n` booleans, octal
/// with a leading zero, `0b` binary and `_` digit separators. A scanner that
/// read `privileged: yes` as a string would miss a privileged container.
fn resolve_plain(s: &str) -> Option<Value> {
    let Some(&first) = s.as_bytes().first() else {
        return Some(Value::Null);
    };
    match first {
        b'~' => (s == "~").then_some(Value::Null),
        b'n' | b'N' if matches!(s, "null" | "Null" | "NULL") => Some(Value::Null),
        b't' | b'T' | b'f' | b'F' | b'y' | b'Y' | b'n' | b'N' | b'o' | b'O' => {
            parse_bool(s).map(Value::Bool)
        }
        b'0'..=b'9' | b'-' | b'+' | b'.' => {
            parse_int(s).or_else(|| parse_float(s)).map(Value::Number)
        }
        _ => None,
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "y" | "Y" | "on" | "On" | "ON" => {
            Some(true)
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "n" | "N" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

/// Integers: `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`, and the YAML 1.1
/// forms `0[0-7]+` (octal), `0b[01]+` and `_` separators.
fn parse_int(s: &str) -> Option<Number> {
    if s.contains('_') {
        let plain = s.replace('_', "");
        return if plain.is_empty() || plain.contains("__") {
            None
        } else {
            parse_int_plain(&plain)
        };
    }
    parse_int_plain(s)
}

fn parse_int_plain(s: &str) -> Option<Number> {
    let radix = |digits: &str, radix: u32| -> Option<Number> {
        if digits.is_empty() {
            return None;
        }
        let n = u128::from_str_radix(digits, radix).ok()?;
        Some(match i64::try_from(n) {
            Ok(i) => Number::Int(i),
            Err(_) => Number::Float(n as f64),
        })
    };
    if let Some(hex) = s.strip_prefix("0x") {
        return radix(hex, 16).filter(|_| hex.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    if let Some(oct) = s.strip_prefix("0o") {
        return radix(oct, 8).filter(|_| oct.bytes().all(|b| matches!(b, b'0'..=b'7')));
    }
    if let Some(bin) = s.strip_prefix("0b") {
        return radix(bin, 2).filter(|_| bin.bytes().all(|b| matches!(b, b'0' | b'1')));
    }
    if let Some(oct) = s.strip_prefix('0').filter(|rest| !rest.is_empty())
        && oct.bytes().all(|b| b.is_ascii_digit())
    {
        // `0755`; `089` is not octal (it falls through to a float).
        return radix(oct, 8).filter(|_| oct.bytes().all(|b| matches!(b, b'0'..=b'7')));
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Beyond i64 it is still a number, as a float.
    Number::parse(s.strip_prefix('+').unwrap_or(s))
}

/// Core-schema floats: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
/// `.inf` and `.nan` are left as strings: tree numbers are finite.
fn parse_float(s: &str) -> Option<Number> {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - frac_start;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    f.is_finite().then_some(Number::Float(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Parsed {
        let index = LineIndex::new(text);
        let parsed = parse(text, &index);
        for doc in &parsed.documents {
            check_spans(doc, text, &index);
        }
        parsed
    }

    fn one(text: &str) -> Node {
        let parsed = parse_str(text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.documents.len(), 1);
        parsed.documents.into_iter().next().unwrap()
    }

    /// Every span must be exactly what `LineIndex::span` gives for its byte
    /// range, and the range must slice the text.
    fn check_spans(node: &Node, text: &str, index: &LineIndex) {
        let check = |span: &Span| {
            assert!(text.get(span.range()).is_some(), "{span:?} does not slice");
            assert_eq!(*span, index.span(span.start as usize, span.end as usize));
        };
        let mut stack = vec![node];
        while let Some(node) = stack.pop() {
            check(&node.span);
            match &node.value {
                Value::Array(items) => stack.extend(items),
                Value::Object(o) => {
                    for e in &o.entries {
                        check(&e.key_span);
                        stack.push(&e.value);
                    }
                }
                _ => {}
            }
        }
    }

    fn src(text: &str, span: Span) -> &str {
        &text[span.range()]
    }

    fn pos(span: Span) -> (u32, u32, u32, u32) {
        (span.start_line, span.start_col, span.end_line, span.end_col)
    }

    #[test]
    fn deployment_image_has_exact_span() {
        let text = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.25
          ports:
            - containerPort: 80
";
        let doc = one(text);
        let container = &doc
            .get("spec")
            .unwrap()
            .get("template")
            .unwrap()
            .get("spec")
            .unwrap()
            .get("containers")
            .unwrap()
            .as_array()
            .unwrap()[0];
        let image = container.get("image").unwrap();
        assert_eq!(image.as_str(), Some("nginx:1.25"));
        assert_eq!(pos(image.span), (11, 18, 11, 28));
        let start = text.find("nginx").unwrap();
        assert_eq!(image.span.range(), start..start + 10);
        let entry = container.as_object().unwrap().entry("image").unwrap();
        assert_eq!(src(text, entry.key_span), "image");
        assert_eq!(pos(entry.key_span), (11, 11, 11, 16));
        // A block mapping runs from its first key to the end of its last value.
        assert_eq!(
            src(text, container.span),
            &text[text.find("name: web\n          image").unwrap()..text.len() - 1]
        );
        let port = &container.get("ports").unwrap().as_array().unwrap()[0];
        assert_eq!(
            port.get("containerPort").unwrap().as_number(),
            Some(Number::Int(80))
        );
        assert_eq!(doc.span.start, 0);
        assert_eq!(doc.span.end as usize, text.len() - 1);
        assert_eq!(
            doc.get("spec")
                .unwrap()
                .get("replicas")
                .unwrap()
                .as_number(),
            Some(Number::Int(2))
        );
    }

    #[test]
    fn multi_document_stream() {
        let text = "a: 1\n---\nkind: Service\nmetadata:\n  name: s\n---\n# only a comment\n---\n";
        let parsed = parse_str(text);
        assert!(parsed.errors.is_empty());
        assert_eq!(parsed.documents.len(), 2);
        let second = &parsed.documents[1];
        assert_eq!(second.get("kind").unwrap().as_str(), Some("Service"));
        assert_eq!(pos(second.span), (3, 1, 5, 10));
        assert_eq!(
            src(text, second.span),
            "kind: Service\nmetadata:\n  name: s"
        );
        assert_eq!(second.span.range(), 9..42);
    }

    #[test]
    fn empty_streams_have_no_documents() {
        for text in [
            "",
            "# just a comment\n# another\n",
            "---\n",
            "---\n...\n---\n# c\n",
            "\n\n",
        ] {
            let parsed = parse_str(text);
            assert!(parsed.errors.is_empty(), "{text:?}: {:?}", parsed.errors);
            assert!(parsed.documents.is_empty(), "{text:?}");
        }
        assert_eq!(parse_str("a: 1\n---\n").documents.len(), 1);
    }

    /// Issue 21, item 9: a broken document costs only itself.
    #[test]
    fn issue_21_broken_document_is_skipped_and_reading_resumes() {
        let text = "a: 1\n---\nb: 2\n---\nc: [1, 2\nd: 3\n---\ne: 5\n";
        let parsed = parse_str(text);
        let keys: Vec<&str> = parsed
            .documents
            .iter()
            .map(|d| d.as_object().unwrap().entries[0].key.as_str())
            .collect();
        assert_eq!(keys, ["a", "b", "e"]);
        let e = parsed.documents[2].get("e").unwrap();
        assert_eq!(e.as_number(), Some(Number::Int(5)));
        assert_eq!(pos(e.span), (8, 4, 8, 5));
        assert_eq!(parsed.errors.len(), 1);
        let error = &parsed.errors[0];
        assert_eq!((error.line, error.column), (6, 2), "{error}");
        assert_eq!(
            error.message,
            "illegal placement of ':' indicator \
             (the document at lines 4\u{2013}6 is skipped; reading resumes at line 7)"
        );

        // Several broken documents, each reported; the last one at the end.
        let text = "x: ]\n---\nok: 1\n---\ny: [\n";
        let parsed = parse_str(text);
        assert_eq!(parsed.documents.len(), 1);
        assert_eq!(parsed.errors.len(), 2);
        assert!(
            parsed.errors[0]
                .message
                .ends_with("(the document at line 1 is skipped; reading resumes at line 2)"),
            "{}",
            parsed.errors[0]
        );
        assert!(
            parsed.errors[1]
                .message
                .ends_with("(the document at lines 4\u{2013}5 is skipped)"),
            "{}",
            parsed.errors[1]
        );

        // `...` ends a document too; directives after it belong to the next.
        let text = "a: [\n...\n%YAML 1.2\n---\nb: 2\n";
        let parsed = parse_str(text);
        assert_eq!(parsed.documents.len(), 1, "{:?}", parsed.errors);
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!(parsed.documents[0].get("b").unwrap().span.start_line, 5);
    }

    /// Issue 21, item 9: a flow collection closed at its key's column, as
    /// go-yaml (kubectl) and PyYAML (cfn-lint, the AWS CLI) read it.
    #[test]
    fn issue_21_flow_closed_at_the_key_column() {
        let text = "\
spec:
  containers:
    - name: csi
      args: [
          \"-a\", \"/x\",
          \"-b\",
      ]
      env: []
";
        let doc = one(text);
        let container = &doc.at("spec.containers").unwrap().items()[0];
        let args = container.get("args").unwrap();
        let values: Vec<&str> = args.items().iter().filter_map(Node::as_str).collect();
        assert_eq!(values, ["-a", "/x", "-b"]);
        assert_eq!(pos(args.items()[2].span), (6, 11, 6, 15));
        // The sequence runs from `[` to the `]` where it is written.
        assert_eq!(pos(args.span), (4, 13, 7, 8));
        assert_eq!(container.get("env").unwrap().span.start_line, 8);

        // A closing bracket less indented than the content, under a quoted
        // key, and a flow mapping closed at its key's column, twice.
        let text = "\
Condition:
  StringLike:
    's3:x-amz-server-side-encryption': [
        \"aws:kms\",
        \"AES256\"
    ]
    other: {
      a: 1
    }
    last: {b: [1,
    2]
    }
";
        let doc = one(text);
        let like = doc.at("Condition.StringLike").unwrap();
        let enc = like.get("s3:x-amz-server-side-encryption").unwrap();
        assert_eq!(enc.items()[1].as_str(), Some("AES256"));
        assert_eq!(pos(enc.span), (3, 40, 6, 6));
        let a = like.at("other.a").unwrap();
        assert_eq!(
            (a.as_number(), pos(a.span)),
            (Some(Number::Int(1)), (8, 10, 8, 11))
        );
        let b = like.at("last.b").unwrap();
        assert_eq!(b.items()[1].span.start_line, 11);
        assert_eq!(pos(b.items()[1].span), (11, 5, 11, 6));
    }

    /// Issue 21, item 9: a quoted scalar whose continuation lines are at the
    /// key's column (CloudFormation descriptions).
    #[test]
    fn issue_21_quoted_scalar_continued_at_the_key_column() {
        let text = "\
Parameters:
  Name:
    Description: \"(Optional) Name used to map
    the name must match.\"
    Type: String
  Other:
    Value: 'Log in to the console, select
    your instance,
  then click.'
";
        let doc = one(text);
        let description = doc.at("Parameters.Name.Description").unwrap();
        assert_eq!(
            description.as_str(),
            Some("(Optional) Name used to map the name must match.")
        );
        assert_eq!(pos(description.span), (3, 18, 4, 26));
        assert_eq!(doc.at("Parameters.Name.Type").unwrap().span.start_line, 5);
        let value = doc.at("Parameters.Other.Value").unwrap();
        assert_eq!(
            value.as_str(),
            Some("Log in to the console, select your instance, then click.")
        );
        assert_eq!(pos(value.span), (7, 12, 9, 15));
    }

    /// The lenient reading never turns a block-structure error into a
    /// document: only lines inside a flow collection or a quoted scalar
    /// are indented, and only when that is where they turn out to be.
    #[test]
    fn issue_21_leniency_stays_inside_flow_and_quotes() {
        for text in [
            "a:\n  b: 1\n c: 2\n",
            "a:\n  b: [1,\n2]\nc: 3\n  d: 4\n",
            "x:\n  a: \"open\n  b: 2\nc: 3\n",
            "a: [1,\n---\n2]\n",
        ] {
            let parsed = parse_str(text);
            assert!(!parsed.errors.is_empty(), "{text:?} was accepted");
        }
        // A real error after a lenient line is still found, and reported
        // where it is.
        let parsed = parse_str("a:\n  b: [1,\n  2\n  ]\n  c: ]\n");
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!(parsed.errors[0].line, 5, "{}", parsed.errors[0]);
    }

    #[test]
    fn document_pieces_start_at_markers() {
        let text = "# head\n---\na: 1\n--- \nb: 2\n...\n%YAML 1.2\n---\nc: 3\n----\n";
        let pieces: Vec<&str> = document_pieces(text)
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(
            pieces,
            [
                "# head\n---\na: 1\n",
                "--- \nb: 2\n...\n",
                "%YAML 1.2\n---\nc: 3\n----\n"
            ]
        );
        assert_eq!(document_pieces("").len(), 1);
        assert!(document_pieces("")[0].is_empty());
    }

    #[test]
    fn error_positions_are_one_based() {
        // saphyr counts lines from 1 and columns from 0: `]` is line 2, column 4.
        let parsed = parse_str("a: 1\nb: ]\n");
        assert!(parsed.documents.is_empty());
        assert_eq!(parsed.errors.len(), 1);
        let e = &parsed.errors[0];
        assert_eq!((e.line, e.column), (2, 4), "{e}");
        assert_eq!(
            e.message,
            "misplaced bracket (the document at lines 1\u{2013}2 is skipped)"
        );

        let parsed = parse_str("key: value\n  bad: indent\n");
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!(parsed.errors[0].line, 2);
    }

    #[test]
    fn cfn_sub_becomes_long_form() {
        let text = "Value: !Sub \"arn:${AWS::Region}\"\n";
        let doc = one(text);
        let sub = doc.get("Value").unwrap();
        assert_eq!(src(text, sub.span), "!Sub \"arn:${AWS::Region}\"");
        assert_eq!(pos(sub.span), (1, 8, 1, 33));
        let entry = &sub.as_object().unwrap().entries[0];
        assert_eq!(entry.key, "Fn::Sub");
        assert_eq!(src(text, entry.key_span), "!Sub");
        assert_eq!(entry.key_span.range(), 7..11);
        assert_eq!(entry.value.as_str(), Some("arn:${AWS::Region}"));
        assert_eq!(src(text, entry.value.span), "\"arn:${AWS::Region}\"");
        assert_eq!(entry.value.span.range(), 12..32);

        let doc = one("V: !Sub\n  - '${A}-${B}'\n  - A: !Ref X\n    B: b\n");
        let args = doc
            .get("V")
            .unwrap()
            .get("Fn::Sub")
            .unwrap()
            .as_array()
            .unwrap();
        assert_eq!(args[0].as_str(), Some("${A}-${B}"));
        assert_eq!(
            args[1].get("A").unwrap().get("Ref").unwrap().as_str(),
            Some("X")
        );
    }

    #[test]
    fn cfn_getatt_splits_at_the_first_dot() {
        let text =
            "Arn: !GetAtt Bucket.Arn\nDeep: !GetAtt Stack.Outputs.Url\nSeq: !GetAtt [R, Attr]\n";
        let doc = one(text);
        let getatt = doc.get("Arn").unwrap();
        assert_eq!(src(text, getatt.span), "!GetAtt Bucket.Arn");
        let entry = &getatt.as_object().unwrap().entries[0];
        assert_eq!(entry.key, "Fn::GetAtt");
        assert_eq!(src(text, entry.key_span), "!GetAtt");
        let parts = entry.value.as_array().unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].as_str(), Some("Bucket"));
        assert_eq!(parts[1].as_str(), Some("Arn"));
        assert_eq!(src(text, parts[0].span), "Bucket");
        assert_eq!(src(text, parts[1].span), "Arn");
        assert_eq!(pos(parts[1].span), (1, 21, 1, 24));
        assert_eq!(src(text, entry.value.span), "Bucket.Arn");

        let deep = doc
            .get("Deep")
            .unwrap()
            .get("Fn::GetAtt")
            .unwrap()
            .as_array()
            .unwrap();
        assert_eq!(deep[0].as_str(), Some("Stack"));
        assert_eq!(deep[1].as_str(), Some("Outputs.Url"));

        let seq = doc
            .get("Seq")
            .unwrap()
            .get("Fn::GetAtt")
            .unwrap()
            .as_array()
            .unwrap();
        assert_eq!(seq.len(), 2);
        assert_eq!(seq[1].as_str(), Some("Attr"));
    }

    #[test]
    fn cfn_ref_and_nested_if() {
        let text = "A: !Ref Param\nB: !If [IsProd, !Ref Big, !Ref Small]\nC: !Ref 42\n";
        let doc = one(text);
        let r = doc.get("A").unwrap();
        assert_eq!(r.as_object().unwrap().len(), 1);
        assert_eq!(r.get("Ref").unwrap().as_str(), Some("Param"));
        assert_eq!(
            src(text, r.as_object().unwrap().entries[0].key_span),
            "!Ref"
        );
        assert_eq!(src(text, r.get("Ref").unwrap().span), "Param");

        let b = doc.get("B").unwrap();
        assert_eq!(src(text, b.span), "!If [IsProd, !Ref Big, !Ref Small]");
        let args = b.get("Fn::If").unwrap().as_array().unwrap();
        assert_eq!(args.len(), 3);
        assert_eq!(args[0].as_str(), Some("IsProd"));
        assert_eq!(args[1].get("Ref").unwrap().as_str(), Some("Big"));
        assert_eq!(args[2].get("Ref").unwrap().as_str(), Some("Small"));
        assert_eq!(src(text, args[2].span), "!Ref Small");
        // CloudFormation reads a tagged scalar as a string.
        assert_eq!(
            doc.get("C").unwrap().get("Ref").unwrap().as_str(),
            Some("42")
        );
    }

    #[test]
    fn other_cfn_short_forms() {
        let doc = one(concat!(
            "a: !GetAZs ''\n",
            "b: !Select [0, !GetAZs '']\n",
            "c: !Join ['', [a, b]]\n",
            "d: !Condition IsProd\n",
            "e: !Not [!Equals [!Ref Env, prod]]\n",
            "f: !ImportValue Shared\n",
            "g: !FindInMap [M, K, V]\n",
            "h: !Base64 |\n  #!/bin/sh\n  echo hi\n",
            "i: !Foo 12\n",
            "j: !Foo\n",
        ));
        assert_eq!(
            doc.get("a").unwrap().get("Fn::GetAZs").unwrap().as_str(),
            Some("")
        );
        let select = doc
            .get("b")
            .unwrap()
            .get("Fn::Select")
            .unwrap()
            .as_array()
            .unwrap();
        assert_eq!(select[0].as_number(), Some(Number::Int(0)));
        assert!(select[1].get("Fn::GetAZs").is_some());
        assert!(doc.get("c").unwrap().get("Fn::Join").is_some());
        assert_eq!(
            doc.get("d").unwrap().get("Condition").unwrap().as_str(),
            Some("IsProd")
        );
        let not = doc
            .get("e")
            .unwrap()
            .get("Fn::Not")
            .unwrap()
            .as_array()
            .unwrap();
        assert!(not[0].get("Fn::Equals").is_some());
        assert!(doc.get("f").unwrap().get("Fn::ImportValue").is_some());
        assert!(doc.get("g").unwrap().get("Fn::FindInMap").is_some());
        assert_eq!(
            doc.get("h").unwrap().get("Fn::Base64").unwrap().as_str(),
            Some("#!/bin/sh\necho hi\n")
        );
        // Unknown local tags keep the plain value.
        assert_eq!(doc.get("i").unwrap().as_number(), Some(Number::Int(12)));
        assert_eq!(doc.get("j").unwrap().value, Value::Null);
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let text = "\
base: &base
  image: nginx
  replicas: 1
extra: &extra
  replicas: 5
  port: 80
one:
  <<: *base
  replicas: 3
two:
  <<: [*extra, *base]
copy: *base
list: [&x hello, *x]
";
        let doc = one(text);
        let one_ = doc.get("one").unwrap().as_object().unwrap();
        let keys: Vec<&str> = one_.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["image", "replicas"]);
        // An explicit key wins over a merged one.
        assert_eq!(
            one_.get("replicas").unwrap().as_number(),
            Some(Number::Int(3))
        );
        // Merged values point where they were written.
        assert_eq!(pos(one_.get("image").unwrap().span), (2, 10, 2, 15));

        let two = doc.get("two").unwrap().as_object().unwrap();
        let keys: Vec<&str> = two.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["replicas", "port", "image"]);
        // Earlier merge sources win.
        assert_eq!(
            two.get("replicas").unwrap().as_number(),
            Some(Number::Int(5))
        );

        let copy = doc.get("copy").unwrap();
        assert_eq!(copy.get("image").unwrap().as_str(), Some("nginx"));
        assert_eq!(src(text, copy.span), "*base");
        let list = doc.get("list").unwrap().as_array().unwrap();
        assert_eq!(list[1].as_str(), Some("hello"));
        assert_eq!(src(text, list[0].span), "hello");
        assert_eq!(src(text, list[1].span), "*x");

        // A quoted `<<` is an ordinary key.
        let doc = one("m: &m {a: 1}\nn:\n  '<<': *m\n");
        assert!(doc.get("n").unwrap().get("<<").is_some());
    }

    #[test]
    fn undefined_and_cross_document_aliases_are_errors() {
        let parsed = parse_str("a: *nope\n");
        assert!(parsed.documents.is_empty());
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!((parsed.errors[0].line, parsed.errors[0].column), (1, 4));

        let parsed = parse_str("a: &x 1\n---\nb: *x\n");
        assert_eq!(parsed.documents.len(), 1);
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!(parsed.errors[0].line, 3);

        // An alias to the node it is inside has nothing to copy yet.
        let parsed = parse_str("a: &x [1, *x]\n");
        assert!(parsed.documents.is_empty());
        assert_eq!(parsed.errors.len(), 1);
    }

    #[test]
    fn billion_laughs_is_rejected_fast() {
        let mut text = String::from("l0: &l0 lol\n");
        for level in 1..10 {
            let refs = vec![format!("*l{}", level - 1); 10].join(", ");
            text.push_str(&format!("l{level}: &l{level} [{refs}]\n"));
        }
        let started = std::time::Instant::now();
        let parsed = parse_str(&text);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(parsed.documents.is_empty());
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!(
            parsed.errors[0].message,
            format!(
                "yaml aliases expand to more than {MAX_ALIAS_EXPANSION} nodes in this file \
                 (the document at lines 1\u{2013}10 is skipped)"
            )
        );
        assert_eq!(parsed.errors[0].line, 7);
    }

    #[test]
    fn nested_anchors_cannot_multiply_copies() {
        // Each level's anchor would store its own copy of the big leaf list.
        let leaf = vec!["1"; 20_000].join(", ");
        let levels = 100;
        let mut text = String::from("a: ");
        for level in 0..levels {
            text.push_str(&format!("&a{level} ["));
        }
        text.push_str(&leaf);
        text.push_str(&"]".repeat(levels));
        text.push_str("\nb: [");
        text.push_str(
            &(0..levels)
                .map(|l| format!("*a{l}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        text.push_str("]\n");
        let started = std::time::Instant::now();
        let parsed = parse_str(&text);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(parsed.documents.is_empty());
        assert_eq!(
            parsed.errors[0].message,
            format!(
                "yaml aliases expand to more than {MAX_ALIAS_EXPANSION} nodes in this file \
                 (the document at lines 1\u{2013}2 is skipped)"
            )
        );

        // Without an alias naming them, anchors cost nothing.
        let unaliased = text.replace('*', "x");
        let parsed = parse_str(&unaliased);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = "[".repeat(100_000);
        let parsed = parse_str(&deep);
        assert!(parsed.documents.is_empty());
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!(
            parsed.errors[0].message,
            format!("nesting deeper than {MAX_DEPTH} levels (the document at line 1 is skipped)")
        );

        // Balanced, so saphyr accepts it: the limit is ours.
        let balanced = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let parsed = parse_str(&balanced);
        assert!(parsed.documents.is_empty());
        assert!(
            parsed.errors[0]
                .message
                .starts_with(&format!("nesting deeper than {MAX_DEPTH} levels"))
        );
        assert_eq!(
            (parsed.errors[0].line, parsed.errors[0].column),
            (1, MAX_DEPTH as u32 + 1)
        );

        let block = "- ".repeat(100_000) + "x\n";
        let parsed = parse_str(&block);
        assert!(parsed.documents.is_empty());
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!(
            parsed.errors[0].message,
            format!("nesting deeper than {MAX_DEPTH} levels (the document at line 1 is skipped)")
        );

        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(height(&one(&ok)), MAX_DEPTH);

        // Aliases cannot smuggle in depth either.
        let half = MAX_DEPTH / 2 + 1;
        let text = format!(
            "a: &a {}{}\nb: {}*a{}\n",
            "[".repeat(half),
            "]".repeat(half),
            "[".repeat(half),
            "]".repeat(half)
        );
        let parsed = parse_str(&text);
        assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
    }

    #[test]
    fn plain_scalars_resolve_as_kubernetes_reads_them() {
        let doc = one(concat!(
            "t: true\nq: \"true\"\ns: 'false'\nT: True\nF: FALSE\n",
            "yes: yes\non: on\nno: no\noff: off\ny: y\n",
            "n1: null\nn2: ~\nn3:\nn4: NULL\nn5: Null\nnq: 'null'\n",
            "oct: 0755\nhex: 0x1F\no: 0o17\nneg: -12\npos: +7\nbig: 99999999999999999999\n",
            "f: 1.5\ne: 1e3\nd: .5\nm: -2.\ninf: .inf\nnan: .NaN\nver: 1.2.3\nu: 1_000\n",
            "h: 0xZZ\ndate: 2024-01-01\nblock: |\n  true\n",
        ));
        let v = |k: &str| doc.get(k).unwrap().value.clone();
        let s = |x: &str| Value::String(x.to_string());
        assert_eq!(v("t"), Value::Bool(true));
        assert_eq!(v("q"), s("true"));
        assert_eq!(v("s"), s("false"));
        assert_eq!(v("T"), Value::Bool(true));
        assert_eq!(v("F"), Value::Bool(false));
        for (k, b) in [
            ("yes", true),
            ("on", true),
            ("no", false),
            ("off", false),
            ("y", true),
        ] {
            assert_eq!(v(k), Value::Bool(b), "{k}");
        }
        for k in ["n1", "n2", "n3", "n4", "n5"] {
            assert_eq!(v(k), Value::Null, "{k}");
        }
        assert_eq!(v("nq"), s("null"));
        assert_eq!(v("oct"), Value::Number(Number::Int(0o755)));
        assert_eq!(v("hex"), Value::Number(Number::Int(31)));
        assert_eq!(v("o"), Value::Number(Number::Int(15)));
        assert_eq!(v("neg"), Value::Number(Number::Int(-12)));
        assert_eq!(v("pos"), Value::Number(Number::Int(7)));
        assert_eq!(v("big"), Value::Number(Number::Float(1e20)));
        assert_eq!(v("f"), Value::Number(Number::Float(1.5)));
        assert_eq!(v("e"), Value::Number(Number::Float(1000.0)));
        assert_eq!(v("d"), Value::Number(Number::Float(0.5)));
        assert_eq!(v("m"), Value::Number(Number::Float(-2.0)));
        assert_eq!(v("inf"), s(".inf"));
        assert_eq!(v("nan"), s(".NaN"));
        assert_eq!(v("ver"), s("1.2.3"));
        assert_eq!(v("u"), Value::Number(Number::Int(1000)));
        assert_eq!(resolve_plain("0b101"), Some(Value::Number(Number::Int(5))));
        // Not octal; like go-yaml, it still reads as a float.
        assert_eq!(
            resolve_plain("089"),
            Some(Value::Number(Number::Float(89.0)))
        );
        assert_eq!(resolve_plain("_"), None);
        assert_eq!(v("h"), s("0xZZ"));
        assert_eq!(
            resolve_plain("+.5"),
            Some(Value::Number(Number::Float(0.5)))
        );
        assert_eq!(
            resolve_plain("-1e-3"),
            Some(Value::Number(Number::Float(-0.001)))
        );
        assert_eq!(resolve_plain("-0"), Some(Value::Number(Number::Int(0))));
        assert_eq!(resolve_plain("1e999"), None);
        assert_eq!(resolve_plain("0x+1"), None);
        assert_eq!(resolve_plain("-0x1"), None);
        assert_eq!(resolve_plain("0o8"), None);
        assert_eq!(resolve_plain("inf"), None);
        assert_eq!(resolve_plain("nan"), None);
        assert_eq!(resolve_plain("1e"), None);
        assert_eq!(resolve_plain("."), None);
        assert_eq!(v("date"), s("2024-01-01"));
        assert_eq!(v("block"), s("true\n"));
    }

    #[test]
    fn standard_tags() {
        let doc = one(concat!(
            "a: !!str 12\nb: !!int \"12\"\nc: !!float 3\nd: !!bool \"true\"\n",
            "e: !!null \"\"\nf: !!binary aGk=\ng: !!map {k: v}\nh: !!seq [1]\n",
            "i: ! 5\nj: !<tag:yaml.org,2002:str> 6\nk: !!int 0x10\nl: !!int nope\n",
        ));
        let v = |k: &str| doc.get(k).unwrap().value.clone();
        assert_eq!(v("a"), Value::String("12".into()));
        assert_eq!(v("b"), Value::Number(Number::Int(12)));
        assert_eq!(v("c"), Value::Number(Number::Float(3.0)));
        assert_eq!(v("d"), Value::Bool(true));
        assert_eq!(v("e"), Value::Null);
        assert_eq!(v("f"), Value::String("aGk=".into()));
        assert!(doc.get("g").unwrap().get("k").is_some());
        assert_eq!(doc.get("h").unwrap().as_array().unwrap().len(), 1);
        assert_eq!(v("i"), Value::String("5".into()));
        assert_eq!(v("j"), Value::String("6".into()));
        assert_eq!(v("k"), Value::Number(Number::Int(16)));
        assert_eq!(v("l"), Value::String("nope".into()));
        let a = doc.get("a").unwrap();
        assert_eq!(a.span.range(), 9..11);
    }

    #[test]
    fn scalar_spans_cover_their_source() {
        let text = "a: \"abc\"\nb: 'it''s'\nc: |\n  line 1\n  line 2\n\nd: >-\n  folded\n  text\ne:\nf: plain\n  continued\n";
        let doc = one(text);
        let a = doc.get("a").unwrap();
        assert_eq!(a.span.range(), 3..8);
        assert_eq!(src(text, a.span), "\"abc\"");
        assert_eq!(src(text, doc.get("b").unwrap().span), "'it''s'");
        assert_eq!(doc.get("b").unwrap().as_str(), Some("it's"));
        let c = doc.get("c").unwrap();
        assert_eq!(src(text, c.span), "|\n  line 1\n  line 2");
        assert_eq!(pos(c.span), (3, 4, 5, 9));
        assert_eq!(c.as_str(), Some("line 1\nline 2\n"));
        let d = doc.get("d").unwrap();
        assert_eq!(src(text, d.span), ">-\n  folded\n  text");
        assert_eq!(d.as_str(), Some("folded text"));
        let e = doc.get("e").unwrap();
        assert_eq!(e.value, Value::Null);
        assert_eq!(e.span.start, e.span.end);
        let f = doc.get("f").unwrap();
        assert_eq!(f.as_str(), Some("plain continued"));
        assert_eq!(src(text, f.span), "plain\n  continued");

        let text = "- |\n  x\n- >\n  y\n";
        let doc = one(text);
        let items = doc.as_array().unwrap();
        assert_eq!(src(text, items[0].span), "|\n  x");
        assert_eq!(src(text, items[1].span), ">\n  y");
        let text = "--- |\n  top\n";
        assert_eq!(src(text, one(text).span), "|\n  top");

        // saphyr's spans run on over trailing blanks and comments.
        let text = "a: \"q\"  # c \"x\"\nb: [x, y]   # c\nc: {k: v} # d\nd: 'it''s' # e\ne: \"\\\"\" # f\n";
        let doc = one(text);
        assert_eq!(src(text, doc.get("a").unwrap().span), "\"q\"");
        assert_eq!(src(text, doc.get("b").unwrap().span), "[x, y]");
        assert_eq!(src(text, doc.get("c").unwrap().span), "{k: v}");
        assert_eq!(src(text, doc.get("d").unwrap().span), "'it''s'");
        assert_eq!(src(text, doc.get("e").unwrap().span), "\"\\\"\"");
        assert_eq!(doc.get("e").unwrap().as_str(), Some("\""));
        assert_eq!(src(text, doc.span), &text[..text.len() - " # f\n".len()]);
    }

    #[test]
    fn mapping_keys() {
        let text = "80: http\ntrue: yes\n? [a, b]\n: complex\n{x: 1}: flow\n\"q\": quoted\nk: first\nk: second\n";
        let doc = one(text);
        let o = doc.as_object().unwrap();
        let keys: Vec<&str> = o.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["80", "true", "[a, b]", "{x: 1}", "q", "k"]);
        assert_eq!(o.get("80").unwrap().as_str(), Some("http"));
        // A later duplicate replaces the earlier value, in place.
        assert_eq!(o.get("k").unwrap().as_str(), Some("second"));
        assert_eq!(pos(o.entry("k").unwrap().key_span), (8, 1, 8, 2));
        assert_eq!(src(text, o.entry("q").unwrap().key_span), "\"q\"");

        // Large mappings index their keys; duplicates still collapse.
        let mut big = String::new();
        for i in 0..100 {
            big.push_str(&format!("k{i}: {i}\n"));
        }
        big.push_str("k7: seven\n");
        let doc = one(&big);
        assert_eq!(doc.as_object().unwrap().len(), 100);
        assert_eq!(doc.get("k7").unwrap().as_str(), Some("seven"));
        assert_eq!(doc.get("k99").unwrap().as_number(), Some(Number::Int(99)));
    }

    #[test]
    fn crlf_gives_the_same_lines_and_columns() {
        let lf = "a: 1\nb:\n  c: \"x\n    y\"\n  d: |\n    text\n  e: [1, 2]\n";
        let crlf = lf.replace('\n', "\r\n");
        let (l, c) = (one(lf), one(&crlf));
        assert_eq!(l.get("b").unwrap().get("c").unwrap().as_str(), Some("x y"));
        assert_eq!(c.get("b").unwrap().get("c").unwrap().as_str(), Some("x y"));
        assert_eq!(
            c.get("b").unwrap().get("d").unwrap().as_str(),
            Some("text\n")
        );
        let mut ls = vec![&l];
        let mut cs = vec![&c];
        while let (Some(a), Some(b)) = (ls.pop(), cs.pop()) {
            assert_eq!(pos(a.span), pos(b.span));
            match (&a.value, &b.value) {
                (Value::Object(x), Value::Object(y)) => {
                    for (p, q) in x.entries.iter().zip(&y.entries) {
                        assert_eq!(pos(p.key_span), pos(q.key_span));
                        ls.push(&p.value);
                        cs.push(&q.value);
                    }
                }
                (Value::Array(x), Value::Array(y)) => {
                    ls.extend(x);
                    cs.extend(y);
                }
                (x, y) => assert_eq!(x, y),
            }
        }
        let d = c.get("b").unwrap().get("d").unwrap();
        assert_eq!(src(&crlf, d.span), "|\r\n    text");
    }

    #[test]
    fn non_ascii_columns_count_characters_and_bytes_count_bytes() {
        let text = "# ünïcödé\nnamé: \"日本語\" # ok\nlabels: {ключ: значение, x: y}\n";
        let doc = one(text);
        let v = doc.get("namé").unwrap();
        assert_eq!(v.as_str(), Some("日本語"));
        // "namé: " is 6 characters, 7 bytes.
        assert_eq!(pos(v.span), (2, 7, 2, 12));
        let line2 = text.find("namé").unwrap();
        assert_eq!(v.span.range(), line2 + 7..line2 + 7 + 11);
        let labels = doc.get("labels").unwrap();
        let value = labels.get("ключ").unwrap();
        assert_eq!(src(text, value.span), "значение");
        assert_eq!(pos(value.span), (3, 16, 3, 24));
        assert_eq!(labels.get("x").unwrap().span.start_col, 29);
    }

    #[test]
    fn lone_carriage_returns_keep_line_index_positions() {
        let text = "a: 1\rb: é\r\nc: 3\n";
        let parsed = parse_str(text);
        for doc in &parsed.documents {
            check_spans(doc, text, &LineIndex::new(text));
        }
    }

    #[test]
    fn spans_respect_a_stripped_bom() {
        let text = "a: b\n";
        let index = LineIndex::with_base(text, 3);
        let parsed = parse(text, &index);
        let b = parsed.documents[0].get("a").unwrap();
        assert_eq!(b.span.range(), 6..7);
        assert_eq!(pos(b.span), (1, 4, 1, 5));
    }

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    const SEEDS: &[&str] = &[
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p # c\n  labels: {a: b}\nspec:\n  containers:\n    - name: c\n      image: \"x:1\"\n      args: [a, 'b', \"c\"]\n      securityContext:\n        privileged: true\n---\nkind: List\n",
        "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      Name: !Sub '${AWS::StackName}-b'\n      Arn: !GetAtt B.Arn\n      X: !If [C, !Ref A, !Ref AWS::NoValue]\n      S: !Base64 |\n        #!/bin/bash\n        echo ü\n",
        "a: &a {x: 1, y: [1, 2]}\nb:\n  <<: *a\n  z: >-\n    folded\n? [k]\n: v\nc: *a\n",
        "%YAML 1.2\n--- !!map\n\"é\": 'ß'\n...\n--- |\n  text\n--- [1, {a: b}, ? c : d]\n",
    ];

    const ALPHABET: &[u8] = b"-:?[]{},#&*!|>'\"%@` \t\r\n\\.0123456789abcxyzA\xc3\xa9";

    #[test]
    fn never_panics_on_random_or_mutated_input() {
        let iterations: usize = std::env::var("YAML_FUZZ_ITERATIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3_000);
        let seed = std::env::var("YAML_FUZZ_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0x9E37_79B9_7F4A_7C15_u64);
        let mut rng = XorShift(seed | 1);
        for i in 0..iterations {
            let bytes: Vec<u8> = if i % 3 == 0 {
                let len = rng.below(if i % 30 == 0 { 2_000 } else { 120 });
                (0..len)
                    .map(|_| {
                        if rng.below(4) == 0 {
                            rng.next() as u8
                        } else {
                            ALPHABET[rng.below(ALPHABET.len())]
                        }
                    })
                    .collect()
            } else {
                let mut bytes = SEEDS[rng.below(SEEDS.len())].as_bytes().to_vec();
                for _ in 0..1 + rng.below(6) {
                    let at = rng.below(bytes.len() + 1);
                    let c = ALPHABET[rng.below(ALPHABET.len())];
                    match rng.below(3) {
                        0 => bytes.insert(at, c),
                        1 if at < bytes.len() => {
                            bytes.remove(at);
                        }
                        _ if at < bytes.len() => bytes[at] = c,
                        _ => bytes.push(c),
                    }
                }
                bytes
            };
            let text = String::from_utf8_lossy(&bytes);
            if !text.contains('%') {
                check_markers(&text);
            }
            let index = LineIndex::new(&text);
            let parsed = parse(&text, &index);
            for doc in &parsed.documents {
                check_spans(doc, &text, &index);
            }
            for e in &parsed.errors {
                assert!(e.line >= 1 && e.column >= 1, "{text:?}: {e}");
                assert!((e.line as usize) <= index.line_count(), "{text:?}: {e}");
            }
        }
    }

    /// saphyr's line and column, converted to a byte offset, agree with its
    /// character index (outside directive lines, where the index drifts).
    fn check_markers(text: &str) {
        let index = LineIndex::new(text);
        let stream = Stream::new(text, &index);
        let mut loc = Locator::new(&stream);
        let offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        let by_index = |mark: Marker| offsets.get(mark.index()).copied().unwrap_or(text.len());
        let mut parser = Parser::new_from_str(text);
        while let Some(next) = parser.next_event() {
            match next {
                Ok((_, span)) => {
                    for mark in [span.start, span.end] {
                        assert_eq!(loc.byte(mark), by_index(mark), "{text:?} {mark:?}");
                    }
                }
                Err(e) => {
                    assert_eq!(loc.byte(*e.marker()), by_index(*e.marker()), "{text:?} {e}");
                    break;
                }
            }
        }
    }

    #[test]
    fn marker_conversion_matches_character_indices() {
        for text in SEEDS
            .iter()
            .chain(["ключ: значение\n- x\n", "é: [ü, {ß: 1}]\n"].iter())
        {
            if !text.contains('%') {
                check_markers(text);
            }
            let index = LineIndex::new(text);
            let stream = Stream::new(text, &index);
            let mut loc = Locator::new(&stream);
            let mut parser = Parser::new_from_str(text);
            while let Some(Ok((_, span))) = parser.next_event() {
                let mark = span.start;
                let expected = index.char_to_byte(mark.line() as u32, mark.col() as u32);
                assert_eq!(loc.byte(mark), expected, "{text:?} {mark:?}");
            }
        }
    }

    fn kubernetes_stream(target: usize) -> String {
        let mut text = String::with_capacity(target + 4096);
        let mut i = 0;
        while text.len() < target {
            text.push_str(&format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  namespace: prod\n  labels:\n    app.kubernetes.io/name: app-{i}\n    tier: \"backend\"\nspec:\n  replicas: 3\n  selector:\n    matchLabels: {{app: app-{i}}}\n  template:\n    metadata:\n      annotations:\n        prometheus.io/scrape: 'true'\n    spec:\n      containers:\n        - name: app\n          image: registry.example.com/app:{i}.0.1\n          args: [--port, \"8080\", --verbose]\n          ports:\n            - containerPort: 8080\n              protocol: TCP\n          resources:\n            limits: {{cpu: 500m, memory: 256Mi}}\n          securityContext:\n            runAsNonRoot: true\n            readOnlyRootFilesystem: true\n            allowPrivilegeEscalation: false\n          env:\n            - name: MODE\n              value: production\n            - name: CONFIG\n              value: |\n                key=value\n                other=1\n"
            ));
            i += 1;
        }
        text
    }

    #[test]
    #[ignore]
    fn throughput() {
        let text = kubernetes_stream(5 << 20);
        let index = LineIndex::new(&text);
        let mut best = f64::MAX;
        let mut docs = 0;
        for _ in 0..5 {
            let started = std::time::Instant::now();
            let parsed = parse(&text, &index);
            best = best.min(started.elapsed().as_secs_f64());
            assert!(parsed.errors.is_empty());
            docs = parsed.documents.len();
        }
        let mut events = 0usize;
        let started = std::time::Instant::now();
        let mut parser = Parser::new_from_str(&text);
        while let Some(Ok(_)) = parser.next_event() {
            events += 1;
        }
        let saphyr = started.elapsed().as_secs_f64();
        let mb = text.len() as f64 / (1024.0 * 1024.0);
        println!(
            "{mb:.1} MiB, {docs} documents: {:.1} MiB/s (saphyr events alone: {:.1} MiB/s, {events} events)",
            mb / best,
            mb / saphyr
        );
    }
}
