//! Reporters: a [`Report`] in, text on a writer out. Reporters only render;
//! every decision (what was found, in what order, what fails the run) is
//! made before they run.

pub mod compact;
pub mod human;
pub mod json;
pub mod junit;
pub mod output;
pub mod sarif;

use std::io::{self, Write};

use crate::finding::ScanResult;
use crate::finding::Severity;
use crate::query::registry::Registry;

/// Everything a reporter may show.
#[derive(Clone, Copy)]
pub struct Report<'a> {
    /// The findings, diagnostics and totals.
    pub result: &'a ScanResult,
    /// The queries that ran, for titles, help and rule metadata.
    pub registry: &'a Registry,
    /// How to render.
    pub options: &'a ReportOptions,
}

/// Rendering choices that are not the format itself.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions {
    /// Use ANSI colour (a terminal, `NO_COLOR` unset).
    pub color: bool,
    /// SARIF `automationDetails.id` (`--sarif-category`).
    pub sarif_category: Option<String>,
    /// Findings only: no summary, no diagnostics (`--quiet`).
    pub quiet: bool,
    /// The human report shows its summary only (`--summary`).
    pub summary_only: bool,
    /// How the human report groups findings (`--group-by`).
    pub group_by: GroupBy,
    /// The directory SARIF paths are relative to: the repository root of
    /// the scanned path; `None` for the working directory.
    pub source_root: Option<std::path::PathBuf>,
    /// The settings files the run used, shown in the summary and in the
    /// JSON and SARIF run properties.
    pub config: crate::config::Sources,
    /// Which repository, commit and settings the scan was (JSON `scan`,
    /// SARIF run property `scan`), for `rampart report`.
    pub identity: Option<crate::identity::ScanIdentity>,
    /// The exceptions file's entries (JSON `exceptions`), for the
    /// exceptions register of `rampart report`.
    pub exceptions: Vec<crate::suppress::ExceptionRecord>,
}

/// How the human report groups its findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum GroupBy {
    /// By file, in path order (the default).
    #[default]
    File,
    /// By query, most severe first, each with its count.
    Query,
}

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// For people: source snippets with the offending span underlined.
    Human,
    /// One line per finding: `path:line:col: severity id message [entity]`.
    Compact,
    /// Versioned JSON (`docs/json-format.md`).
    Json,
    /// SARIF 2.1.0, as GitHub code scanning reads it.
    Sarif,
    /// JUnit XML: a test suite per platform, a test case per failing
    /// (query, file, entity).
    Junit,
}

impl OutputFormat {
    /// Parses a format name as `-o` and `--format` take it.
    pub fn parse(name: &str) -> Option<OutputFormat> {
        <OutputFormat as clap::ValueEnum>::from_str(name, true).ok()
    }

    /// The name `-o` and `--format` take.
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Human => "human",
            OutputFormat::Compact => "compact",
            OutputFormat::Json => "json",
            OutputFormat::Sarif => "sarif",
            OutputFormat::Junit => "junit",
        }
    }

    /// Every format's name, in the order `--help` lists them.
    pub fn names() -> Vec<&'static str> {
        <OutputFormat as clap::ValueEnum>::value_variants()
            .iter()
            .map(|f| f.name())
            .collect()
    }

    /// File extensions that name a format, so `-o results.sarif` needs no
    /// `sarif:` prefix. The longer `.sarif.json` comes before `.json`.
    pub const EXTENSIONS: [(&'static str, OutputFormat); 4] = [
        ("sarif.json", OutputFormat::Sarif),
        ("sarif", OutputFormat::Sarif),
        ("json", OutputFormat::Json),
        ("xml", OutputFormat::Junit),
    ];

    /// The format a report file's name implies, if any.
    pub fn of_extension(path: &std::path::Path) -> Option<OutputFormat> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        OutputFormat::EXTENSIONS
            .iter()
            .find(|(ext, _)| {
                name.strip_suffix(ext)
                    .is_some_and(|stem| stem.len() > 1 && stem.ends_with('.'))
            })
            .map(|(_, format)| *format)
    }
}

/// Renders `report` in `format`.
pub fn render(format: OutputFormat, report: &Report, out: &mut dyn Write) -> io::Result<()> {
    match format {
        OutputFormat::Human => human::render(report, out),
        OutputFormat::Compact => compact::render(report, out),
        OutputFormat::Json => json::render(report, out),
        OutputFormat::Sarif => sarif::render(report, out),
        OutputFormat::Junit => junit::render(report, out),
    }
}

/// One row of a summary table: what is counted, how many findings, and
/// in how many files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally<'a> {
    /// The query id, file or platform.
    pub key: &'a str,
    /// Unsuppressed findings.
    pub findings: usize,
    /// Distinct files they are in.
    pub files: usize,
}

/// Unsuppressed findings counted by `key`, most first (ties by key).
pub fn tally<'a>(
    result: &'a ScanResult,
    key: impl Fn(&'a crate::finding::Finding) -> &'a str,
) -> Vec<Tally<'a>> {
    let mut by: std::collections::BTreeMap<&str, (usize, std::collections::BTreeSet<&str>)> =
        std::collections::BTreeMap::new();
    for f in result.findings.iter().filter(|f| f.suppressed.is_none()) {
        let entry = by.entry(key(f)).or_default();
        entry.0 += 1;
        entry.1.insert(&f.file);
    }
    let mut rows: Vec<Tally> = by
        .into_iter()
        .map(|(key, (findings, files))| Tally {
            key,
            findings,
            files: files.len(),
        })
        .collect();
    rows.sort_by(|a, b| b.findings.cmp(&a.findings).then(a.key.cmp(b.key)));
    rows
}

/// Suppressed findings per kind (inline, exception, baseline), zeros left
/// out.
pub fn suppressed_counts(result: &ScanResult) -> Vec<(crate::finding::SuppressionKind, usize)> {
    use crate::finding::SuppressionKind as Kind;
    [Kind::Inline, Kind::Exception, Kind::Baseline]
        .into_iter()
        .map(|k| {
            let n = result
                .findings
                .iter()
                .filter(|f| f.suppressed.as_ref().is_some_and(|s| s.kind == k))
                .count();
            (k, n)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// The number of unsuppressed findings per severity, most severe first,
/// zeros left out.
pub fn severity_counts(result: &ScanResult) -> Vec<(Severity, usize)> {
    Severity::ALL
        .into_iter()
        .map(|s| {
            (
                s,
                result
                    .findings
                    .iter()
                    .filter(|f| f.suppressed.is_none() && f.severity == s)
                    .count(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}
