//! The fixture runner behind `rampart test DIR` and the library's own test
//! suite: each query's good and bad cases are scanned for real, and the
//! findings of that query must be exactly the ones its fixtures mark.
//!
//! A query pack is a directory with `queries/` and `fixtures/` side by side:
//! the query `queries/<area>/<id>.yaml` has its cases in
//! `fixtures/<area>/<id>/`, each case a file or a directory (a directory is
//! scanned as one unit, for a Terraform module of several files). A case
//! marks each finding it expects on the line the finding must point at:
//!
//! ```text
//! resource "aws_s3_bucket" "b" {
//!   acl = "public-read" # rampart-expect: aws-s3-public-acl
//! }
//! ```
//!
//! A marker alone on its line marks the next line that is not blank or a
//! comment. Formats without comments (JSON) list `LINE ID` pairs in a
//! sidecar file named like the case plus `.expect`.
//!
//! The check is exact: every marker is one finding, so a line where two
//! findings belong (two module instances, two offending elements) names the
//! id twice, and a marker may pin the column with `ID@COLUMN`
//! (`# rampart-expect: aws-s3-public-acl@12`). A finding no marker
//! accounts for fails the case, as does a marker no finding meets.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::discover::{DiscoverOptions, display_path};
use crate::load::LoadOptions;
use crate::query::Query;
use crate::query::compile::LoadError;
use crate::query::registry::Registry;
use crate::scan::{ScanConfig, scan};
use crate::source::DEFAULT_MAX_FILE_SIZE;

/// The marker that says "a finding of this query belongs on this line".
pub const MARKER: &str = "rampart-expect:";

/// One case of one query, run.
#[derive(Debug)]
pub struct CaseResult {
    /// The query.
    pub query_id: String,
    /// The case path (display form).
    pub case: String,
    /// Marked but not found.
    pub missing: Vec<Expectation>,
    /// Found but not marked.
    pub unexpected: Vec<FoundAt>,
    /// Read or parse errors in the case (a fixture must parse).
    pub errors: Vec<String>,
    /// Findings the case marks (0 for a good case).
    pub expected: usize,
}

impl CaseResult {
    /// True when the case behaved exactly as marked.
    pub fn passed(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && self.errors.is_empty()
    }
}

