//! The report for people at a terminal: each finding as a diagnostic with
//! its severity, query id and title, the entity (and the `module` call that
//! made it), the source lines with the offending span underlined, and the
//! fix in one line; grouped by file (or by query, `--group-by query`) and
//! ordered by line; then parse diagnostics, and a summary to act on: the
//! queries and files with the most findings, findings per platform, and
//! the totals. `--summary` prints the summary alone.

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan,
};

use super::{GroupBy, Report};
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
            self.finding.severity,
            self.finding.query_id,
            self.title,
            self.finding.instance()
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

/// The file's text with the values that findings of the `secrets`
/// category point at masked (letters, digits and the symbols of keys and
/// passwords turned into `*`, every byte kept in place), so that a snippet,
/// theirs or a neighbour's, never shows a secret.
fn masked_secrets(text: &str, index: &LineIndex, group: &[&Finding], report: &Report) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for f in group {
        let secret = report
            .registry
            .get(&f.query_id)
            .is_some_and(|q| q.category == "secrets");
        if !secret {
            continue;
        }
        let range = byte_range(index, f);
        let end = (range.offset() + range.len()).min(bytes.len());
        for b in bytes.iter_mut().take(end).skip(range.offset()) {
            if b.is_ascii_alphanumeric() || b"+/=_-!@#$%^&.:~?".contains(b) {
                *b = b'*';
            }
        }
    }
    // Only ASCII bytes were replaced, by ASCII: still UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())
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
    if !report.options.summary_only {
        match report.options.group_by {
            GroupBy::File => {
                for (i, group) in shown.chunk_by(|a, b| a.file == b.file).enumerate() {
                    if i > 0 {
                        writeln!(out)?;
                    }
                    writeln!(out, "{}", group[0].file)?;
                    render_findings(report, &handler, group, out)?;
                }
            }
            GroupBy::Query => {
                for (i, group) in by_query(report, &shown).iter().enumerate() {
                    if i > 0 {
                        writeln!(out)?;
                    }
                    let first = group[0];
                    let title = report
                        .registry
                        .get(&first.query_id)
                        .map_or("", |q| q.title.as_str());
                    writeln!(
                        out,
                        "{} {}: {title} ({})",
                        first.severity,
                        first.query_id,
                        plural(group.len(), "finding", "findings")
                    )?;
                    render_findings(report, &handler, group, out)?;
                }
            }
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
    if !result.diagnostics.is_empty() && !report.options.summary_only {
        writeln!(out)?;
        for d in &result.diagnostics {
            writeln!(out, "{d}")?;
        }
    }
    if !shown.is_empty() {
        if !report.options.summary_only {
            writeln!(out)?;
        }
        write_tables(report, out)?;
    }
    if !report.options.summary_only || !shown.is_empty() {
        writeln!(out)?;
    }
    write_summary(report, errors.len(), out)
}

/// Rows each table of the summary shows at most.
const TOP: usize = 10;

/// `1 finding`, `2 findings`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The findings grouped by query: most severe query first, then most
/// findings, then id; in each group, report order (file, line).
fn by_query<'a>(report: &Report, shown: &[&'a Finding]) -> Vec<Vec<&'a Finding>> {
    let mut groups: std::collections::BTreeMap<&str, Vec<&'a Finding>> = Default::default();
    for f in shown {
        groups.entry(f.query_id.as_str()).or_default().push(f);
    }
    let mut groups: Vec<Vec<&Finding>> = groups.into_values().collect();
    let severity = |group: &Vec<&Finding>| {
        report
            .registry
            .get(&group[0].query_id)
            .map_or(group[0].severity, |q| q.severity)
    };
    groups.sort_by(|a, b| {
        severity(b)
            .cmp(&severity(a))
            .then(b.len().cmp(&a.len()))
            .then(a[0].query_id.cmp(&b[0].query_id))
    });
    groups
}

/// Renders each finding of `group` as a diagnostic with its snippet.
fn render_findings<'a>(
    report: &Report<'a>,
    handler: &GraphicalReportHandler,
    group: &[&Finding],
    out: &mut dyn Write,
) -> io::Result<()> {
    // One copy of the text per file, shared by its findings.
    let mut text: Option<(&str, Arc<str>, LineIndex<'a>)> = None;
    for finding in group {
        let file = finding.file.as_str();
        if text.as_ref().is_none_or(|(name, _, _)| *name != file) {
            let body = report.result.sources.get(file).map_or("", String::as_str);
            let index = LineIndex::new(body);
            // Every secret of the file is masked, not only this group's: a
            // snippet of another finding may show the same lines.
            let in_file: Vec<&Finding> = report
                .result
                .findings
                .iter()
                .filter(|f| f.file == file)
                .collect();
            let masked = masked_secrets(body, &index, &in_file, report);
            text = Some((file, Arc::from(masked), index));
        }
        let Some((_, source, index)) = &text else {
            continue;
        };
        let query = report.registry.get(&finding.query_id);
        let diagnostic = FindingDiagnostic {
            finding,
            title: query.map_or("", |q| q.title.as_str()),
            help: query.and_then(|q| one_line_fix(&q.remediation)),
            source: NamedSource::new(file, Arc::clone(source)),
            at: byte_range(index, finding),
        };
        let mut rendered = String::new();
        handler
            .render_report(&mut rendered, &diagnostic)
            .map_err(|e| io::Error::other(e.to_string()))?;
        write!(out, "{rendered}")?;
    }
    Ok(())
}

/// The tables a long report ends with: the queries and files with the
/// most findings, and the findings per platform, so a thousand findings
/// can be acted on from the bottom of the report.
fn write_tables(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let result = report.result;
    let queries = super::tally(result, |f| f.query_id.as_str());
    let files = super::tally(result, |f| f.file.as_str());
    let platforms = super::tally(result, |f| f.platform.name());
    let heading = |what: &str, total: usize| {
        if total > TOP {
            format!("Top {TOP} {what} (of {total}):")
        } else {
            format!("{}{}:", what[..1].to_uppercase(), &what[1..])
        }
    };
    writeln!(out, "{}", heading("queries", queries.len()))?;
    let width = queries
        .iter()
        .take(TOP)
        .map(|t| t.key.len())
        .max()
        .unwrap_or(0);
    writeln!(
        out,
        "  {:>8}  {:>5}  {:<width$}  title",
        "findings", "files", "query"
    )?;
    for t in queries.iter().take(TOP) {
        let title = report.registry.get(t.key).map_or("", |q| q.title.as_str());
        writeln!(
            out,
            "  {:>8}  {:>5}  {:<width$}  {title}",
            t.findings, t.files, t.key
        )?;
    }
    writeln!(out, "{}", heading("files", files.len()))?;
    writeln!(out, "  {:>8}  file", "findings")?;
    for t in files.iter().take(TOP) {
        writeln!(out, "  {:>8}  {}", t.findings, t.key)?;
    }
    let per_platform: Vec<String> = platforms
        .iter()
        .map(|t| format!("{} {}", t.key, t.findings))
        .collect();
    writeln!(out, "Findings per platform: {}", per_platform.join(", "))
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
