//! The line level of a Dockerfile: physical lines (LF or CRLF), the parser
//! directives at the top (`# syntax=`, `# escape=`, `# check=`), and
//! continuations: a line ending with the escape character goes on with the
//! next one, and the pieces are joined into one instruction text with a
//! [`Seg`] per piece so offsets map back to the file. Comment and blank
//! lines inside a continued instruction are dropped by the caller, as
//! BuildKit does.
//!
//! Takes the file's bytes and offsets; returns line bounds, the
//! [`Directives`], and joined text.

use super::nodes::{entry, node_str};
use super::scan::{push_slice, skip_ws, trim_end_ws};
use super::spans::{Seg, Spanner};
use crate::parse::ParseError;
use crate::tree::Entry;

/// The end of the line starting at `pos` without its `\r\n` / `\n`, and the
/// start of the next line.
pub(super) fn line_at(bytes: &[u8], pos: usize) -> (usize, usize) {
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

/// `end` moved back over spaces and tabs (what may follow a continuation).
fn trim_end_blanks(bytes: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && matches!(bytes[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    end
}

/// Whether the line `start..end` ends with the escape character
/// (trailing blanks allowed), continuing on the next line.
pub(super) fn continues(bytes: &[u8], escape: u8, start: usize, end: usize) -> bool {
    let e = trim_end_blanks(bytes, start, end);
    e > start && bytes[e - 1] == escape
}

/// Appends one physical line (without a trailing escape) to the joined
/// instruction text; true when the line continues.
pub(super) fn append_fragment(
    text: &str,
    escape: u8,
    joined: &mut String,
    segs: &mut Vec<Seg>,
    start: usize,
    end: usize,
    last_end: &mut usize,
) -> bool {
    let bytes = text.as_bytes();
    let cont = continues(bytes, escape, start, end);
    let frag_end = if cont {
        trim_end_blanks(bytes, start, end) - 1
    } else {
        end
    };
    segs.push(Seg {
        at: joined.len(),
        src: start,
    });
    push_slice(joined, text, start, frag_end);
    let content_end = trim_end_ws(bytes, start, frag_end);
    if content_end > skip_ws(bytes, start, content_end) {
        *last_end = (*last_end).max(content_end);
    }
    cont
}

/// The parser directives at the top of a file.
pub(super) struct Directives {
    /// Where the rest of the file starts: the first line that is not a
    /// directive.
    pub(super) end: usize,
    /// The escape character the file chose (`\` unless it says otherwise).
    pub(super) escape: u8,
    /// Each directive's name (lowercased) and value, in order, repeats left
    /// out.
    pub(super) entries: Vec<Entry>,
}

/// Reads parser directives at the top of the file; a repeated or invalid
/// one is reported in `errors`.
pub(super) fn directives_at_top(
    text: &str,
    spans: &Spanner,
    errors: &mut Vec<ParseError>,
) -> Directives {
    let bytes = text.as_bytes();
    let mut escape = b'\\';
    let mut entries = Vec::new();
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
            errors.push(spans.error(
                name.0,
                format!("only one {key} parser directive can be used"),
            ));
        } else {
            seen[slot] = true;
            if slot == 1 {
                match val {
                    "\\" => escape = b'\\',
                    "`" => escape = b'`',
                    _ => errors.push(spans.error(
                        value.0,
                        format!("invalid escape token \"{val}\" does not match ` or \\"),
                    )),
                }
            }
            let key_span = spans.span(name.0, name.1);
            let value_span = spans.span(value.0, value.1);
            entries.push(entry(&key, key_span, node_str(val, value_span)));
        }
        pos = next;
    }
    Directives {
        end: pos,
        escape,
        entries,
    }
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
    use crate::parse::Parsed;
    use crate::parse::dockerfile::testing::*;
    use crate::tree::{Node, Object, Value};

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
}
