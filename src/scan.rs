//! Running work over units in parallel, with a failure in one unit contained
//! to that unit.
//!
//! Every command that reads IaC (`inspect`, and `scan` once queries exist)
//! goes through [`for_each_unit`]: units are loaded on a rayon pool, handed
//! to the caller's function, and dropped, so memory stays flat however many
//! files there are. Results come back in unit order whatever the thread
//! schedule, so output is deterministic.

use std::panic::{AssertUnwindSafe, catch_unwind};

use rayon::prelude::*;

use crate::diagnostic::Diagnostic;
use crate::load::{LoadOptions, LoadedUnit, Unit, load_unit};

/// Stack for worker threads. Parsers refuse nesting past
/// [`crate::parse::MAX_DEPTH`] before recursing; this leaves ample room
/// below that limit whatever the parser's frame sizes.
const WORKER_STACK: usize = 16 * 1024 * 1024;

/// Runs `work` on a pool of `threads` workers (0: one per core) with the
/// worker stack the parsers need. A scan makes one pool and runs every
/// parallel step in it (renders, units, modules checked alone): workers
/// that live for the whole scan keep their allocator caches warm instead
/// of abandoning them to a new pool's threads at each step.
pub fn in_pool<R: Send>(threads: usize, work: impl FnOnce() -> R + Send) -> R {
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(WORKER_STACK)
        .build()
    {
        Ok(pool) => pool.install(work),
        // No pool (the OS refused threads): run on the global one.
        Err(_) => work(),
    }
}

/// The selectors that `selected_by` conditions look for anywhere in the
/// scan (the NetworkPolicies of every namespace), read before any unit is
/// queried: units are queried in parallel and dropped, so no unit could
/// see another's. Only the units whose text may declare a selecting kind
/// are parsed for it, so most files are read once. A unit that cannot be
/// read leaves the index incomplete, and "selected by nothing" unknown.
fn scan_index(
    units: &[Unit],
    wanted: &crate::query::scan_index::Wanted,
    mut index: crate::query::scan_index::ScanIndex,
    config: &ScanConfig,
) -> crate::query::scan_index::ScanIndex {
    if wanted.is_empty() {
        return index;
    }
    let max = config.load.max_file_size;
    let candidates: Vec<Unit> = units
        .par_iter()
        // A module read through its callers is read again in each.
        .filter(|u| !u.through_calls && may_declare(u, wanted, max))
        .cloned()
        .collect();
    let parts = for_each_unit(candidates, &config.load, |unit| wanted.collect(&unit));
    for part in parts {
        match part {
            Ok(part) => index.merge(part),
            Err(_) => index.mark_incomplete(),
        }
    }
    index
}

/// Whether a unit's text may declare what `wanted` asks for. A file that
/// cannot be read here is left to the loader to judge.
fn may_declare(unit: &Unit, wanted: &crate::query::scan_index::Wanted, max: u64) -> bool {
    match &unit.rendered {
        Some(crate::load::Stream::Held(rendered)) => return wanted.may_declare(&rendered.text),
        // Collected before it was let go.
        Some(crate::load::Stream::Again(_)) => return false,
        None => {}
    }
    unit.files
        .iter()
        // A Dockerfile declares no Kubernetes object: not read twice.
        .filter(|f| f.candidate != crate::discover::Candidate::Dockerfile)
        .any(|f| match crate::source::read_source(&f.path, max) {
            Ok(source) => wanted.may_declare(&source.text),
            Err(_) => true,
        })
}

/// Loads every unit on the current pool (see [`in_pool`]) and applies `f`
/// to each. A unit whose loading or processing panics yields a diagnostic
/// naming its files instead of a result; the other units are unaffected.
/// Each unit is dropped as soon as it is done (a rendered stream with it),
/// so what the scan holds is results, not inputs.
pub fn for_each_unit<R, F>(
    units: Vec<Unit>,
    options: &LoadOptions,
    f: F,
) -> Vec<Result<R, Diagnostic>>
where
    R: Send,
    F: Fn(LoadedUnit) -> R + Sync,
{
    units
        .into_par_iter()
        .map(|unit| {
            catch_unwind(AssertUnwindSafe(|| f(load_unit(&unit, options)))).map_err(|panic| {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let files: Vec<&str> = match &unit.rendered {
                    Some(stream) => vec![stream.display()],
                    None => unit.files.iter().map(|f| f.display.as_str()).collect(),
                };
                Diagnostic::error(
                    files.first().copied().unwrap_or_default(),
                    0,
                    0,
                    format!(
                        "internal error while reading {}: {what} (please report this)",
                        files.join(", ")
                    ),
                )
            })
        })
        .collect()
}

