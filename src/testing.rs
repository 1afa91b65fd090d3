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
//!   acl = "public-read" # rampart-expect: tf-aws-s3-public-acl
//! }
//! ```
//!
//! A marker alone on its line marks the next line that is not blank or a
//! comment. Formats without comments (JSON) list `LINE ID` pairs in a
//! sidecar file named like the case plus `.expect`.

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
    /// Marked but not found: (file, line).
    pub missing: Vec<(String, u32)>,
    /// Found but not marked: (file, line, message).
    pub unexpected: Vec<(String, u32, String)>,
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
    for query in registry.queries().iter().filter(|q| !q.deprecated) {
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
            let result = run_case(&single, query, &case, threads);
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
        engine: Default::default(),
        exceptions: None,
        baseline: None,
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
    let found: BTreeSet<(String, u32)> = scanned
        .findings
        .iter()
        .filter(|f| f.query_id == query.id)
        .map(|f| (f.file.clone(), f.span.start_line))
        .collect();
    result.missing = expected.difference(&found).cloned().collect();
    result.unexpected = scanned
        .findings
        .iter()
        .filter(|f| {
            f.query_id == query.id && !expected.contains(&(f.file.clone(), f.span.start_line))
        })
        .map(|f| (f.file.clone(), f.span.start_line, f.message.clone()))
        .collect();
    result
}

/// The (file, line) pairs a case marks for `id`.
pub fn expectations(case: &Path, id: &str) -> BTreeSet<(String, u32)> {
    let mut files = Vec::new();
    collect_files(case, &mut files);
    let mut out = BTreeSet::new();
    for file in files {
        let display = display_path(&file);
        if file.extension().is_some_and(|e| e == "expect") {
            continue;
        }
        let sidecar = PathBuf::from(format!("{}.expect", file.display()));
        if let Ok(text) = std::fs::read_to_string(&sidecar) {
            for line in text.lines() {
                let mut words = line.split_whitespace();
                if let (Some(n), Some(ids)) = (words.next(), words.next())
                    && let Ok(n) = n.parse::<u32>()
                    && ids.split(',').any(|i| i.trim() == id)
                {
                    out.insert((display.clone(), n));
                }
            }
        }
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (line, ids) in markers(&text) {
            if ids.iter().any(|i| i == id) {
                out.insert((display.clone(), line));
            }
        }
    }
    out
}

/// Markers in a text: (line marked, ids).
pub fn markers(text: &str) -> Vec<(u32, Vec<String>)> {
    crate::comments::comments(text, None, MARKER)
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
        for (file, line) in &case.missing {
            writeln!(out, "  missing: expected a finding at {file}:{line}")?;
        }
        for (file, line, message) in &case.unexpected {
            writeln!(out, "  unexpected: {file}:{line}: {message}")?;
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
