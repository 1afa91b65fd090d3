//! RUN's shell text split into simple commands, for queries about what a
//! RUN runs: each command's name, arguments, leading `NAME=value`
//! assignments and text, and how it is joined to the one before (`after`,
//! and `input_from` for the command piped into it). Quotes are removed,
//! redirections and their targets left out of the arguments, and the
//! bodies of shell heredocs (`cat <<EOF`) skipped. A command run through
//! wrappers (`sudo`, `env A=1`, ...) is the command they run, with the
//! wrappers listed in `wrappers`.
//!
//! This is not a shell: the lexer ([`lex_shell`]) finds tokens, and
//! [`commands`] groups them into command nodes with spans.

use super::nodes::{array, cover, entry, node_str, object, optional_str, synth};
use super::scan::{push_slice, utf8_len};
use super::spans::{Spanner, Src};
use super::wrapper;
use crate::tree::Node;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Tok {
    /// A word; its text is unquoted.
    Word,
    /// `;`, `&&`, `||`, `|`, `&`, `(`, `)`, or a newline.
    Sep,
    /// A redirection operator.
    Redir,
    /// The word a redirection applies to (a file, an fd, a heredoc word).
    Target,
}

pub(super) struct Token {
    pub(super) kind: Tok,
    pub(super) start: usize,
    pub(super) end: usize,
    /// The unquoted text, when it differs from the source slice: most words
    /// need no unquoting, and not copying them saves an allocation each.
    text: Option<String>,
}

impl Token {
    pub(super) fn text<'s>(&'s self, s: &'s str) -> &'s str {
        match &self.text {
            Some(t) => t,
            None => s.get(self.start..self.end).unwrap_or(""),
        }
    }

    fn take_text(&mut self, s: &str) -> String {
        match self.text.take() {
            Some(t) => t,
            None => s.get(self.start..self.end).unwrap_or("").to_string(),
        }
    }
}

