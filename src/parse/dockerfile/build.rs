//! The node of each instruction, from its split line: the entries every
//! instruction has (`instruction`, `flags`, `value`), then what its keyword
//! adds (exec or shell form and `commands` for RUN, sources and
//! destination for COPY, `pairs` for ENV, the image for FROM, the trigger
//! of ONBUILD, ...), with the errors BuildKit would report.
//!
//! Takes a [`Command`] over an instruction's [`Src`] and its heredocs;
//! returns the instruction node (and, for `FROM`, the stage's facts).

use super::heredoc::{Heredoc, heredoc_is_script, heredocs_node};
use super::instruction::{Command, Flag, KNOWN, keyword_name, split_command};
use super::json_array::{Json, json_array};
use super::nodes::{array, cover, entry, node_str, object, synth};
use super::scan::{is_ws, skip_ws};
use super::shell::{self, ShellScratch, Tok, lex_shell};
use super::spans::{IDENTITY, Spanner, Src};
use super::stage::{FromInfo, split_image, valid_stage_name};
use super::words::{quoted_words, unquote, ws_words};
use super::wrapper;
use crate::parse::ParseError;
use crate::tree::{Entry, LineIndex, Node, Span, Value};

/// Builds instruction nodes. Holds what every instruction needs: the
/// file, its spans, the escape character, the errors found so far, and
/// the shell lexer's buffers.
pub(super) struct Builder<'a> {
    text: &'a str,
    pub(super) spans: Spanner<'a>,
    pub(super) escape: u8,
    pub(super) errors: Vec<ParseError>,
    /// Buffers the shell lexer reuses from one RUN to the next.
    shell: ShellScratch,
}

impl<'a> Builder<'a> {
    pub(super) fn new(text: &'a str, index: &'a LineIndex<'a>) -> Self {
        Builder {
            text,
            spans: Spanner::new(index),
            escape: b'\\',
            errors: Vec::new(),
            shell: ShellScratch::default(),
        }
    }

    pub(super) fn error_at(&mut self, file_off: usize, message: impl Into<String>) {
        let error = self.spans.error(file_off, message);
        self.errors.push(error);
    }

    /// The file span of `src` range `a..b`.
    fn span(&self, src: &Src, a: usize, b: usize) -> Span {
        self.spans.range(src, a, b)
    }

    fn string_node(&self, src: &Src, a: usize, b: usize) -> Node {
        node_str(src.text(a, b), self.span(src, a, b))
    }

    fn unquoted_node(&self, src: &Src, a: usize, b: usize) -> Node {
        node_str(unquote(src.text(a, b), self.escape), self.span(src, a, b))
    }

    /// The `flags` object; takes the flags' strings rather than copying them.
    fn flags_node(&self, src: &Src, keyword_end: usize, flags: &mut [Flag]) -> Node {
        let empty = self.span(src, keyword_end, keyword_end);
        let mut entries: Vec<Entry> = Vec::with_capacity(flags.len());
        // Many flags on one line must not make finding repeats quadratic;
        // for the usual few a scan is cheaper than hashing.
        let many = flags.len() > 16;
        let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for flag in flags.iter_mut() {
            let key_span = self.span(src, flag.name_range.0, flag.name_range.1);
            let value = match &mut flag.value {
                Some((v, (a, b))) => node_str(std::mem::take(v), self.span(src, *a, *b)),
                None => Node::new(Value::Bool(true), self.span(src, flag.word.0, flag.word.1)),
            };
            let found = if many {
                seen.get(flag.name.as_str()).copied()
            } else {
                entries.iter().position(|e| e.key == flag.name)
            };
            match found {
                Some(i) => {
                    let existing = &mut entries[i].value;
                    let span = existing.span.cover(value.span);
                    match &mut existing.value {
                        Value::Array(items) => items.push(value),
                        _ => {
                            let first = std::mem::replace(existing, Node::new(Value::Null, span));
                            existing.value = Value::Array(vec![first, value]);
                        }
                    }
                    existing.span = span;
                }
                None => {
                    if many {
                        seen.insert(flag.name.clone(), entries.len());
                    }
                    entries.push(Entry {
                        key: std::mem::take(&mut flag.name),
                        key_span,
                        value,
                    });
                }
            }
        }
        let span = match (flags.first(), flags.last()) {
            (Some(f), Some(l)) => self.span(src, f.word.0, l.word.1),
            _ => empty,
        };
        object(entries, span)
    }

