//! Reading rampart JSON results, each reduced to a [`ScanRecord`] at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Skipped;
use crate::finding::Severity;
use crate::suppress::ExceptionRecord;

/// One scan, reduced to what the roll-up needs.
#[derive(Clone, Debug, Serialize)]
pub struct ScanRecord {
    /// The result file it was read from.
    pub source: String,
    /// `scan.project`, else the result file's directory name.
    pub project: String,
    /// The normalised remote.
    pub repository: Option<String>,
    /// The commit scanned.
    pub commit: Option<String>,
    /// The branch scanned.
    pub branch: Option<String>,
    /// When (RFC 3339; empty when the result does not say).
    pub scanned_at: String,
    /// rampart's version.
    pub rampart_version: String,
    /// The query library's version.
    pub library_version: Option<String>,
    /// Findings that count, by severity.
    pub findings: BTreeMap<Severity, usize>,
    /// Suppressed findings by kind (`inline`, `exception`, `baseline`).
    pub suppressed: BTreeMap<String, usize>,
    /// Findings that count, per query, most first.
    pub queries: Vec<QueryCount>,
    /// The exceptions file's entries the scan used.
    pub exceptions: Vec<ExceptionRecord>,
    /// Findings suppressed, by the origin of the exception that did it.
    #[serde(skip)]
    pub suppressed_by: BTreeMap<String, usize>,
    /// Inline suppressions, with the findings each suppressed.
    #[serde(skip)]
    pub inline: BTreeMap<InlineKey, usize>,
}

impl ScanRecord {
    /// Whether a finding that counts is at or above `fail_on`.
    pub fn fails(&self, fail_on: Severity) -> bool {
        self.findings
            .iter()
            .any(|(severity, n)| *severity >= fail_on && *n > 0)
    }
}

/// One query's findings in a scan.
#[derive(Clone, Debug, Serialize)]
pub struct QueryCount {
    /// The query id.
    pub id: String,
    /// Its severity.
    pub severity: Severity,
    /// Findings that count.
    pub findings: usize,
    /// Files they are in.
    pub files: usize,
}

/// An inline suppression, as the findings it suppressed describe it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct InlineKey {
    /// The query.
    pub query: String,
    /// Where the comment is (`main.tf:12`).
    pub origin: String,
    /// Its reason.
    pub reason: Option<String>,
    /// Its expiry.
    pub expires: Option<String>,
}

#[derive(Deserialize)]
struct ResultFile {
    tool: Tool,
    #[serde(default)]
    scan: Option<Identity>,
    #[serde(default)]
    findings: Vec<Finding>,
    #[serde(default)]
    exceptions: Vec<ExceptionRecord>,
}

#[derive(Deserialize)]
struct Tool {
    name: String,
    version: String,
    #[serde(default)]
    library_version: Option<String>,
}

#[derive(Deserialize)]
struct Identity {
    project: String,
    repository: Option<String>,
    commit: Option<String>,
    branch: Option<String>,
    scanned_at: String,
}

#[derive(Deserialize)]
struct Finding {
    query_id: String,
    severity: Severity,
    file: String,
    suppressed: Option<Suppression>,
}

#[derive(Deserialize)]
struct Suppression {
    kind: String,
    reason: Option<String>,
    origin: String,
    expires: Option<String>,
}

/// The result files under `paths`: a file as given, a directory's `*.json`
/// files (scan results) and `*.jsonl`/`*.log` files (admission audit logs)
/// at any depth, in path order.
fn expand(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = ignore::WalkBuilder::new(path)
                .standard_filters(false)
                .build()
                .flatten()
                .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
                .map(|e| e.into_path())
                .filter(|p| {
                    p.extension()
                        .is_some_and(|x| x == "json" || x == "jsonl" || x == "log")
                })
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    out
}

/// What the inputs held.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Scan results, one per file.
    pub scans: Vec<ScanRecord>,
    /// Admission audit logs, one per file.
    pub clusters: Vec<ClusterRecord>,
    /// Files that are neither, with why.
    pub skipped: Vec<Skipped>,
    /// Files read.
    pub files: usize,
}

/// Reads every result and audit log under `paths`. A file that is neither
/// a rampart JSON result nor a `rampart admission` audit log is skipped
/// with the reason (a lockfile in the same artifact directory).
pub fn read_inputs(paths: &[PathBuf]) -> Inputs {
    let files = expand(paths);
    let mut inputs = Inputs {
        files: files.len(),
        ..Inputs::default()
    };
    for file in &files {
        let is_log = file.extension().is_some_and(|x| x == "jsonl" || x == "log");
        let read = if is_log {
            read_audit_log(file).map(Either::Cluster)
        } else {
            read_one(file).map(Either::Scan)
        };
        match read {
            Ok(Either::Scan(scan)) => inputs.scans.push(scan),
            Ok(Either::Cluster(cluster)) => inputs.clusters.push(cluster),
            Err(reason) => inputs.skipped.push(Skipped {
                file: crate::discover::display_path(file),
                reason,
            }),
        }
    }
    inputs
}

enum Either {
    Scan(ScanRecord),
    Cluster(ClusterRecord),
}

/// One cluster's admission decisions, from its audit log.
#[derive(Clone, Debug, Serialize)]
pub struct ClusterRecord {
    /// The log's file name without extension (`prod-eu.jsonl` → `prod-eu`).
    pub cluster: String,
    /// The log file.
    pub source: String,
    /// Decisions logged.
    pub decisions: usize,
    /// Requests refused and enforced (dry runs never count).
    pub denied: usize,
    /// Requests allowed with findings (warn and audit modes).
    pub allowed_with_findings: usize,
    /// Dry-run requests evaluated.
    pub dry_runs: usize,
    /// Enforced denials by the query that found something.
    pub denials_by_query: BTreeMap<String, usize>,
    /// Findings let through by an exception, by exception origin.
    pub exceptions_used: BTreeMap<String, usize>,
    /// The first and last decision's time.
    pub first: Option<String>,
    /// See `first`.
    pub last: Option<String>,
}