/// Skips a `$(...)` / `$((...))` whose opening parenthesis is before `i`.
fn skip_paren(b: &[u8], mut i: usize, to: usize) -> usize {
    let mut depth = 1usize;
    while i < to {
        match b[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            b'\\' => i += 1,
            b'\'' => {
                i += 1;
                while i < to && b[i] != b'\'' {
                    i += 1;
                }
            }
            b'"' | b'`' => {
                let q = b[i];
                i += 1;
                while i < to && b[i] != q {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    to
}

/// Skips a `${...}` whose opening brace is before `i`.
fn skip_brace(b: &[u8], mut i: usize, to: usize) -> usize {
    let mut depth = 1usize;
    while i < to {
        match b[i] {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            b'\\' => i += 1,
            _ => {}
        }
        i += 1;
    }
    to
}

/// Skips a backquoted command substitution whose opening quote is before `i`.
fn skip_backtick(b: &[u8], mut i: usize, to: usize) -> usize {
    while i < to {
        match b[i] {
            b'`' => return i + 1,
            b'\\' => i += 1,
            _ => {}
        }
        i += 1;
    }
    to
}

/// Copies a `$...` expansion or substitution starting at `i` as written.
fn lex_dollar(s: &str, i: usize, to: usize, buf: &mut String) -> usize {
    let b = s.as_bytes();
    let end = match b.get(i + 1) {
        Some(b'(') if i + 1 < to => skip_paren(b, i + 2, to),
        Some(b'{') if i + 1 < to => skip_brace(b, i + 2, to),
        _ => i + 1,
    };
    let end = end.min(to);
    push_slice(buf, s, i, end);
    end
}

fn is_shell_special(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t'
            | b'\r'
            | 0x0b
            | 0x0c
            | b'\n'
            | b';'
            | b'&'
            | b'|'
            | b'('
            | b')'
            | b'<'
            | b'>'
            | b'\\'
            | b'\''
            | b'"'
            | b'$'
            | b'`'
    )
}

/// Reads a double-quoted string whose opening quote is before `i`.
fn lex_dquote(s: &str, mut i: usize, to: usize, buf: &mut String) -> usize {
    let b = s.as_bytes();
    while i < to {
        match b[i] {
            b'"' => return i + 1,
            b'\\' => match b.get(i + 1).filter(|_| i + 1 < to) {
                Some(b'\n') => i += 2,
                Some(b'\r') if b.get(i + 2) == Some(&b'\n') && i + 2 < to => i += 3,
                Some(&c @ (b'$' | b'`' | b'"' | b'\\')) => {
                    buf.push(c as char);
                    i += 2;
                }
                _ => {
                    buf.push('\\');
                    i += 1;
                }
            },
            b'$' => i = lex_dollar(s, i, to, buf),
            b'`' => {
                let end = skip_backtick(b, i + 1, to);
                push_slice(buf, s, i, end);
                i = end;
            }
            _ => {
                let start = i;
                while i < to && !matches!(b[i], b'"' | b'\\' | b'$' | b'`') {
                    i += 1;
                }
                push_slice(buf, s, start, i);
            }
        }
    }
    to
}

/// Reads one word starting at `i` (which is not a separator or blank);
/// returns its end.
fn lex_word(s: &str, mut i: usize, to: usize, buf: &mut String) -> usize {
    let b = s.as_bytes();
    while i < to {
        match b[i] {
            b' ' | b'\t' | b'\r' | 0x0b | 0x0c | b'\n' | b';' | b'&' | b'|' | b'(' | b')'
            | b'<' | b'>' => break,
            b'\\' => match b.get(i + 1).filter(|_| i + 1 < to) {
                None => i += 1,
                Some(b'\n') => i += 2,
                Some(b'\r') if b.get(i + 2) == Some(&b'\n') && i + 2 < to => i += 3,
                Some(&c) => {
                    let end = (i + 1 + utf8_len(c)).min(to);
                    push_slice(buf, s, i + 1, end);
                    i = end;
                }
            },
            b'\'' => {
                let close = b[i + 1..to].iter().position(|&x| x == b'\'');
                let end = close.map_or(to, |k| i + 1 + k);
                push_slice(buf, s, i + 1, end);
                i = (end + 1).min(to);
            }
            b'"' => i = lex_dquote(s, i + 1, to, buf),
            // `$'...'` (ANSI-C quoting): read as a single-quoted string.
            b'$' if b.get(i + 1) == Some(&b'\'') && i + 1 < to => i += 1,
            b'$' => i = lex_dollar(s, i, to, buf),
            b'`' => {
                let end = skip_backtick(b, i + 1, to);
                push_slice(buf, s, i, end);
                i = end;
            }
            _ => {
                let start = i;
                while i < to && !is_shell_special(b[i]) {
                    i += 1;
                }
                push_slice(buf, s, start, i);
            }
        }
    }
    i
}

/// Length of the redirection operator at `i` (a `<` or `>`) and, for `<<`
/// and `<<-`, whether it opens a heredoc and strips tabs.
fn redirect_op(b: &[u8], i: usize, to: usize) -> (usize, Option<bool>) {
    let at = |k: usize| {
        if i + k < to {
            b.get(i + k).copied()
        } else {
            None
        }
    };
    if b[i] == b'<' {
        match (at(1), at(2)) {
            (Some(b'<'), Some(b'<')) => (3, None),
            (Some(b'<'), Some(b'-')) => (3, Some(true)),
            (Some(b'<'), _) => (2, Some(false)),
            (Some(b'&' | b'>'), _) => (2, None),
            _ => (1, None),
        }
    } else {
        match at(1) {
            Some(b'>' | b'&' | b'|') => (2, None),
            _ => (1, None),
        }
    }
}

/// Skips the bodies of heredocs opened on the line just ended, starting at
/// the beginning of the next line.
fn skip_shell_heredocs(b: &[u8], mut i: usize, to: usize, pending: &[(String, bool)]) -> usize {
    for (delim, strip) in pending {
        while i < to {
            let nl = b[i..to].iter().position(|&c| c == b'\n');
            let line_end = nl.map_or(to, |k| i + k);
            let mut end = line_end;
            while end > i && b[end - 1] == b'\r' {
                end -= 1;
            }
            let mut start = i;
            if *strip {
                while start < end && b[start] == b'\t' {
                    start += 1;
                }
            }
            i = if line_end < to { line_end + 1 } else { to };
            if &b[start..end] == delim.as_bytes() {
                break;
            }
        }
    }
    i
}

/// Splits shell text `s[from..to]` into tokens.
///
/// This is not a shell: it finds where simple commands start and end and
/// what their words are once quotes are removed, which is what a query about
/// "an `apt-get install` without `--no-install-recommends`" needs. Command
/// substitutions stay inside the word that holds them.
pub(super) fn lex_shell(s: &str, from: usize, to: usize, out: &mut Vec<Token>, buf: &mut String) {
    let b = s.as_bytes();
    let to = to.min(b.len());
    let mut i = from;
    let mut pending: Vec<(String, bool)> = Vec::new();
    // After a redirection operator the next word is its target; `Some(Some(strip))`
    // when that target is a heredoc word.
    let mut target: Option<Option<bool>> = None;
    loop {
        while i < to {
            match b[i] {
                b' ' | b'\t' | b'\r' | 0x0b | 0x0c => i += 1,
                b'\\' if b.get(i + 1) == Some(&b'\n') && i + 1 < to => i += 2,
                b'\\'
                    if b.get(i + 1) == Some(&b'\r')
                        && b.get(i + 2) == Some(&b'\n')
                        && i + 2 < to =>
                {
                    i += 3
                }
                _ => break,
            }
        }
        if i >= to {
            break;
        }
        let start = i;
        let op = |out: &mut Vec<Token>, kind: Tok, len: usize| {
            out.push(Token {
                kind,
                start,
                end: start + len,
                text: None,
            });
            start + len
        };
        let next = b.get(i + 1).copied().filter(|_| i + 1 < to);
        match b[i] {
            b'\n' => {
                i = op(out, Tok::Sep, 1);
                target = None;
                if !pending.is_empty() {
                    i = skip_shell_heredocs(b, i, to, &pending);
                    pending.clear();
                }
            }
            b'#' => {
                while i < to && b[i] != b'\n' {
                    i += 1;
                }
            }
            b';' => {
                target = None;
                i = op(out, Tok::Sep, if next == Some(b';') { 2 } else { 1 });
            }
            b'&' => match next {
                Some(b'&') => {
                    target = None;
                    i = op(out, Tok::Sep, 2);
                }
                Some(b'>') => {
                    let long = b.get(i + 2) == Some(&b'>') && i + 2 < to;
                    i = op(out, Tok::Redir, if long { 3 } else { 2 });
                    target = Some(None);
                }
                _ => {
                    target = None;
                    i = op(out, Tok::Sep, 1);
                }
            },
            b'|' => {
                target = None;
                let len = if matches!(next, Some(b'|' | b'&')) {
                    2
                } else {
                    1
                };
                i = op(out, Tok::Sep, len);
            }
            b'(' | b')' => {
                target = None;
                i = op(out, Tok::Sep, 1);
            }
            b'<' | b'>' => {
                let (len, heredoc) = redirect_op(b, i, to);
                i = op(out, Tok::Redir, len);
                target = Some(heredoc);
            }
            _ => {
                buf.clear();
                let end = lex_word(s, i, to, buf);
                let end = end.max(i + 1).min(to);
                i = end;
                // `2>` and `1<`: the digits are the redirection's fd, not a word.
                if end < to
                    && matches!(b[end], b'<' | b'>')
                    && b[start..end].iter().all(u8::is_ascii_digit)
                {
                    continue;
                }
                let text = (s.get(start..end) != Some(buf.as_str())).then(|| buf.clone());
                let kind = match target.take() {
                    Some(heredoc) => {
                        if let Some(strip) = heredoc {
                            pending.push((buf.clone(), strip));
                        }
                        Tok::Target
                    }
                    None => Tok::Word,
                };
                out.push(Token {
                    kind,
                    start,
                    end,
                    text,
                });
            }
        }
    }
}

/// Words that open or close a compound command: they are not the name of
/// the simple command that follows them.
fn is_reserved(word: &str) -> bool {
    matches!(
        word,
        "if" | "then"
            | "else"
            | "elif"
            | "fi"
            | "do"
            | "done"
            | "while"
            | "until"
            | "esac"
            | "{"
            | "}"
            | "!"
            | "time"
    )
}

/// Length of `NAME` when `raw` is a `NAME=value` assignment.
fn assignment(raw: &[u8]) -> Option<usize> {
    let first = *raw.first()?;
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return None;
    }
    let k = raw
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))?;
    (raw[k] == b'=').then_some(k)
}

