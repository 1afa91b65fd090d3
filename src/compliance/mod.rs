//! `rampart report`: many scan results (one JSON report per repository or
//! cluster scan, as CI jobs keep them) rolled up into one view a security
//! team reads: which repositories pass, which controls fail where, which
//! exceptions are in force or expired, and how findings move over time.
//!
//! Results are read one file at a time and reduced to counts at once, so
//! memory follows the summary (repositories × scans × queries), not the
//! number of findings.

pub mod html;
mod read;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::finding::Severity;
use crate::query::registry::Registry;

pub use read::{ClusterRecord, Inputs, ScanRecord, read_inputs};

/// The compliance report's format version (`version` in its JSON).
pub const FORMAT_VERSION: u32 = 1;

/// How exceptions expiring soon are told apart: within this many days.
pub const EXPIRING_DAYS: i64 = 30;

/// The whole roll-up; what the JSON holds and the HTML shows.
#[derive(Debug, Serialize)]
pub struct Compliance {
    /// Format version.
    pub version: u32,
    /// The day the report judges expiry by (UTC).
    pub today: String,
    /// The severity at or above which a repository fails.
    pub fail_on: Severity,
    /// Result files read.
    pub inputs: usize,
    /// Inputs that could not be used, with why.
    pub skipped: Vec<Skipped>,
    /// One entry per project, by name.
    pub repositories: Vec<Repository>,
    /// Queries failing in the current scans, most findings first.
    pub top_queries: Vec<QueryRollup>,
    /// Pass rates and per-control status, per framework.
    pub frameworks: Vec<FrameworkRollup>,
    /// Every exception and inline suppression in the current scans.
    pub exceptions: Vec<ExceptionEntry>,
    /// Admission decisions per cluster, from `rampart admission` audit logs.
    pub clusters: Vec<ClusterRecord>,
}

/// An input that was not used.
#[derive(Debug, Serialize)]
pub struct Skipped {
    /// The file.
    pub file: String,
    /// Why.
    pub reason: String,
}

/// One repository (or cluster): its newest scan, and the trend over all.
#[derive(Debug, Serialize)]
pub struct Repository {
    /// The project name (`scan.project`).
    pub project: String,
    /// The normalised remote, when known.
    pub repository: Option<String>,
    /// `pass` or `fail`, by the newest scan.
    pub status: &'static str,
    /// The newest scan.
    pub current: ScanRecord,
    /// Every scan, oldest first: findings and suppressions over time.
    pub trend: Vec<TrendPoint>,
}

/// One scan in a repository's trend.
#[derive(Debug, Serialize)]
pub struct TrendPoint {
    /// When it ran.
    pub scanned_at: String,
    /// The commit scanned.
    pub commit: Option<String>,
    /// Findings that count, by severity.
    pub findings: BTreeMap<Severity, usize>,
    /// Findings suppressed (inline, exception, baseline).
    pub suppressed: usize,
}

/// A query across the current scans.
#[derive(Debug, Serialize)]
pub struct QueryRollup {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its severity.
    pub severity: Severity,
    /// Findings that count, in all current scans.
    pub findings: usize,
    /// The projects it fails in.
    pub repositories: Vec<String>,
}

/// One framework's controls across the current scans.
#[derive(Debug, Serialize)]
pub struct FrameworkRollup {
    /// The framework's prefix (`CIS-K8S`).
    pub framework: &'static str,
    /// Its name.
    pub name: &'static str,
    /// Share of (repository, control) pairs that pass, 0–100; null when no
    /// query maps to the framework.
    pub pass_rate: Option<f64>,
    /// Its controls that some query supports.
    pub controls: Vec<ControlRollup>,
}

/// One control across the current scans.
#[derive(Debug, Serialize)]
pub struct ControlRollup {
    /// `CIS-K8S-5.2.1`.
    pub control: String,
    /// The queries that support it.
    pub queries: Vec<String>,
    /// Projects where none of those queries has a finding that counts.
    pub passing: Vec<String>,
    /// Projects where one has.
    pub failing: Vec<String>,
}

