//! The subcommands: each turns its parsed arguments into configuration,
//! runs the pipeline, and hands the result to a reporter.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context as _, bail};

use crate::ExitStatus;
use crate::cli::{
    ExplainArgs, Format, InputArgs, InspectArgs, QueriesArgs, QuerySelection, ScanArgs, TestArgs,
};
use crate::discover::DiscoverOptions;
use crate::load::LoadOptions;
use crate::query::compile::LoadError;
use crate::query::registry::Registry;
use crate::query::{Query, Severity};
use crate::{inspect, report, scan, testing};

/// A broken query library: every error, then a refusal to scan.
#[derive(Debug, thiserror::Error)]
#[error("{} in the query library; nothing was scanned:\n{}", plural_errors(.0.len()), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
pub struct LibraryError(pub Vec<LoadError>);

fn plural_errors(n: usize) -> String {
    if n == 1 {
        "1 error".into()
    } else {
        format!("{n} errors")
    }
}

fn paths_or_cwd(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths
    }
}

fn discover_options(input: &InputArgs) -> DiscoverOptions {
    DiscoverOptions {
        excludes: input.exclude.clone(),
        threads: input.threads,
    }
}

fn load_options(input: &InputArgs) -> LoadOptions {
    LoadOptions {
        max_file_size: input.max_file_size,
    }
}

/// Loads the library and the user's directories, then applies `--only`,
/// `--skip` and `--severity`. Unknown ids in `--only`/`--skip` are an error:
/// a typo must not silently disable a policy.
pub fn registry(selection: &QuerySelection) -> anyhow::Result<Registry> {
    let registry = Registry::load(true, &selection.query_dirs).map_err(LibraryError)?;
    for id in selection.only.iter().chain(&selection.skip) {
        if registry.get(&id.to_ascii_lowercase()).is_none() {
            bail!("unknown query id \"{id}\" (see `rampart queries`)");
        }
    }
    let only: Vec<String> = selection
        .only
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let skip: Vec<String> = selection
        .skip
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let minimum = selection.severity.unwrap_or(Severity::Info);
    Ok(registry.retain(|q| {
        (only.is_empty() || only.contains(&q.id)) && !skip.contains(&q.id) && q.severity >= minimum
    }))
}

/// `rampart scan`.
pub fn scan(args: ScanArgs, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let registry = registry(&args.queries)?;
    let config = scan::ScanConfig {
        paths: paths_or_cwd(args.paths),
        discover: discover_options(&args.input),
        load: load_options(&args.input),
        threads: args.input.threads,
    };
    let result = scan::scan(&config, &registry)?;
    let options = report::ReportOptions::default();
    let report = report::Report {
        result: &result,
        registry: &registry,
        options: &options,
    };
    report::render(args.format, &report, out)?;
    Ok(if result.findings.is_empty() {
        ExitStatus::Clean
    } else {
        ExitStatus::Findings
    })
}

/// `rampart inspect`.
pub fn inspect(args: InspectArgs, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let config = inspect::InspectConfig {
        paths: paths_or_cwd(args.paths),
        discover: discover_options(&args.input),
        load: load_options(&args.input),
        tree: args.tree,
    };
    let report = inspect::inspect(&config, args.input.threads)?;
    match args.format {
        Format::Json => inspect::render_json(&report, out)?,
        Format::Text => inspect::render_text(&report, out)?,
    }
    Ok(ExitStatus::Clean)
}

