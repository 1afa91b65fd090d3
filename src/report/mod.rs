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
    /// (query, entity).
    Junit,
}

impl OutputFormat {
    /// Parses a format name as `-o` and `--format` take it.
    pub fn parse(name: &str) -> Option<OutputFormat> {
        <OutputFormat as clap::ValueEnum>::from_str(name, true).ok()
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
