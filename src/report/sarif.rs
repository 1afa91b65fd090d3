//! The SARIF 2.1.0 report, shaped the way GitHub code scanning reads it
//! (`github/codeql-action/upload-sarif`).
//!
//! - one run; `tool.driver` carries one rule per query that ran, sorted by
//!   id, with the metadata GitHub shows (`shortDescription`,
//!   `fullDescription`, `help`, `helpUri`) and sorts by (`security-severity`,
//!   `precision`, `tags`);
//! - one result per finding, in report order, each with a relative
//!   `artifactLocation` under `%SRCROOT%`, a full region, our own stable
//!   fingerprint (`fingerprints["rampart/v2"]`) and GitHub's
//!   `partialFingerprints.primaryLocationLineHash`, computed here exactly as
//!   the upload action would compute it (see [`crate::line_hash::line_hashes`]);
//! - read problems as `invocations[0].toolExecutionNotifications`.
//!
//! Decisions, and why:
//!
//! - **rule `name` is the query id.** GitHub shows the name in its rule
//!   filter; the id is what users already type (`--only`, `--skip`,
//!   `rampart explain`), and a PascalCase form (`TfAwsS3PublicAcl`) would be
//!   a third spelling of the same thing. CodeQL does the same (`js/xss`).
//! - **`security-severity`**: critical 9.5, high 8.0, medium 5.5, low 3.0,
//!   each inside GitHub's band for that name (≥ 9.0, 7.0–8.9, 4.0–6.9,
//!   0.1–3.9). Info is "0.0": GitHub reads 0.0 as "no security severity" and
//!   falls back to the `note` level, which is what info means ("not a risk
//!   by itself"); mapping it into the low band would inflate it.
//! - **`precision` is "high"** for every query: queries are declarative
//!   checks of explicit configuration values, not heuristics, so their false
//!   positives come from values we cannot evaluate rather than from guessing.
//!   A per-query field can refine this later without changing the format.
//! - **`automationDetails.id`** is `--sarif-category` with a `/` appended
//!   unless it ends with one, exactly as `upload-sarif` treats its own
//!   `category` input: the text before the last `/` is the category, so the
//!   whole user string stays the category and two categories' alerts never
//!   close each other's.
//! - **CWE tags** are `external/cwe/cwe-N` (N unpadded); at most
//!   [`MAX_TAGS`] tags per rule (GitHub accepts 20 and shows 10).
//! - **At most [`MAX_RESULTS`] results**: GitHub rejects a run with more.
//!   Beyond it the most severe findings are kept (in report order) and a
//!   warning notification says how many were left out.

use std::collections::{BTreeMap, HashMap};

use crate::line_hash::file_line_hashes;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use serde_json::Value;
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultColumnKind, ResultLevel, Run, RunAutomationDetails, Sarif, Tool,
    ToolComponent, Version,
};

use crate::diagnostic::{Diagnostic, Level};
use crate::finding::Finding;
use crate::finding::Severity;
use crate::query::Query;
use crate::tree::Span;

/// The project's home page (`tool.driver.informationUri`).
pub const PROJECT_URL: &str = "https://github.com/rampart-iac/rampart";

/// The SARIF 2.1.0 schema (`$schema`), the address GitHub's and CodeQL's
/// own SARIF files use.
pub const SCHEMA_URL: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The base every relative `artifactLocation.uri` is relative to: the
/// repository root (the git top level of the first scanned path; outside
/// git, the directory rampart ran in), which `upload-sarif` takes to be the
/// checkout. `run.originalUriBaseIds` gives it as an absolute URI.
pub const SRCROOT: &str = "%SRCROOT%";

/// Our own fingerprint's key in `result.fingerprints`: the scheme's name,
/// so a later scheme lives beside this one.
pub const FINGERPRINT_KEY: &str = crate::finding::FINGERPRINT_VERSION;

/// GitHub's partial fingerprint key for the hash of the primary location's
/// line.
pub const LINE_HASH_KEY: &str = "primaryLocationLineHash";

/// GitHub code scanning rejects a file whose run has more results than
/// this (a hard limit; it shows only the 5,000 most severe of them).
pub const MAX_RESULTS: usize = 25_000;

/// How to upload everything when a run is over [`MAX_RESULTS`].
pub const SPLIT_ADVICE: &str = "To upload every finding, split the scan by path into \
    several SARIF files, each with its own --sarif-category (e.g. `rampart scan infra/network \
    -o network.sarif --sarif-category network`), or raise --severity.";

/// Tags per rule: GitHub accepts 20 but shows only 10.
pub const MAX_TAGS: usize = 10;

/// Writes the report as pretty-printed SARIF. File paths are made relative
/// to the repository root ([`SRCROOT`]), whatever the working directory.
pub fn render(report: &super::Report, out: &mut dyn Write) -> io::Result<()> {
    let cwd = std::env::current_dir().ok();
    let anchor = cwd.as_deref().map(|cwd| Anchor {
        cwd,
        root: report.options.source_root.as_deref().unwrap_or(cwd),
    });
    let log = build(report, anchor.as_ref(), MAX_RESULTS);
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

/// Where the report's paths are read from and written relative to.
#[derive(Clone, Copy, Debug)]
struct Anchor<'a> {
    /// The directory display paths are relative to (the working
    /// directory).
    cwd: &'a Path,
    /// The directory SARIF URIs are relative to ([`SRCROOT`]).
    root: &'a Path,
}

