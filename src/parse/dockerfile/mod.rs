//! Dockerfiles into the common tree, read the way BuildKit reads them.
//!
//! A finding about a Dockerfile is only useful when it is about what
//! `docker build` would actually run, so this parser follows BuildKit's
//! front end rather than a loose line splitter: parser directives only at the
//! top, the `escape` directive's character for continuations, comment and
//! blank lines dropped from inside a continued instruction, flags before the
//! arguments, JSON (exec) form only when the text is a valid JSON array of
//! strings, heredocs whose bodies follow the instruction line.
//!
//! Every node points at the source it came from. Continuation lines are
//! joined before an instruction is read (as BuildKit does), and offsets into
//! the joined text are mapped back to the file, so a command that starts on
//! the line after a `\` has that line's line and column.
//!
//! The parser reads the file once, front to back, and nothing it does is
//! worse than linear in the input, whatever the input: hostile files (huge
//! lines, unterminated quotes and heredocs, deep brackets) cost no more
//! than ordinary ones of the same size.
//!
//! The parts, each in its own file, and what flows between them:
//!
//! - `lines.rs`: physical lines, parser directives, and continuations
//!   joined into one instruction text (a `Src`, whose offsets `spans.rs`
//!   maps back to the file);
//! - `instruction.rs`: the instruction line split into keyword, flags and
//!   the rest; `heredoc.rs`: the bodies of its heredocs, read from the
//!   lines after it;
//! - `build.rs`: the instruction's node, using `words.rs` (BuildKit's word
//!   splitting and unquoting), `json_array.rs` (the exec form), `shell.rs`
//!   (RUN's text split into commands) and `stage.rs` (FROM's facts);
//! - this file: the driver, which walks the lines, files each instruction
//!   under its stage and assembles the root; `stage.rs` then resolves each
//!   stage's base image.
//!
//! Imports flow one way: the driver uses the parts and the parts never use
//! the driver; `scan.rs` (bytes), `nodes.rs` (node constructors) and
//! `spans.rs` are leaves the others use.

mod build;
mod heredoc;
mod instruction;
mod json_array;
mod lines;
mod nodes;
mod scan;
mod shell;
mod spans;
mod stage;
#[cfg(test)]
mod testing;
mod words;
mod wrapper;

use build::Builder;
use heredoc::{find_markers, read_heredocs};
use instruction::{KNOWN, keyword_name, split_command};
use json_array::{Json, json_array};
use lines::{append_fragment, continues, directives_at_top, line_at};
use nodes::{array, cover, object, synth};
use scan::{skip_ws, trim_end_ws};
use spans::{Seg, Src};
use stage::{Stage, resolve_base_images, stage_facts_entries, stage_node};

use crate::parse::{ParseError, Parsed};
use crate::tree::{Entry, LineIndex, Node};

/// Parses a Dockerfile. `index` was built over `text`.
///
/// Always returns one document: a root object with `directives`,
/// `global_args` and `stages`. What cannot be read (an unknown instruction,
/// an unterminated heredoc, a file without `FROM`) is reported in
/// [`Parsed::errors`] and parsing goes on.
pub fn parse(text: &str, index: &LineIndex) -> Parsed {
    let mut parser = Parser::new(text, index);
    parser.run();
    let mut parsed = parser.finish();
    for document in &mut parsed.documents {
        resolve_base_images(document);
    }
    parsed
}