    /// Exec form when `s[a..b]` is a JSON array of strings; reports the
    /// array of non-strings BuildKit refuses.
    fn exec_form(&mut self, src: &Src, a: usize, b: usize) -> Option<Vec<Node>> {
        match json_array(src.s, a, b) {
            Json::Strings(items) => Some(
                items
                    .into_iter()
                    .map(|(t, s, e)| node_str(t, self.span(src, s, e)))
                    .collect(),
            ),
            Json::NotStrings => {
                let at = src.file_offset(a);
                self.error_at(
                    at,
                    "when using JSON array syntax, arrays must be comprised of strings only",
                );
                None
            }
            Json::Invalid => None,
        }
    }

    /// Builds the node of the instruction `cmd`; `end` is where it ends in
    /// the file (heredoc bodies included). Also returns what a FROM says.
    pub(super) fn build(
        &mut self,
        src: &Src,
        cmd: &mut Command,
        keyword: &str,
        heredocs: Vec<Heredoc>,
        end: usize,
        nested: bool,
    ) -> (Node, Option<FromInfo>) {
        let kw_span = self.span(src, cmd.keyword.0, cmd.keyword.1);
        let start = src.file_offset(cmd.keyword.0);
        let node_span = self.spans.span(start, end.max(start));
        let (ra, rb) = cmd.rest;
        let mut e = Vec::with_capacity(entry_count(keyword, !heredocs.is_empty()));
        e.push(entry("instruction", kw_span, node_str(keyword, kw_span)));
        let flags = self.flags_node(src, cmd.keyword.1, &mut cmd.flags);
        e.push(synth("flags", flags));
        let value = self.string_node(src, ra, rb);
        let value_span = value.span;
        let mut from = None;
        let known = KNOWN.contains(&keyword);
        if !known {
            self.error_at(start, format!("unknown instruction \"{keyword}\""));
        }
        if ra >= rb
            && matches!(
                keyword,
                "RUN"
                    | "WORKDIR"
                    | "USER"
                    | "EXPOSE"
                    | "STOPSIGNAL"
                    | "MAINTAINER"
                    | "VOLUME"
                    | "ONBUILD"
                    | "SHELL"
            )
        {
            self.error_at(start, format!("{keyword} requires at least one argument"));
        }
        match keyword {
            "RUN" | "CMD" | "ENTRYPOINT" | "SHELL" => {
                let exec = if ra < rb {
                    self.exec_form(src, ra, rb)
                } else {
                    None
                };
                if keyword == "SHELL" && exec.is_none() && ra < rb {
                    self.error_at(start, "SHELL requires the arguments to be in JSON form");
                }
                self.push_command_form(
                    src,
                    &mut e,
                    value,
                    (ra, rb),
                    exec,
                    keyword == "RUN",
                    heredocs,
                );
            }
            "COPY" | "ADD" | "VOLUME" => {
                let exec = if ra < rb {
                    self.exec_form(src, ra, rb)
                } else {
                    None
                };
                let form = if exec.is_some() { "exec" } else { "shell" };
                let args = match exec {
                    Some(items) => items,
                    None => ws_words(src.s, ra, rb)
                        .into_iter()
                        .map(|(a, b)| self.unquoted_node(src, a, b))
                        .collect(),
                };
                e.push(synth("form", node_str(form, value_span)));
                e.push(synth("value", value));
                e.push(synth("arguments", array(args.clone(), value_span)));
                if !heredocs.is_empty() {
                    e.push(heredocs_node(&self.spans, src, &heredocs));
                }
                if keyword != "VOLUME" {
                    if args.len() < 2 {
                        self.error_at(start, format!("{keyword} requires at least two arguments"));
                    }
                    let mut sources = args;
                    let destination = if sources.len() >= 2 {
                        sources.pop()
                    } else {
                        None
                    };
                    let span = cover(&sources, value_span);
                    e.push(synth("sources", array(sources, span)));
                    let dest = destination.unwrap_or_else(|| Node::new(Value::Null, value_span));
                    e.push(synth("destination", dest));
                }
            }
            "FROM" => {
                let info = self.stage_facts(src, cmd, start, &mut e, value);
                from = Some(info);
            }
            "ENV" | "LABEL" | "ARG" => {
                e.push(synth("value", value));
                let (args, pairs) = self.pairs(src, keyword, ra, rb, start);
                e.push(synth("arguments", array(args, value_span)));
                e.push(synth("pairs", object(pairs, value_span)));
            }
            "EXPOSE" => {
                e.push(synth("value", value));
                let ports: Vec<Node> = ws_words(src.s, ra, rb)
                    .into_iter()
                    .map(|(a, b)| self.unquoted_node(src, a, b))
                    .collect();
                e.push(synth("arguments", array(ports.clone(), value_span)));
                e.push(synth("ports", array(ports, value_span)));
            }
            "USER" => {
                e.push(synth("value", value));
                let raw = src.text(ra, rb);
                let args = self.single_argument(src, ra, rb);
                e.push(synth("arguments", array(args, value_span)));
                match user_colon(raw.as_bytes(), self.escape) {
                    Some(c) => {
                        e.push(synth("user", self.unquoted_node(src, ra, ra + c)));
                        e.push(synth("group", self.unquoted_node(src, ra + c + 1, rb)));
                    }
                    None => {
                        e.push(synth("user", self.unquoted_node(src, ra, rb)));
                        e.push(synth("group", Node::new(Value::Null, value_span)));
                    }
                }
            }
            "WORKDIR" => {
                e.push(synth("value", value));
                let args = self.single_argument(src, ra, rb);
                e.push(synth("arguments", array(args, value_span)));
                e.push(synth("path", self.unquoted_node(src, ra, rb)));
            }
            "STOPSIGNAL" | "MAINTAINER" => {
                e.push(synth("value", value));
                let args = self.single_argument(src, ra, rb);
                e.push(synth("arguments", array(args, value_span)));
            }
            "HEALTHCHECK" => {
                e.push(synth("value", value));
                self.healthcheck(src, cmd, start, &mut e);
            }
            "ONBUILD" => {
                e.push(synth("value", value));
                if ra < rb {
                    let mut inner = split_command(src.s, ra, rb);
                    let inner_kw = keyword_name(src.text(inner.keyword.0, inner.keyword.1));
                    let inner_start = src.file_offset(inner.keyword.0);
                    match &*inner_kw {
                        "ONBUILD" => self.error_at(
                            inner_start,
                            "chaining ONBUILD via \"ONBUILD ONBUILD\" isn't allowed",
                        ),
                        "FROM" | "MAINTAINER" => self.error_at(
                            inner_start,
                            format!("{inner_kw} isn't allowed as an ONBUILD trigger"),
                        ),
                        _ => {}
                    }
                    // A nested trigger is not unfolded further: it is an
                    // error anyway, and this keeps recursion to one level.
                    let trigger = if nested || inner_kw == "ONBUILD" {
                        let span = self.span(src, ra, rb);
                        let kw_span = self.span(src, inner.keyword.0, inner.keyword.1);
                        let v = self.string_node(src, inner.rest.0, inner.rest.1);
                        object(
                            vec![
                                entry("instruction", kw_span, node_str(&*inner_kw, kw_span)),
                                synth("value", v),
                            ],
                            span,
                        )
                    } else {
                        self.build(src, &mut inner, &inner_kw, heredocs, end, true)
                            .0
                    };
                    e.push(synth("trigger", trigger));
                }
            }
            _ => e.push(synth("value", value)),
        }
        (object(e, node_span), from)
    }