pub(super) fn is_shell(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name,
        "sh" | "bash" | "ash" | "dash" | "zsh" | "ksh" | "mksh"
    )
}

/// How a shell command is joined to the one before it.
struct Link {
    /// The operator before it (`&&`, `||`, `;`, `|`), `None` for the first.
    after: Option<String>,
    /// The name of the command before it.
    previous: Option<String>,
}

/// Buffers the shell lexer and [`commands`] reuse from one RUN to the next.
#[derive(Default)]
pub(super) struct ShellScratch {
    pub(super) tokens: Vec<Token>,
    pub(super) word: String,
    /// Token indexes of the command being grouped: its assignments, then
    /// its arguments.
    words: Vec<usize>,
}

/// Groups shell tokens into simple commands; true when any was found.
pub(super) fn commands(
    spans: &Spanner,
    src: &Src,
    sh: &mut ShellScratch,
    out: &mut Vec<Node>,
) -> bool {
    let before = out.len();
    let mut first: Option<usize> = None;
    let mut last = 0usize;
    let mut name: Option<usize> = None;
    let tokens = &mut sh.tokens;
    let words = &mut sh.words;
    words.clear();
    let mut n_env = 0;
    let n = tokens.len();
    // What joins each command to the one before (`&&`, `|`, ...) and the
    // previous command's name: `curl ... | sh` is a pipe into a shell.
    let mut joined_by: Option<String> = None;
    let mut previous: Option<String> = None;
    for i in 0..=n {
        let kind = tokens.get(i).map_or(Tok::Sep, |t| t.kind);
        match kind {
            Tok::Sep => {
                if let Some(f) = first.filter(|_| name.is_some() || n_env > 0) {
                    let link = Link {
                        after: joined_by.take(),
                        previous: previous.take(),
                    };
                    let parts = unwrapped(src, tokens, name, words, n_env);
                    let node = command_node(spans, src, tokens, f, last, parts, link);
                    previous = node.get("name").and_then(Node::as_str).map(str::to_string);
                    out.push(node);
                }
                if let Some(t) = tokens.get(i) {
                    let sep = src.text(t.start, t.end).trim();
                    // A newline inside a heredoc script separates like `;`.
                    joined_by = Some(if sep.is_empty() {
                        ";".to_string()
                    } else {
                        sep.to_string()
                    });
                }
                first = None;
                name = None;
                words.clear();
                n_env = 0;
            }
            Tok::Redir | Tok::Target => {
                first.get_or_insert(i);
                last = i;
            }
            Tok::Word => {
                let t = &tokens[i];
                let raw = src.text(t.start, t.end);
                if name.is_none() {
                    if assignment(raw.as_bytes()).is_some() {
                        words.push(i);
                        n_env += 1;
                    } else if n_env == 0 && first.is_none() && is_reserved(raw) {
                        continue;
                    } else {
                        name = Some(i);
                    }
                } else {
                    words.push(i);
                }
                first.get_or_insert(i);
                last = i;
            }
        }
    }
    out.len() > before
}

