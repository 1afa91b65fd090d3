//! GitHub's line hash (`primaryLocationLineHash`): SARIF results carry it
//! so that code scanning follows a finding when lines move. Computed by
//! the scan where a file's whole text is at hand, so results need keep only
//! excerpts of it (issue 20).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::tree::Span;

/// The line hashes (`primaryLocationLineHash`) of the start lines of
/// `spans` in `text`, by line: what SARIF results carry.
pub fn file_line_hashes<'a>(
    text: &str,
    spans: impl Iterator<Item = &'a Span>,
) -> BTreeMap<u32, String> {
    let mut lines = BTreeSet::new();
    let mut bom = false;
    for span in spans {
        lines.insert(span.start_line.max(1));
        bom |= starts_after_bom(text, span);
    }
    let mut found = BTreeMap::new();
    let units = bom
        .then_some(0xFEFF_u16)
        .into_iter()
        .chain(text.encode_utf16());
    hash_lines(units, |line, hash, count| {
        if lines.contains(&line) {
            found.insert(line, format!("{hash:x}:{count}"));
        }
    });
    found
}

/// True when `span`, on line 1, says its file starts with a UTF-8
/// byte-order mark: the loader strips the mark from the text but counts it
/// in byte offsets, so such a span starts three bytes after where its
/// column falls in the text. The upload action hashes the file on disk,
/// mark included; the mark is in line 1's hash only, so only line 1's
/// findings need (and are used for) the check, which stays cheap.
fn starts_after_bom(text: &str, span: &Span) -> bool {
    if span.start_line != 1 {
        return false;
    }
    let column_offset: usize = text
        .chars()
        .take(span.start_col.saturating_sub(1) as usize)
        .map(char::len_utf8)
        .sum();
    span.start as usize == column_offset + 3
}

/// GitHub's `primaryLocationLineHash` of every line of `text`, line 1
/// first: what `github/codeql-action` (`src/fingerprints.ts`, function
/// `hash`) computes from the file when a result has none.
///
/// The algorithm, restated: the text is read as UTF-16 code units; spaces
/// and tabs are dropped, `\r\n` and `\r` become `\n`, and a 0xFFFF marks
/// the end of the file. A line's hash is the polynomial rolling hash
/// (base 37, wrapping 64-bit arithmetic) of the 100 units that follow the
/// start of the line in that stream, padded with zeros past the end: it
/// depends on the line and what follows it, never on what precedes it. It
/// is written in lowercase hex without padding, then `:n`, where n counts
/// the lines so far with the same hash (1 for the first).
pub fn line_hashes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    hash_lines(text.encode_utf16(), |_, hash, count| {
        out.push(format!("{hash:x}:{count}"));
    });
    out
}

/// Units of text per line hash.
const BLOCK: usize = 100;
/// The hash's base.
const BASE: u64 = 37;
/// What the upload action feeds after the last character.
const END_OF_FILE: u16 = 0xFFFF;
const SPACE: u16 = b' ' as u16;
const TAB: u16 = b'\t' as u16;
const LF: u16 = b'\n' as u16;
const CR: u16 = b'\r' as u16;

/// Runs the line hash over `units`, calling `emit(line, hash, n)` for
/// every line in order (1-based line, raw hash, its occurrence count).
fn hash_lines(units: impl Iterator<Item = u16>, emit: impl FnMut(u32, u64, u32)) {
    let mut hasher = LineHasher {
        window: [0; BLOCK],
        starts: [0; BLOCK],
        hash: 0,
        index: 0,
        line: 0,
        at_line_start: true,
        after_cr: false,
        // BASE^BLOCK: the weight of the unit leaving the window.
        outgoing_weight: (0..BLOCK).fold(1u64, |w, _| w.wrapping_mul(BASE)),
        counts: HashMap::new(),
        emit,
    };
    for unit in units {
        hasher.feed(unit);
    }
    hasher.feed(END_OF_FILE);
    // Zeros push the last lines' windows to their full length.
    for _ in 0..BLOCK {
        hasher.emit_line_at_index();
        hasher.roll(0);
    }
}

struct LineHasher<F> {
    /// The last BLOCK units, a ring indexed by `index`.
    window: [u16; BLOCK],
    /// The line (1-based) starting at each window slot, 0 for none.
    starts: [u32; BLOCK],
    hash: u64,
    index: usize,
    line: u32,
    at_line_start: bool,
    after_cr: bool,
    outgoing_weight: u64,
    counts: HashMap<u64, u32>,
    emit: F,
}

impl<F: FnMut(u32, u64, u32)> LineHasher<F> {
    fn feed(&mut self, unit: u16) {
        if unit == SPACE || unit == TAB || (self.after_cr && unit == LF) {
            self.after_cr = false;
            return;
        }
        let unit = if unit == CR {
            self.after_cr = true;
            LF
        } else {
            self.after_cr = false;
            unit
        };
        // The slot about to be overwritten began a line 100 units ago: its
        // window is complete.
        self.emit_line_at_index();
        if self.at_line_start {
            self.at_line_start = false;
            self.line += 1;
            self.starts[self.index] = self.line;
        }
        if unit == LF {
            self.at_line_start = true;
        }
        self.roll(unit);
    }

    fn emit_line_at_index(&mut self) {
        let line = self.starts[self.index];
        if line != 0 {
            let count = self.counts.entry(self.hash).or_insert(0);
            *count += 1;
            (self.emit)(line, self.hash, *count);
            self.starts[self.index] = 0;
        }
    }

    fn roll(&mut self, unit: u16) {
        let outgoing = self.window[self.index];
        self.window[self.index] = unit;
        self.hash = self
            .hash
            .wrapping_mul(BASE)
            .wrapping_add(u64::from(unit))
            .wrapping_sub(self.outgoing_weight.wrapping_mul(u64::from(outgoing)));
        self.index = (self.index + 1) % BLOCK;
    }
}