    /// `arguments` for instructions whose argument is one string.
    fn single_argument(&self, src: &Src, a: usize, b: usize) -> Vec<Node> {
        if a < b {
            vec![self.unquoted_node(src, a, b)]
        } else {
            Vec::new()
        }
    }

    /// `form`, `value`, `arguments`, `heredocs` and (for RUN) `commands` of
    /// an instruction that has an exec and a shell form.
    #[allow(clippy::too_many_arguments)]
    fn push_command_form(
        &mut self,
        src: &Src,
        e: &mut Vec<Entry>,
        value: Node,
        (ra, rb): (usize, usize),
        exec: Option<Vec<Node>>,
        commands: bool,
        heredocs: Vec<Heredoc>,
    ) {
        let value_span = value.span;
        match exec {
            Some(items) => {
                e.push(synth("form", node_str("exec", value_span)));
                let cmd_node = commands.then(|| self.exec_command(&items, &value));
                e.push(synth("value", value));
                e.push(synth("arguments", array(items, value_span)));
                if let Some(c) = cmd_node {
                    e.push(synth(
                        "commands",
                        array(c.into_iter().collect(), value_span),
                    ));
                }
            }
            None => {
                e.push(synth("form", node_str("shell", value_span)));
                e.push(synth("value", value));
                let mut sh = std::mem::take(&mut self.shell);
                sh.tokens.clear();
                lex_shell(src.s, ra, rb, &mut sh.tokens, &mut sh.word);
                let mut args = Vec::with_capacity(sh.tokens.len());
                for t in &sh.tokens {
                    let text = t.text(src.s);
                    if !(t.kind == Tok::Sep && text == "\n") {
                        args.push(node_str(text, self.span(src, t.start, t.end)));
                    }
                }
                e.push(synth("arguments", array(args, value_span)));
                if !heredocs.is_empty() {
                    e.push(heredocs_node(&self.spans, src, &heredocs));
                }
                if commands {
                    let seps = sh.tokens.iter().filter(|t| t.kind == Tok::Sep).count();
                    let mut out = Vec::with_capacity(seps + 1);
                    let line_has_commands = shell::commands(&self.spans, src, &mut sh, &mut out);
                    let first_name = out
                        .first()
                        .and_then(|c| c.get("name"))
                        .and_then(Node::as_str)
                        .map(str::to_string);
                    let file = Src {
                        s: self.text,
                        segs: IDENTITY,
                    };
                    for h in &heredocs {
                        if heredoc_is_script(self.text, h, line_has_commands, first_name.as_deref())
                        {
                            sh.tokens.clear();
                            lex_shell(self.text, h.body.0, h.body.1, &mut sh.tokens, &mut sh.word);
                            shell::commands(&self.spans, &file, &mut sh, &mut out);
                        }
                    }
                    let span = cover(&out, value_span);
                    e.push(synth("commands", array(out, span)));
                }
                self.shell = sh;
            }
        }
    }

