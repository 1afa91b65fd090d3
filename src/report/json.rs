//! The JSON report, version 1: `version`, `tool`, `findings`,
//! `diagnostics`, `stats`. Field names are stable; see `docs/json-format.md`
//! once the reports issue documents the whole schema.

use std::io::{self, Write};

use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::query::Severity;
use crate::scan::ScanStats;

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    tool: Tool,
    findings: Vec<JsonFinding<'a>>,
    diagnostics: &'a [Diagnostic],
    stats: &'a ScanStats,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    query_id: &'a str,
    severity: Severity,
    file: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    entity: &'a str,
    path: &'a str,
    message: &'a str,
    fingerprint: &'a str,
}

/// Writes `result` as one JSON object.
pub fn render(report: &super::Report, out: &mut dyn Write) -> io::Result<()> {
    let result = report.result;
    let report = Report {
        version: 1,
        tool: Tool {
            name: "rampart",
            version: env!("CARGO_PKG_VERSION"),
        },
        findings: result
            .findings
            .iter()
            .map(|f| JsonFinding {
                query_id: &f.query_id,
                severity: f.severity,
                file: &f.file,
                line: f.span.start_line,
                column: f.span.start_col,
                end_line: f.span.end_line,
                end_column: f.span.end_col,
                entity: &f.entity,
                path: &f.path,
                message: &f.message,
                fingerprint: &f.fingerprint,
            })
            .collect(),
        diagnostics: &result.diagnostics,
        stats: &result.stats,
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}