/// The result of running a pack's fixtures.
#[derive(Debug, Default)]
pub struct TestReport {
    /// Every case, by query id then case path.
    pub cases: Vec<CaseResult>,
    /// Queries with no case that expects a finding (`bad`), or none that
    /// expects nothing (`good`).
    pub incomplete: Vec<(String, &'static str)>,
}

impl TestReport {
    /// True when every case passed and every query has a good and a bad case.
    pub fn passed(&self) -> bool {
        self.cases.iter().all(CaseResult::passed) && self.incomplete.is_empty()
    }
}

/// Loads the pack at `root` (its `queries/`) and runs every query's cases.
pub fn run_pack(root: &Path, threads: usize) -> Result<TestReport, Vec<LoadError>> {
    let queries_dir = root.join("queries");
    let registry = Registry::load(false, &[&queries_dir])?;
    Ok(run_fixtures(
        &registry,
        &queries_dir,
        &root.join("fixtures"),
        threads,
    ))
}

/// Runs the cases of every query in `registry`, finding each query's
/// fixture directory by its source path relative to `queries_dir`.
pub fn run_fixtures(
    registry: &Registry,
    queries_dir: &Path,
    fixtures_dir: &Path,
    threads: usize,
) -> TestReport {
    let mut report = TestReport::default();
    let queries_prefix = format!("{}/", display_path(queries_dir));
    for query in registry.queries().filter(|q| !q.deprecated) {
        let relative = query
            .source
            .strip_prefix(&queries_prefix)
            .or_else(|| query.source.strip_prefix("queries/"))
            .unwrap_or(&query.source);
        let case_dir =
            fixtures_dir.join(relative.trim_end_matches(".yaml").trim_end_matches(".yml"));
        let cases = list_cases(&case_dir);
        let single = registry.subset(|q| q.id == query.id);
        let mut has_bad = false;
        let mut has_good = false;
        for case in cases {
            let result = match case_settings(query, &case) {
                Ok(None) => run_case(&single, query, &case, threads),
                Ok(Some(tuned)) => run_case(&tuned, query, &case, threads),
                Err(e) => CaseResult {
                    query_id: query.id.clone(),
                    case: display_path(&case),
                    missing: Vec::new(),
                    unexpected: Vec::new(),
                    errors: vec![e],
                    expected: 0,
                },
            };
            if result.expected > 0 {
                has_bad = true;
            } else {
                has_good = true;
            }
            report.cases.push(result);
        }
        if !has_bad {
            report.incomplete.push((
                query.id.clone(),
                "no bad case (one with a rampart-expect marker)",
            ));
        }
        if !has_good {
            report
                .incomplete
                .push((query.id.clone(), "no good case (one without markers)"));
        }
    }
    report
}

/// A case directory's `.rampart.yaml` sets the query's parameters for that
/// case: the query compiled again with them (from its file, or from the
/// binary for the built-in library). `None` when the case sets none.
fn case_settings(query: &Query, case: &Path) -> Result<Option<Registry>, String> {
    let settings = case.join(crate::config::FILE_NAMES[0]);
    if !case.is_dir() || !settings.is_file() {
        return Ok(None);
    }
    let file = crate::config::load(&settings).map_err(|e| e.to_string())?;
    let text = match std::fs::read_to_string(&query.source) {
        Ok(text) => text,
        Err(_) => query
            .source
            .strip_prefix("queries/")
            .and_then(|path| {
                crate::query::registry::embedded_queries()
                    .iter()
                    .find(|(p, _)| *p == path)
            })
            .map(|(_, text)| text.to_string())
            .ok_or_else(|| format!("{}: cannot read the query again", query.source))?,
    };
    Registry::from_sources_with([(query.source.clone(), text.as_str())], &file.parameters)
        .map(Some)
        .map_err(|errors| {
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })
}

fn list_cases(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut cases: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_none_or(|e| e != "expect"))
        .collect();
    cases.sort();
    cases
}

fn run_case(registry: &Registry, query: &Query, case: &Path, threads: usize) -> CaseResult {
    let config = ScanConfig {
        paths: vec![case.to_path_buf()],
        discover: DiscoverOptions::default(),
        load: LoadOptions::with_max_file_size(DEFAULT_MAX_FILE_SIZE),
        threads,
        progress: false,
        inline: Default::default(),
        line_hashes: false,
        exceptions: None,
        baseline: None,
        fingerprint_root: None,
        render: Default::default(),
    };
    let mut result = CaseResult {
        query_id: query.id.clone(),
        case: display_path(case),
        missing: Vec::new(),
        unexpected: Vec::new(),
        errors: Vec::new(),
        expected: 0,
    };
    let scanned = match scan(&config, registry) {
        Ok(s) => s,
        Err(e) => {
            result.errors.push(e.to_string());
            return result;
        }
    };
    result.errors = scanned
        .diagnostics
        .iter()
        .filter(|d| d.level == crate::diagnostic::Level::Error)
        .map(ToString::to_string)
        .collect();
    let expected = expectations(case, &query.id);
    result.expected = expected.len();
    let found: Vec<FoundAt> = scanned
        .findings
        .iter()
        .filter(|f| f.query_id == query.id)
        .map(|f| FoundAt {
            file: f.file.clone(),
            line: f.span.start_line,
            column: f.span.start_col,
            message: f.message.clone(),
        })
        .collect();
    let (missing, unexpected) = match_findings(expected, found);
    result.missing = missing;
    result.unexpected = unexpected;
    result
}