    /// The one command of an exec-form RUN (behind wrappers such as
    /// `sudo`, the command they run).
    fn exec_command(&self, items: &[Node], value: &Node) -> Option<Node> {
        let texts: Vec<&str> = items.iter().map(|n| n.as_str().unwrap_or("")).collect();
        let (start, wrappers, env) = match wrapper::unwrap(&texts) {
            Some(u) => {
                let env: Vec<Entry> = u
                    .assignments
                    .iter()
                    .filter_map(|&k| {
                        let (key, v) = texts[k].split_once('=')?;
                        Some(entry(key, items[k].span, node_str(v, items[k].span)))
                    })
                    .collect();
                (u.command, u.wrappers, env)
            }
            None => (0, Vec::new(), Vec::new()),
        };
        let (name, args) = items.get(start..)?.split_first()?;
        let args_span = cover(args, name.span);
        let wrappers = wrappers
            .into_iter()
            .map(|w| node_str(w, value.span))
            .collect();
        Some(object(
            vec![
                entry("name", name.span, name.clone()),
                synth("args", array(args.to_vec(), args_span)),
                synth("env", object(env, name.span)),
                synth("wrappers", array(wrappers, value.span)),
                synth("text", value.clone()),
            ],
            value.span,
        ))
    }

    /// FROM's `value`, `arguments`, `image` and `name`, and its stage's facts.
    fn stage_facts(
        &mut self,
        src: &Src,
        cmd: &Command,
        start: usize,
        e: &mut Vec<Entry>,
        value: Node,
    ) -> FromInfo {
        let (ra, rb) = cmd.rest;
        let value_span = value.span;
        e.push(synth("value", value));
        let words = ws_words(src.s, ra, rb);
        let args: Vec<Node> = words
            .iter()
            .map(|&(a, b)| self.unquoted_node(src, a, b))
            .collect();
        e.push(synth("arguments", array(args, value_span)));
        let has_as =
            words.len() >= 3 && src.text(words[1].0, words[1].1).eq_ignore_ascii_case("AS");
        if !(words.len() == 1 || (words.len() == 3 && has_as)) {
            self.error_at(start, "FROM requires either one or three arguments");
        }
        let mut info = FromInfo::default();
        if let Some(&(a, b)) = words.first() {
            let raw = src.text(a, b);
            let image = unquote(raw, self.escape);
            let image_span = self.span(src, a, b);
            let (name_end, tag, digest) = split_image(image.as_bytes());
            // Parts get their own spans when the reference was written
            // without quotes or escapes, so offsets line up with the source.
            let part = |r: (usize, usize)| -> Node {
                let text = image.get(r.0..r.1).unwrap_or("");
                let span = if raw == image {
                    self.span(src, a + r.0, a + r.1)
                } else {
                    image_span
                };
                node_str(text, span)
            };
            info.image_name = Some(part((0, name_end)));
            info.tag = tag.map(part);
            info.digest = digest.map(part);
            info.image = Some(node_str(image.as_str(), image_span));
        }
        if has_as {
            let (a, b) = words[2];
            let name = unquote(src.text(a, b), self.escape).to_ascii_lowercase();
            if !valid_stage_name(&name) {
                let at = src.file_offset(a);
                self.error_at(
                    at,
                    format!(
                        "invalid name for build stage \"{name}\": name can't start with a number or contain symbols"
                    ),
                );
            }
            info.name = Some(node_str(name, self.span(src, a, b)));
        }
        // The flags node already holds the platform (the flag strings were
        // moved into it); a repeated flag counts by its first value.
        info.platform = e
            .iter()
            .find(|x| x.key == "flags")
            .and_then(|f| f.value.get("platform"))
            .and_then(|p| p.items().first())
            .filter(|p| p.as_str().is_some())
            .cloned();
        let null = Node::new(Value::Null, value_span);
        e.push(synth(
            "image",
            info.image.clone().unwrap_or_else(|| null.clone()),
        ));
        e.push(synth("name", info.name.clone().unwrap_or(null)));
        info
    }

