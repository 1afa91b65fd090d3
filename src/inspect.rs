//! `rampart inspect`: what rampart read, so a policy author sees what a query
//! will see. For each file, its platform and its entities with their
//! locations; with `--tree`, the common tree itself as JSON with spans.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::diagnostic::{Diagnostic, Level};
use crate::discover::{DiscoverOptions, ExcludeError, discover};
use crate::load::{LoadOptions, LoadedUnit};
use crate::platform::{Platform, entities};
use crate::scan::for_each_unit;
use crate::tree::{Node, Span};

/// What to inspect and how.
#[derive(Clone, Debug)]
pub struct InspectConfig {
    /// Files and directories to read.
    pub paths: Vec<PathBuf>,
    /// How to walk directories.
    pub discover: DiscoverOptions,
    /// How to read files.
    pub load: LoadOptions,
    /// Include each file's documents (the common tree) in the report.
    pub tree: bool,
    /// How Helm charts and kustomizations render.
    pub render: crate::render::RenderOptions,
}

/// What `inspect` found.
#[derive(Debug, Serialize)]
pub struct InspectReport {
    /// Recognised files, in path order.
    pub files: Vec<FileReport>,
    /// Read and parse problems, and deliberate skips, in path order.
    pub diagnostics: Vec<Diagnostic>,
    /// Totals.
    pub stats: Stats,
}

/// One recognised file.
#[derive(Debug, Serialize)]
pub struct FileReport {
    /// Display path.
    pub file: String,
    /// Its platform.
    pub platform: Platform,
    /// Number of documents read from it.
    pub documents: usize,
    /// Its entities in source order.
    pub entities: Vec<EntityReport>,
    /// Object kinds whose pod specs were recognised without a fixed path
    /// (by shape, or as Argo Workflows templates): `Rollout (by shape)`,
    /// one per pod spec.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recognised_workloads: Vec<String>,
    /// The documents themselves, with `--tree`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tree: Option<Vec<Node>>,
}

/// One entity, as `inspect` lists it.
#[derive(Debug, Serialize)]
pub struct EntityReport {
    /// Its kind (`resource.aws_s3_bucket`, `container`).
    pub kind: String,
    /// Its identity (`aws_s3_bucket.logs`).
    pub identity: String,
    /// Where a finding about it as a whole points.
    pub header: Span,
    /// Where all of it is.
    pub span: Span,
}

