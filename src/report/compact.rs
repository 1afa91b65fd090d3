//! The compact report: one line per finding in the form editors and
//! grep read (`path:line:col: severity id message [entity]`, the entity
//! followed by `via FILE:LINE` of its `module` call inside a module), then parse
//! errors in the same form. Nothing else: the one-line total goes to
//! standard error.

use std::io::{self, Write};

use crate::diagnostic::Level;

/// Writes `result` as text.
pub fn render(report: &super::Report, out: &mut dyn Write) -> io::Result<()> {
    let result = report.result;
    for f in result.findings.iter().filter(|f| f.suppressed.is_none()) {
        writeln!(
            out,
            "{}:{}:{}: {} {} {} [{}]",
            f.file,
            f.span.start_line,
            f.span.start_col,
            f.severity,
            f.query_id,
            f.message,
            f.instance()
        )?;
    }
    if report.options.quiet {
        return Ok(());
    }
    // Diagnostics in the same `path:line:col:` form, so editors jump to
    // them too.
    for d in result
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
    {
        writeln!(out, "{d}")?;
    }
    Ok(())
}

/// The one-line total a compact run ends with, on standard error so the
/// report itself stays one line per finding for editors and grep:
/// `74 findings (5 high, 23 medium) in 8 files; 2 suppressed`, and
/// `; 1 parse error` when a file could not be read.
pub fn total_line(result: &crate::finding::ScanResult) -> String {
    let errors = result
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
        .count();
    let shown: Vec<_> = result
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .collect();
    let files: std::collections::BTreeSet<&str> = shown.iter().map(|f| f.file.as_str()).collect();
    let severities: Vec<String> = super::severity_counts(result)
        .iter()
        .map(|(severity, n)| format!("{n} {severity}"))
        .collect();
    let suppressed = result.findings.len() - shown.len();
    format!(
        "{} finding{}{} in {} file{}; {suppressed} suppressed{}",
        shown.len(),
        if shown.len() == 1 { "" } else { "s" },
        if severities.is_empty() {
            String::new()
        } else {
            format!(" ({})", severities.join(", "))
        },
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        match errors {
            0 => String::new(),
            1 => "; 1 parse error".to_string(),
            n => format!("; {n} parse errors"),
        },
    )
}