/// One finding a case expects: where, and optionally at which column.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expectation {
    /// The file (display path).
    pub file: String,
    /// The line the finding must start on.
    pub line: u32,
    /// The column it must start at, when the marker gives one.
    pub column: Option<u32>,
}

impl std::fmt::Display for Expectation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if let Some(c) = self.column {
            write!(f, ":{c}")?;
        }
        Ok(())
    }
}

/// A finding of the query under test, where a marker must account for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundAt {
    /// The file (display path).
    pub file: String,
    /// Its first line.
    pub line: u32,
    /// Its first column.
    pub column: u32,
    /// Its message.
    pub message: String,
}

/// Pairs expected and found findings one to one: markers with a column
/// first (they can only take a finding at that column), then the rest by
/// line. Returns the markers left unmet and the findings left unaccounted.
fn match_findings(
    mut expected: Vec<Expectation>,
    found: Vec<FoundAt>,
) -> (Vec<Expectation>, Vec<FoundAt>) {
    expected.sort_by_key(|e| e.column.is_none());
    let mut taken = vec![false; found.len()];
    let mut missing = Vec::new();
    for e in expected {
        let slot = found.iter().enumerate().position(|(i, f)| {
            !taken[i]
                && f.file == e.file
                && f.line == e.line
                && e.column.is_none_or(|c| c == f.column)
        });
        match slot {
            Some(i) => taken[i] = true,
            None => missing.push(e),
        }
    }
    missing.sort();
    let unexpected = found
        .into_iter()
        .zip(taken)
        .filter(|(_, taken)| !taken)
        .map(|(f, _)| f)
        .collect();
    (missing, unexpected)
}

/// The findings a case marks for `id`, one per marker (a line marked twice
/// expects two findings).
pub fn expectations(case: &Path, id: &str) -> Vec<Expectation> {
    let mut files = Vec::new();
    collect_files(case, &mut files);
    let mut out = Vec::new();
    for file in files {
        let display = display_path(&file);
        if file.extension().is_some_and(|e| e == "expect") {
            continue;
        }
        let sidecar = PathBuf::from(format!("{}.expect", file.display()));
        if let Ok(text) = std::fs::read_to_string(&sidecar) {
            for line in text.lines() {
                let mut words = line.split_whitespace();
                let (Some(n), Some(ids)) = (words.next(), words.next()) else {
                    continue;
                };
                let Ok(n) = n.parse::<u32>() else {
                    continue;
                };
                for marked in ids.split(',').filter_map(|i| MarkedId::parse(i.trim())) {
                    if marked.id == id {
                        out.push(Expectation {
                            file: display.clone(),
                            line: n,
                            column: marked.column,
                        });
                    }
                }
            }
        }
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (line, ids) in markers(&text) {
            for marked in ids.iter().filter_map(|i| MarkedId::parse(i)) {
                if marked.id == id {
                    out.push(Expectation {
                        file: display.clone(),
                        line,
                        column: marked.column,
                    });
                }
            }
        }
    }
    out
}

/// A query id in a marker, with the column it may pin (`ID@12`).
struct MarkedId<'a> {
    id: &'a str,
    column: Option<u32>,
}

