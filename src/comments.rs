//! Directives written in comments: `# rampart:ignore ...` suppressions and
//! `# rampart-expect: ...` fixture markers. Both name a line the same way:
//! a directive alone on its line applies to the next line that is neither
//! blank nor a comment; a directive after code applies to its own line.

use crate::platform::CommentSyntax;

/// A comment found in a source text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment<'a> {
    /// 1-based line the comment is on.
    pub line: u32,
    /// 1-based line it applies to (see the module doc).
    pub target: u32,
    /// The comment's text after its marker (`#`, `//`), trimmed.
    pub text: &'a str,
}

/// Where a comment starts on a line, if it has one. Quotes are respected so
/// a `#` inside a string is not a comment. Dockerfiles only have comments
/// at the start of a line (a `#` later is part of the instruction); JSON has
/// none.
fn comment_start(line: &str, syntax: CommentSyntax) -> Option<usize> {
    let trimmed = line.trim_start();
    if syntax == CommentSyntax::HashAtLineStart {
        return trimmed
            .starts_with('#')
            .then(|| line.len() - trimmed.len() + 1);
    }
    let bytes = line.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'"' | b'\'' => quote = Some(b),
                b'#' => return Some(i + 1),
                b'/' if bytes.get(i + 1) == Some(&b'/')
                    && syntax == CommentSyntax::HashOrSlashes =>
                {
                    return Some(i + 2);
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// Every comment of `text` whose text contains `needle`, with the line it
/// applies to, in the given comment syntax.
pub fn comments<'a>(text: &'a str, syntax: CommentSyntax, needle: &str) -> Vec<Comment<'a>> {
    let lines: Vec<&str> = text.lines().collect();
    let is_code = |l: &str| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && !t.starts_with("//")
    };
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !line.contains(needle) {
            continue;
        }
        let Some(start) = comment_start(line, syntax) else {
            continue;
        };
        let body = line[start..].trim_start_matches(['#', '/']).trim();
        if !body.contains(needle) {
            continue;
        }
        let own_line = line[..start].trim_end_matches(['#', '/']).trim().is_empty();
        let target = if own_line {
            lines
                .iter()
                .enumerate()
                .skip(i + 1)
                .find(|(_, l)| is_code(l))
                .map(|(j, _)| j)
        } else {
            Some(i)
        };
        if let Some(j) = target {
            out.push(Comment {
                line: i as u32 + 1,
                target: j as u32 + 1,
                text: body,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(text: &str, syntax: CommentSyntax) -> Vec<(u32, u32, &str)> {
        comments(text, syntax, "x:")
            .into_iter()
            .map(|c| (c.line, c.target, c.text))
            .collect()
    }

    #[test]
    fn own_line_and_trailing_comments() {
        let text = "a = 1 # x: one\n# x: two\n\n# other\nb = \"#x: not\"\n// x: three\nc = 3\n";
        assert_eq!(
            targets(text, CommentSyntax::HashOrSlashes),
            vec![(1, 1, "x: one"), (2, 5, "x: two"), (6, 7, "x: three")]
        );
    }

    #[test]
    fn dockerfile_comments_start_lines_only() {
        let text = "# x: one\nRUN echo '#x: no' # x: not a comment\n";
        assert_eq!(
            targets(text, CommentSyntax::HashAtLineStart),
            vec![(1, 2, "x: one")]
        );
    }

    #[test]
    fn yaml_has_no_slash_comments() {
        let text = "url: http://x: y\n# x: two\nkind: Pod\n";
        assert_eq!(targets(text, CommentSyntax::Hash), vec![(2, 3, "x: two")]);
    }
}
