//! The report for people at a terminal: each finding as a diagnostic with
//! its severity, query id and title, the entity, the source lines with the
//! offending span underlined, and the fix in one line; grouped by file and
//! ordered by line; then parse diagnostics and a summary.

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan,
};

use super::Report;
use crate::diagnostic::Level;
use crate::finding::Finding;
use crate::finding::Severity;
use crate::tree::LineIndex;

/// Terminal width assumed when rendering; long lines wrap below it.
const WIDTH: usize = 100;

/// One finding as miette sees it.
struct FindingDiagnostic<'a> {
    finding: &'a Finding,
    title: &'a str,
    help: Option<String>,
    source: NamedSource<Arc<str>>,
    at: SourceSpan,
}

impl fmt::Debug for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FindingDiagnostic")
            .field("query", &self.finding.query_id)
            .finish()
    }
}

impl fmt::Display for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {} [{}]",
            self.finding.severity, self.finding.query_id, self.title, self.finding.entity
        )
    }
}

impl std::error::Error for FindingDiagnostic<'_> {}

impl Diagnostic for FindingDiagnostic<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Critical | Severity::High => miette::Severity::Error,
            Severity::Medium => miette::Severity::Warning,
            Severity::Low | Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(self.finding.message.clone()),
            self.at,
        ))))
    }
}

/// The first paragraph of a remediation, on one line: the fix a terminal
/// shows (the snippet after it is for `rampart explain`).
fn one_line_fix(remediation: &str) -> Option<String> {
    let paragraph: Vec<&str> = remediation
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect();
    if paragraph.is_empty() {
        return None;
    }
    Some(paragraph.join(" ").trim_end_matches(':').to_string())
}

/// Byte range of a finding in the file text (which has no BOM; the span's
/// byte offsets may count one), from its lines and columns.
fn byte_range(index: &LineIndex, f: &Finding) -> SourceSpan {
    let start = index.char_to_byte(f.span.start_line, f.span.start_col.saturating_sub(1));
    let end = index
        .char_to_byte(f.span.end_line, f.span.end_col.saturating_sub(1))
        .max(start);
    // A zero-width span (a header) still underlines one character.
    let len = if end > start { end - start } else { 1 };
    SourceSpan::new(start.into(), len)
}

/// Writes the human report.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let result = report.result;
    let theme = if report.options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_width(WIDTH)
        .with_context_lines(1);
    let shown: Vec<&Finding> = result
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .collect();
    for (i, group) in shown.chunk_by(|a, b| a.file == b.file).enumerate() {
        let file = &group[0].file;
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{file}")?;
        // One copy of the text per file, shared by its findings.
        let text: Arc<str> = Arc::from(result.sources.get(file).map_or("", String::as_str));
        let index = LineIndex::new(&text);
        for finding in group {
            let query = report.registry.get(&finding.query_id);
            let diagnostic = FindingDiagnostic {
                finding,
                title: query.map_or("", |q| q.title.as_str()),
                help: query.and_then(|q| one_line_fix(&q.remediation)),
                source: NamedSource::new(file, Arc::clone(&text)),
                at: byte_range(&index, finding),
            };
            let mut rendered = String::new();
            handler
                .render_report(&mut rendered, &diagnostic)
                .map_err(|e| io::Error::other(e.to_string()))?;
            write!(out, "{rendered}")?;
        }
    }
    if report.options.quiet {
        return Ok(());
    }
    let errors: Vec<_> = result
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
        .collect();
    if !result.diagnostics.is_empty() {
        writeln!(out)?;
        for d in &result.diagnostics {
            writeln!(out, "{d}")?;
        }
    }
    writeln!(out)?;
    write_summary(report, errors.len(), out)
}

fn write_summary(report: &Report, errors: usize, out: &mut dyn Write) -> io::Result<()> {
    let result = report.result;
    let s = &result.stats;
    let files: usize = s.files.values().sum();
    let per_platform: Vec<String> = s
        .files
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(p, n)| format!("{p} {n}"))
        .collect();
    let counts: Vec<String> = super::severity_counts(result)
        .iter()
        .map(|(sev, n)| format!("{n} {sev}"))
        .collect();
    let findings = result
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .count();
    let suppressed: Vec<String> = super::suppressed_counts(result)
        .iter()
        .map(|(kind, n)| {
            format!(
                "{n} {}",
                serde_json::to_value(kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            )
        })
        .collect();
    writeln!(
        out,
        "{findings} finding{}{}{}",
        if findings == 1 { "" } else { "s" },
        if counts.is_empty() {
            String::new()
        } else {
            format!(": {}", counts.join(", "))
        },
        if suppressed.is_empty() {
            String::new()
        } else {
            format!("; suppressed: {}", suppressed.join(", "))
        }
    )?;
    writeln!(
        out,
        "scanned {files} file{}{} ({} entit{}, {} quer{}) in {:.2} s; {errors} parse error{}{}",
        if files == 1 { "" } else { "s" },
        if per_platform.is_empty() {
            String::new()
        } else {
            format!(" ({})", per_platform.join(", "))
        },
        s.entities,
        if s.entities == 1 { "y" } else { "ies" },
        s.queries,
        if s.queries == 1 { "y" } else { "ies" },
        s.seconds,
        if errors == 1 { "" } else { "s" },
        match s.modules_through_calls {
            0 => String::new(),
            1 => "; 1 module directory checked through its calls".to_string(),
            n => format!("; {n} module directories checked through their calls"),
        },
    )?;
    write_settings_line(&report.options.config, out)
}

/// Which settings files decided the run, so a policy a repository's own
/// file set is never invisible.
fn write_settings_line(config: &crate::config::Sources, out: &mut dyn Write) -> io::Result<()> {
    let mut used = Vec::new();
    if let Some(pinned) = &config.pinned {
        used.push(format!("{pinned} (pinned)"));
    }
    if let Some(repository) = &config.repository {
        used.push(if config.ignored.is_empty() {
            format!("{repository} (repository)")
        } else {
            format!(
                "{repository} (repository; its {} ignored)",
                config.ignored.join(", ")
            )
        });
    }
    if used.is_empty() {
        return Ok(());
    }
    writeln!(out, "settings: {}", used.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fix_is_the_first_line_of_the_remediation() {
        assert_eq!(
            one_line_fix("\n  Use the private\n  ACL:\n\n    acl = \"private\"\n").as_deref(),
            Some("Use the private ACL")
        );
        assert_eq!(one_line_fix("  "), None);
    }
}