impl<'a> MarkedId<'a> {
    fn parse(text: &'a str) -> Option<MarkedId<'a>> {
        if text.is_empty() {
            return None;
        }
        Some(match text.split_once('@') {
            Some((id, column)) => MarkedId {
                id,
                column: column.parse().ok(),
            },
            None => MarkedId {
                id: text,
                column: None,
            },
        })
    }
}

/// Markers in a text: (line marked, ids as written, `ID` or `ID@COLUMN`).
pub fn markers(text: &str) -> Vec<(u32, Vec<String>)> {
    // Markers may be written in any of the platforms' comment forms.
    crate::comments::comments(text, crate::platform::CommentSyntax::HashOrSlashes, MARKER)
        .into_iter()
        .filter_map(|c| {
            let (_, ids) = c.text.split_once(MARKER)?;
            let ids = ids
                .split([',', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            Some((c.target, ids))
        })
        .collect()
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            collect_files(&p, out);
        }
    } else {
        out.push(path.to_path_buf());
    }
}

/// Writes a readable pass/fail report; every failure, then a summary line.
pub fn render(report: &TestReport, out: &mut dyn Write) -> io::Result<()> {
    let mut failed = 0;
    for case in &report.cases {
        if case.passed() {
            continue;
        }
        failed += 1;
        writeln!(out, "FAIL {} {}", case.query_id, case.case)?;
        for e in &case.errors {
            writeln!(out, "  error: {e}")?;
        }
        for expected in &case.missing {
            writeln!(out, "  missing: expected a finding at {expected}")?;
        }
        for f in &case.unexpected {
            writeln!(
                out,
                "  unexpected: {}:{}:{}: {}",
                f.file, f.line, f.column, f.message
            )?;
        }
    }
    for (id, what) in &report.incomplete {
        writeln!(out, "FAIL {id}: {what}")?;
    }
    let queries: BTreeSet<&str> = report.cases.iter().map(|c| c.query_id.as_str()).collect();
    writeln!(
        out,
        "{} passed, {} failed ({} cases of {} queries{})",
        report.cases.len() - failed,
        failed,
        report.cases.len(),
        queries.len(),
        if report.incomplete.is_empty() {
            String::new()
        } else {
            format!(", {} without a good or bad case", report.incomplete.len())
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect(line: u32, column: Option<u32>) -> Expectation {
        Expectation {
            file: "f.tf".into(),
            line,
            column,
        }
    }

    fn found(line: u32, column: u32) -> FoundAt {
        FoundAt {
            file: "f.tf".into(),
            line,
            column,
            message: "m".into(),
        }
    }

    #[test]
    fn one_marker_accounts_for_one_finding() {
        // Two findings on a line marked once: one is unexpected.
        let (missing, unexpected) =
            match_findings(vec![expect(3, None)], vec![found(3, 1), found(3, 9)]);
        assert!(missing.is_empty());
        assert_eq!(unexpected, vec![found(3, 9)]);
        // Marked twice: both accounted for.
        let (missing, unexpected) = match_findings(
            vec![expect(3, None), expect(3, None)],
            vec![found(3, 1), found(3, 9)],
        );
        assert!(missing.is_empty() && unexpected.is_empty());
    }

    #[test]
    fn a_column_pins_the_finding() {
        let (missing, unexpected) = match_findings(vec![expect(3, Some(9))], vec![found(3, 1)]);
        assert_eq!(missing, vec![expect(3, Some(9))]);
        assert_eq!(unexpected, vec![found(3, 1)]);
        // A pinned marker takes its column first, whatever the order.
        let (missing, unexpected) = match_findings(
            vec![expect(3, None), expect(3, Some(1))],
            vec![found(3, 1), found(3, 9)],
        );
        assert!(missing.is_empty() && unexpected.is_empty());
    }

    #[test]
    fn marked_ids_may_give_a_column() {
        let m = MarkedId::parse("q1@12").expect("parses");
        assert_eq!((m.id, m.column), ("q1", Some(12)));
        let m = MarkedId::parse("q1").expect("parses");
        assert_eq!((m.id, m.column), ("q1", None));
    }

    #[test]
    fn markers_on_the_line_and_above() {
        let text = "a = 1 # rampart-expect: q1\n# rampart-expect: q2, q3\n\n# other comment\nb = 2\n// rampart-expect: q4\nc = 3\n";
        assert_eq!(
            markers(text),
            vec![
                (1, vec!["q1".to_string()]),
                (5, vec!["q2".to_string(), "q3".to_string()]),
                (7, vec!["q4".to_string()]),
            ]
        );
    }
}
