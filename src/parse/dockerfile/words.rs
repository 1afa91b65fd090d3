//! Words and quotes as BuildKit reads instruction arguments: split on
//! whitespace alone or on whitespace outside quotes, and remove quotes and
//! escapes without expanding variables.
//!
//! Takes text and a byte range (and the escape character); returns word
//! ranges or the unquoted text.

use super::scan::{is_ws, push_slice, skip_ws, utf8_len};

/// Removes quotes and escapes the way BuildKit's word expansion does
/// (without expanding variables, which stay as written): outside quotes the
/// escape character escapes anything, inside double quotes only `"`, `$` and
/// itself, inside single quotes nothing.
pub(super) fn unquote(raw: &str, esc: u8) -> String {
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
pub(super) fn ws_words(s: &str, a: usize, b: usize) -> Vec<(usize, usize)> {
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
pub(super) fn quoted_words(s: &str, a: usize, b: usize, esc: u8) -> Vec<(usize, usize)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquote_follows_buildkit_word_expansion() {
        for (raw, esc, want) in [
            (r#"a"b c"'d e'\f"#, b'\\', "ab cd ef"),
            // Inside double quotes only `"`, `$` and the escape are escaped.
            (r#""a\"b\x\$""#, b'\\', r#"a"b\x$"#),
            // Inside single quotes nothing is.
            (r#"'a\b'"#, b'\\', r#"a\b"#),
            (r"C:\src", b'`', r"C:\src"),
            ("a`\"b", b'`', "a\"b"),
        ] {
            assert_eq!(unquote(raw, esc), want, "{raw:?}");
        }
    }

    #[test]
    fn words_split_on_whitespace_with_or_without_quotes() {
        let text = " a  \"b c\"\td='e f' ";
        let texts = |ranges: Vec<(usize, usize)>| -> Vec<&str> {
            ranges.into_iter().map(|(a, b)| &text[a..b]).collect()
        };
        assert_eq!(
            texts(ws_words(text, 0, text.len())),
            ["a", "\"b", "c\"", "d='e", "f'"]
        );
        assert_eq!(
            texts(quoted_words(text, 0, text.len(), b'\\')),
            ["a", "\"b c\"", "d='e f'"]
        );
    }
}
