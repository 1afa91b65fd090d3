//! An instruction line split into its keyword, its flags and the rest, as
//! BuildKit's `splitCommand` and `extractBuilderFlags` do, and the
//! keywords BuildKit knows.
//!
//! Takes the instruction text and a byte range; returns a [`Command`] of
//! ranges (flag names and values already unquoted).

use std::borrow::Cow;

use super::scan::{is_ws, push_slice, skip_ws, utf8_len};

/// The instructions BuildKit knows; anything else is an error it reports.
pub(super) const KNOWN: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// The keyword as the tree spells it: uppercase, borrowed from [`KNOWN`]
/// for the instructions Docker knows (no allocation for the usual case).
pub(super) fn keyword_name(raw: &str) -> Cow<'static, str> {
    match KNOWN.iter().find(|k| k.eq_ignore_ascii_case(raw)) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(raw.to_ascii_uppercase()),
    }
}

/// A `--name[=value]` flag word.
pub(super) struct Flag {
    pub(super) word: (usize, usize),
    pub(super) name: String,
    pub(super) name_range: (usize, usize),
    pub(super) value: Option<(String, (usize, usize))>,
}

/// An instruction line split as BuildKit's `splitCommand` does.
pub(super) struct Command {
    pub(super) keyword: (usize, usize),
    pub(super) flags: Vec<Flag>,
    pub(super) rest: (usize, usize),
}

/// Splits the trimmed, non-empty `s[a..b]` into keyword, flags and the rest.
pub(super) fn split_command(s: &str, a: usize, b: usize) -> Command {
    let bytes = s.as_bytes();
    let mut k = a;
    while k < b && !is_ws(bytes[k]) {
        k += 1;
    }
    let mut flags = Vec::new();
    let mut i = skip_ws(bytes, k, b);
    let mut rest_start = b;
    // BuildKit's `extractBuilderFlags`: leading words that start with `--`,
    // with quotes and backslashes removed; a bare `--` ends them.
    loop {
        i = skip_ws(bytes, i, b);
        if i >= b || !(bytes[i] == b'-' && i + 1 < b && bytes[i + 1] == b'-') {
            rest_start = rest_start.min(i);
            break;
        }
        let start = i;
        let mut word = String::new();
        let mut quote = 0u8;
        while i < b {
            let c = bytes[i];
            if quote == 0 && is_ws(c) {
                break;
            }
            if quote == 0 && (c == b'\'' || c == b'"') {
                quote = c;
                i += 1;
                continue;
            }
            if quote != 0 && c == quote {
                quote = 0;
                i += 1;
                continue;
            }
            let from = if c == b'\\' && i + 1 < b { i + 1 } else { i };
            if c == b'\\' && i + 1 >= b {
                i += 1;
                continue;
            }
            let end = (from + utf8_len(bytes[from])).min(b);
            push_slice(&mut word, s, from, end);
            i = end;
        }
        if word == "--" && i - start == 2 {
            rest_start = skip_ws(bytes, i, b);
            break;
        }
        let eq_raw = bytes[start + 2..i]
            .iter()
            .position(|&c| c == b'=')
            .map(|p| start + 2 + p);
        // The word's own buffer becomes the name; only the value is copied.
        let value = match word.get(2..).and_then(|body| body.find('=')) {
            Some(eq) => {
                let v = word.get(2 + eq + 1..).unwrap_or("").to_string();
                word.truncate(2 + eq);
                Some(v)
            }
            None => None,
        };
        word.drain(..2.min(word.len()));
        let name = word;
        let name_range = (start + 2, eq_raw.unwrap_or(i));
        let value = value.map(|v| (v, (eq_raw.map_or(i, |e| e + 1), i)));
        flags.push(Flag {
            word: (start, i),
            name,
            name_range,
            value,
        });
    }
    Command {
        keyword: (a, k),
        flags,
        rest: (rest_start.min(b), b),
    }
}

#[cfg(test)]
mod tests {
    use crate::parse::dockerfile::testing::*;

    #[test]
    fn flags_repeat_and_booleans() {
        let text = "FROM a\nRUN --mount=type=cache,target=/var/cache/apt --mount=type=secret,id=npm \\\n    --network=none npm ci\nCOPY --link --chown=app:app --chmod=0755 --from=builder /out /app\n";
        let p = parse_str(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let r = root(&p);
        let run = at(r, "stages.0.instructions.1");
        assert_eq!(
            strs(run, "flags.mount"),
            ["type=cache,target=/var/cache/apt", "type=secret,id=npm"]
        );
        assert_eq!(start(at(run, "flags.mount.1")), (2, 54));
        assert_eq!(s(run, "flags.network"), "none");
        assert_eq!(start(at(run, "flags.network")), (3, 15));
        let key = at(run, "flags").as_object().expect("object").entries[1].key_span;
        assert_eq!((key.start_line, key.start_col), (3, 7));
        assert_eq!(s(run, "value"), "npm ci");
        assert_eq!(s(run, "commands.0.name"), "npm");
        let copy = at(r, "stages.0.instructions.2");
        assert_eq!(at(copy, "flags.link").as_bool(), Some(true));
        assert_eq!(s(copy, "flags.chown"), "app:app");
        assert_eq!(s(copy, "flags.chmod"), "0755");
        assert_eq!(s(copy, "flags.from"), "builder");
        assert_eq!(strs(copy, "sources"), ["/out"]);
        assert_eq!(s(copy, "destination"), "/app");
        assert_eq!(start(at(copy, "destination")), (4, 62));
        // Quoted flag values lose their quotes.
        let p = parse_str("FROM a\nRUN --mount=\"type=bind,source=a b\" x\n");
        assert_eq!(
            s(root(&p), "stages.0.instructions.1.flags.mount"),
            "type=bind,source=a b"
        );
    }

    #[test]
    fn unknown_instruction_is_kept_and_reported() {
        let p = parse_str("FROM a\nfoo --x bar baz\nRUN ok\n");
        assert_eq!(messages(&p), ["unknown instruction \"FOO\""]);
        assert_eq!((p.errors[0].line, p.errors[0].column), (2, 1));
        let r = root(&p);
        assert_eq!(s(r, "stages.0.instructions.1.instruction"), "FOO");
        assert_eq!(s(r, "stages.0.instructions.1.value"), "bar baz");
        assert_eq!(s(r, "stages.0.instructions.2.instruction"), "RUN");
    }

    #[test]
    fn keywords_are_case_insensitive() {
        let p = parse_str("from alpine as Base\nrun echo hi\nCopy a b\n");
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let r = root(&p);
        assert_eq!(s(r, "stages.0.name"), "base");
        assert_eq!(s(r, "stages.0.instructions.1.instruction"), "RUN");
        assert_eq!(s(r, "stages.0.instructions.2.instruction"), "COPY");
    }
}