/// `rampart queries`.
pub fn queries(args: QueriesArgs, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let registry = Registry::load(true, &args.query_dirs).map_err(LibraryError)?;
    let listed: Vec<&Query> = registry
        .queries()
        .iter()
        .filter(|q| !q.deprecated)
        .collect();
    match args.format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = listed
                .iter()
                .map(|q| {
                    serde_json::json!({
                        "id": q.id,
                        "title": q.title,
                        "severity": q.severity,
                        "platform": q.platform,
                        "category": q.category,
                        "cwe": q.cwe,
                        "select": q.select,
                        "aliases": q.aliases.iter().map(|(tool, ids)| {
                            let v = if ids.len() == 1 { serde_json::json!(ids[0]) } else { serde_json::json!(ids) };
                            (tool.clone(), v)
                        }).collect::<serde_json::Map<_, _>>(),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &rows)?;
            writeln!(out)?;
        }
        Format::Text => {
            for q in &listed {
                writeln!(
                    out,
                    "{:<44} {:<8} {:<15} {}",
                    q.id,
                    q.severity,
                    q.platform.name(),
                    q.title
                )?;
            }
            writeln!(out, "\n{} queries", listed.len())?;
        }
    }
    Ok(ExitStatus::Clean)
}

/// `rampart explain`.
pub fn explain(args: ExplainArgs, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let registry = Registry::load(true, &args.query_dirs).map_err(LibraryError)?;
    let id = args.id.to_ascii_lowercase();
    let Some(q) = registry.get(&id) else {
        bail!("unknown query id \"{}\" (see `rampart queries`)", args.id);
    };
    writeln!(out, "{}: {}", q.id, q.title)?;
    let cwe: Vec<String> = q.cwe.iter().map(|c| format!("CWE-{c}")).collect();
    writeln!(
        out,
        "severity {}, category {}, {}; selects {} {}",
        q.severity,
        q.category,
        if cwe.is_empty() {
            "no CWE".into()
        } else {
            cwe.join(", ")
        },
        q.platform,
        q.select.join(", ")
    )?;
    if !q.aliases.is_empty() {
        let aliases: Vec<String> = q
            .aliases
            .iter()
            .map(|(t, ids)| format!("{t} {}", ids.join(", ")))
            .collect();
        writeln!(out, "same check elsewhere: {}", aliases.join("; "))?;
    }
    writeln!(out, "\n{}\n", q.description.trim())?;
    writeln!(out, "How to fix:\n{}\n", q.remediation.trim())?;
    if !q.references.is_empty() {
        writeln!(out, "References:")?;
        for r in &q.references {
            writeln!(out, "  {r}")?;
        }
        writeln!(out)?;
    }
    let examples = fixtures_of(q);
    for (label, bad) in [
        ("Bad examples (flagged):", true),
        ("Good examples (not flagged):", false),
    ] {
        let chosen: Vec<&(String, String)> = examples
            .iter()
            .filter(|(name, _)| file_name(name).starts_with("bad") == bad)
            .collect();
        if chosen.is_empty() {
            continue;
        }
        writeln!(out, "{label}")?;
        for (name, text) in chosen {
            writeln!(out, "--- {name}")?;
            write!(out, "{text}")?;
            if !text.ends_with('\n') {
                writeln!(out)?;
            }
        }
        writeln!(out)?;
    }
    Ok(ExitStatus::Clean)
}

fn file_name(path: &str) -> &str {
    // The case name is the first component below the query's fixture
    // directory (a case may be a directory of several files).
    path.split('/').next().unwrap_or(path)
}

/// The fixture files of a query: (path relative to its fixture directory,
/// text), from the binary for the built-in library, from disk for a pack.
fn fixtures_of(q: &Query) -> Vec<(String, String)> {
    let stem = q.source.trim_end_matches(".yaml").trim_end_matches(".yml");
    if let Some(relative) = stem.strip_prefix("queries/") {
        let prefix = format!("{relative}/");
        let embedded: Vec<(String, String)> = crate::embedded::FIXTURES
            .iter()
            .filter_map(|(path, text)| {
                path.strip_prefix(&prefix)
                    .filter(|rest| !rest.ends_with(".expect"))
                    .map(|rest| (rest.to_string(), text.to_string()))
            })
            .collect();
        if !embedded.is_empty() {
            return embedded;
        }
    }
    let Some(at) = stem.rfind("queries/") else {
        return Vec::new();
    };
    let dir = PathBuf::from(format!(
        "{}fixtures/{}",
        &stem[..at],
        &stem[at + "queries/".len()..]
    ));
    let mut files = Vec::new();
    collect(&dir, &dir, &mut files);
    files.sort();
    files
}

fn collect(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.extension().is_none_or(|e| e != "expect")
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            out.push((crate::discover::display_path(relative), text));
        }
    }
}

/// `rampart test`.
pub fn test(args: TestArgs, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    if !args.dir.join("queries").is_dir() {
        bail!(
            "{} has no queries/ directory (a pack holds queries/ and fixtures/ side by side)",
            args.dir.display()
        );
    }
    let report = testing::run_pack(&args.dir, args.threads)
        .map_err(LibraryError)
        .context("cannot load the pack's queries")?;
    testing::render(&report, out)?;
    Ok(if report.passed() {
        ExitStatus::Clean
    } else {
        ExitStatus::Findings
    })
}