/// The token indexes of one command: behind wrappers such as `sudo` or
/// `env A=1`, the command they run.
struct Parts {
    name: Option<usize>,
    args: Vec<usize>,
    /// Leading assignments, and those given to `env`.
    env: Vec<usize>,
    wrappers: Vec<String>,
}

/// Splits a command's words (`words[..n_env]` assignments, then the
/// arguments after `name`) into [`Parts`], looking through wrappers.
fn unwrapped(
    src: &Src,
    tokens: &[Token],
    name: Option<usize>,
    words: &[usize],
    n_env: usize,
) -> Parts {
    let (env, args) = words.split_at(n_env);
    let mut parts = Parts {
        name,
        args: args.to_vec(),
        env: env.to_vec(),
        wrappers: Vec::new(),
    };
    let Some(name) = name else {
        return parts;
    };
    let all: Vec<usize> = std::iter::once(name).chain(args.iter().copied()).collect();
    let texts: Vec<&str> = all.iter().map(|&i| tokens[i].text(src.s)).collect();
    if let Some(u) = wrapper::unwrap(&texts) {
        parts.name = Some(all[u.command]);
        parts.args = all[u.command + 1..].to_vec();
        parts.env.extend(u.assignments.iter().map(|&k| all[k]));
        parts.wrappers = u.wrappers;
    }
    parts
}