    /// ENV / LABEL / ARG: the words, and the key → value pairs.
    fn pairs(
        &mut self,
        src: &Src,
        keyword: &str,
        ra: usize,
        rb: usize,
        start: usize,
    ) -> (Vec<Node>, Vec<Entry>) {
        let esc = self.escape;
        let words = quoted_words(src.s, ra, rb, esc);
        let args: Vec<Node> = words
            .iter()
            .map(|&(a, b)| self.unquoted_node(src, a, b))
            .collect();
        let mut pairs = Vec::new();
        let Some(&(fa, fb)) = words.first() else {
            self.error_at(start, format!("{keyword} requires at least one argument"));
            return (args, pairs);
        };
        if keyword != "ARG" && !src.text(fa, fb).contains('=') {
            // The legacy `ENV key value`: the value is the rest of the line.
            let bytes = src.s.as_bytes();
            let mut k = ra;
            while k < rb && !is_ws(bytes[k]) {
                k += 1;
            }
            let v = skip_ws(bytes, k, rb);
            let key = unquote(src.text(ra, k), esc);
            let key_span = self.span(src, ra, k);
            if v >= rb {
                self.error_at(start, format!("{keyword} must have two arguments"));
                pairs.push(entry(&key, key_span, Node::new(Value::Null, key_span)));
            } else {
                pairs.push(entry(&key, key_span, self.unquoted_node(src, v, rb)));
            }
            return (args, pairs);
        }
        for &(a, b) in &words {
            let raw = src.text(a, b);
            match raw.find('=') {
                Some(eq) => {
                    let key = unquote(&raw[..eq], esc);
                    let key_span = self.span(src, a, a + eq);
                    pairs.push(entry(
                        &key,
                        key_span,
                        self.unquoted_node(src, a + eq + 1, b),
                    ));
                }
                None if keyword == "ARG" => {
                    let key_span = self.span(src, a, b);
                    let key = unquote(raw, esc);
                    pairs.push(entry(&key, key_span, Node::new(Value::Null, key_span)));
                }
                None => {
                    let at = src.file_offset(a);
                    self.error_at(
                        at,
                        format!("syntax error - can't find = in \"{raw}\"; must be of the form name=value"),
                    );
                }
            }
        }
        (args, pairs)
    }

