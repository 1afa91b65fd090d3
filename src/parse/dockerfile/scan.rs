//! Byte-level scanning that every part of the Dockerfile parser shares:
//! BuildKit's whitespace, skipping and trimming it, and copying whole
//! characters out of a byte range.
//!
//! Takes bytes and offsets and returns offsets; nothing here allocates
//! except into a buffer the caller passes.

/// Whitespace as BuildKit's `reWhitespace` (`[\t\v\f\r ]`) splits on.
pub(super) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | 0x0b | 0x0c | b'\r')
}

pub(super) fn skip_ws(bytes: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && is_ws(bytes[i]) {
        i += 1;
    }
    i
}

pub(super) fn trim_end_ws(bytes: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && is_ws(bytes[end - 1]) {
        end -= 1;
    }
    end
}

/// Byte length of the UTF-8 character whose first byte is `b`.
pub(super) fn utf8_len(b: u8) -> usize {
    match b {
        0..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// Appends `s[a..b]`; a range that is not on character boundaries (which
/// the callers never produce) is skipped rather than panicking.
pub(super) fn push_slice(buf: &mut String, s: &str, a: usize, b: usize) {
    if let Some(part) = s.get(a..b) {
        buf.push_str(part);
    }
}