fn command_node(
    spans: &Spanner,
    src: &Src,
    tokens: &mut [Token],
    first: usize,
    last: usize,
    parts: Parts,
    link: Link,
) -> Node {
    let Parts {
        name,
        args,
        env,
        wrappers,
    } = parts;
    let (args, env) = (args.as_slice(), env.as_slice());
    let (a, b) = (tokens[first].start, tokens[last].end);
    let span = spans.range(src, a, b);
    let mut env_entries = Vec::with_capacity(env.len());
    for &i in env {
        let t = &tokens[i];
        let raw = src.text(t.start, t.end);
        let k = assignment(raw.as_bytes()).unwrap_or(0);
        let key_span = spans.range(src, t.start, t.start + k);
        let value = t.text(src.s).get(k + 1..).unwrap_or("").to_string();
        let value_span = spans.range(src, t.start + k + 1, t.end);
        env_entries.push(entry(
            raw.get(..k).unwrap_or(""),
            key_span,
            node_str(value, value_span),
        ));
    }
    let env_span = match (env.first(), env.last()) {
        (Some(&f), Some(&l)) => spans.range(src, tokens[f].start, tokens[l].end),
        _ => spans.range(src, a, a),
    };
    let name_node = match name {
        Some(i) => {
            let t = &mut tokens[i];
            node_str(t.take_text(src.s), spans.range(src, t.start, t.end))
        }
        None => node_str("", spans.range(src, a, a)),
    };
    let mut arg_nodes = Vec::with_capacity(args.len());
    for &i in args {
        let t = &mut tokens[i];
        arg_nodes.push(node_str(
            t.take_text(src.s),
            spans.range(src, t.start, t.end),
        ));
    }
    let args_span = if arg_nodes.is_empty() {
        let p = name.map_or(a, |i| tokens[i].end);
        spans.range(src, p, p)
    } else {
        cover(&arg_nodes, span)
    };
    object(
        vec![
            entry("name", name_node.span, name_node),
            synth("args", array(arg_nodes, args_span)),
            synth("env", object(env_entries, env_span)),
            synth(
                "wrappers",
                array(
                    wrappers.into_iter().map(|w| node_str(w, span)).collect(),
                    span,
                ),
            ),
            synth("text", node_str(src.text(a, b), span)),
            synth(
                "input_from",
                optional_str(
                    link.previous.filter(|_| link.after.as_deref() == Some("|")),
                    span,
                ),
            ),
            synth("after", optional_str(link.after, span)),
        ],
        span,
    )
}

#[cfg(test)]
mod tests {
    use crate::parse::dockerfile::testing::*;

    #[test]
    fn shell_commands_env_quotes_and_operators() {
        let text = "FROM a\nRUN DEBIAN_FRONTEND=noninteractive A='x y' apt-get install -y \"pkg\"'s' > /dev/null 2>&1; set -eux; curl -fsSL https://x | sh || true; if [ -f a ]; then apt-get install -y b; fi; echo \"$(date; id)\" `uname`\n";
        let p = parse_str(text);
        let run = at(root(&p), "stages.0.instructions.1");
        let names: Vec<String> = at(run, "commands")
            .items()
            .iter()
            .map(|c| s(c, "name").to_string())
            .collect();
        assert_eq!(
            names,
            [
                "apt-get", "set", "curl", "sh", "true", "[", "apt-get", "echo"
            ]
        );
        let c0 = at(run, "commands.0");
        assert_eq!(strs(c0, "args"), ["install", "-y", "pkgs"]);
        assert_eq!(s(c0, "env.DEBIAN_FRONTEND"), "noninteractive");
        assert_eq!(s(c0, "env.A"), "x y");
        assert_eq!(start(at(c0, "env.A")), (2, 38));
        let key = at(c0, "env").as_object().expect("env").entries[0].key_span;
        assert_eq!((key.start_line, key.start_col), (2, 5));
        assert_eq!(
            s(c0, "text"),
            "DEBIAN_FRONTEND=noninteractive A='x y' apt-get install -y \"pkg\"'s' > /dev/null 2>&1"
        );
        assert_eq!(strs(run, "commands.1.args"), ["-eux"]);
        assert_eq!(strs(run, "commands.6.args"), ["install", "-y", "b"]);
        assert_eq!(strs(run, "commands.7.args"), ["$(date; id)", "`uname`"]);
    }

    #[test]
    fn wrapped_commands_are_the_command_they_run() {
        let text = "FROM a\nRUN sudo -E apt-get install -y x && env -i DEBIAN_FRONTEND=noninteractive apt-get upgrade && sudo -i\n";
        let p = parse_str(text);
        let run = at(root(&p), "stages.0.instructions.1");
        let c0 = at(run, "commands.0");
        assert_eq!(s(c0, "name"), "apt-get");
        assert_eq!(start(at(c0, "name")), (2, 13));
        assert_eq!(strs(c0, "args"), ["install", "-y", "x"]);
        assert_eq!(strs(c0, "wrappers"), ["sudo"]);
        assert_eq!(s(c0, "text"), "sudo -E apt-get install -y x");
        let c1 = at(run, "commands.1");
        assert_eq!(s(c1, "env.DEBIAN_FRONTEND"), "noninteractive");
        assert_eq!(strs(c1, "wrappers"), ["env"]);
        assert_eq!(strs(c1, "args"), ["upgrade"]);
        let c2 = at(run, "commands.2");
        assert_eq!(s(c2, "name"), "sudo");
        assert!(strs(c2, "wrappers").is_empty());
    }
}