#[derive(Deserialize)]
struct AuditLine {
    event: String,
    time: Option<String>,
    decision: String,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    enforced: bool,
    #[serde(default)]
    findings: Vec<AuditFinding>,
    #[serde(default)]
    exceptions: Vec<AuditException>,
}

#[derive(Deserialize)]
struct AuditFinding {
    query: String,
    suppressed: Option<String>,
}

#[derive(Deserialize)]
struct AuditException {
    origin: String,
}

/// Reads a `rampart admission` audit log: its `admission.decision` lines;
/// other lines (server events, anything a collector interleaved) are left
/// alone. A file with no decision line is not an audit log.
fn read_audit_log(path: &Path) -> Result<ClusterRecord, String> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).map_err(|e| crate::discover::io_reason(&e).to_string())?;
    let mut record = ClusterRecord {
        cluster: path
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
        source: crate::discover::display_path(path),
        decisions: 0,
        denied: 0,
        allowed_with_findings: 0,
        dry_runs: 0,
        denials_by_query: BTreeMap::new(),
        exceptions_used: BTreeMap::new(),
        first: None,
        last: None,
    };
    for line in std::io::BufReader::new(file).lines() {
        let line = line.map_err(|e| format!("cannot read: {e}"))?;
        let Ok(decision) = serde_json::from_str::<AuditLine>(&line) else {
            continue;
        };
        if decision.event != "admission.decision" {
            continue;
        }
        record.decisions += 1;
        if decision.dry_run {
            record.dry_runs += 1;
        }
        let counting: Vec<&AuditFinding> = decision
            .findings
            .iter()
            .filter(|f| f.suppressed.is_none())
            .collect();
        if decision.enforced {
            record.denied += 1;
            for f in &counting {
                *record.denials_by_query.entry(f.query.clone()).or_default() += 1;
            }
        } else if decision.decision == "allow" && !counting.is_empty() {
            record.allowed_with_findings += 1;
        }
        for e in decision.exceptions {
            *record.exceptions_used.entry(e.origin).or_default() += 1;
        }
        if record.first.is_none() {
            record.first.clone_from(&decision.time);
        }
        record.last = decision.time;
    }
    if record.decisions == 0 {
        return Err("no admission decision in it (not a rampart admission audit log)".into());
    }
    Ok(record)
}

fn read_one(path: &Path) -> Result<ScanRecord, String> {
    let file = std::fs::File::open(path).map_err(|e| crate::discover::io_reason(&e).to_string())?;
    let result: ResultFile = serde_json::from_reader(std::io::BufReader::new(file))
        .map_err(|e| format!("not a rampart JSON result: {e}"))?;
    if result.tool.name != "rampart" {
        return Err(format!("written by {}, not rampart", result.tool.name));
    }
    let source = crate::discover::display_path(path);
    let identity = result.scan.unwrap_or_else(|| Identity {
        // A result from before results carried their identity: named by
        // the directory it was kept in.
        project: path
            .parent()
            .and_then(|p| p.file_name())
            .map_or_else(|| source.clone(), |n| n.to_string_lossy().into_owned()),
        repository: None,
        commit: None,
        branch: None,
        scanned_at: String::new(),
    });
    let mut findings: BTreeMap<Severity, usize> = BTreeMap::new();
    let mut suppressed: BTreeMap<String, usize> = BTreeMap::new();
    let mut suppressed_by: BTreeMap<String, usize> = BTreeMap::new();
    let mut inline: BTreeMap<InlineKey, usize> = BTreeMap::new();
    let mut per_query: BTreeMap<String, (Severity, usize, std::collections::BTreeSet<String>)> =
        BTreeMap::new();
    for f in result.findings {
        match f.suppressed {
            Some(s) => {
                *suppressed.entry(s.kind.clone()).or_default() += 1;
                match s.kind.as_str() {
                    "exception" => *suppressed_by.entry(s.origin).or_default() += 1,
                    "inline" => {
                        *inline
                            .entry(InlineKey {
                                query: f.query_id,
                                origin: s.origin,
                                reason: s.reason,
                                expires: s.expires,
                            })
                            .or_default() += 1
                    }
                    _ => {}
                }
            }
            None => {
                *findings.entry(f.severity).or_default() += 1;
                let entry =
                    per_query
                        .entry(f.query_id)
                        .or_insert((f.severity, 0, Default::default()));
                entry.1 += 1;
                entry.2.insert(f.file);
            }
        }
    }
    let mut queries: Vec<QueryCount> = per_query
        .into_iter()
        .map(|(id, (severity, n, files))| QueryCount {
            id,
            severity,
            findings: n,
            files: files.len(),
        })
        .collect();
    queries.sort_by(|a, b| b.findings.cmp(&a.findings).then(a.id.cmp(&b.id)));
    Ok(ScanRecord {
        source,
        project: identity.project,
        repository: identity.repository,
        commit: identity.commit,
        branch: identity.branch,
        scanned_at: identity.scanned_at,
        rampart_version: result.tool.version,
        library_version: result.tool.library_version,
        findings,
        suppressed,
        queries,
        exceptions: result.exceptions,
        suppressed_by,
        inline,
    })
}
