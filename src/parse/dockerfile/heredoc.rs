//! Dockerfile heredocs (`RUN <<EOF`, `COPY <<a <<'b' /dst/`), read as
//! BuildKit reads them: the markers on the instruction line, then the
//! bodies from the lines that follow it, each up to its terminator. Also
//! whether a RUN heredoc's body is shell to split into commands.
//!
//! Takes the instruction text and the file; returns [`Heredoc`]s (marker,
//! body and terminator ranges, content) and their `heredocs` entry.

use super::lines::line_at;
use super::nodes::{array, cover, entry, node_str, object, synth};
use super::shell::is_shell;
use super::spans::{Spanner, Src};
use super::words::{quoted_words, unquote};
use crate::parse::ParseError;
use crate::tree::{Entry, Node, Span, Value};

/// A heredoc marker on an instruction line (`<<EOF`, `<<-"EOF"`).
pub(super) struct Marker {
    range: (usize, usize),
    name: String,
    name_range: (usize, usize),
    expand: bool,
    strip_tabs: bool,
}

/// A heredoc with its body read.
pub(super) struct Heredoc {
    marker: Marker,
    /// The body lines in the file, terminator excluded.
    pub(super) body: (usize, usize),
    /// The terminator line in the file (the body's end when unterminated).
    pub(super) terminator: (usize, usize),
    content: String,
}

/// Finds heredoc markers among the words of `s[a..b]`, as BuildKit's
/// `heredocsFromLine`: a word that is `[n]<<[-]WORD` with no other `<`.
pub(super) fn find_markers(s: &str, a: usize, b: usize) -> Vec<Marker> {
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

/// Reads the bodies of `markers` from the lines at `pos` (advancing it),
/// in order; the first unterminated one is reported in `errors`.
pub(super) fn read_heredocs(
    text: &str,
    spans: &Spanner,
    errors: &mut Vec<ParseError>,
    src: &Src,
    markers: Vec<Marker>,
    pos: &mut usize,
) -> Vec<Heredoc> {
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
                    errors
                        .push(spans.error(at, format!("unterminated heredoc \"{}\"", marker.name)));
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

/// The `heredocs` entry of an instruction: each heredoc's delimiter,
/// content and quoting.
pub(super) fn heredocs_node(spans: &Spanner, src: &Src, heredocs: &[Heredoc]) -> Entry {
    let mut items = Vec::with_capacity(heredocs.len());
    for h in heredocs {
        let m = &h.marker;
        let marker_span = spans.range(src, m.range.0, m.range.1);
        let delim_span = spans.range(src, m.name_range.0, m.name_range.1);
        let content_span = spans.span(h.body.0, h.body.1);
        let term_span = spans.span(h.terminator.0, h.terminator.1);
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

/// Whether a RUN heredoc's body is shell to split into commands: the body
/// of `RUN <<EOF` is the script itself (unless its `#!` names another
/// interpreter), and so is one fed to a shell (`RUN bash <<EOF`).
pub(super) fn heredoc_is_script(
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

#[cfg(test)]
mod tests {
    use crate::parse::dockerfile::testing::*;
    use crate::tree::Node;

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
    fn heredoc_with_foreign_shebang_is_not_shell() {
        let p = parse_str(
            "FROM a\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\nRUN <<EOF\n#!/bin/bash\nls\nEOF\n",
        );
        let r = root(&p);
        assert!(at(r, "stages.0.instructions.1.commands").items().is_empty());
        assert_eq!(s(r, "stages.0.instructions.2.commands.0.name"), "ls");
        assert_eq!(start(at(r, "stages.0.instructions.2.commands.0")), (8, 1));
    }
}