/// A path given to scan that cannot be: a usage error, since a scan of
/// nothing is an empty, successful report that would pass a gate (and, as
/// SARIF, close every open alert).
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason} (a path to read must exist and be readable)")]
pub struct RootError {
    /// The path as given.
    pub path: String,
    /// Why it cannot be scanned.
    pub reason: String,
}

/// Checks the paths given on the command line before anything is read:
/// each must exist, and a directory must be listable.
pub fn check_roots(paths: &[std::path::PathBuf]) -> Result<(), RootError> {
    for path in paths {
        let error = |e: std::io::Error| RootError {
            path: crate::discover::display_path(path),
            reason: crate::discover::io_reason(&e),
        };
        let meta = std::fs::metadata(path).map_err(error)?;
        if meta.is_dir() {
            std::fs::read_dir(path).map_err(error)?;
        }
    }
    Ok(())
}

/// What to scan and how.
#[derive(Clone, Debug)]
pub struct ScanConfig {
    /// Files and directories.
    pub paths: Vec<std::path::PathBuf>,
    /// How to walk directories.
    pub discover: crate::discover::DiscoverOptions,
    /// How to read files.
    pub load: LoadOptions,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Show a progress bar on stderr when the scan is long.
    pub progress: bool,
    /// Inline suppressions: honoured or not, unused ones reported or not.
    pub inline: crate::suppress::InlineOptions,
    /// Compute the SARIF line hashes of findings (a SARIF report is
    /// asked for): the result keeps only excerpts of the texts.
    pub line_hashes: bool,
    /// The security team's exceptions (`--exceptions`).
    pub exceptions: Option<crate::suppress::Exceptions>,
    /// Findings already accepted (`--baseline`).
    pub baseline: Option<crate::suppress::Baseline>,
    /// The directory fingerprint paths are relative to, instead of the
    /// repository root of the scanned paths (`--diff-base` scans an old
    /// tree unpacked elsewhere).
    pub fingerprint_root: Option<std::path::PathBuf>,
    /// How Helm charts and kustomizations render.
    pub render: crate::render::RenderOptions,
}

/// Scans with fewer units than this finish before a bar would help.
const PROGRESS_MIN_UNITS: usize = 500;

/// What one unit contributes to a scan.
struct UnitSummary {
    findings: Vec<crate::finding::Finding>,
    entities: usize,
    documents: usize,
    platforms: Vec<crate::platform::Platform>,
    diagnostics: Vec<Diagnostic>,
    bytes: u64,
    sources: Vec<(String, String)>,
    /// SARIF line hashes by file, when asked for.
    line_hashes: Vec<(String, std::collections::BTreeMap<u32, String>)>,
    /// A Terraform plan's unit.
    plan: bool,
    /// The module directories (canonical) this unit instantiated.
    instantiated: Vec<std::path::PathBuf>,
}