/// The SARIF log for `report`: `base` says where relative paths are read
/// from and made relative to, `max_results` the most results kept.
fn build(report: &super::Report, base: Option<&Anchor>, max_results: usize) -> Sarif {
    let result = report.result;
    let rules = Rules::new(report);
    let (kept, omitted) = select(&result.findings, max_results);
    let hashes = line_hashes_of(&kept, result);

    let results: Vec<SarifResult> = kept
        .iter()
        .map(|f| {
            let region = region(&f.span);
            let hash = hashes
                .get(f.file.as_str())
                .and_then(|lines| lines.get(&region.start_line));
            to_result(f, rules.index_of(&f.query_id), region, hash, base)
        })
        .collect();

    let mut notifications: Vec<Notification> = result
        .diagnostics
        .iter()
        .map(|d| notification(d, base))
        .collect();
    if omitted > 0
        && let Some(truncation) = truncation_at(&result.findings, max_results)
    {
        notifications.push(
            Notification::builder()
                .level(Value::from("warning"))
                .message(text_message(format!(
                    "{omitted} of {} findings left out ({}): GitHub code scanning accepts at most \
                     {max_results} results per run; the most severe are included. {}",
                    result.findings.len(),
                    truncation.describe_dropped(),
                    SPLIT_ADVICE
                )))
                .build(),
        );
    }
    let invocation = Invocation::builder()
        // Unreadable files are reported, not fatal: the scan itself ran.
        .execution_successful(true)
        .tool_execution_notifications(notifications)
        .build();

    let driver = ToolComponent::builder()
        .name("rampart")
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .version(env!("CARGO_PKG_VERSION"))
        .information_uri(PROJECT_URL)
        .rules(rules.descriptors)
        .build();

    let mut run = Run::builder()
        .tool(Tool::from(driver))
        .results(results)
        .invocations(vec![invocation])
        .column_kind(Value::from(ResultColumnKind::UnicodeCodePoints.to_string()))
        .properties(run_properties(
            &report.options.config,
            report.options.identity.as_ref(),
        ))
        .build();
    run.original_uri_base_ids = base.map(|anchor| {
        let mut root = absolute_uri(&normalize(anchor.root));
        if !root.ends_with('/') {
            root.push('/');
        }
        BTreeMap::from([(
            SRCROOT.to_string(),
            ArtifactLocation::builder().uri(root).build(),
        )])
    });
    run.automation_details = automation_id(report.options.sarif_category.as_deref())
        .map(|id| RunAutomationDetails::builder().id(id).build());

    Sarif::builder()
        .schema(SCHEMA_URL)
        .version(Value::from(Version::V2_1_0.to_string()))
        .runs(vec![run])
        .build()
}

/// The run's property bag: the settings files used (`config`, as in the
/// JSON report), so an uploaded result says which policy produced it.
fn run_properties(
    config: &crate::config::Sources,
    identity: Option<&crate::identity::ScanIdentity>,
) -> PropertyBag {
    let mut extra = BTreeMap::new();
    extra.insert(
        "config".to_string(),
        serde_json::to_value(config).unwrap_or(Value::Null),
    );
    extra.insert(
        "libraryVersion".to_string(),
        Value::from(crate::LIBRARY_VERSION),
    );
    if let Some(identity) = identity {
        extra.insert(
            "scan".to_string(),
            serde_json::to_value(identity).unwrap_or(Value::Null),
        );
    }
    PropertyBag::builder().additional_properties(extra).build()
}

/// `automationDetails.id` for a category: what `upload-sarif` would make of
/// the same text as its `category` input (a `/` appended unless present).
fn automation_id(category: Option<&str>) -> Option<String> {
    let category = category?.trim();
    if category.is_empty() {
        None
    } else if category.ends_with('/') {
        Some(category.to_string())
    } else {
        Some(format!("{category}/"))
    }
}

/// What a SARIF report leaves out to stay under GitHub's limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// Findings in the scan.
    pub total: usize,
    /// Findings left out, per severity, most severe first, zeros left out.
    pub dropped: Vec<(Severity, usize)>,
}

impl Truncation {
    /// How many were left out in all.
    pub fn omitted(&self) -> usize {
        self.dropped.iter().map(|(_, n)| n).sum()
    }