/// An exception or inline suppression in force (or lapsed) in a current scan.
#[derive(Debug, Serialize)]
pub struct ExceptionEntry {
    /// The projects it applies in (one exceptions file often serves many).
    pub projects: Vec<String>,
    /// `exception` (the security team's file) or `inline` (in the code).
    pub kind: &'static str,
    /// The query excepted.
    pub query: String,
    /// Where it is written (`exceptions.yaml:4`, `main.tf:12`).
    pub origin: String,
    /// The paths an exception covers.
    pub paths: Vec<String>,
    /// Why.
    pub reason: Option<String>,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// Its last day.
    pub expires: Option<String>,
    /// `active`, `expiring` (within 30 days), `expired`, or `no-reason`
    /// (an inline suppression that gives none).
    pub status: &'static str,
    /// Findings it suppressed in the scan.
    pub findings: usize,
}

/// Rolls `scans` up. `today` is `YYYY-MM-DD` (UTC).
pub fn aggregate(
    inputs: Inputs,
    registry: &Registry,
    fail_on: Severity,
    today: crate::date::Date,
) -> Compliance {
    let Inputs {
        scans,
        mut clusters,
        skipped,
        files: inputs,
    } = inputs;
    clusters.sort_by(|a, b| a.cluster.cmp(&b.cluster).then(a.source.cmp(&b.source)));
    let mut by_project: BTreeMap<String, Vec<ScanRecord>> = BTreeMap::new();
    for scan in scans {
        by_project
            .entry(scan.project.clone())
            .or_default()
            .push(scan);
    }
    let mut repositories = Vec::new();
    for (project, mut scans) in by_project {
        // Newest last; ties broken by commit so the order is total.
        scans.sort_by(|a, b| {
            (a.scanned_at.as_str(), a.commit.as_deref())
                .cmp(&(b.scanned_at.as_str(), b.commit.as_deref()))
        });
        let trend = scans
            .iter()
            .map(|s| TrendPoint {
                scanned_at: s.scanned_at.clone(),
                commit: s.commit.clone(),
                findings: s.findings.clone(),
                suppressed: s.suppressed.values().sum(),
            })
            .collect();
        let Some(current) = scans.pop() else {
            continue;
        };
        let status = if current.fails(fail_on) {
            "fail"
        } else {
            "pass"
        };
        repositories.push(Repository {
            project,
            repository: current.repository.clone(),
            status,
            current,
            trend,
        });
    }
    let top_queries = top_queries(&repositories, registry);
    let frameworks = frameworks(&repositories, registry);
    let exceptions = exceptions(&repositories, today);
    Compliance {
        version: FORMAT_VERSION,
        today: today.to_string(),
        fail_on,
        inputs,
        skipped,
        repositories,
        top_queries,
        frameworks,
        exceptions,
        clusters,
    }
}

fn top_queries(repositories: &[Repository], registry: &Registry) -> Vec<QueryRollup> {
    let mut rollup: BTreeMap<&str, (usize, BTreeSet<&str>, Severity)> = BTreeMap::new();
    for repo in repositories {
        for q in &repo.current.queries {
            let entry = rollup
                .entry(q.id.as_str())
                .or_insert((0, BTreeSet::new(), q.severity));
            entry.0 += q.findings;
            entry.1.insert(repo.project.as_str());
        }
    }
    let mut out: Vec<QueryRollup> = rollup
        .into_iter()
        .map(|(id, (findings, repos, severity))| QueryRollup {
            id: id.to_string(),
            title: registry
                .get(id)
                .map(|q| q.title.clone())
                .unwrap_or_default(),
            severity,
            findings,
            repositories: repos.into_iter().map(str::to_string).collect(),
        })
        .collect();
    out.sort_by(|a, b| {
        b.findings
            .cmp(&a.findings)
            .then(b.severity.cmp(&a.severity))
            .then(a.id.cmp(&b.id))
    });
    out
}