    /// HEALTHCHECK's `none` and `command`.
    fn healthcheck(&mut self, src: &Src, cmd: &Command, start: usize, e: &mut Vec<Entry>) {
        let (ra, rb) = cmd.rest;
        let bytes = src.s.as_bytes();
        if ra >= rb {
            self.error_at(start, "HEALTHCHECK requires an argument");
            return;
        }
        let mut sep = ra;
        while sep < rb && !is_ws(bytes[sep]) {
            sep += 1;
        }
        let next = skip_ws(bytes, sep, rb);
        let kind = src.text(ra, sep).to_ascii_uppercase();
        let kind_span = self.span(src, ra, sep);
        match kind.as_str() {
            "NONE" => {
                if next < rb {
                    self.error_at(start, "HEALTHCHECK NONE takes no arguments");
                }
                e.push(entry(
                    "none",
                    kind_span,
                    Node::new(Value::Bool(true), kind_span),
                ));
            }
            "CMD" => {
                e.push(entry(
                    "none",
                    kind_span,
                    Node::new(Value::Bool(false), kind_span),
                ));
                let exec = if next < rb {
                    self.exec_form(src, next, rb)
                } else {
                    None
                };
                let mut inner = vec![
                    entry("instruction", kind_span, node_str("CMD", kind_span)),
                    synth("flags", object(Vec::new(), self.span(src, sep, sep))),
                ];
                let value = self.string_node(src, next, rb);
                self.push_command_form(src, &mut inner, value, (next, rb), exec, false, Vec::new());
                let span = self.span(src, ra, rb);
                e.push(synth("command", object(inner, span)));
            }
            _ => {
                let at = src.file_offset(ra);
                self.error_at(
                    at,
                    format!("unknown type \"{kind}\" in HEALTHCHECK (try CMD)"),
                );
                e.push(entry(
                    "none",
                    kind_span,
                    Node::new(Value::Bool(false), kind_span),
                ));
            }
        }
    }
}