/// Drives the parse: walks the file's lines, joins continuations, hands
/// each instruction to the [`Builder`] and files its node under its stage.
struct Parser<'a> {
    text: &'a str,
    /// Builds the instruction nodes; owns the spans, the escape character
    /// and the errors.
    builder: Builder<'a>,
    joined: String,
    segs: Vec<Seg>,
    directives: Vec<Entry>,
    global_args: Vec<Node>,
    stages: Vec<Stage>,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, index: &'a LineIndex<'a>) -> Self {
        Parser {
            text,
            builder: Builder::new(text, index),
            joined: String::new(),
            segs: Vec::new(),
            directives: Vec::new(),
            global_args: Vec::new(),
            stages: Vec::new(),
        }
    }

    /// Reads the directives, then each instruction: a one-line instruction
    /// in place, a continued one joined into `joined` first.
    fn run(&mut self) {
        let text = self.text;
        let bytes = text.as_bytes();
        let top = directives_at_top(text, &self.builder.spans, &mut self.builder.errors);
        self.builder.escape = top.escape;
        self.directives = top.entries;
        let mut pos = top.end;
        while pos < bytes.len() {
            let (end, next) = line_at(bytes, pos);
            let t = skip_ws(bytes, pos, end);
            if t == end || bytes[t] == b'#' {
                pos = next;
                continue;
            }
            pos = next;
            if !continues(bytes, self.builder.escape, t, end) {
                // Most instructions are one line: read them in place.
                let seg = [Seg { at: 0, src: t }];
                let src = Src {
                    s: text.get(t..end).unwrap_or(""),
                    segs: &seg,
                };
                self.instruction(&src, trim_end_ws(bytes, t, end), &mut pos);
                continue;
            }
            let mut joined = std::mem::take(&mut self.joined);
            let mut segs = std::mem::take(&mut self.segs);
            joined.clear();
            segs.clear();
            let mut last_end = t;
            let escape = self.builder.escape;
            let mut cont =
                append_fragment(text, escape, &mut joined, &mut segs, t, end, &mut last_end);
            while cont && pos < bytes.len() {
                let (end, next) = line_at(bytes, pos);
                let line_start = pos;
                pos = next;
                let t = skip_ws(bytes, line_start, end);
                // BuildKit drops comment and blank lines inside a continued
                // instruction.
                if t == end || bytes[t] == b'#' {
                    continue;
                }
                cont = append_fragment(
                    text,
                    escape,
                    &mut joined,
                    &mut segs,
                    line_start,
                    end,
                    &mut last_end,
                );
            }
            let src = Src {
                s: &joined,
                segs: &segs,
            };
            self.instruction(&src, last_end, &mut pos);
            self.joined = joined;
            self.segs = segs;
        }
    }

    /// Handles one logical instruction: reads its heredoc bodies (advancing
    /// `pos`), builds its node and files it under its stage.
    fn instruction(&mut self, src: &Src, last_end: usize, pos: &mut usize) {
        let bytes = src.s.as_bytes();
        let a = skip_ws(bytes, 0, bytes.len());
        let b = trim_end_ws(bytes, a, bytes.len());
        if a >= b {
            return;
        }
        let mut cmd = split_command(src.s, a, b);
        let keyword = keyword_name(src.text(cmd.keyword.0, cmd.keyword.1));

        // Heredocs belong to RUN/COPY/ADD in shell form, also as an ONBUILD
        // trigger.
        let inner = (keyword == "ONBUILD" && cmd.rest.0 < cmd.rest.1)
            .then(|| split_command(src.s, cmd.rest.0, cmd.rest.1));
        let (target_kw, target_rest) = match &inner {
            Some(c) => (keyword_name(src.text(c.keyword.0, c.keyword.1)), c.rest),
            None => (keyword.clone(), cmd.rest),
        };
        let mut heredocs = Vec::new();
        if matches!(&*target_kw, "RUN" | "COPY" | "ADD")
            && !matches!(
                json_array(src.s, target_rest.0, target_rest.1),
                Json::Strings(_) | Json::NotStrings
            )
        {
            let markers = find_markers(src.s, target_rest.0, target_rest.1);
            if !markers.is_empty() {
                heredocs = read_heredocs(
                    self.text,
                    &self.builder.spans,
                    &mut self.builder.errors,
                    src,
                    markers,
                    pos,
                );
            }
        }
        let end = heredocs
            .last()
            .map_or(last_end, |h| h.terminator.1.max(last_end));

        let (node, from) = self
            .builder
            .build(src, &mut cmd, &keyword, heredocs, end, false);
        if keyword == "FROM" {
            self.stages.push(Stage {
                from_span: node.span,
                facts: stage_facts_entries(self.stages.len(), node.span, from.unwrap_or_default()),
                instructions: vec![node],
            });
        } else if let Some(stage) = self.stages.last_mut() {
            stage.instructions.push(node);
        } else if keyword == "ARG" {
            self.global_args.push(node);
        } else if KNOWN.contains(&&*keyword) {
            let at = src.file_offset(cmd.keyword.0);
            self.builder.error_at(
                at,
                format!("instruction \"{keyword}\" comes before the first FROM"),
            );
        }
    }

    /// The root node (`directives`, `global_args`, `stages`) and the errors
    /// in source order.
    fn finish(mut self) -> Parsed {
        let len = self.text.len();
        let root_span = self.builder.spans.span(0, len);
        let empty = self.builder.spans.span(0, 0);
        if self.stages.is_empty() {
            self.builder
                .errors
                .push(ParseError::new(1, 1, "no FROM instruction"));
        }
        let directives_span = match (self.directives.first(), self.directives.last()) {
            (Some(f), Some(l)) => f.key_span.cover(l.value.span),
            _ => empty,
        };
        let directives = object(std::mem::take(&mut self.directives), directives_span);
        let globals_span = cover(&self.global_args, empty);
        let global_args = array(std::mem::take(&mut self.global_args), globals_span);
        let mut stages = Vec::with_capacity(self.stages.len());
        for stage in std::mem::take(&mut self.stages) {
            stages.push(stage_node(stage));
        }
        let stages_span = cover(&stages, empty);
        let root = object(
            vec![
                synth("directives", directives),
                synth("global_args", global_args),
                synth("stages", array(stages, stages_span)),
            ],
            root_span,
        );
        // Errors are found in order except the file-level one; keep the
        // promise of source order.
        self.builder.errors.sort_by_key(|e| (e.line, e.column));
        Parsed {
            documents: vec![root],
            errors: self.builder.errors,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use super::testing::*;
    use crate::tree::LineIndex;

    #[test]
    fn instructions_before_from_are_errors() {
        let p = parse_str("ARG A\nRUN x\nFROM a\n");
        assert_eq!(
            messages(&p),
            ["instruction \"RUN\" comes before the first FROM"]
        );
        assert_eq!(p.errors[0].line, 2);
        assert_eq!(at(root(&p), "global_args").items().len(), 1);
    }

    #[test]
    fn empty_and_fromless_files() {
        for text in ["", "\n\n", "# just a comment\n", "ARG A=1\n"] {
            let p = parse_str(text);
            assert_eq!(messages(&p), ["no FROM instruction"], "{text:?}");
            let r = root(&p);
            assert!(at(r, "stages").items().is_empty());
        }
    }

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
    }

    #[test]
    fn random_input_never_panics_and_spans_agree() {
        const PIECES: &[&str] = &[
            "FROM ",
            "RUN ",
            "run ",
            "COPY ",
            "ADD ",
            "ENV ",
            "ARG ",
            "LABEL ",
            "ONBUILD ",
            "HEALTHCHECK ",
            "CMD ",
            "USER ",
            "EXPOSE ",
            "SHELL ",
            "WORKDIR ",
            "FOO ",
            "\n",
            "\r\n",
            "\\\n",
            "\\",
            "`\n",
            "`",
            " ",
            "\t",
            "\"",
            "'",
            "[",
            "]",
            ",",
            "=",
            "--mount=",
            "--link ",
            "<<EOF",
            "<<-EOF",
            "<<'X'",
            "EOF\n",
            "\tEOF\n",
            "X\n",
            "# escape=`\n",
            "# syntax=x\n",
            "#",
            "$(",
            "${",
            "}",
            ")",
            "&&",
            "||",
            "|",
            ";",
            "é",
            "日本",
            "@",
            ":",
            "/",
            "AS ",
            "a",
            "b1",
            "NONE",
            "2>",
            "\0",
            "\u{feff}",
            "\"\\u00",
            "1",
        ];
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for round in 0..3000 {
            let mut text = String::new();
            if round % 3 == 0 {
                let n = (rng.next() % 200) as usize;
                let bytes: Vec<u8> = (0..n).map(|_| (rng.next() & 0xff) as u8).collect();
                text.push_str(&String::from_utf8_lossy(&bytes));
            } else {
                let n = (rng.next() % 60) as usize;
                for _ in 0..n {
                    text.push_str(PIECES[(rng.next() % PIECES.len() as u64) as usize]);
                }
            }
            let index = LineIndex::new(&text);
            let p = parse(&text, &index);
            assert_eq!(p.documents.len(), 1);
            check_spans(&p.documents[0], &index, text.len());
        }
    }

    #[test]
    fn pathological_inputs_terminate() {
        let long_line = format!("FROM a\nRUN {}\n", "x && ".repeat(50_000));
        let p = parse_str(&long_line);
        let cmds = at(root(&p), "stages.0.instructions.1.commands")
            .items()
            .len();
        assert_eq!(cmds, 50_000);
        let last = at(root(&p), "stages.0.instructions.1.commands.49999");
        assert_eq!(start(last), (2, 5 + 49_999 * 5));
        let flags = format!(
            "FROM a\nRUN {} x\n",
            (0..20_000).map(|i| format!("--f{i} ")).collect::<String>()
        );
        assert!(parse_str(&flags).errors.is_empty());
        let nested = format!("FROM a\nRUN [{}]\n", "[".repeat(100_000));
        assert!(parse_str(&nested).errors.is_empty());
        for text in [
            "\\",
            "FROM",
            "FROM a\nRUN \"unterminated",
            "FROM a\nRUN <<",
            "FROM a\nRUN $((((",
            "FROM a\n\\\n\\\n",
        ] {
            let p = parse_str(text);
            assert_eq!(p.documents.len(), 1, "{text:?}");
        }
    }

    /// Release-mode throughput: `cargo test --release -- --ignored --nocapture throughput`.
    #[test]
    #[ignore]
    fn throughput() {
        let block = "FROM --platform=$BUILDPLATFORM golang:1.22@sha256:abcdef AS build\n\
ARG VERSION=1.0\n\
ENV CGO_ENABLED=0 GOOS=linux LABEL_X=\"some value\"\n\
WORKDIR /src\n\
COPY --chown=app:app go.mod go.sum ./\n\
RUN --mount=type=cache,target=/go/pkg/mod go mod download\n\
RUN apt-get update && \\\n    apt-get install -y --no-install-recommends ca-certificates curl git && \\\n    rm -rf /var/lib/apt/lists/*\n\
RUN <<EOF\nset -eux\ngo build -o /out/app ./cmd/app\nEOF\n\
# a comment\n\
EXPOSE 8080/tcp\n\
USER 65532:65532\n\
HEALTHCHECK --interval=30s CMD [\"/app\", \"health\"]\n\
ENTRYPOINT [\"/out/app\", \"serve\"]\n\n";
        let mut text = String::new();
        while text.len() < 5 * 1024 * 1024 {
            text.push_str(block);
        }
        let index = LineIndex::new(&text);
        let mb = text.len() as f64 / (1024.0 * 1024.0);
        let (mut parse_secs, mut drop_secs, mut nodes) = (0.0, 0.0, 0);
        const ROUNDS: u32 = 5;
        for _ in 0..ROUNDS {
            let t = std::time::Instant::now();
            let p = parse(&text, &index);
            parse_secs += t.elapsed().as_secs_f64();
            nodes = p.documents[0].count();
            let t = std::time::Instant::now();
            drop(p);
            drop_secs += t.elapsed().as_secs_f64();
        }
        let (parse_secs, drop_secs) = (parse_secs / ROUNDS as f64, drop_secs / ROUNDS as f64);
        println!(
            "{mb:.1} MiB, {nodes} nodes: parse {:.1} MiB/s, parse+drop {:.1} MiB/s",
            mb / parse_secs,
            mb / (parse_secs + drop_secs)
        );
    }
}