    /// The dropped findings as `800 low, 200 info`.
    pub fn describe_dropped(&self) -> String {
        self.dropped
            .iter()
            .map(|(severity, n)| format!("{n} {severity}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What the SARIF report of `findings` leaves out (lowest severities
/// first), or `None` when every finding fits in [`MAX_RESULTS`].
pub fn truncation(findings: &[Finding]) -> Option<Truncation> {
    truncation_at(findings, MAX_RESULTS)
}

fn truncation_at(findings: &[Finding], max: usize) -> Option<Truncation> {
    let (kept, omitted) = select(findings, max);
    if omitted == 0 {
        return None;
    }
    let kept_of = |severity: Severity| kept.iter().filter(|f| f.severity == severity).count();
    let dropped = Severity::ALL
        .into_iter()
        .map(|severity| {
            let all = findings.iter().filter(|f| f.severity == severity).count();
            (severity, all - kept_of(severity))
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    Some(Truncation {
        total: findings.len(),
        dropped,
    })
}

/// The findings to report, in report order, and how many were left out.
/// Over `max`, the most severe are kept (earlier first among equals), as
/// GitHub would itself prioritise them.
fn select(findings: &[Finding], max: usize) -> (Vec<&Finding>, usize) {
    if findings.len() <= max {
        return (findings.iter().collect(), 0);
    }
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(findings[i].severity), i));
    order.truncate(max);
    order.sort_unstable();
    let kept: Vec<&Finding> = order.into_iter().map(|i| &findings[i]).collect();
    let omitted = findings.len() - kept.len();
    (kept, omitted)
}

/// The rules array and each rule id's index in it.
struct Rules {
    descriptors: Vec<ReportingDescriptor>,
    index: HashMap<String, usize>,
}

impl Rules {
    /// One rule per query that ran (deprecated ones never run), sorted by
    /// id, plus a bare rule for any finding whose query the registry does
    /// not know, so every `ruleIndex` points at its rule.
    fn new(report: &super::Report) -> Rules {
        enum Source<'a> {
            Query(&'a Query),
            Unknown(Severity),
        }
        let mut by_id: BTreeMap<&str, Source> = report
            .registry
            .queries()
            .filter(|q| !q.deprecated)
            .map(|q| (q.id.as_str(), Source::Query(q)))
            .collect();
        for f in &report.result.findings {
            by_id
                .entry(f.query_id.as_str())
                .or_insert(Source::Unknown(f.severity));
        }
        let mut descriptors = Vec::with_capacity(by_id.len());
        let mut index = HashMap::with_capacity(by_id.len());
        for (i, (id, source)) in by_id.into_iter().enumerate() {
            index.insert(id.to_string(), i);
            descriptors.push(match source {
                Source::Query(q) => rule(q),
                Source::Unknown(severity) => bare_rule(id, severity),
            });
        }
        Rules { descriptors, index }
    }

    fn index_of(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }
}

/// The SARIF level of a severity.
pub fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::Info => ResultLevel::Note,
    }
}

/// GitHub's `security-severity` of a severity: a CVSS-like score, as a
/// string (GitHub ignores a JSON number there).
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        // GitHub reads 0.0 as "no security severity": the alert keeps the
        // `note` level, which is what info means.
        Severity::Info => "0.0",
    }
}

fn rule(q: &Query) -> ReportingDescriptor {
    let mut tags = vec!["security".to_string()];
    let candidates = std::iter::once(q.category.trim().to_string())
        .chain(q.platforms().into_iter().map(|p| p.name().to_string()))
        .chain(q.cwe.iter().map(|c| format!("external/cwe/cwe-{c}")));
    for tag in candidates {
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags.truncate(MAX_TAGS);

    let mut rule = ReportingDescriptor::builder()
        .id(q.id.clone())
        .name(q.id.clone())
        .short_description(plain(q.title.trim()))
        .full_description(plain(q.description.trim()))
        .help(
            MultiformatMessageString::builder()
                .text(help_text(q))
                .markdown(help_markdown(q))
                .build(),
        )
        .default_configuration(default_configuration(q.severity))
        .properties(rule_properties(q.severity, tags))
        .build();
    rule.help_uri = q.references.first().cloned();
    rule
}

/// A rule for a finding whose query is not in the registry: never expected,
/// but a result must not point at a rule that is not there.
fn bare_rule(id: &str, severity: Severity) -> ReportingDescriptor {
    ReportingDescriptor::builder()
        .id(id)
        .name(id)
        .short_description(plain(id))
        .default_configuration(default_configuration(severity))
        .properties(rule_properties(severity, vec!["security".to_string()]))
        .build()
}

fn default_configuration(severity: Severity) -> ReportingConfiguration {
    ReportingConfiguration::builder()
        .level(Value::from(level(severity).to_string()))
        .build()
}

fn rule_properties(severity: Severity, tags: Vec<String>) -> PropertyBag {
    let mut extra = BTreeMap::new();
    extra.insert(
        "security-severity".to_string(),
        Value::from(security_severity(severity)),
    );
    extra.insert("precision".to_string(), Value::from("high"));
    PropertyBag::builder()
        .tags(tags)
        .additional_properties(extra)
        .build()
}

fn plain(text: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(text).build()
}

fn text_message(text: impl Into<String>) -> Message {
    Message::builder().text(text).build()
}

/// A CWE's page.
fn cwe_url(cwe: u32) -> String {
    format!("https://cwe.mitre.org/data/definitions/{cwe}.html")
}

/// The help as plain text, laid out as `rampart explain` shows it.
fn help_text(q: &Query) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{}\n\nHow to fix:\n{}\n",
        q.description.trim(),
        q.remediation.trim_end()
    );
    if !q.references.is_empty() || !q.cwe.is_empty() {
        out.push_str("\nReferences:\n");
        for r in &q.references {
            let _ = writeln!(out, "  {r}");
        }
        for c in &q.cwe {
            let _ = writeln!(out, "  CWE-{c}: {}", cwe_url(*c));
        }
    }
    out
}

/// The help as Markdown: the description, the remediation with its
/// snippet fenced (GitHub renders an indented block inconsistently after a
/// list, and a fence carries the language), and the references as links.
fn help_markdown(q: &Query) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{}\n\n## How to fix\n\n{}",
        q.description.trim(),
        fence_snippets(&q.remediation, snippet_language(q))
    );
    if !q.references.is_empty() || !q.cwe.is_empty() {
        out.push_str("\n## References\n\n");
        for r in &q.references {
            let _ = writeln!(out, "- <{r}>");
        }
        for c in &q.cwe {
            let _ = writeln!(out, "- [CWE-{c}]({})", cwe_url(*c));
        }
    }
    out
}

