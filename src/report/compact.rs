//! The compact report: one line per finding in the form editors and
//! grep read (`path:line:col: severity id message [entity]`), then parse
//! errors in the same form. Nothing else.

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
            f.entity
        )?;
    }
    if report.options.quiet {
        return Ok(());
    }
    // Diagnostics in the same `path:line:col:` form, so editors jump to
    // them too; no summary line to confuse a grep.
    for d in result
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
    {
        writeln!(out, "{d}")?;
    }
    Ok(())
}
