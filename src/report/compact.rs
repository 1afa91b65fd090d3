//! The compact report: one line per finding in the form editors and
//! grep read (`path:line:col: severity id message [entity]`), the
//! diagnostics, and a summary.

use std::io::{self, Write};

use crate::diagnostic::Level;

/// Writes `result` as text.
pub fn render(report: &super::Report, out: &mut dyn Write) -> io::Result<()> {
    let result = report.result;
    for f in &result.findings {
        writeln!(
            out,
            "{}:{}:{}: {} {} {} [{}]",
            f.file,
            f.span.start_line,
            f.span.start_col,
            f.severity,
            f.query_id,
            f.message,
            f.entity
        )?;
    }
    if !result.diagnostics.is_empty() {
        if !result.findings.is_empty() {
            writeln!(out)?;
        }
        for d in &result.diagnostics {
            writeln!(out, "{d}")?;
        }
    }
    let s = &result.stats;
    let files: usize = s.files.values().sum();
    let counts: Vec<String> = super::severity_counts(result)
        .iter()
        .map(|(sev, n)| format!("{sev} {n}"))
        .collect();
    let errors = result
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
        .count();
    writeln!(out)?;
    writeln!(
        out,
        "{} finding{}{} in {files} file{} ({} entities, {} queries); {errors} parse error{}; {:.2} s",
        result.findings.len(),
        if result.findings.len() == 1 { "" } else { "s" },
        if counts.is_empty() {
            String::new()
        } else {
            format!(" ({})", counts.join(", "))
        },
        if files == 1 { "" } else { "s" },
        s.entities,
        s.queries,
        if errors == 1 { "" } else { "s" },
        s.seconds,
    )
}