/// Rewrites `text`'s indented blocks (query files indent their snippets
/// under the prose) as fenced code blocks, dedented. Ends with a newline.
/// The language of a query's snippets: its platform's, or none for a query
/// whose remediation shows several platforms.
fn snippet_language(q: &Query) -> &'static str {
    match q.platforms().as_slice() {
        [one] => one.model().snippet_language(),
        _ => "",
    }
}

fn fence_snippets(text: &str, language: &str) -> String {
    fn indented(line: &str) -> bool {
        line.starts_with([' ', '\t']) && !line.trim().is_empty()
    }
    let lines: Vec<&str> = text.trim_matches('\n').lines().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        // A snippet follows a blank line; an indented line right under
        // prose continues it (a wrapped list item).
        let starts_block = indented(lines[i]) && (i == 0 || lines[i - 1].trim().is_empty());
        if !starts_block {
            out.push_str(lines[i].trim_end());
            out.push('\n');
            i += 1;
            continue;
        }
        // A block runs over indented lines and the blank lines between them.
        let mut end = i;
        let mut j = i;
        while j < lines.len() && (indented(lines[j]) || lines[j].trim().is_empty()) {
            if indented(lines[j]) {
                end = j + 1;
            }
            j += 1;
        }
        let block = &lines[i..end];
        let margin = block
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
            .min()
            .unwrap_or(0);
        // A fence longer than any backtick run inside the snippet.
        let longest_run = block
            .iter()
            .flat_map(|l| l.split(|c| c != '`'))
            .map(str::len)
            .max()
            .unwrap_or(0);
        let fence = "`".repeat(longest_run.max(2) + 1);
        if !out.is_empty() && !out.ends_with("\n\n") {
            out.push('\n');
        }
        let _ = writeln!(out, "{fence}{language}");
        for line in block {
            // `margin` bytes are spaces or tabs on every non-blank line.
            out.push_str(line.get(margin..).unwrap_or("").trim_end());
            out.push('\n');
        }
        let _ = writeln!(out, "{fence}");
        if end < lines.len() {
            out.push('\n');
        }
        i = end;
        while i < lines.len() && lines[i].trim().is_empty() {
            i += 1;
        }
    }
    out
}

/// A finding's region as SARIF wants it: 1-based, end after start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TextRegion {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

/// The full region of a span. SARIF's `endColumn` is the column after the
/// last character, as our spans count it. A zero-width span (a missing
/// attribute pointed at a position) or a malformed one becomes one column
/// wide: GitHub draws nothing for an empty region.
fn region(span: &Span) -> TextRegion {
    let start_line = span.start_line.max(1);
    let start_column = span.start_col.max(1);
    let (mut end_line, mut end_column) = (span.end_line, span.end_col.max(1));
    if (end_line, end_column) <= (start_line, start_column) {
        end_line = start_line;
        end_column = start_column.saturating_add(1);
    }
    TextRegion {
        start_line,
        start_column,
        end_line,
        end_column,
    }
}

fn to_result(
    f: &Finding,
    rule_index: Option<usize>,
    region: TextRegion,
    line_hash: Option<&String>,
    base: Option<&Anchor>,
) -> SarifResult {
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(artifact_location(&f.file, base))
                .region(
                    Region::builder()
                        .start_line(i64::from(region.start_line))
                        .start_column(i64::from(region.start_column))
                        .end_line(i64::from(region.end_line))
                        .end_column(i64::from(region.end_column))
                        .build(),
                )
                .build(),
        )
        .build();

    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(FINGERPRINT_KEY.to_string(), f.fingerprint.clone());

    let mut properties = BTreeMap::new();
    properties.insert("entity".to_string(), Value::from(f.entity.as_str()));
    if !f.path.is_empty() {
        properties.insert("path".to_string(), Value::from(f.path.to_string()));
    }

    let mut result = SarifResult::builder()
        .rule_id(f.query_id.as_str())
        .level(level(f.severity))
        .message(text_message(f.message.as_str()))
        .locations(vec![location])
        .fingerprints(fingerprints)
        .properties(
            PropertyBag::builder()
                .additional_properties(properties)
                .build(),
        )
        .build();
    result.rule_index = rule_index.and_then(|i| i64::try_from(i).ok());
    // The module call that made a finding in a module's file.
    result.related_locations = f.called_from.as_ref().map(|call| {
        vec![
            Location::builder()
                .id(0)
                .physical_location(
                    PhysicalLocation::builder()
                        .artifact_location(artifact_location(&call.file, base))
                        .region(Region::builder().start_line(i64::from(call.line)).build())
                        .build(),
                )
                .message(text_message(format!("{} is called here", call.module)))
                .build(),
        ]
    });
    // A suppressed finding stays in the run, marked, so code scanning shows
    // it as dismissed with its justification instead of losing it.
    result.suppressions = f.suppressed.as_ref().map(|s| {
        let kind = match s.kind {
            crate::finding::SuppressionKind::Inline => "inSource",
            crate::finding::SuppressionKind::Exception
            | crate::finding::SuppressionKind::Baseline => "external",
        };
        let justification = match (&s.reason, s.kind) {
            (Some(reason), _) => format!("{reason} ({})", s.origin),
            (None, crate::finding::SuppressionKind::Baseline) => {
                format!("in the baseline ({})", s.origin)
            }
            (None, _) => format!("suppressed at {}", s.origin),
        };
        vec![
            serde_sarif::sarif::Suppression::builder()
                .kind(Value::from(kind))
                .status(Value::from("accepted"))
                .justification(justification)
                .build(),
        ]
    });
    // Without the file's text the upload action computes the hash itself.
    result.partial_fingerprints = line_hash.map(|h| {
        let mut partial = BTreeMap::new();
        partial.insert(LINE_HASH_KEY.to_string(), h.clone());
        partial
    });
    result
}

