//! Bad input never panics, never hangs, and is never lost silently: every
//! parser (ours and the crates we build on) is fed thousands of mutations of
//! realistic files, deterministically, through the same function a scan uses.
//!
//! Longer runs: `RAMPART_FUZZ_ITERATIONS=200000 cargo test --release --test
//! robustness`.

use rampart::parse::{self, json::Strings};
use rampart::tree::LineIndex;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Fragments that stress parsers: delimiters, quotes, template and tag
/// syntax, anchors, heredoc markers, continuations, non-ASCII, CR.
const FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "\"",
    "'",
    "${",
    "%{",
    "<<EOF\n",
    "EOF\n",
    "<<-X\n",
    "\\\n",
    "`",
    "!Ref ",
    "!Sub ",
    "&a ",
    "*a",
    "<<: *a\n",
    "---\n",
    "- ",
    ": ",
    "#",
    "//",
    "/*",
    "\r",
    "\t",
    "é",
    "\u{feff}",
    "\0",
    "FROM ",
    "RUN ",
    "--mount=",
    "= ",
    "resource \"a\" \"b\" {",
    "\n",
    "  ",
    "0x",
    "1e999",
    "?",
    "|",
    ">-\n",
];

fn mutate(seed: &str, rng: &mut Rng) -> String {
    let mut bytes = seed.as_bytes().to_vec();
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(5) {
            0 => {
                let end = (at + rng.below(40)).min(bytes.len());
                bytes.drain(at..end);
            }
            1 => {
                let f = FRAGMENTS[rng.below(FRAGMENTS.len())].as_bytes();
                bytes.splice(at..at, f.iter().copied());
            }
            2 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes[i] = rng.next() as u8;
            }
            3 => {
                // Duplicate a slice: repeated blocks, deep nesting.
                let end = (at + rng.below(200)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
            _ => bytes.truncate(at),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn iterations() -> usize {
    std::env::var("RAMPART_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500)
}

fn seeds(dir: &str) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(dir);
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for e in std::fs::read_dir(&p).expect("read_dir").flatten() {
                stack.push(e.path());
            }
        } else {
            out.push(std::fs::read_to_string(&p).expect("seed"));
        }
    }
    out.sort();
    out
}

/// Every parse yields spans inside the text and lines within the file.
fn check(text: &str, parsed: &parse::Parsed) {
    let index = LineIndex::new(text);
    let lines = index.line_count() as u32;
    for doc in &parsed.documents {
        let mut stack = vec![doc];
        while let Some(n) = stack.pop() {
            assert!(
                n.span.start <= n.span.end && n.span.end as usize <= text.len(),
                "span out of text"
            );
            assert!(
                n.span.start_line >= 1 && n.span.end_line <= lines,
                "line out of text"
            );
            match &n.value {
                rampart::tree::Value::Array(items) => stack.extend(items),
                rampart::tree::Value::Object(o) => stack.extend(o.entries.iter().map(|e| &e.value)),
                _ => {}
            }
        }
    }
    for e in &parsed.errors {
        assert!(
            e.line >= 1 && e.line <= lines + 1,
            "error line {} of {lines}",
            e.line
        );
    }
}

fn fuzz(dir: &str, seed: u64, parse: impl Fn(&str, &LineIndex) -> parse::Parsed) {
    let seeds = seeds(dir);
    let mut rng = Rng(seed);
    for i in 0..iterations() {
        let text = mutate(&seeds[i % seeds.len()], &mut rng);
        let index = LineIndex::new(&text);
        let parsed = parse(&text, &index);
        check(&text, &parsed);
    }
}

#[test]
fn terraform_mutations() {
    fuzz("terraform", 0x9e37_79b9_7f4a_7c15, parse::hcl::parse);
}

#[test]
fn terraform_json_mutations() {
    fuzz("terraform/app", 0x1234_5678, |t, i| {
        parse::json::parse(t, i, Strings::TerraformTemplates)
    });
}

#[test]
fn kubernetes_and_cloudformation_yaml_mutations() {
    fuzz("kubernetes", 0xdead_beef, parse::yaml::parse);
    fuzz("cloudformation", 0xfeed_f00d, parse::yaml::parse);
}

#[test]
fn json_mutations() {
    fuzz("cloudformation", 0xabcd_ef01, |t, i| {
        parse::json::parse(t, i, Strings::Plain)
    });
}

#[test]
fn dockerfile_mutations() {
    fuzz("dockerfile", 0x0bad_cafe, parse::dockerfile::parse);
}

#[test]
fn pathological_inputs_finish() {
    let deep =
        |open: &str, close: &str| format!("x = {}{}\n", open.repeat(50_000), close.repeat(50_000));
    let cases = [
        deep("[", "]"),
        deep("{", "}"),
        deep("(", ")"),
        format!("a: {}\n", "[".repeat(50_000)),
        "- ".repeat(50_000),
        format!("{}\n", "\"".repeat(100_000)),
        "x = \"${".repeat(10_000),
        "RUN a \\\n".repeat(50_000),
        "a: &a [*a]\n".to_string(),
    ];
    for text in &cases {
        let index = LineIndex::new(text);
        for parsed in [
            parse::hcl::parse(text, &index),
            parse::yaml::parse(text, &index),
            parse::json::parse(text, &index, Strings::Plain),
            parse::dockerfile::parse(text, &index),
        ] {
            check(text, &parsed);
        }
    }
}