/// Totals over the whole run.
#[derive(Debug, Default, Serialize)]
pub struct Stats {
    /// Recognised files per platform.
    pub files: BTreeMap<Platform, usize>,
    /// Documents over all files.
    pub documents: usize,
    /// Entities over all files.
    pub entities: usize,
    /// Bytes read (recognised or not).
    pub bytes: u64,
    /// Pod specs recognised without a fixed path, per object kind and how
    /// (`Rollout (by shape)`: 2).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub recognised_workloads: BTreeMap<String, usize>,
    /// Files considered by name, whether or not their content was IaC.
    pub candidates: usize,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Reads everything under `config.paths` and describes it.
pub fn inspect(config: &InspectConfig, threads: usize) -> Result<InspectReport, ExcludeError> {
    crate::scan::in_pool(threads, || inspect_in_pool(config))
}

fn inspect_in_pool(config: &InspectConfig) -> Result<InspectReport, ExcludeError> {
    let started = Instant::now();
    let discovery = discover(&config.paths, &config.discover)?;
    let candidates = discovery.files.len();
    let units = crate::scan::units_and_renders(
        &config.paths,
        config.load.max_file_size,
        discovery.files,
        discovery.roots,
        &config.render,
        &crate::query::scan_index::Wanted::new(Vec::new()),
    )
    .units;
    let with_tree = config.tree;
    let results = for_each_unit(units, &config.load, |mut unit| {
        // Every tree is shown, so a large stream is read whole.
        crate::load::read_streamed_whole(&mut unit);
        describe_unit(unit, with_tree)
    });

    let mut files = Vec::new();
    let mut diagnostics = discovery.diagnostics;
    let mut bytes = 0;
    for result in results {
        match result {
            Ok((unit_files, unit_diagnostics, unit_bytes)) => {
                files.extend(unit_files);
                diagnostics.extend(unit_diagnostics);
                bytes += unit_bytes;
            }
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    files.sort_by(|a, b| a.file.cmp(&b.file));
    diagnostics.sort();
    let stats = Stats {
        files: Platform::ALL
            .iter()
            .map(|&p| (p, files.iter().filter(|f| f.platform == p).count()))
            .collect(),
        documents: files.iter().map(|f| f.documents).sum(),
        entities: files.iter().map(|f| f.entities.len()).sum(),
        recognised_workloads: files
            .iter()
            .flat_map(|f| f.recognised_workloads.iter())
            .fold(BTreeMap::new(), |mut counts, k| {
                *counts.entry(k.clone()).or_insert(0) += 1;
                counts
            }),
        bytes,
        candidates,
        seconds: elapsed(started),
    };
    Ok(InspectReport {
        files,
        diagnostics,
        stats,
    })
}

fn elapsed(started: Instant) -> f64 {
    let d: Duration = started.elapsed();
    d.as_secs_f64()
}

fn describe_unit(unit: LoadedUnit, with_tree: bool) -> (Vec<FileReport>, Vec<Diagnostic>, u64) {
    let files = unit
        .files
        .into_iter()
        // A module instance is its directory's files again.
        .filter(|file| file.module.is_none())
        .map(|file| {
            let found = entities(file.platform, &file.documents);
            let recognised_workloads = found
                .iter()
                .filter_map(|e| {
                    let how = e.kind.strip_prefix("pod_spec.")?.replace('_', " ");
                    let owner = found.get(e.parent?)?.kind.strip_prefix("object.")?;
                    Some(format!("{owner} ({how})"))
                })
                .collect();
            let entities = found
                .into_iter()
                .map(|e| EntityReport {
                    kind: e.kind,
                    identity: e.identity,
                    header: e.header,
                    span: e.node.span,
                })
                .collect();
            FileReport {
                file: file.display,
                platform: file.platform,
                documents: file.documents.len(),
                entities,
                recognised_workloads,
                tree: with_tree.then_some(file.documents),
            }
        })
        .collect();
    (files, unit.diagnostics, unit.bytes_read)
}

/// Writes the report as text: each file with its entities, then the
/// diagnostics, then one summary line.
pub fn render_text(report: &InspectReport, out: &mut dyn Write) -> io::Result<()> {
    for file in &report.files {
        writeln!(
            out,
            "{} ({}, {} {}, {} {})",
            file.file,
            file.platform,
            file.documents,
            plural(file.documents, "document", "documents"),
            file.entities.len(),
            plural(file.entities.len(), "entity", "entities"),
        )?;
        for e in &file.entities {
            let at = format!("{}:{}", e.header.start_line, e.header.start_col);
            writeln!(out, "  {at:<9} {:<40} {}", e.kind, e.identity)?;
        }
        if let Some(tree) = &file.tree {
            serde_json::to_writer_pretty(&mut *out, tree)?;
            writeln!(out)?;
        }
    }
    if !report.diagnostics.is_empty() {
        writeln!(out)?;
        for d in &report.diagnostics {
            writeln!(out, "{d}")?;
        }
    }
    if !report.stats.recognised_workloads.is_empty() {
        let kinds: Vec<String> = report
            .stats
            .recognised_workloads
            .iter()
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect();
        writeln!(out)?;
        writeln!(
            out,
            "pod specs recognised in other kinds: {}",
            kinds.join(", ")
        )?;
    }
    writeln!(out)?;
    writeln!(out, "{}", summary(report))
}

/// Writes the report as one JSON object.
pub fn render_json(report: &InspectReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// `12 files (terraform 3, ...), 14 documents, 40 entities, 1 error; 0.3 MB in 0.02 s`
fn summary(report: &InspectReport) -> String {
    let s = &report.stats;
    let total: usize = s.files.values().sum();
    let per_platform: Vec<String> = s
        .files
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(p, n)| format!("{p} {n}"))
        .collect();
    let errors = report
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
        .count();
    let notices = report.diagnostics.len() - errors;
    let mut line = format!("{total} {}", plural(total, "file", "files"));
    if !per_platform.is_empty() {
        line.push_str(&format!(" ({})", per_platform.join(", ")));
    }
    line.push_str(&format!(
        ", {} {}, {} {}, {errors} {}",
        s.documents,
        plural(s.documents, "document", "documents"),
        s.entities,
        plural(s.entities, "entity", "entities"),
        plural(errors, "error", "errors"),
    ));
    if notices > 0 {
        line.push_str(&format!(
            ", {notices} {}",
            plural(notices, "notice", "notices")
        ));
    }
    line.push_str(&format!(
        "; {:.1} MB in {:.2} s",
        s.bytes as f64 / 1_000_000.0,
        s.seconds
    ));
    line
}