fn notification(d: &Diagnostic, base: Option<&Anchor>) -> Notification {
    let level = match d.level {
        Level::Error => "error",
        Level::Notice => "note",
    };
    let mut physical = PhysicalLocation::builder()
        .artifact_location(artifact_location(&d.file, base))
        .build();
    if d.line > 0 {
        let mut region = Region::builder().start_line(i64::from(d.line)).build();
        if d.column > 0 {
            region.start_column = Some(i64::from(d.column));
        }
        physical.region = Some(region);
    }
    Notification::builder()
        .level(Value::from(level))
        .message(text_message(d.message.as_str()))
        .locations(vec![
            Location::builder().physical_location(physical).build(),
        ])
        .build()
}

/// Where a file is, as SARIF addresses it: relative to [`SRCROOT`] when it
/// is under `base` (or relative already), else an absolute `file:` URI,
/// which GitHub ignores rather than misplaces.
fn artifact_location(display: &str, base: Option<&Anchor>) -> ArtifactLocation {
    match file_uri(display, base) {
        FileUri::Relative(uri) => ArtifactLocation::builder()
            .uri(uri)
            .uri_base_id(SRCROOT)
            .build(),
        FileUri::Absolute(uri) => ArtifactLocation::builder().uri(uri).build(),
    }
}

/// A file's URI, relative to the source root or absolute.
#[derive(Debug, PartialEq, Eq)]
enum FileUri {
    Relative(String),
    Absolute(String),
}

/// The URI of a display path: forward slashes, no `./`, percent-encoded.
/// A path that is absolute or climbs out with `..` is resolved against
/// `base`'s working directory and made relative to its root when it lands
/// inside.
fn file_uri(display: &str, base: Option<&Anchor>) -> FileUri {
    let slashed = display.replace('\\', "/");
    let path = Path::new(&slashed);
    if let Some(anchor) = base {
        let root = normalize(anchor.root);
        let full = normalize(&anchor.cwd.join(path));
        if let Ok(rel) = full.strip_prefix(&root) {
            return FileUri::Relative(relative_uri(rel));
        }
        // The working directory is reported with symlinks resolved
        // (`/private/var` on macOS) while the path typed may not be.
        if let (Ok(real_root), Ok(real_full)) = (root.canonicalize(), full.canonicalize())
            && let Ok(rel) = real_full.strip_prefix(&real_root)
        {
            return FileUri::Relative(relative_uri(rel));
        }
        return FileUri::Absolute(absolute_uri(&full));
    }
    if path.is_absolute() {
        return FileUri::Absolute(absolute_uri(path));
    }
    FileUri::Relative(relative_uri(path))
}

/// `path` with `.` dropped and `..` applied, without touching the disk.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn relative_uri(path: &Path) -> String {
    let mut out = String::new();
    for c in path.components() {
        match c {
            Component::Normal(s) => {
                if !out.is_empty() {
                    out.push('/');
                }
                percent_encode(&s.to_string_lossy(), false, &mut out);
            }
            Component::ParentDir => {
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str("..");
            }
            _ => {}
        }
    }
    if out.is_empty() {
        // The source root itself (a diagnostic about `.`).
        out.push('.');
    }
    out
}

fn absolute_uri(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut out = String::from("file://");
    if !text.starts_with('/') {
        // A Windows drive path: `file:///C:/...`.
        out.push('/');
    }
    // A drive letter's colon is legal here and must stay readable.
    percent_encode(&text, true, &mut out);
    out
}

