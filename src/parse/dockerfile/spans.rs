//! Where each node came from. [`Spanner`] turns byte offsets into
//! [`Span`]s exactly as [`LineIndex::span`] does, but stays linear over the
//! whole file; [`Src`] is the text an instruction is read from (one line in
//! place, or continuation lines joined into one) with the map from its
//! offsets back to the file's.
//!
//! Takes the file's [`LineIndex`] and offsets; returns spans, positions and
//! errors placed at a position.

use std::cell::Cell;

use crate::parse::ParseError;
use crate::tree::{LineIndex, Span};

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
pub(super) struct Spanner<'a> {
    index: &'a LineIndex<'a>,
    text: &'a str,
    base: u32,
    cursor: Cell<Cursor>,
}

impl<'a> Spanner<'a> {
    pub(super) fn new(index: &'a LineIndex<'a>) -> Self {
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

    pub(super) fn span(&self, start: usize, end: usize) -> Span {
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

    /// The file span of `src` range `a..b`.
    pub(super) fn range(&self, src: &Src, a: usize, b: usize) -> Span {
        if b <= a {
            let p = src.file_offset(a);
            self.span(p, p)
        } else {
            // The last byte's mapping, not the end's: the end may be where
            // the next joined line begins.
            self.span(src.file_offset(a), src.file_offset(b - 1) + 1)
        }
    }

    /// An error at file offset `off`, with its line and column.
    pub(super) fn error(&self, off: usize, message: impl Into<String>) -> ParseError {
        let (line, column) = self.position(off);
        ParseError::new(line, column, message)
    }
}

/// Where a piece of the joined instruction text starts, in the joined text
/// and in the file.
#[derive(Clone, Copy, Debug)]
pub(super) struct Seg {
    pub(super) at: usize,
    pub(super) src: usize,
}

/// Text whose offsets are the file's own (heredoc bodies).
pub(super) const IDENTITY: &[Seg] = &[Seg { at: 0, src: 0 }];

/// Text to read nodes from, and how its offsets map to the file.
#[derive(Clone, Copy)]
pub(super) struct Src<'j> {
    pub(super) s: &'j str,
    pub(super) segs: &'j [Seg],
}

impl Src<'_> {
    pub(super) fn file_offset(self, off: usize) -> usize {
        if let [only] = self.segs {
            return only.src + off.saturating_sub(only.at);
        }
        let i = self.segs.partition_point(|seg| seg.at <= off);
        match i.checked_sub(1).and_then(|i| self.segs.get(i)) {
            Some(seg) => seg.src + (off - seg.at),
            None => off,
        }
    }

    pub(super) fn text(&self, a: usize, b: usize) -> &str {
        self.s.get(a..b).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use crate::parse::dockerfile::parse;
    use crate::parse::dockerfile::testing::*;
    use crate::tree::LineIndex;

    #[test]
    fn multibyte_columns_count_characters() {
        let p = parse_str("FROM a\nRUN echo 'héllo' && ls\n");
        let cmd = at(root(&p), "stages.0.instructions.1.commands.1");
        assert_eq!(start(cmd), (2, 21));
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
    fn bom_base_shifts_bytes_only() {
        let text = "FROM a\nRUN x\n";
        let index = LineIndex::with_base(text, 3);
        let p = parse(text, &index);
        let run = at(&p.documents[0], "stages.0.instructions.1");
        assert_eq!((run.span.start, run.span.end), (10, 15));
        assert_eq!(start(run), (2, 1));
    }
}