fn frameworks(repositories: &[Repository], registry: &Registry) -> Vec<FrameworkRollup> {
    use crate::query::control::Framework;
    // Control → the queries supporting it.
    let mut controls: BTreeMap<crate::query::control::Control, Vec<String>> = BTreeMap::new();
    for q in registry.queries().filter(|q| !q.deprecated) {
        for c in &q.controls {
            controls.entry(c.clone()).or_default().push(q.id.clone());
        }
    }
    Framework::ALL
        .iter()
        .map(|&framework| {
            let mut rollups = Vec::new();
            let (mut pass, mut total) = (0usize, 0usize);
            for (control, queries) in controls.iter().filter(|(c, _)| c.framework == framework) {
                let mut passing = Vec::new();
                let mut failing = Vec::new();
                for repo in repositories {
                    let fails = repo
                        .current
                        .queries
                        .iter()
                        .any(|q| q.findings > 0 && queries.contains(&q.id));
                    if fails {
                        failing.push(repo.project.clone());
                    } else {
                        passing.push(repo.project.clone());
                    }
                }
                pass += passing.len();
                total += passing.len() + failing.len();
                rollups.push(ControlRollup {
                    control: control.to_string(),
                    queries: queries.clone(),
                    passing,
                    failing,
                });
            }
            FrameworkRollup {
                framework: framework.prefix(),
                name: framework.name(),
                pass_rate: (total > 0)
                    .then(|| (pass as f64 * 1000.0 / total as f64).round() / 10.0),
                controls: rollups,
            }
        })
        .collect()
}

fn exceptions(repositories: &[Repository], today: crate::date::Date) -> Vec<ExceptionEntry> {
    let status_of = |expires: Option<&str>, reason: Option<&str>| {
        let expires = expires.and_then(crate::date::Date::parse);
        match expires {
            Some(d) if d < today => "expired",
            _ if reason.is_none_or(|r| r.trim().is_empty()) => "no-reason",
            Some(d) if d.days() - today.days() <= EXPIRING_DAYS => "expiring",
            _ => "active",
        }
    };
    // Entries of an exceptions file, once however many repositories use it.
    let mut shared: BTreeMap<(String, String), ExceptionEntry> = BTreeMap::new();
    let mut out = Vec::new();
    for repo in repositories {
        for e in &repo.current.exceptions {
            let findings = repo
                .current
                .suppressed_by
                .get(&e.origin)
                .copied()
                .unwrap_or(0);
            let entry = shared
                .entry((e.origin.clone(), e.query.clone()))
                .or_insert_with(|| ExceptionEntry {
                    projects: Vec::new(),
                    kind: "exception",
                    query: e.query.clone(),
                    origin: e.origin.clone(),
                    paths: e.paths.clone(),
                    reason: Some(e.reason.clone()),
                    approved_by: e.approved_by.clone(),
                    expires: Some(e.expires.clone()),
                    status: status_of(Some(&e.expires), Some(&e.reason)),
                    findings: 0,
                });
            entry.projects.push(repo.project.clone());
            entry.findings += findings;
        }
        for (key, findings) in &repo.current.inline {
            out.push(ExceptionEntry {
                projects: vec![repo.project.clone()],
                kind: "inline",
                query: key.query.clone(),
                origin: key.origin.clone(),
                paths: Vec::new(),
                reason: key.reason.clone(),
                approved_by: None,
                expires: key.expires.clone(),
                status: status_of(key.expires.as_deref(), key.reason.as_deref()),
                findings: *findings,
            });
        }
    }
    let mut all: Vec<ExceptionEntry> = shared.into_values().collect();
    all.extend(out);
    all
}

/// The formats `rampart report` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// The JSON roll-up (`docs/compliance-format.md`).
    Json,
    /// The self-contained HTML page.
    Html,
}

/// Parses `html:PATH`, `json:PATH`, `html`, `json` (standard output),
/// `json:-`.
pub fn parse_output(spec: &str) -> Result<(ReportFormat, crate::report::output::Target), String> {
    let (format, path) = match spec.split_once(':') {
        Some((f, p)) => (f, p),
        None => (spec, "-"),
    };
    let format = match format {
        "json" => ReportFormat::Json,
        "html" => ReportFormat::Html,
        other => {
            return Err(format!(
                "-o {spec}: unknown report format \"{other}\"; formats: html, json"
            ));
        }
    };
    let path = if path.is_empty() { "-" } else { path };
    Ok((format, crate::report::output::Target::of_path(path)))
}