/// Appends `text` with every byte outside RFC 3986's path characters
/// percent-encoded (as UTF-8). `:` is encoded in relative references, where
/// it would read as a scheme in the first segment.
fn percent_encode(text: &str, keep_colon: bool, out: &mut String) {
    for b in text.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || b"-._~!$&'()*+,;=@/".contains(&b)
            || (keep_colon && b == b':');
        if keep {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Every line hash the kept findings need, by file then start line: the
/// ones the scan computed where the text was whole, else computed here
/// from the texts the result holds.
fn line_hashes_of<'a>(
    findings: &[&'a Finding],
    result: &'a crate::finding::ScanResult,
) -> HashMap<&'a str, BTreeMap<u32, String>> {
    if let Some(computed) = &result.line_hashes {
        return computed
            .iter()
            .map(|(file, hashes)| (file.as_str(), hashes.clone()))
            .collect();
    }
    let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        by_file.entry(f.file.as_str()).or_default().push(f);
    }
    by_file
        .into_iter()
        .filter_map(|(file, fs)| {
            let text = result.sources.get(file)?;
            Some((file, file_line_hashes(text, fs.iter().map(|f| &f.span))))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::ScanResult;
    use crate::line_hash::line_hashes;
    use crate::query::registry::Registry;
    use crate::report::{Report, ReportOptions};

    // Expected values from the test vectors of github/codeql-action
    // (`src/fingerprints.test.ts`), the implementation GitHub runs.
    #[test]
    fn line_hashes_match_the_upload_action() {
        assert_eq!(line_hashes(""), ["c129715d7a2bc9a3:1"]);
        assert_eq!(
            line_hashes(" a\nb\n  \t\tc\n d"),
            [
                "271789c17abda88f:1",
                // 15 digits: the action does not pad.
                "54703d4cd895b18:1",
                "180aee12dab6264:1",
                "a23a3dc5e078b07b:1",
            ]
        );
        assert_eq!(
            line_hashes(" hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End"),
            [
                "8b7cf3e952e7aeb2:1",
                "b1ae1287ec4718d9:1",
                "bff680108adb0fcc:1",
                "c6805c5e1288b612:1",
                "b86d3392aea1be30:1",
                "e6ceba753e1a442:1",
            ]
        );
        let with_final_newline = [
            "e9496ae3ebfced30:1",
            "fb7c023a8b9ccb3f:1",
            "ce8ba1a563dcdaca:1",
            "e20e36e16fcb0cc8:1",
            "b3edc88f2938467e:1",
            "c8e28b0b4002a3a0:1",
            "c129715d7a2bc9a3:1",
        ];
        // Every line ending hashes alike.
        for text in [
            " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n",
            " hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r",
            " hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n",
            " hello; \t\nworld!!!\r\n\n\r  \t\tGreetings\r End\r\n",
        ] {
            assert_eq!(line_hashes(text), with_final_newline, "{text:?}");
        }
        // Identical windows are told apart by their count.
        assert_eq!(
            line_hashes(&"Lorem ipsum dolor sit amet.\n".repeat(10)),
            [
                "a7f2ff13bc495cf2:1",
                "a7f2ff13bc495cf2:2",
                "a7f2ff13bc495cf2:3",
                "a7f2ff13bc495cf2:4",
                "a7f2ff13bc495cf2:5",
                "a7f2ff13bc495cf2:6",
                "a7f2ff1481e87703:1",
                "a9cf91f7bbf1862b:1",
                "55ec222b86bcae53:1",
                "cc97dc7b1d7d8f7b:1",
                "c129715d7a2bc9a3:1",
            ]
        );
    }

    #[test]
    fn a_line_hash_ignores_what_precedes_the_line() {
        let text = "resource \"aws_s3_bucket\" \"b\" {\n  acl = \"public-read\"\n}\n";
        let moved = format!("# a comment\n\nvariable \"x\" {{}}\n{text}");
        assert_eq!(line_hashes(text)[1], line_hashes(&moved)[4]);
        // Indentation does not count either.
        let reindented = text.replace("  acl", "\tacl");
        assert_eq!(line_hashes(text)[1], line_hashes(&reindented)[1]);
    }

    #[test]
    fn a_single_hash_needs_no_precomputed_table() {
        // By hand: "a" then end of file then 98 zeros, base 37.
        let pow = |n: u32| (0..n).fold(1u64, |w, _| w.wrapping_mul(37));
        let expected = u64::from(b'a')
            .wrapping_mul(pow(99))
            .wrapping_add(0xFFFF_u64.wrapping_mul(pow(98)));
        assert_eq!(line_hashes("a"), [format!("{expected:x}:1")]);
    }

    #[test]
    fn uris_are_relative_forward_slashed_and_encoded() {
        let rel = |s: &str| FileUri::Relative(s.to_string());
        assert_eq!(file_uri("infra/main.tf", None), rel("infra/main.tf"));
        assert_eq!(file_uri("./infra/main.tf", None), rel("infra/main.tf"));
        assert_eq!(file_uri("infra\\main.tf", None), rel("infra/main.tf"));
        assert_eq!(
            file_uri("my infra/100%/a#b?.tf", None),
            rel("my%20infra/100%25/a%23b%3F.tf")
        );
        assert_eq!(file_uri("c:x/é.tf", None), rel("c%3Ax/%C3%A9.tf"));
        assert_eq!(file_uri(".", None), rel("."));
        let repo = Path::new("/work/repo");
        let at_root = Anchor {
            cwd: repo,
            root: repo,
        };
        let base = Some(&at_root);
        assert_eq!(
            file_uri("/work/repo/k8s/pod.yaml", base),
            rel("k8s/pod.yaml")
        );
        assert_eq!(file_uri("../repo/a.tf", base), rel("a.tf"));
        assert_eq!(
            file_uri("/elsewhere/a b.tf", base),
            FileUri::Absolute("file:///elsewhere/a%20b.tf".to_string())
        );
        assert_eq!(
            file_uri("../other/a.tf", base),
            FileUri::Absolute("file:///work/other/a.tf".to_string())
        );
        // Run from a subdirectory of the repository, paths stay relative to
        // its root.
        let in_infra = Anchor {
            cwd: Path::new("/work/repo/infra"),
            root: repo,
        };
        assert_eq!(
            file_uri("net/main.tf", Some(&in_infra)),
            rel("infra/net/main.tf")
        );
        assert_eq!(
            file_uri("../k8s/a.yaml", Some(&in_infra)),
            rel("k8s/a.yaml")
        );
    }

    fn span(start_line: u32, start_col: u32, end_line: u32, end_col: u32) -> Span {
        Span {
            start: 0,
            end: 0,
            start_line,
            start_col,
            end_line,
            end_col,
        }
    }

    #[test]
    fn regions_are_never_empty_or_backwards() {
        let r = |s: Span| {
            let r = region(&s);
            (r.start_line, r.start_column, r.end_line, r.end_column)
        };
        assert_eq!(r(span(3, 9, 3, 22)), (3, 9, 3, 22));
        assert_eq!(r(span(3, 9, 5, 2)), (3, 9, 5, 2));
        // Zero-width: one column.
        assert_eq!(r(span(3, 9, 3, 9)), (3, 9, 3, 10));
        // Backwards or unset.
        assert_eq!(r(span(3, 9, 2, 1)), (3, 9, 3, 10));
        assert_eq!(r(span(0, 0, 0, 0)), (1, 1, 1, 2));
        assert_eq!(r(span(2, 4, 3, 0)), (2, 4, 3, 1));
    }

    #[test]
    fn severities_map_to_levels_and_scores() {
        assert_eq!(level(Severity::Critical), ResultLevel::Error);
        assert_eq!(level(Severity::High), ResultLevel::Error);
        assert_eq!(level(Severity::Medium), ResultLevel::Warning);
        assert_eq!(level(Severity::Low), ResultLevel::Note);
        assert_eq!(level(Severity::Info), ResultLevel::Note);
        // Each score inside GitHub's band for the severity's name.
        let bands = [
            (Severity::Critical, 9.0, 10.0),
            (Severity::High, 7.0, 8.9),
            (Severity::Medium, 4.0, 6.9),
            (Severity::Low, 0.1, 3.9),
            (Severity::Info, 0.0, 0.0),
        ];
        for (s, low, high) in bands {
            let score: f64 = security_severity(s).parse().expect("a number");
            assert!((low..=high).contains(&score), "{s}: {score}");
        }
    }

    #[test]
    fn categories_end_with_a_slash() {
        assert_eq!(automation_id(None), None);
        assert_eq!(automation_id(Some("  ")), None);
        assert_eq!(automation_id(Some("iac")), Some("iac/".to_string()));
        assert_eq!(automation_id(Some("iac/")), Some("iac/".to_string()));
        assert_eq!(
            automation_id(Some("iac/terraform")),
            Some("iac/terraform/".to_string())
        );
    }

    #[test]
    fn snippets_are_fenced_and_dedented() {
        let remediation = "Use the private ACL:\n\n  resource \"a\" \"b\" {\n    acl = \"private\"\n\n    x = 1\n  }\n\nThen apply.\n";
        assert_eq!(
            fence_snippets(remediation, "hcl"),
            "Use the private ACL:\n\n```hcl\nresource \"a\" \"b\" {\n  acl = \"private\"\n\n  x = 1\n}\n```\n\nThen apply.\n"
        );
        // A wrapped list item is prose, not a snippet.
        assert_eq!(
            fence_snippets("Either:\n- drop it, or\n  pin it\n", "yaml"),
            "Either:\n- drop it, or\n  pin it\n"
        );
        // A snippet with a fence in it gets a longer one.
        assert_eq!(
            fence_snippets("x:\n\n  ```\n", "yaml"),
            "x:\n\n````yaml\n```\n````\n"
        );
    }

    const QUERY: &str = r#"id: tf-test-acl
title: Bucket is public
severity: high
category: access-control
cwe: [732, 284]
description: >
  Anyone can read it.
remediation: |
  Make it private:

    acl = "private"
references:
  - https://example.com/acl
select: terraform resource.aws_s3_bucket
flag:
  path: acl
  in: [public-read]
message: acl is {value}
"#;

    const SOURCE: &str = "resource \"aws_s3_bucket\" \"b\" {\n  acl = \"public-read\"\n}\n";

    fn registry() -> Registry {
        Registry::from_sources([("q.yaml".to_string(), QUERY)]).expect("query compiles")
    }

    fn finding(query_id: &str, severity: Severity, line: u32) -> Finding {
        Finding {
            platform: crate::platform::Platform::Terraform,
            query_id: query_id.to_string(),
            severity,
            file: "main.tf".to_string(),
            span: span(line, 9, line, 22),
            entity: "aws_s3_bucket.b".to_string(),
            path: crate::finding::FieldPath(vec![crate::finding::Segment::Key("acl".into())]),
            message: "acl is \"public-read\"".to_string(),
            fingerprint: crate::finding::fingerprint(crate::finding::FingerprintInputs {
                query_id,
                file: "main.tf",
                entity: "aws_s3_bucket.b",
                caller: None,
                anchor: "acl",
                value: Some("\"public-read\""),
            }),
            placement: Default::default(),
            anchor: "acl".to_string(),
            suppressed: None,
            value: Some("\"public-read\"".to_string()),
            called_from: None,
        }
    }

    fn sarif_json(result: &ScanResult, options: &ReportOptions, max: usize) -> Value {
        let registry = registry();
        let report = Report {
            result,
            registry: &registry,
            options,
        };
        serde_json::to_value(build(&report, None, max)).expect("serializes")
    }

    #[test]
    fn rules_carry_github_metadata() {
        let mut result = ScanResult::default();
        result
            .findings
            .push(finding("tf-test-acl", Severity::High, 2));
        result.findings.push(finding("tf-gone", Severity::Low, 3));
        result
            .sources
            .insert("main.tf".to_string(), SOURCE.to_string());
        let options = ReportOptions {
            sarif_category: Some("iac".to_string()),
            ..ReportOptions::default()
        };
        let log = sarif_json(&result, &options, MAX_RESULTS);
        let run = &log["runs"][0];
        assert_eq!(run["automationDetails"]["id"], "iac/");
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
        // The unknown query gets a bare rule, in id order.
        assert_eq!(ids, ["tf-gone", "tf-test-acl"]);
        let rule = &rules[1];
        assert_eq!(rule["name"], "tf-test-acl");
        assert_eq!(rule["shortDescription"]["text"], "Bucket is public");
        assert_eq!(rule["fullDescription"]["text"], "Anyone can read it.");
        assert_eq!(rule["helpUri"], "https://example.com/acl");
        assert_eq!(rule["defaultConfiguration"]["level"], "error");
        assert_eq!(rule["properties"]["security-severity"], "8.0");
        assert_eq!(rule["properties"]["precision"], "high");
        assert_eq!(
            rule["properties"]["tags"],
            serde_json::json!([
                "security",
                "access-control",
                "terraform",
                "external/cwe/cwe-732",
                "external/cwe/cwe-284"
            ])
        );
        let markdown = rule["help"]["markdown"].as_str().expect("markdown");
        assert!(
            markdown.contains("```hcl\nacl = \"private\"\n```\n"),
            "{markdown}"
        );
        assert!(
            markdown.contains("- <https://example.com/acl>"),
            "{markdown}"
        );
        assert!(markdown.contains("[CWE-732](https://cwe.mitre.org/data/definitions/732.html)"));
        let results = run["results"].as_array().expect("results");
        assert_eq!(results[0]["ruleIndex"], 1);
        assert_eq!(results[1]["ruleIndex"], 0);
        assert_eq!(
            results[0]["partialFingerprints"][LINE_HASH_KEY],
            line_hashes(SOURCE)[1].as_str()
        );
        assert_eq!(results[0]["properties"]["entity"], "aws_s3_bucket.b");
    }

    #[test]
    fn a_byte_order_mark_counts_in_the_line_hash() {
        let mut result = ScanResult::default();
        let mut f = finding("tf-test-acl", Severity::High, 1);
        f.span = Span {
            start: 3,
            end: 11,
            start_line: 1,
            start_col: 1,
            end_line: 1,
            end_col: 9,
        };
        result.findings.push(f);
        result
            .sources
            .insert("main.tf".to_string(), SOURCE.to_string());
        let log = sarif_json(&result, &ReportOptions::default(), MAX_RESULTS);
        let with_bom = line_hashes(&format!("\u{feff}{SOURCE}"));
        assert_ne!(with_bom[0], line_hashes(SOURCE)[0]);
        assert_eq!(
            log["runs"][0]["results"][0]["partialFingerprints"][LINE_HASH_KEY],
            with_bom[0].as_str()
        );
    }

    #[test]
    fn results_past_the_limit_are_dropped_least_severe_first() {
        let mut result = ScanResult::default();
        result
            .findings
            .push(finding("tf-test-acl", Severity::Low, 1));
        result
            .findings
            .push(finding("tf-test-acl", Severity::High, 2));
        result
            .findings
            .push(finding("tf-test-acl", Severity::Medium, 3));
        result
            .findings
            .push(finding("tf-test-acl", Severity::High, 4));
        let log = sarif_json(&result, &ReportOptions::default(), 3);
        let run = &log["runs"][0];
        let lines: Vec<i64> = run["results"]
            .as_array()
            .expect("results")
            .iter()
            .filter_map(|r| r["locations"][0]["physicalLocation"]["region"]["startLine"].as_i64())
            .collect();
        assert_eq!(lines, [2, 3, 4]);
        let notes = run["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .expect("notifications");
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0]["level"], "warning");
        assert!(
            notes[0]["message"]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("1 of 4 findings left out (1 low)"))
        );
        let truncation = truncation_at(&result.findings, 2).expect("over the limit");
        assert_eq!(truncation.total, 4);
        assert_eq!(
            truncation.dropped,
            [(Severity::Medium, 1), (Severity::Low, 1)]
        );
        assert_eq!(truncation.describe_dropped(), "1 medium, 1 low");
        assert_eq!(truncation_at(&result.findings, 4), None);
    }

    #[test]
    fn diagnostics_become_notifications() {
        let mut result = ScanResult::default();
        result
            .diagnostics
            .push(Diagnostic::error("bad dir/x.tf", 3, 7, "unexpected \"}\""));
        result
            .diagnostics
            .push(Diagnostic::notice("chart", 0, 0, "Helm chart skipped"));
        let log = sarif_json(&result, &ReportOptions::default(), MAX_RESULTS);
        let invocation = &log["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], true);
        let notes = &invocation["toolExecutionNotifications"];
        assert_eq!(notes[0]["level"], "error");
        let location = &notes[0]["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "bad%20dir/x.tf");
        assert_eq!(location["artifactLocation"]["uriBaseId"], SRCROOT);
        assert_eq!(location["region"]["startLine"], 3);
        assert_eq!(location["region"]["startColumn"], 7);
        assert_eq!(notes[1]["level"], "note");
        assert!(notes[1]["locations"][0]["physicalLocation"]["region"].is_null());
        assert!(
            log["runs"][0]["results"]
                .as_array()
                .is_some_and(Vec::is_empty)
        );
    }
}
