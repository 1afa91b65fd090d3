//! The exec form's JSON array, read as BuildKit's `parseJSON` reads it:
//! an array of strings (with their decoded text and source ranges), valid
//! JSON that is not all strings (an error BuildKit reports), or not JSON at
//! all (the text is shell form). Its own small reader, so that each string
//! keeps its position and hostile nesting stays bounded by [`MAX_DEPTH`].
//!
//! Takes text and a byte range; returns a [`Json`].

use super::scan::push_slice;
use crate::parse::MAX_DEPTH;

pub(super) enum Json {
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
pub(super) fn json_array(s: &str, a: usize, b: usize) -> Json {
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

#[cfg(test)]
mod tests {
    use crate::parse::dockerfile::testing::*;

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
}
