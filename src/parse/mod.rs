//! Parsers: source text in, [`Parsed`] documents of the common tree out.
//!
//! One module a syntax. Each takes the text (already checked to be UTF-8,
//! with any byte-order mark removed) and a [`LineIndex`] over it, and never
//! panics: what it cannot read becomes a [`ParseError`] with a position.

mod common;
pub mod dockerfile;
pub mod hcl;
pub mod json;
pub mod yaml;

pub use common::*;

/// The first byte offset at which brackets nest deeper than `max`, ignoring
/// brackets inside strings and comments (`#`, `//`, `/* */`).
///
/// hcl-edit and jsonc-parser descend recursively; refusing absurd nesting
/// before calling them is what keeps a hostile file from overflowing the
/// stack, which no `catch_unwind` can recover from.
pub fn find_excessive_nesting(text: &str, max: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'#' => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > max {
                    return Some(i);
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn skip_line(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i] != b'\n' {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_ignores_strings_and_comments() {
        assert_eq!(find_excessive_nesting("[[[]]]", 3), None);
        assert_eq!(find_excessive_nesting("[[[[]]]]", 3), Some(3));
        assert_eq!(find_excessive_nesting("x = \"[[[[[[\"", 3), None);
        assert_eq!(
            find_excessive_nesting("# [[[[[[\n// {{{{{\n/* (((( */", 3),
            None
        );
        assert_eq!(find_excessive_nesting("\"unterminated [[[[\n[", 3), None);
    }
}
