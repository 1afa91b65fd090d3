//! The JSON report, version 1: `version`, `tool`, `findings`,
//! `diagnostics`, `stats`, `config`. `docs/json-format.md` documents every field;
//! fields are only ever added within a version, never renamed or removed.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::finding::ScanStats;
use crate::finding::Severity;
use crate::finding::Suppression;

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    tool: Tool,
    /// Which repository, commit and settings this scan was.
    scan: Option<&'a crate::identity::ScanIdentity>,
    /// The exceptions file's entries, whether or not they matched.
    exceptions: &'a [crate::suppress::ExceptionRecord],
    findings: JsonFindings<'a>,
    diagnostics: &'a [Diagnostic],
    stats: &'a ScanStats,
    /// The settings files the run used.
    config: &'a crate::config::Sources,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
    /// The built-in query library's version.
    library_version: &'static str,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    query_id: &'a str,
    title: &'a str,
    severity: Severity,
    category: &'a str,
    cwe: &'a [u32],
    file: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    entity: &'a str,
    path: &'a crate::finding::FieldPath,
    message: &'a str,
    remediation: &'a str,
    fingerprint: &'a str,
    aliases: &'a BTreeMap<String, Vec<String>>,
    /// Null for a finding that counts; else the suppression and its reason.
    suppressed: Option<&'a Suppression>,
    /// For a finding inside a module instance: the `module` block that
    /// called it.
    called_from: Option<&'a crate::finding::CallSite>,
}

static NO_ALIASES: BTreeMap<String, Vec<String>> = BTreeMap::new();

/// The findings, each written as it is made: a report as long as the
/// findings is never held as a second list (issue 20).
struct JsonFindings<'a> {
    findings: &'a [crate::finding::Finding],
    registry: &'a crate::query::registry::Registry,
}

impl Serialize for JsonFindings<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.findings.iter().map(|f| {
            let q = self.registry.get(&f.query_id);
            JsonFinding {
                query_id: &f.query_id,
                title: q.map_or("", |q| q.title.as_str()),
                severity: f.severity,
                category: q.map_or("", |q| q.category.as_str()),
                cwe: q.map_or(&[], |q| q.cwe.as_slice()),
                file: &f.file,
                line: f.span.start_line,
                column: f.span.start_col,
                end_line: f.span.end_line,
                end_column: f.span.end_col,
                entity: &f.entity,
                path: &f.path,
                message: &f.message,
                remediation: q.map_or("", |q| q.remediation.as_str()),
                fingerprint: &f.fingerprint,
                aliases: q.map_or(&NO_ALIASES, |q| &q.aliases),
                suppressed: f.suppressed.as_deref(),
                called_from: f.called_from.as_deref(),
            }
        }))
    }
}

/// Writes `result` as one JSON object.
pub fn render(report: &super::Report, out: &mut dyn Write) -> io::Result<()> {
    let result = report.result;
    let report = Report {
        version: crate::JSON_FORMAT_VERSION,
        tool: Tool {
            name: "rampart",
            version: env!("CARGO_PKG_VERSION"),
            library_version: crate::LIBRARY_VERSION,
        },
        scan: report.options.identity.as_ref(),
        exceptions: &report.options.exceptions,
        findings: JsonFindings {
            findings: &result.findings,
            registry: report.registry,
        },
        diagnostics: &result.diagnostics,
        stats: &result.stats,
        config: &report.options.config,
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}