fn summarize(
    registry: &crate::query::registry::Registry,
    scan: &crate::query::scan_index::ScanIndex,
    mut unit: LoadedUnit,
    options: crate::suppress::InlineOptions,
    line_hashes: bool,
) -> UnitSummary {
    let mut streamed_documents = 0;
    let run = match unit.files.iter().find(|f| f.streamed) {
        // A large Kubernetes stream, alone in its unit: queried a batch of
        // documents at a time (issue 21, item 14).
        Some(file) => {
            let kinds = registry.related_kinds(file.platform);
            let (run, diagnostics, documents) =
                crate::load::read_streamed(file, &kinds, |context, batches| {
                    crate::query::engine::run_batches(registry, Some(scan), file, context, batches)
                });
            unit.diagnostics.extend(diagnostics);
            streamed_documents = documents;
            run
        }
        // A module directory called from the scan: its findings come
        // through its callers' instances.
        None if unit.through_calls => Default::default(),
        None => crate::query::engine::run_unit(registry, &unit, Some(scan)),
    };
    let mut run = run;
    // Inline suppressions, once per file (a module's file read for several
    // instances, or a stream read in batches, is one file).
    let mut notices = Vec::new();
    let mut done: Vec<&str> = Vec::new();
    for file in unit.files.iter().filter(|_| !unit.through_calls) {
        if done.contains(&file.display.as_str()) {
            continue;
        }
        done.push(&file.display);
        let mut mine: Vec<&mut crate::finding::Finding> = run
            .findings
            .iter_mut()
            .filter(|f| f.file == file.display)
            .collect();
        notices.extend(crate::suppress::apply_inline(
            &mut mine,
            &file.display,
            &file.source.text,
            file.platform,
            registry,
            options,
        ));
    }
    if let Some(rendered) = &unit.rendered {
        report_at_origins(rendered, &mut run.findings);
    }
    // Module instances are the module's files again: counted once, where
    // they are. A plan is one file, its first, whatever `.tf` files its
    // resources are reported in; a derived view (Terraform's Kubernetes
    // resources read as Kubernetes) is not a file of its own.
    let counted = if unit.plan { 1 } else { usize::MAX };
    let own = || {
        unit.files
            .iter()
            .filter(|f| f.module.is_none() && !f.derived)
            .take(counted)
    };
    let documents = own().map(|f| f.documents.len()).sum::<usize>() + streamed_documents;
    // Files that failed to parse count as what they were read as, so the
    // summary says what the parse errors are about (issue 21, item 7).
    let platforms = own()
        .map(|f| f.platform)
        .chain(unit.unparsed.iter().copied())
        .collect();
    let plan = unit.plan;
    let mut dirs: Vec<&str> = unit
        .files
        .iter()
        .filter(|f| f.module.is_some())
        .filter_map(|f| f.display.rsplit_once('/').map(|(dir, _)| dir))
        .collect();
    dirs.sort_unstable();
    dirs.dedup();
    let instantiated = dirs
        .into_iter()
        .filter_map(|d| std::fs::canonicalize(d).ok())
        .collect();
    let mut sources: Vec<(String, String)> = unit
        .files
        .into_iter()
        .filter(|f| run.findings.iter().any(|x| x.file == f.display))
        .map(|f| (f.display, f.source.text))
        .collect();
    if let Some(rendered) = &unit.rendered {
        sources.extend(
            rendered
                .sources
                .iter()
                .filter(|(file, _)| run.findings.iter().any(|x| &x.file == *file))
                .map(|(file, text)| (file.clone(), text.clone())),
        );
    }
    // The whole texts are at hand here and nowhere after: hash the lines
    // SARIF needs, then keep only the lines reports show.
    let line_hashes = if line_hashes {
        sources
            .iter()
            .map(|(file, text)| {
                let spans = run
                    .findings
                    .iter()
                    .filter(|f| &f.file == file)
                    .map(|f| &f.span);
                (
                    file.clone(),
                    crate::line_hash::file_line_hashes(text, spans),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    for (file, text) in &mut sources {
        let spans = run
            .findings
            .iter()
            .filter(|f| &f.file == file)
            .map(|f| &f.span);
        *text = excerpt(text, spans);
    }
    // Where a finding sits served the inline suppressions, applied above;
    // the scan holds findings to the end, without it.
    let mut findings = run.findings;
    for f in &mut findings {
        f.placement = crate::finding::Placement::default();
    }
    UnitSummary {
        findings,
        entities: run.entities,
        documents,
        platforms,
        diagnostics: unit.diagnostics.into_iter().chain(notices).collect(),
        bytes: unit.bytes_read,
        sources,
        line_hashes,
        plan,
        instantiated,
    }
}

/// Adds a unit's excerpts and line hashes to the scan's. A file may come
/// from several units (a base that several overlays render, a file also
/// scanned alone): its excerpts are of the same text, so they merge line
/// by line, and its hashes by line.
fn keep_texts(
    sources: &mut std::collections::BTreeMap<String, String>,
    hashes: &mut std::collections::BTreeMap<String, std::collections::BTreeMap<u32, String>>,
    unit_sources: Vec<(String, String)>,
    unit_hashes: Vec<(String, std::collections::BTreeMap<u32, String>)>,
) {
    for (file, text) in unit_sources {
        match sources.entry(file) {
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(text);
            }
            std::collections::btree_map::Entry::Occupied(mut slot) => {
                let merged = merge_excerpts(slot.get(), &text);
                slot.insert(merged);
            }
        }
    }
    for (file, lines) in unit_hashes {
        hashes.entry(file).or_default().extend(lines);
    }
}

/// Two excerpts of one text as one: each line as whichever kept it.
fn merge_excerpts(a: &str, b: &str) -> String {
    let mut out = String::with_capacity(a.len().max(b.len()));
    let mut b_lines = b.split_inclusive('\n');
    for a_line in a.split_inclusive('\n') {
        let b_line = b_lines.next().unwrap_or("");
        let kept = if a_line.trim_end_matches('\n').is_empty() {
            b_line
        } else {
            a_line
        };
        out.push_str(kept);
        if !kept.ends_with('\n') && a_line.ends_with('\n') {
            out.push('\n');
        }
    }
    out.extend(b_lines);
    out
}

/// Lines of context kept around a finding: the human report shows one.
const EXCERPT_CONTEXT: u32 = 2;

/// `text` with only the lines around `spans` kept, every other line left
/// empty so that line numbers (and the columns of kept lines) hold.
fn excerpt<'a>(text: &str, spans: impl Iterator<Item = &'a crate::tree::Span>) -> String {
    let mut ranges: Vec<(u32, u32)> = spans
        .map(|s| {
            let start = s.start_line.max(1);
            (
                start.saturating_sub(EXCERPT_CONTEXT).max(1),
                s.end_line.max(start).saturating_add(EXCERPT_CONTEXT),
            )
        })
        .collect();
    ranges.sort_unstable();
    let mut out = String::new();
    let mut ranges = ranges.into_iter().peekable();
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        while ranges.peek().is_some_and(|&(_, end)| end < number) {
            ranges.next();
        }
        if ranges.peek().is_some_and(|&(start, _)| start <= number) {
            out.push_str(line);
        } else if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// Moves each finding in a rendered stream to the file and line that wrote
/// the offending line (a template, a values file, a patch), where known.
fn report_at_origins(rendered: &crate::render::Rendered, findings: &mut [crate::finding::Finding]) {
    for f in findings.iter_mut().filter(|f| f.file == rendered.display) {
        if let Some(variant) = &rendered.variant {
            f.entity = format!("{} [{variant}]", f.entity);
        }
        let Some(origin) = rendered.origin(f.span.start_line) else {
            continue;
        };
        let text = rendered
            .sources
            .get(&*origin.file)
            .map_or("", String::as_str);
        f.span = crate::tree::LineIndex::new(text).line_span(origin.line);
        f.file = origin.file.to_string();
    }
}

/// Rendered streams a scan keeps between rendering them and reading them,
/// in bytes ([`crate::render::Rendered::held_bytes`]). Past it, a stream is
/// let go once what the scan needs before reading units is taken from it
/// (the files it consumed, what it adds to the scan-wide index), and is
/// rendered again where its unit is read: rendering twice costs CPU only on
/// trees whose renders outgrow the budget, and what a scan holds no longer
/// grows with the number of charts and overlays (issue 20).
const HELD_RENDER_BYTES: usize = 32 << 20;

/// What reading can start from: the units, the renders that failed inside
/// rampart, and the scan-wide index of the streams let go.
pub struct Prepared {
    /// The files found, less those a render consumed, and one unit per
    /// rendered stream.
    pub units: Vec<crate::load::Unit>,
    /// Renders that failed inside rampart (a panic, contained).
    pub render_failures: usize,
    /// What the streams let go declare that `wanted` asks for.
    pub index: crate::query::scan_index::ScanIndex,
}

/// The units to read: the files found, less those a render consumed, and
/// one unit per rendered stream. What `wanted` asks for is collected from
/// the streams let go before they go (the others are read for it with the
/// files, [`scan_index`]).
pub fn units_and_renders(
    paths: &[std::path::PathBuf],
    max_file_size: u64,
    mut files: Vec<crate::discover::FoundFile>,
    roots: Vec<crate::render::RenderRoot>,
    options: &crate::render::RenderOptions,
    wanted: &crate::query::scan_index::Wanted,
) -> Prepared {
    let renders = render_roots(
        paths,
        max_file_size,
        roots,
        options,
        wanted,
        HELD_RENDER_BYTES,
    );
    drop_consumed(&mut files, &renders.consumed);
    let mut units = crate::load::units(files);
    units.extend(renders.units);
    Prepared {
        units,
        render_failures: renders.failures,
        index: renders.index,
    }
}

/// The streams of the roots rendered.
struct Renders {
    units: Vec<crate::load::Unit>,
    consumed: Vec<std::path::PathBuf>,
    index: crate::query::scan_index::ScanIndex,
    failures: usize,
}

/// One stream, held or let go.
struct RenderedStream {
    unit: crate::load::Unit,
    consumed: Vec<std::path::PathBuf>,
    index: Option<crate::query::scan_index::ScanIndex>,
}

/// Renders the charts and kustomizations found, each contained: one that
/// panics becomes an error naming it. Streams are held up to `budget`
/// bytes, the others let go ([`HELD_RENDER_BYTES`]).
fn render_roots(
    paths: &[std::path::PathBuf],
    max_file_size: u64,
    roots: Vec<crate::render::RenderRoot>,
    options: &crate::render::RenderOptions,
    wanted: &crate::query::scan_index::Wanted,
    budget: usize,
) -> Renders {
    let mut renders = Renders {
        units: Vec::new(),
        consumed: Vec::new(),
        index: wanted.index(),
        failures: 0,
    };
    if roots.is_empty() {
        return renders;
    }
    let renderer = std::sync::Arc::new(crate::render::Renderer::new(paths, max_file_size, options));
    let roots = crate::render::roots::select(roots, renderer.disk());
    let held = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Result<Vec<RenderedStream>, Diagnostic>> = roots
        .into_par_iter()
        .map(|root| {
            catch_unwind(AssertUnwindSafe(|| {
                let streams = renderer.render(&root);
                streams
                    .into_iter()
                    .enumerate()
                    .map(|(stream, rendered)| {
                        let held = (&held, budget);
                        hold_or_let_go(rendered, &root, stream, &renderer, held, wanted)
                    })
                    .collect()
            }))
            .map_err(|_| {
                Diagnostic::error(
                    &root.display,
                    0,
                    0,
                    "internal error while rendering (please report this)",
                )
            })
        })
        .collect();
    for result in results {
        match result {
            Ok(streams) => {
                for stream in streams {
                    renders.units.push(stream.unit);
                    renders.consumed.extend(stream.consumed);
                    if let Some(part) = stream.index {
                        renders.index.merge(part);
                    }
                }
            }
            Err(diagnostic) => {
                renders.failures += 1;
                renders.units.push(crate::load::Unit::rendered(
                    crate::render::Rendered::failed(diagnostic.file.clone(), vec![diagnostic]),
                ));
            }
        }
    }
    renders
}

/// Keeps a rendered stream while the streams held stay within the budget;
/// else takes from it what the scan needs before reading units, and lets
/// it go to be rendered again.
fn hold_or_let_go(
    mut rendered: crate::render::Rendered,
    root: &crate::render::RenderRoot,
    stream: usize,
    renderer: &std::sync::Arc<crate::render::Renderer>,
    (held, budget): (&std::sync::atomic::AtomicUsize, usize),
    wanted: &crate::query::scan_index::Wanted,
) -> RenderedStream {
    use std::sync::atomic::Ordering;
    let consumed = std::mem::take(&mut rendered.consumed);
    let bytes = rendered.held_bytes();
    if held.fetch_add(bytes, Ordering::Relaxed) + bytes <= budget {
        return RenderedStream {
            unit: crate::load::Unit::rendered(rendered),
            consumed,
            index: None,
        };
    }
    held.fetch_sub(bytes, Ordering::Relaxed);
    let display = rendered.display.clone();
    let index = (!wanted.is_empty() && wanted.may_declare(&rendered.text))
        .then(|| wanted.collect(&crate::load::load_rendered(&std::sync::Arc::new(rendered))));
    RenderedStream {
        unit: crate::load::Unit::of_stream(crate::load::Stream::Again(crate::load::RenderAgain {
            root: root.clone(),
            stream,
            display,
            renderer: std::sync::Arc::clone(renderer),
        })),
        consumed,
        index,
    }
}

/// Leaves out the files a render consumed: a template or a patch is not an
/// object of its own.
fn drop_consumed(files: &mut Vec<crate::discover::FoundFile>, consumed: &[std::path::PathBuf]) {
    let consumed: std::collections::HashSet<std::path::PathBuf> = consumed
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    if consumed.is_empty() {
        return;
    }
    files.retain(|f| {
        f.is_explicit() || !std::fs::canonicalize(&f.path).is_ok_and(|p| consumed.contains(&p))
    });
}

/// Discovers, loads and runs `registry` over everything under the paths.
pub fn scan(
    config: &ScanConfig,
    registry: &crate::query::registry::Registry,
) -> Result<crate::finding::ScanResult, crate::discover::ExcludeError> {
    in_pool(config.threads, || scan_in_pool(config, registry))
}

fn scan_in_pool(
    config: &ScanConfig,
    registry: &crate::query::registry::Registry,
) -> Result<crate::finding::ScanResult, crate::discover::ExcludeError> {
    let started = std::time::Instant::now();
    let discovery = crate::discover::discover(&config.paths, &config.discover)?;
    // Files read only as module context are not reported on.
    let context: std::collections::HashSet<String> = discovery
        .files
        .iter()
        .filter(|f| f.origin == crate::discover::Origin::ModuleContext)
        .map(|f| f.display.clone())
        .collect();
    let wanted = crate::query::scan_index::Wanted::new(registry.selecting_kinds());
    let Prepared {
        mut units,
        render_failures,
        index,
    } = units_and_renders(
        &config.paths,
        config.load.max_file_size,
        discovery.files,
        discovery.roots,
        &config.render,
        &wanted,
    );
    crate::load::mark_called_modules(&mut units, config.load.max_file_size);
    let bar = (config.progress && units.len() >= PROGRESS_MIN_UNITS).then(|| {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(units.len() as u64),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} scanning {pos}/{len} [{bar:30}] {elapsed}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    });
    // Module directories checked only through their calls: kept aside, in
    // case no caller instantiates them after all.
    let through: Vec<crate::load::Unit> = units
        .iter()
        .filter(|u| u.through_calls)
        .map(|u| crate::load::Unit {
            files: u.files.clone(),
            through_calls: false,
            rendered: None,
        })
        .collect();
    let through_count = through.len();
    let index = scan_index(&units, &wanted, index, config);
    let summaries = for_each_unit(units, &config.load, |unit| {
        let summary = summarize(registry, &index, unit, config.inline, config.line_hashes);
        if let Some(bar) = &bar {
            bar.inc(1);
        }
        summary
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut hashes = std::collections::BTreeMap::new();
    let mut result = crate::finding::ScanResult {
        diagnostics: discovery.diagnostics,
        ..crate::finding::ScanResult::default()
    };
    result.stats.internal_errors += render_failures;
    for platform in crate::platform::Platform::ALL {
        result.stats.files.insert(platform, 0);
    }
    // A module directory its callers did not instantiate after all (every
    // call with an empty `for_each`, or not instantiable) is checked alone
    // instead: nothing goes unchecked.
    let instantiated: std::collections::HashSet<&std::path::Path> = summaries
        .iter()
        .flatten()
        .flat_map(|s| s.instantiated.iter().map(|p| p.as_path()))
        .collect();
    let alone: Vec<crate::load::Unit> = through
        .into_iter()
        .filter(|u| {
            !u.files
                .first()
                .and_then(|f| f.path.parent())
                .map(|d| {
                    if d.as_os_str().is_empty() {
                        std::path::Path::new(".")
                    } else {
                        d
                    }
                })
                .and_then(|d| std::fs::canonicalize(d).ok())
                .is_some_and(|d| instantiated.contains(d.as_path()))
        })
        .collect();
    let alone_count = alone.len();
    let second = if alone.is_empty() {
        Vec::new()
    } else {
        for_each_unit(alone, &config.load, |unit| {
            summarize(registry, &index, unit, config.inline, config.line_hashes)
        })
    };
    result.stats.modules_through_calls = through_count - alone_count;
    // Sized once: a list grown by doubling would hold up to twice the
    // findings, and for a moment three times, at the scan's peak.
    let total: usize = summaries
        .iter()
        .chain(&second)
        .flatten()
        .map(|s| s.findings.len())
        .sum();
    result.findings.reserve_exact(total);
    for summary in second {
        match summary {
            // Its files were counted in the first pass.
            Ok(unit) => {
                result.findings.extend(unit.findings);
                result.stats.entities += unit.entities;
                result.diagnostics.extend(unit.diagnostics);
                keep_texts(
                    &mut result.sources,
                    &mut hashes,
                    unit.sources,
                    unit.line_hashes,
                );
            }
            Err(diagnostic) => {
                result.stats.internal_errors += 1;
                result.diagnostics.push(diagnostic);
            }
        }
    }
    let mut plan_findings = Vec::new();
    for summary in summaries {
        match summary {
            Ok(unit) => {
                if unit.plan {
                    plan_findings.push(unit.findings);
                } else {
                    result.findings.extend(unit.findings);
                }
                result.stats.entities += unit.entities;
                result.stats.documents += unit.documents;
                for p in unit.platforms {
                    *result.stats.files.entry(p).or_default() += 1;
                }
                result.diagnostics.extend(unit.diagnostics);
                result.stats.bytes += unit.bytes;
                keep_texts(
                    &mut result.sources,
                    &mut hashes,
                    unit.sources,
                    unit.line_hashes,
                );
            }
            Err(diagnostic) => {
                // Findings of these files may be lost: the run cannot pass.
                result.stats.internal_errors += 1;
                result.diagnostics.push(diagnostic);
            }
        }
    }
    crate::finding::add_plan_findings(&mut result.findings, plan_findings);
    if !context.is_empty() {
        result.findings.retain(|f| !context.contains(&f.file));
        result.diagnostics.retain(|d| !context.contains(&d.file));
        result.sources.retain(|file, _| !context.contains(file));
        hashes.retain(|file: &String, _| !context.contains(file));
    }
    result.line_hashes = Some(hashes);
    fill_fingerprints(config, &mut result.findings);
    apply_exceptions_and_baseline(config, registry, &mut result);
    crate::finding::sort(&mut result.findings);
    result.diagnostics.sort();
    result.diagnostics.dedup();
    result.stats.queries = registry.headings().filter(|h| !h.deprecated).count();
    result.stats.seconds = started.elapsed().as_secs_f64();
    Ok(result)
}

/// A finding's fingerprint as the first release computed it, for baselines
/// it wrote: under the id the query had then on the finding's platform (a
/// merged concept answers to its former per-platform ids).
fn first_release_fingerprint(query: &crate::query::Query, f: &crate::finding::Finding) -> String {
    let prefix = f.platform.model().id_prefix();
    let id = query
        .former_ids()
        .iter()
        .find(|id| id.starts_with(prefix))
        .unwrap_or(&query.id);
    crate::finding::fingerprint_v1(
        id,
        &f.file,
        &f.entity,
        &f.path.to_string(),
        f.value.as_deref(),
    )
}

/// Gives each finding its fingerprint, now that the paths it is relative
/// to are known.
fn fill_fingerprints(config: &ScanConfig, findings: &mut [crate::finding::Finding]) {
    let mut paths =
        crate::discover::FingerprintPaths::new(&config.paths, config.fingerprint_root.as_deref());
    for f in findings {
        let file = paths.key(&f.file);
        let caller = f.called_from.as_ref().map(|c| paths.key(&c.file));
        f.fingerprint = crate::finding::fingerprint(crate::finding::FingerprintInputs {
            query_id: &f.query_id,
            file: &file,
            entity: &f.entity,
            caller: caller.as_deref(),
            anchor: &f.anchor,
            value: f.value.as_deref(),
        });
    }
}

/// Marks the findings the exceptions file or the baseline accept. Inline
/// suppressions were applied by the engine and take precedence; an expired
/// exception that would have matched is reported.
fn apply_exceptions_and_baseline(
    config: &ScanConfig,
    registry: &crate::query::registry::Registry,
    result: &mut crate::finding::ScanResult,
) {
    let today = config.inline.today;
    let baseline = config.baseline.as_ref();
    let accepted = baseline.map(|b| b.fingerprints());
    for f in result
        .findings
        .iter_mut()
        .filter(|f| f.suppressed.is_none())
    {
        if let Some(exceptions) = &config.exceptions
            && let Some(query) = registry.get(&f.query_id)
        {
            match exceptions.find(query, &f.file, &f.entity, today) {
                Some((e, true)) => {
                    f.suppressed = Some(Box::new(e.suppression()));
                    continue;
                }
                Some((e, false)) => result.diagnostics.push(Diagnostic::notice(
                    &f.file,
                    f.span.start_line,
                    f.span.start_col,
                    format!(
                        "exception {} for {} expired on {}; the finding counts again",
                        e.origin(),
                        f.query_id,
                        e.expires()
                    ),
                )),
                None => {}
            }
        }
        if let (Some(baseline), Some(fingerprints)) = (baseline, &accepted)
            && (fingerprints.contains(f.fingerprint.as_str())
                || (baseline.is_first_release()
                    && registry.get(&f.query_id).is_some_and(|q| {
                        fingerprints.contains(first_release_fingerprint(q, f).as_str())
                    })))
        {
            f.suppressed = Some(Box::new(crate::finding::Suppression {
                kind: crate::finding::SuppressionKind::Baseline,
                reason: None,
                origin: "baseline".to_string(),
                expires: None,
                approved_by: None,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_in_a_rendered_stream_is_reported_where_its_line_came_from() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: a\n      image: nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000\n      securityContext:\n        privileged: true\n";
        let values = "image: nginx\nsecurity:\n  privileged: true\n";
        let mut origins = vec![None; text.lines().count()];
        origins[9] = Some(crate::render::Origin {
            file: "chart/values.yaml".into(),
            line: 3,
        });
        let rendered = crate::render::Rendered {
            display: "chart".into(),
            text: text.into(),
            origins,
            sources: [("chart/values.yaml".to_string(), values.to_string())].into(),
            ..Default::default()
        };
        let registry = crate::query::registry::Registry::load(true, &[] as &[&std::path::Path])
            .expect("loads");
        let unit = crate::load::Unit::rendered(rendered);
        let options = LoadOptions::with_max_file_size(1 << 20);
        let summary = summarize(
            &registry,
            &Default::default(),
            crate::load::load_unit(&unit, &options),
            Default::default(),
            false,
        );
        let privileged = summary
            .findings
            .iter()
            .find(|f| f.query_id == "k8s-privileged-container")
            .expect("privileged container found");
        assert_eq!(privileged.file, "chart/values.yaml");
        assert_eq!(
            (privileged.span.start_line, privileged.span.start_col),
            (3, 3)
        );
        // Lines with no origin stay in the rendered stream.
        assert!(summary.findings.iter().any(|f| f.file == "chart"));
        assert!(
            summary
                .sources
                .iter()
                .any(|(file, _)| file == "chart/values.yaml")
        );
    }

    #[test]
    fn a_stream_let_go_is_rendered_again_the_same_and_indexed_before_it_goes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("app");
        std::fs::create_dir_all(&root).expect("mkdir");
        std::fs::write(
            root.join("kustomization.yaml"),
            "resources: [pod.yaml, policy.yaml]\n",
        )
        .expect("write");
        std::fs::write(
            root.join("pod.yaml"),
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {app: web}\nspec:\n  containers:\n    - name: a\n      image: nginx:1.25\n      securityContext:\n        privileged: true\n",
        )
        .expect("write");
        std::fs::write(
            root.join("policy.yaml"),
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\nspec:\n  podSelector: {}\n",
        )
        .expect("write");
        let registry = crate::query::registry::Registry::load(true, &[] as &[&std::path::Path])
            .expect("loads");
        let wanted = crate::query::scan_index::Wanted::new(registry.selecting_kinds());
        let paths = vec![dir.path().to_path_buf()];
        let roots = vec![crate::render::RenderRoot {
            dir: root.clone(),
            display: "app".to_string(),
            kind: crate::discover::RootKind::Kustomization,
        }];
        let options = crate::render::RenderOptions::default();
        let load = LoadOptions::with_max_file_size(1 << 20);
        let run = |budget| {
            let renders = render_roots(&paths, 1 << 20, roots.clone(), &options, &wanted, budget);
            assert_eq!(renders.units.len(), 1);
            let unit = renders.units.into_iter().next().expect("one");
            let again = matches!(unit.rendered, Some(crate::load::Stream::Again(_)));
            let taken = renders.index.len();
            // A held stream is indexed with the files (`scan_index`).
            let mut index = renders.index;
            if !again {
                index.merge(wanted.collect(&crate::load::load_unit(&unit, &load)));
            }
            let findings: Vec<(String, String, u32)> = summarize(
                &registry,
                &index,
                crate::load::load_unit(&unit, &load),
                Default::default(),
                false,
            )
            .findings
            .into_iter()
            .map(|f| (f.query_id, f.file, f.span.start_line))
            .collect();
            let mut consumed = renders.consumed;
            consumed.sort();
            (again, findings, consumed, taken)
        };
        let (held_again, held_findings, held_consumed, held_index) = run(usize::MAX);
        let (let_go, again_findings, again_consumed, again_index) = run(0);
        assert!(!held_again && let_go);
        assert_eq!(held_index, 0, "a held stream is indexed with the files");
        assert_eq!(
            again_index, 1,
            "the NetworkPolicy, taken before the stream went"
        );
        assert_eq!(held_consumed, again_consumed);
        assert!(held_consumed.iter().any(|p| p.ends_with("pod.yaml")));
        assert_eq!(held_findings, again_findings);
        assert!(
            again_findings
                .iter()
                .any(|(id, file, line)| id == "k8s-privileged-container"
                    && file.ends_with("app/pod.yaml")
                    && *line == 11),
            "{again_findings:?}"
        );
    }

    #[test]
    fn excerpts_of_one_text_merge_line_by_line() {
        let text: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let at = |line| crate::tree::Span {
            start_line: line,
            end_line: line,
            ..Default::default()
        };
        let first = excerpt(&text, [at(3)].iter());
        let second = excerpt(&text, [at(15)].iter());
        let both = excerpt(&text, [at(3), at(15)].iter());
        assert_eq!(merge_excerpts(&first, &second), both);
        assert_eq!(merge_excerpts(&second, &first), both);
    }

    #[test]
    fn an_excerpt_keeps_the_lines_around_findings_and_their_numbers() {
        let text: String = (1..=12).map(|i| format!("line {i}\n")).collect();
        let at = |start_line, end_line| crate::tree::Span {
            start_line,
            end_line,
            ..Default::default()
        };
        let kept = excerpt(&text, [at(5, 5), at(11, 12)].iter());
        let lines: Vec<&str> = kept.split('\n').collect();
        assert_eq!(lines.len(), text.split('\n').count());
        let shown: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(shown, [3, 4, 5, 6, 7, 9, 10, 11, 12]);
        assert_eq!(lines[4], "line 5");
    }

    #[test]
    fn a_unit_that_panics_becomes_an_error_naming_its_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("main.tf");
        std::fs::write(&file, "resource \"aws_s3_bucket\" \"b\" {}\n").expect("write");
        let discovery =
            crate::discover::discover(&[file], &crate::discover::DiscoverOptions::default())
                .expect("discovers");
        let units = crate::load::units(discovery.files);
        let options = LoadOptions::with_max_file_size(1 << 20);
        let results: Vec<Result<(), Diagnostic>> =
            in_pool(1, || for_each_unit(units, &options, |_| panic!("boom")));
        let [Err(diagnostic)] = results.as_slice() else {
            panic!("one failed unit expected");
        };
        assert_eq!(diagnostic.level, crate::diagnostic::Level::Error);
        assert!(
            diagnostic.message.contains("internal error"),
            "{}",
            diagnostic.message
        );
        assert!(
            diagnostic.message.contains("boom"),
            "{}",
            diagnostic.message
        );
    }
}