/// The first `:` of `raw` outside quotes and `${...}` (USER's separator).
fn user_colon(raw: &[u8], esc: u8) -> Option<usize> {
    let mut quote = 0u8;
    let mut depth = 0usize;
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if quote != 0 {
            if c == quote {
                quote = 0;
            } else if c == esc && quote == b'"' {
                i += 1;
            }
        } else if c == esc {
            i += 1;
        } else if c == b'\'' || c == b'"' {
            quote = c;
        } else if c == b'$' && raw.get(i + 1) == Some(&b'{') {
            depth += 1;
            i += 1;
        } else if c == b'}' && depth > 0 {
            depth -= 1;
        } else if c == b':' && depth == 0 {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// How many entries an instruction node gets, so its vector is allocated
/// once and no larger than needed (a big Dockerfile has many of them).
fn entry_count(keyword: &str, heredocs: bool) -> usize {
    let extra = match keyword {
        "RUN" => 3 + usize::from(heredocs),
        "COPY" | "ADD" => 4 + usize::from(heredocs),
        "FROM" | "USER" => 3,
        "CMD" | "ENTRYPOINT" | "SHELL" | "VOLUME" => 2,
        "ENV" | "LABEL" | "ARG" | "EXPOSE" | "WORKDIR" | "HEALTHCHECK" => 2,
        "STOPSIGNAL" | "MAINTAINER" | "ONBUILD" => 1,
        _ => 0,
    };
    3 + extra
}

#[cfg(test)]
mod tests {
    use crate::parse::dockerfile::testing::*;
    use crate::tree::{Node, Value};

    #[test]
    fn exec_form_run_has_one_command() {
        let p = parse_str("FROM a\nRUN [\"apt-get\", \"install\", \"-y\", \"x\"]\n");
        let run = at(root(&p), "stages.0.instructions.1");
        assert_eq!(s(run, "commands.0.name"), "apt-get");
        assert_eq!(strs(run, "commands.0.args"), ["install", "-y", "x"]);
    }

    #[test]
    fn onbuild_trigger_is_a_nested_instruction() {
        let text = "FROM a\nONBUILD RUN --mount=type=cache,target=/x make && make install\nonbuild COPY . /src\nONBUILD ONBUILD RUN x\nONBUILD RUN <<EOF\necho hi\nEOF\n";
        let p = parse_str(text);
        let r = root(&p);
        let ob = at(r, "stages.0.instructions.1");
        assert_eq!(s(ob, "instruction"), "ONBUILD");
        let t = at(ob, "trigger");
        assert_eq!(s(t, "instruction"), "RUN");
        assert_eq!(start(at(t, "instruction")), (2, 9));
        assert_eq!(s(t, "flags.mount"), "type=cache,target=/x");
        assert_eq!(s(t, "commands.1.name"), "make");
        assert_eq!(strs(t, "commands.1.args"), ["install"]);
        let ob = at(r, "stages.0.instructions.2");
        assert_eq!(s(ob, "instruction"), "ONBUILD");
        assert_eq!(s(ob, "trigger.instruction"), "COPY");
        assert_eq!(s(ob, "trigger.destination"), "/src");
        let ob = at(r, "stages.0.instructions.4");
        assert_eq!(s(ob, "trigger.heredocs.0.content"), "echo hi\n");
        assert_eq!(s(ob, "trigger.commands.0.name"), "echo");
        assert_eq!(end(ob), (7, 4));
        assert_eq!(
            messages(&p),
            ["chaining ONBUILD via \"ONBUILD ONBUILD\" isn't allowed"]
        );
    }

    #[test]
    fn env_label_arg_pairs() {
        let text = "FROM a\nENV A=1 B=\"two words\" C=three\\ words\nENV LEGACY value with spaces\nLABEL \"com.example.vendor\"=\"ACME Inc\" version=1.0\nARG X Y=2\nENV broken\nENV A=1 nope\n";
        let p = parse_str(text);
        let r = root(&p);
        let env = at(r, "stages.0.instructions.1");
        assert_eq!(s(env, "pairs.A"), "1");
        assert_eq!(s(env, "pairs.B"), "two words");
        assert_eq!(s(env, "pairs.C"), "three words");
        assert_eq!(start(at(env, "pairs.B")), (2, 11));
        let key = at(env, "pairs").as_object().expect("pairs").entries[1].key_span;
        assert_eq!((key.start_line, key.start_col), (2, 9));
        assert_eq!(
            s(r, "stages.0.instructions.2.pairs.LEGACY"),
            "value with spaces"
        );
        let label = at(r, "stages.0.instructions.3");
        let pairs = at(label, "pairs").as_object().expect("pairs");
        assert_eq!(pairs.entries[0].key, "com.example.vendor");
        assert_eq!(pairs.entries[0].value.as_str(), Some("ACME Inc"));
        assert_eq!(pairs.entries[1].value.as_str(), Some("1.0"));
        let arg = at(r, "stages.0.instructions.4");
        assert_eq!(at(arg, "pairs.X").value, Value::Null);
        assert_eq!(s(arg, "pairs.Y"), "2");
        assert_eq!(
            messages(&p),
            [
                "ENV must have two arguments",
                "syntax error - can't find = in \"nope\"; must be of the form name=value",
            ]
        );
        assert_eq!((p.errors[1].line, p.errors[1].column), (7, 9));
    }

    #[test]
    fn other_instructions() {
        let text = "FROM a\nUSER app:staff\nUSER 1000\nEXPOSE 80 443/tcp $PORT\nWORKDIR /srv/app\nHEALTHCHECK --interval=30s CMD curl -f http://localhost/ || exit 1\nHEALTHCHECK NONE\nHEALTHCHECK CMD [\"/bin/check\"]\nSTOPSIGNAL SIGTERM\nMAINTAINER Jane <j@x>\nVOLUME [\"/data\", \"/logs\"]\nVOLUME /a /b\nCMD echo hi\nENTRYPOINT [\"/entry\"]\n";
        let p = parse_str(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let i = |n: usize| at(root(&p), "stages.0.instructions").items()[n].clone();
        let user = i(1);
        assert_eq!((s(&user, "user"), s(&user, "group")), ("app", "staff"));
        assert_eq!(start(at(&user, "group")), (2, 10));
        assert_eq!(at(&i(2), "group").value, Value::Null);
        assert_eq!(strs(&i(3), "ports"), ["80", "443/tcp", "$PORT"]);
        assert_eq!(s(&i(4), "path"), "/srv/app");
        let hc = i(5);
        assert_eq!(s(&hc, "flags.interval"), "30s");
        assert_eq!(at(&hc, "none").as_bool(), Some(false));
        assert_eq!(s(&hc, "command.instruction"), "CMD");
        assert_eq!(s(&hc, "command.form"), "shell");
        assert_eq!(
            s(&hc, "command.value"),
            "curl -f http://localhost/ || exit 1"
        );
        assert_eq!(start(at(&hc, "command.value")), (6, 32));
        assert_eq!(at(&i(6), "none").as_bool(), Some(true));
        assert!(i(6).get("command").is_none());
        assert_eq!(s(&i(7), "command.form"), "exec");
        assert_eq!(s(&i(8), "value"), "SIGTERM");
        assert_eq!(s(&i(9), "value"), "Jane <j@x>");
        assert_eq!(strs(&i(10), "arguments"), ["/data", "/logs"]);
        assert_eq!(s(&i(10), "form"), "exec");
        assert_eq!(strs(&i(11), "arguments"), ["/a", "/b"]);
        assert_eq!(s(&i(12), "form"), "shell");
        assert!(i(12).get("commands").is_none());
        assert_eq!(s(&i(13), "form"), "exec");
    }

    #[test]
    fn entry_order_of_an_instruction() {
        let p = parse_str("FROM a\nRUN --network=none echo hi\n");
        let run = at(root(&p), "stages.0.instructions.1");
        let keys: Vec<&str> = run
            .as_object()
            .expect("object")
            .entries
            .iter()
            .map(|e| e.key.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "instruction",
                "flags",
                "form",
                "value",
                "arguments",
                "commands"
            ]
        );
        let keys: Vec<&str> = root(&p)
            .get("stages")
            .and_then(|s| s.items().first())
            .and_then(Node::as_object)
            .expect("stage")
            .entries
            .iter()
            .map(|e| e.key.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "index",
                "name",
                "image",
                "image_name",
                "tag",
                "digest",
                "platform",
                "base_stage",
                "in_final_image",
                "instructions"
            ]
        );
    }
}
