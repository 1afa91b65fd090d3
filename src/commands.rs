//! The subcommands: each turns its parsed arguments into configuration,
//! runs the pipeline, and hands the result to a reporter.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::ExitStatus;
use crate::cli::{
    AdmissionArgs, CompletionsArgs, ExplainArgs, Format, InputArgs, InspectArgs, QueriesArgs,
    QuerySelection, RenderArgs, ReportArgs, ScanArgs, TestArgs,
};
use crate::config::{self, Threshold};
use crate::discover::DiscoverOptions;
use crate::finding::Severity;
use crate::load::LoadOptions;
use crate::query::Query;
use crate::query::compile::LoadError;
use crate::query::registry::Registry;
use crate::report::OutputFormat;
use crate::report::output::{Pending, Target};
use crate::source::DEFAULT_MAX_FILE_SIZE;
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

/// The directory a scanned path is in (itself when it is one).
fn paths_dir(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }
}

/// What a path-valued flag or setting must name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// A file (a FIFO or device is read as the user asked).
    File,
    /// A directory.
    Dir,
}

/// Checks that `path`, named by `what` (`--var-file`, `"exceptions" in
/// .rampart.yaml`), exists and is what it must be. A missing file is a usage
/// error: a typo must not let variables, exceptions or queries silently
/// fall back to nothing.
fn require(what: &str, path: &Path, expect: Expect) -> anyhow::Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| {
        anyhow::anyhow!(
            "{what} {}: {}",
            path.display(),
            crate::discover::io_reason(&e)
        )
    })?;
    match expect {
        Expect::File if meta.is_dir() => {
            bail!("{what} {}: is a directory, expected a file", path.display())
        }
        Expect::Dir if !meta.is_dir() => {
            bail!("{what} {}: is not a directory", path.display())
        }
        _ => Ok(()),
    }
}

/// Worker threads beyond this many per core only cost memory and start-up
/// time (1,000 threads took 28 to 42 s on 2 cores for one file).
const THREADS_PER_CORE: usize = 4;

/// The worker threads to use for `requested` (0: one per core), capped at
/// [`THREADS_PER_CORE`] per core with a warning.
fn worker_threads(requested: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let limit = cores.saturating_mul(THREADS_PER_CORE);
    if requested > limit {
        warn(&format!(
            "{requested} threads is more than {THREADS_PER_CORE} per core; using {limit} ({cores} cores)"
        ));
        limit
    } else {
        requested
    }
}

/// A warning on stderr: the run goes on.
fn warn(message: &str) {
    eprintln!("rampart: warning: {message}");
}

/// Checks the input flags every reading command shares, and caps the
/// threads.
fn check_input(input: &mut InputArgs) -> anyhow::Result<()> {
    for path in &input.var_files {
        require("--var-file", path, Expect::File)?;
    }
    for path in &input.module_dirs {
        require("--module-dir", path, Expect::Dir)?;
    }
    if let Some(bytes) = input.max_file_size {
        config::check_max_file_size(bytes).map_err(|m| anyhow::anyhow!("--max-file-size: {m}"))?;
    }
    input.threads = input.threads.map(worker_threads);
    Ok(())
}

fn discover_options(input: &InputArgs) -> DiscoverOptions {
    DiscoverOptions {
        excludes: input.exclude.clone(),
        threads: input.threads.unwrap_or(0),
        module_context: true,
        platforms: Vec::new(),
    }
}

/// `-` among the paths: standard input, captured to a temporary file that
/// stands in for it.
fn capture_stdin(args: &mut ScanArgs) -> anyhow::Result<Option<crate::stdin::Captured>> {
    let dash = Path::new("-");
    let count = args.paths.iter().filter(|p| p.as_path() == dash).count();
    if count == 0 {
        if args.stdin_name.is_some() || args.stdin_platform.is_some() {
            bail!("--stdin-name and --stdin-platform need `-` among the paths");
        }
        return Ok(None);
    }
    if count > 1 {
        bail!("`-` (standard input) can be given once");
    }
    let captured = crate::stdin::capture(
        &mut std::io::stdin().lock(),
        args.stdin_name.as_deref(),
        args.stdin_platform,
        args.input.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE),
    )?;
    for p in args.paths.iter_mut().filter(|p| p.as_path() == dash) {
        *p = captured.path.clone();
    }
    Ok(Some(captured))
}

/// How charts render: the Helm flags over the config file's `helm:`
/// section; a `--helm-values` file that cannot be read is an error.
fn render_options(
    helm: &crate::cli::HelmArgs,
    settings: Option<&crate::render::helm::settings::HelmSettings>,
    max_file_size: Option<u64>,
) -> anyhow::Result<crate::render::RenderOptions> {
    let helm = crate::render::helm::settings::options(
        &helm.flags(),
        settings,
        max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE),
    )
    .map_err(anyhow::Error::msg)?;
    Ok(crate::render::RenderOptions {
        helm,
        ..Default::default()
    })
}

fn load_options(input: &InputArgs, paths: &[PathBuf]) -> LoadOptions {
    LoadOptions::new(
        input.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE),
        input.var_files.clone(),
        input.vars.clone(),
        paths
            .iter()
            .filter_map(|p| std::fs::canonicalize(p).ok())
            .collect(),
    )
    .with_module_dirs(input.module_dirs.clone())
}

/// Where a report goes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Output {
    format: OutputFormat,
    target: Target,
}

/// Parses `FORMAT[:PATH]`; `-` as the path is standard output. A bare
/// path whose extension names a format (`results.sarif`, `out.json`,
/// `junit.xml`) is a report of that format in that file.
fn parse_output(spec: &str) -> anyhow::Result<Output> {
    let (name, target) = match spec.split_once(':') {
        Some((name, path)) if !path.is_empty() => (name, Target::of_path(path)),
        _ => (spec.trim_end_matches(':'), Target::Stdout),
    };
    if let Some(format) = OutputFormat::parse(name) {
        return Ok(Output { format, target });
    }
    if !spec.contains(':')
        && let Some(format) = OutputFormat::of_extension(Path::new(spec))
    {
        return Ok(Output {
            format,
            target: Target::of_path(spec),
        });
    }
    bail!(
        "\"{name}\" is not a known format (in -o {spec}): expected FORMAT or FORMAT:PATH with FORMAT one of {}, or a file ending in {}",
        OutputFormat::names().join(", "),
        OutputFormat::EXTENSIONS
            .iter()
            .map(|(ext, format)| format!(".{ext} ({})", format.name()))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// The settings of a scan after flags, environment, config file and
/// defaults are merged (in that order of precedence).
struct ScanSettings {
    config: scan::ScanConfig,
    write_baseline: Option<PathBuf>,
    diff_base: Option<String>,
    selection: QuerySelection,
    outputs: Vec<Output>,
    fail_on: Threshold,
    fail_on_parse_error: bool,
    report: report::ReportOptions,
}

/// Checks the paths a settings file names: each must exist.
fn check_config_paths(file: &config::ConfigFile) -> anyhow::Result<()> {
    let name = crate::discover::display_path(&file.path);
    for dir in &file.queries {
        require(&format!("\"queries\" in {name}:"), dir, Expect::Dir)?;
    }
    if let Some(path) = &file.exceptions {
        require(&format!("\"exceptions\" in {name}:"), path, Expect::File)?;
    }
    if let Some(path) = &file.baseline {
        require(&format!("\"baseline\" in {name}:"), path, Expect::File)?;
    }
    Ok(())
}

/// A repository's settings file may only name paths inside its repository:
/// it must not make a scan read policy from, or write reports to, anywhere
/// else on the machine.
fn confine(file: &config::ConfigFile, root: &Path) -> anyhow::Result<()> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let name = crate::discover::display_path(&file.path);
    let outside = |key: &str, shown: &str| {
        anyhow::anyhow!(
            "\"{key}\" in {name}: {shown} is outside the repository ({}); a repository's settings may only name paths inside it (give it on the command line instead)",
            root.display()
        )
    };
    for spec in &file.outputs {
        if let Target::File(path) = parse_output(spec)?.target
            && !config::is_inside(&path, &cwd, root)
        {
            return Err(outside("outputs", spec));
        }
    }
    let reads = file
        .queries
        .iter()
        .map(|p| ("queries", p))
        .chain(file.exceptions.iter().map(|p| ("exceptions", p)))
        .chain(file.baseline.iter().map(|p| ("baseline", p)));
    for (key, path) in reads {
        if !config::is_inside(path, &cwd, root) {
            return Err(outside(key, &path.display().to_string()));
        }
    }
    Ok(())
}

/// A settings file as reports name it: relative to the current directory
/// when below it.
fn shown(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf));
    crate::discover::display_path(relative.as_deref().unwrap_or(path))
}

/// Reads the settings files of a scan of `start`: the pinned one
/// (`--config`, `RAMPART_CONFIG`) and, unless `--no-config`, the
/// repository's; merges them so the pinned one decides the policy.
fn settings_files(
    pinned: Option<&Path>,
    no_config: bool,
    start: &Path,
) -> anyhow::Result<(config::ConfigFile, config::Sources)> {
    let pinned = match pinned {
        Some(path) => {
            require("--config", path, Expect::File)?;
            let file = config::load(path)?;
            check_config_paths(&file)?;
            Some(file)
        }
        None => None,
    };
    let found = if no_config { None } else { config::find(start) };
    let pinned_canonical = pinned
        .as_ref()
        .and_then(|f| std::fs::canonicalize(&f.path).ok());
    let repository = match found {
        // The same file named twice is pinned, not the repository's.
        Some(found) if Some(&found.path) != pinned_canonical.as_ref() => {
            let file = config::load(&found.path)?;
            confine(&file, &found.root)?;
            check_config_paths(&file)?;
            Some(file)
        }
        _ => None,
    };
    let mut sources = config::Sources {
        pinned: pinned.as_ref().map(|f| shown(&f.path)),
        repository: repository.as_ref().map(|f| shown(&f.path)),
        ignored: Vec::new(),
    };
    let merged = match (pinned, repository) {
        (Some(pinned), Some(repository)) => {
            let (merged, ignored) = config::merge(pinned, repository);
            if !ignored.is_empty() {
                warn(&format!(
                    "{} sets {}, ignored: the pinned settings file {} decides them",
                    sources.repository.as_deref().unwrap_or_default(),
                    ignored.join(", "),
                    sources.pinned.as_deref().unwrap_or_default()
                ));
            }
            sources.ignored = ignored;
            merged
        }
        (Some(file), None) | (None, Some(file)) => file,
        (None, None) => config::ConfigFile::default(),
    };
    Ok((merged, sources))
}

fn resolve(args: ScanArgs) -> anyhow::Result<ScanSettings> {
    let paths = paths_or_cwd(args.paths);
    scan::check_roots(&paths)?;
    let (file, sources) = settings_files(args.config.as_deref(), args.no_config, &paths[0])?;
    let mut input = args.input;
    input.exclude.extend(file.exclude.iter().cloned());
    input.max_file_size = input.max_file_size.or(file.max_file_size);
    input.threads = input.threads.or(file.threads);
    check_input(&mut input)?;
    let mut selection = args.queries;
    for dir in &selection.query_dirs {
        require("--queries", dir, Expect::Dir)?;
    }
    selection.query_dirs.extend(file.queries.iter().cloned());
    if selection.only.is_empty() {
        selection.only = file.only.clone();
    }
    selection.skip.extend(file.skip.iter().cloned());
    selection.severity = selection
        .severity
        .or(file.severity.map(crate::cli::SeverityFilter::AtLeast));
    selection.parameters = file.parameters.clone();
    if let Some(path) = &args.suppress.exceptions {
        require("--exceptions", path, Expect::File)?;
    }
    if let Some(path) = &args.suppress.baseline {
        require("--baseline", path, Expect::File)?;
    }
    if let Some(reference) = &args.suppress.diff_base {
        crate::diff_base::check_reference(reference)?;
    }

    let stdout_format = if args.compact {
        Some(OutputFormat::Compact)
    } else {
        args.format
    };
    if args.summary && stdout_format.is_some_and(|f| f != OutputFormat::Human) {
        bail!(
            "--summary is a form of the human report; it cannot be combined with another --format"
        );
    }
    let specs = if args.outputs.is_empty() {
        file.outputs.clone()
    } else {
        args.outputs
    };
    let mut outputs = specs
        .iter()
        .map(|s| parse_output(s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if let Some(format) = stdout_format {
        outputs.retain(|o| o.target != Target::Stdout);
        outputs.insert(
            0,
            Output {
                format,
                target: Target::Stdout,
            },
        );
    } else if outputs.is_empty() {
        outputs.push(Output {
            format: OutputFormat::Human,
            target: Target::Stdout,
        });
    }
    let targets: Vec<Target> = outputs
        .iter()
        .map(|o| o.target.clone())
        .chain(
            args.suppress
                .write_baseline
                .iter()
                .cloned()
                .map(Target::File),
        )
        .collect();
    report::output::check_targets(&targets)?;
    let source_root = std::fs::canonicalize(paths_dir(&paths[0]))
        .ok()
        .and_then(|dir| crate::discover::repository_root(&dir));
    let color = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let identity = crate::identity::ScanIdentity::of_scan(
        &paths,
        args.project.as_deref(),
        args.suppress
            .exceptions
            .as_deref()
            .or(file.exceptions.as_deref()),
    );
    let exceptions = match args
        .suppress
        .exceptions
        .as_ref()
        .or(file.exceptions.as_ref())
    {
        Some(path) => Some(crate::suppress::Exceptions::load(path)?),
        None => None,
    };
    // The security team's parameter values win over the repository's.
    if let Some(exceptions) = &exceptions {
        crate::query::parameter::layer(&mut selection.parameters, exceptions.parameters());
    }
    let exception_records = exceptions
        .as_ref()
        .map(crate::suppress::Exceptions::records)
        .unwrap_or_default();
    Ok(ScanSettings {
        config: scan::ScanConfig {
            load: load_options(&input, &paths),
            paths,
            discover: DiscoverOptions {
                platforms: selection.platforms.clone(),
                ..discover_options(&input)
            },
            threads: input.threads.unwrap_or(0),
            progress: std::io::stderr().is_terminal() && !args.quiet,
            inline: crate::suppress::InlineOptions {
                enabled: !args.suppress.no_inline_suppressions,
                report_unused: args.suppress.report_unused_suppressions,
                today: crate::date::Date::today(),
            },
            exceptions: exceptions.clone(),
            baseline: match args.suppress.baseline.as_ref().or(file.baseline.as_ref()) {
                Some(path) => Some(read_baseline(path)?),
                None => None,
            },
            fingerprint_root: None,
            render: render_options(&input.helm, file.helm.as_ref(), input.max_file_size)?,
            line_hashes: outputs.iter().any(|o| o.format == OutputFormat::Sarif),
        },
        write_baseline: args.suppress.write_baseline,
        diff_base: args.suppress.diff_base,
        selection,
        outputs,
        fail_on: args
            .fail_on
            .or(file.fail_on)
            .unwrap_or(Threshold::AtLeast(Severity::Low)),
        fail_on_parse_error: args.fail_on_parse_error || file.fail_on_parse_error.unwrap_or(false),
        report: report::ReportOptions {
            color,
            sarif_category: args.sarif_category.or(file.sarif_category),
            quiet: args.quiet,
            summary_only: args.summary,
            group_by: args.group_by,
            source_root,
            config: sources,
            identity: Some(identity),
            exceptions: exception_records,
        },
    })
}

/// Prints what loaded but looks wrong in the queries (a misspelt resource
/// type), each naming its file and line.
fn warn_about_queries(registry: &Registry) {
    for w in registry.warnings() {
        warn(&w.to_string());
    }
}

/// Loads the library and the user's directories, then applies `--only`,
/// `--skip`, `--severity` and `--platform`. A selector that names nothing
/// is an error: a typo must not silently disable a policy.
pub fn registry(selection: &QuerySelection) -> anyhow::Result<Registry> {
    let registry = Registry::load_with(true, &selection.query_dirs, &selection.parameters)
        .map_err(LibraryError)?;
    warn_about_queries(&registry);
    // An id or a former id (a query merged into a concept keeps answering
    // to its old id; one split into concepts names them all), another
    // tool's id, a platform or a category.
    let resolve = |selectors: &[String]| -> anyhow::Result<Vec<String>> {
        let mut out = Vec::new();
        for selector in selectors {
            let found = registry.select(selector).map_err(anyhow::Error::msg)?;
            out.extend(found.into_iter().map(|q| q.id.clone()));
        }
        Ok(out)
    };
    let only = resolve(&selection.only)?;
    let skip = resolve(&selection.skip)?;
    let platforms = &selection.platforms;
    Ok(registry.retain(|q| {
        (only.is_empty() || only.contains(&q.id))
            && !skip.contains(&q.id)
            && selection
                .severity
                .as_ref()
                .is_none_or(|filter| filter.keeps(q.severity))
            && (platforms.is_empty() || q.platforms().iter().any(|p| platforms.contains(p)))
    }))
}

fn read_baseline(path: &std::path::Path) -> anyhow::Result<crate::suppress::Baseline> {
    let text = crate::source::read_settings_text(path)
        .with_context(|| format!("cannot read baseline {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a rampart baseline", path.display()))
}

/// `rampart scan`.
pub fn scan(mut args: ScanArgs, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let stdin = capture_stdin(&mut args)?;
    let mut settings = resolve(args)?;
    let registry = registry(&settings.selection)?;
    if let Some(reference) = &settings.diff_base {
        let old = crate::diff_base::baseline_at(reference, &settings.config, &registry)?;
        let mut merged = settings.config.baseline.take().unwrap_or_default();
        merged.findings.extend(old.findings);
        settings.config.baseline = Some(merged);
    }
    let mut result = scan::scan(&settings.config, &registry)?;
    if let Some(captured) = &stdin {
        crate::stdin::relabel(&mut result, captured);
    }
    // A query with rules for several platforms runs only the chosen ones'.
    let platforms = &settings.selection.platforms;
    if !platforms.is_empty() {
        result.findings.retain(|f| platforms.contains(&f.platform));
    }
    // Files never get terminal colour.
    let file_options = report::ReportOptions {
        color: false,
        ..settings.report.clone()
    };
    let mut pending = Vec::new();
    if let Some(path) = &settings.write_baseline {
        let baseline = crate::suppress::Baseline::of(&result.findings);
        let mut bytes = serde_json::to_vec_pretty(&baseline)?;
        bytes.push(b'\n');
        pending.push(Pending::bytes(Target::File(path.clone()), bytes));
        // What was just recorded is accepted from now on.
        for f in result
            .findings
            .iter_mut()
            .filter(|f| f.suppressed.is_none())
        {
            f.suppressed = Some(Box::new(crate::finding::Suppression {
                kind: crate::finding::SuppressionKind::Baseline,
                reason: None,
                origin: crate::discover::display_path(path),
                expires: None,
                approved_by: None,
            }));
        }
    }
    for output in &settings.outputs {
        let options = match output.target {
            Target::Stdout => &settings.report,
            Target::File(_) => &file_options,
        };
        let format = output.format;
        let (result, registry) = (&result, &registry);
        let write = move |out: &mut dyn Write| {
            let report = report::Report {
                result,
                registry,
                options,
            };
            report::render(format, &report, out)
        };
        if output.format == OutputFormat::Sarif
            && let Some(cut) = report::sarif::truncation(&result.findings)
        {
            warn(&format!(
                "the SARIF report ({}) holds {} of {} findings: GitHub code scanning accepts at most {} results per run, so the least severe were left out ({}). {}",
                output.target.describe(),
                cut.total - cut.omitted(),
                cut.total,
                report::sarif::MAX_RESULTS,
                cut.describe_dropped(),
                report::sarif::SPLIT_ADVICE
            ));
        }
        pending.push(Pending {
            target: output.target.clone(),
            write: Box::new(write),
        });
    }
    // A reader that stops early (`rampart scan | head -1`) closes the pipe:
    // the rest of the report is not wanted, but the verdict still is.
    if let Err(e) = report::output::write_all(&pending, out)
        && !crate::is_broken_pipe(&e)
    {
        return Err(e);
    }
    let compact_on_stdout = settings
        .outputs
        .iter()
        .any(|o| o.target == Target::Stdout && o.format == OutputFormat::Compact);
    if compact_on_stdout && !settings.report.quiet {
        eprintln!("{}", report::compact::total_line(&result));
    }
    // A unit rampart failed to check may hide findings: never a pass.
    if result.stats.internal_errors > 0 {
        bail!(
            "{} unit(s) could not be checked because of an internal error (named in the diagnostics); failing the run",
            result.stats.internal_errors
        );
    }
    let failing = result
        .findings
        .iter()
        .any(|f| f.suppressed.is_none() && settings.fail_on.fails(f.severity))
        || (settings.fail_on_parse_error
            && result
                .diagnostics
                .iter()
                .any(|d| d.level == crate::diagnostic::Level::Error));
    Ok(if failing {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

/// `rampart completions`.
pub fn completions(args: CompletionsArgs, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let mut command = <crate::cli::Cli as clap::CommandFactory>::command();
    clap_complete::generate(args.shell, &mut command, "rampart", out);
    Ok(ExitStatus::Clean)
}

/// `rampart inspect`.
pub fn inspect(mut args: InspectArgs, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let paths = paths_or_cwd(args.paths);
    scan::check_roots(&paths)?;
    check_input(&mut args.input)?;
    let config = inspect::InspectConfig {
        load: load_options(&args.input, &paths),
        paths,
        discover: discover_options(&args.input),
        tree: args.tree,
        render: render_options(&args.input.helm, None, args.input.max_file_size)?,
    };
    let report = inspect::inspect(&config, args.input.threads.unwrap_or(0))?;
    match args.format {
        Format::Json => inspect::render_json(&report, out)?,
        Format::Text => inspect::render_text(&report, out)?,
    }
    Ok(ExitStatus::Clean)
}

/// `rampart render`: what a scan reads of each chart and kustomization.
/// Render problems go to stderr; any error fails the command (exit 1), so a
/// script comparing renders never mistakes a failed render for an empty one.
pub fn render(mut args: RenderArgs, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let paths = paths_or_cwd(args.paths);
    scan::check_roots(&paths)?;
    check_input(&mut args.input)?;
    let discovery = crate::discover::discover(&paths, &discover_options(&args.input))?;
    let load = load_options(&args.input, &paths);
    let disk = crate::render::FsDisk::new(&paths, load.max_file_size);
    // A directory named on the command line that is itself a chart or a
    // kustomization is what the user asked for: render it (even a base
    // another kustomization includes), not the others found under it.
    let named: Vec<std::path::PathBuf> = paths
        .iter()
        .filter(|p| crate::render::root_kind(p).is_some())
        .map(|p| crate::render::kustomize::normalize(p))
        .collect();
    let roots = if named.is_empty() {
        crate::render::roots::select(discovery.roots, &disk)
    } else {
        let mut roots = discovery.roots;
        roots.retain(|r| named.contains(&crate::render::kustomize::normalize(&r.dir)));
        roots
    };
    if roots.is_empty() {
        anyhow::bail!(
            "no Helm chart (Chart.yaml) or kustomization (kustomization.yaml) under {}",
            paths
                .iter()
                .map(|p| shown(p))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    // The repository's `.rampart.yaml` (its `helm:` value sets) applies as in a scan.
    let (file, _) = settings_files(None, false, &paths[0])?;
    let options = render_options(
        &args.input.helm,
        file.helm.as_ref(),
        args.input.max_file_size.or(file.max_file_size),
    )?;
    let mut failed = false;
    for root in &roots {
        for rendered in crate::render::render(root, &disk, &options) {
            crate::render::print(&rendered, out)?;
            for d in &rendered.diagnostics {
                failed |= d.level == crate::diagnostic::Level::Error;
                eprintln!("{d}");
            }
        }
    }
    Ok(if failed {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

/// `rampart report`: many scan results rolled up. Without `-o`, a short
/// summary on stdout. Exit 1 when a repository fails, so a scheduled job
/// can alert on it.
pub fn report(args: ReportArgs, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    scan::check_roots(&args.inputs)?;
    for dir in &args.query_dirs {
        require("--queries", dir, Expect::Dir)?;
    }
    let outputs = args
        .outputs
        .iter()
        .map(|spec| crate::compliance::parse_output(spec).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let targets: Vec<_> = outputs.iter().map(|(_, t)| t.clone()).collect();
    report::output::check_targets(&targets)?;
    let registry = Registry::load(true, &args.query_dirs).map_err(LibraryError)?;
    let inputs = crate::compliance::read_inputs(&args.inputs);
    for s in &inputs.skipped {
        warn(&format!("{}: {}; not used", s.file, s.reason));
    }
    if inputs.scans.is_empty() && inputs.clusters.is_empty() {
        anyhow::bail!(
            "no rampart JSON result or admission audit log among the {} input file(s)",
            inputs.files
        );
    }
    let today = crate::date::Date::today();
    let compliance = crate::compliance::aggregate(inputs, &registry, args.fail_on, today);
    let mut pending = Vec::new();
    for (format, target) in outputs {
        let bytes = match format {
            crate::compliance::ReportFormat::Json => {
                let mut bytes = serde_json::to_vec_pretty(&compliance)?;
                bytes.push(b'\n');
                bytes
            }
            crate::compliance::ReportFormat::Html => {
                crate::compliance::html::render(&compliance).into_bytes()
            }
        };
        pending.push(report::output::Pending::bytes(target, bytes));
    }
    if pending.is_empty() {
        for r in &compliance.repositories {
            writeln!(
                out,
                "{:<40} {:<4} {:>5} findings, {} scans",
                r.project,
                r.status,
                r.current.findings.values().sum::<usize>(),
                r.trend.len()
            )?;
        }
    }
    report::output::write_all(&pending, out)?;
    Ok(
        if compliance.repositories.iter().any(|r| r.status == "fail") {
            ExitStatus::Findings
        } else {
            ExitStatus::Clean
        },
    )
}

/// `rampart queries`.
pub fn queries(args: QueriesArgs, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    for dir in &args.query_dirs {
        require("--queries", dir, Expect::Dir)?;
    }
    let registry = Registry::load(true, &args.query_dirs).map_err(LibraryError)?;
    warn_about_queries(&registry);
    let control = match &args.control {
        Some(text) => Some(crate::query::control::Control::parse(text).ok_or_else(|| {
            anyhow::anyhow!(
                "--control {text}: not a control; write FRAMEWORK-ID with FRAMEWORK one of {}",
                crate::query::control::Framework::ALL
                    .iter()
                    .map(|f| f.prefix())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?),
        None => None,
    };
    let listed: Vec<&Query> = registry
        .queries()
        .filter(|q| !q.deprecated)
        .filter(|q| control.as_ref().is_none_or(|c| q.controls.contains(c)))
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
                        "platforms": q.platforms(),
                        "category": q.category,
                        "cwe": q.cwe,
                        "controls": q.controls,
                        "select": q.rules.iter().flat_map(|r| r.select.iter().map(move |k| format!("{} {k}", r.platform))).collect::<Vec<_>>(),
                        "parameters": q.parameters.iter().map(|p| {
                            (p.name.clone(), serde_json::json!({
                                "default": p.default.render(),
                                "description": p.description.trim(),
                            }))
                        }).collect::<serde_json::Map<_, _>>(),
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
            let rows: Vec<[String; 4]> = listed
                .iter()
                .map(|q| {
                    [
                        q.id.clone(),
                        q.severity.to_string(),
                        q.platforms()
                            .iter()
                            .map(|p| p.name())
                            .collect::<Vec<_>>()
                            .join(","),
                        q.title.clone(),
                    ]
                })
                .collect();
            let header = ["ID", "SEVERITY", "PLATFORMS", "TITLE"].map(String::from);
            // Every column as wide as its widest cell, so the list reads as
            // a table whatever ids a team's pack adds.
            let widths: Vec<usize> = (0..3)
                .map(|c| {
                    std::iter::once(&header)
                        .chain(&rows)
                        .map(|r| r[c].chars().count())
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            for row in std::iter::once(&header).chain(&rows) {
                writeln!(
                    out,
                    "{:<w0$}  {:<w1$}  {:<w2$}  {}",
                    row[0],
                    row[1],
                    row[2],
                    row[3],
                    w0 = widths[0],
                    w1 = widths[1],
                    w2 = widths[2]
                )?;
            }
            let without = listed.iter().filter(|q| q.controls.is_empty()).count();
            writeln!(
                out,
                "\n{} queries ({without} map to no compliance control)",
                listed.len()
            )?;
        }
    }
    Ok(ExitStatus::Clean)
}

/// `rampart explain`.
pub fn explain(args: ExplainArgs, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    for dir in &args.query_dirs {
        require("--queries", dir, Expect::Dir)?;
    }
    let (file, _) = settings_files(args.config.as_deref(), args.no_config, Path::new("."))?;
    let mut dirs = args.query_dirs.clone();
    dirs.extend(file.queries.iter().cloned());
    // The values `scan` would run with: the exceptions file's over the
    // settings file's.
    let mut parameters = file.parameters.clone();
    if let Some(path) = args.exceptions.as_ref().or(file.exceptions.as_ref()) {
        require("--exceptions", path, Expect::File)?;
        let exceptions = crate::suppress::Exceptions::load(path)?;
        crate::query::parameter::layer(&mut parameters, exceptions.parameters());
    }
    let registry = Registry::load_with(true, &dirs, &parameters).map_err(LibraryError)?;
    let found = registry.find_all(&args.id);
    let Some(first) = found.first() else {
        bail!("unknown query id \"{}\" (see `rampart queries`)", args.id);
    };
    if !first.id.eq_ignore_ascii_case(&args.id) {
        let ids: Vec<&str> = found.iter().map(|q| q.id.as_str()).collect();
        writeln!(out, "{} is now {}", args.id, ids.join(" and "))?;
    }
    for (i, q) in found.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        if args.source {
            write_source(q, out)?;
        } else {
            explain_query(q, out)?;
        }
    }
    Ok(ExitStatus::Clean)
}

/// The YAML a query was compiled from: from the binary for the built-in
/// library, from disk for a team's pack.
fn write_source(q: &Query, out: &mut dyn Write) -> anyhow::Result<()> {
    let embedded = q.source.strip_prefix("queries/").and_then(|relative| {
        crate::embedded::QUERIES
            .iter()
            .find(|(path, _)| *path == relative)
            .map(|(_, text)| text.to_string())
    });
    let text = match embedded {
        Some(text) => text,
        None => crate::source::read_settings_text(Path::new(&q.source))
            .with_context(|| format!("cannot read the source of {} ({})", q.id, q.source))?,
    };
    writeln!(out, "# {}", q.source)?;
    write!(out, "{text}")?;
    if !text.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(())
}

/// The explanation of one query: what it checks, why, how to fix it, and its
/// fixtures as examples.
fn explain_query(q: &Query, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(out, "{}: {}", q.id, q.title)?;
    let cwe: Vec<String> = q.cwe.iter().map(|c| format!("CWE-{c}")).collect();
    writeln!(
        out,
        "severity {}, category {}, {}; selects {}",
        q.severity,
        q.category,
        if cwe.is_empty() {
            "no CWE".into()
        } else {
            cwe.join(", ")
        },
        q.rules
            .iter()
            .map(|r| format!("{} {}", r.platform, r.select.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    )?;
    if !q.aliases.is_empty() {
        let aliases: Vec<String> = q
            .aliases
            .iter()
            .map(|(t, ids)| format!("{t} {}", ids.join(", ")))
            .collect();
        writeln!(out, "same check elsewhere: {}", aliases.join("; "))?;
    }
    if !q.controls.is_empty() {
        let controls: Vec<String> = q.controls.iter().map(|c| c.to_string()).collect();
        writeln!(out, "controls: {}", controls.join(", "))?;
    }
    writeln!(out, "\n{}\n", q.description.trim())?;
    if !q.parameters.is_empty() {
        writeln!(
            out,
            "Parameters (set under parameters.{} in .rampart.yaml, or in the exceptions file, which wins):",
            q.id
        )?;
        for p in &q.parameters {
            let origin = match &p.set_at {
                Some(at) => format!("set at {at}; default {}", p.default.render()),
                None => "default".to_string(),
            };
            writeln!(out, "  {} = {} ({origin})", p.name, p.value.render())?;
            writeln!(out, "      {}", p.description.trim())?;
        }
        writeln!(out)?;
    }
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
    Ok(())
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
    scan::check_roots(std::slice::from_ref(&args.dir))?;
    if !args.dir.join("queries").is_dir() {
        bail!(
            "{} has no queries/ directory (a pack holds queries/ and fixtures/ side by side)",
            args.dir.display()
        );
    }
    if let Ok(pack) = Registry::load(false, &[args.dir.join("queries")]) {
        warn_about_queries(&pack);
    }
    let report = testing::run_pack(&args.dir, worker_threads(args.threads.unwrap_or(0)))
        .map_err(LibraryError)
        .context("cannot load the pack's queries")?;
    if report.cases.is_empty() && report.incomplete.is_empty() {
        // Nothing ran: saying "0 passed, 0 failed" would read as a pass.
        bail!(
            "no test cases in {}: the pack has no queries, or its queries have no fixtures (expected fixtures/<query path>/bad*/good* beside queries/)",
            args.dir.display()
        );
    }
    testing::render(&report, out)?;
    Ok(if report.passed() {
        ExitStatus::Clean
    } else {
        ExitStatus::Findings
    })
}

/// `rampart admission`, in a build without the server: a clear error.
#[cfg(not(feature = "admission"))]
pub fn admission(_args: AdmissionArgs, _out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    bail!(
        "this rampart was built without the admission webhook; build it with `cargo build --release --features admission` (or use the rampart-admission image)"
    )
}

/// `rampart admission`: the settings as `scan` reads them (only the file
/// named by `--config`: a server has no repository), then serve.
#[cfg(feature = "admission")]
pub fn admission(args: AdmissionArgs, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    use crate::admission::{Engine, ServerOptions, TlsSource, policy::Policy, tls::CertFiles};
    let file = match &args.config {
        Some(path) => {
            require("--config", path, Expect::File)?;
            let file = config::load(path)?;
            check_config_paths(&file)?;
            file
        }
        None => config::ConfigFile::default(),
    };
    let mut selection = args.queries;
    for dir in &selection.query_dirs {
        require("--queries", dir, Expect::Dir)?;
    }
    selection.query_dirs.extend(file.queries.iter().cloned());
    if selection.only.is_empty() {
        selection.only = file.only.clone();
    }
    selection.skip.extend(file.skip.iter().cloned());
    selection.severity = selection
        .severity
        .or(file.severity.map(crate::cli::SeverityFilter::AtLeast));
    // The same tunable values as `scan` reads: the settings file's, with
    // the exceptions file's over them.
    selection.parameters = file.parameters.clone();
    let exceptions = match args.exceptions.as_ref().or(file.exceptions.as_ref()) {
        Some(path) => {
            require("--exceptions", path, Expect::File)?;
            Some(crate::suppress::Exceptions::load(path)?)
        }
        None => None,
    };
    if let Some(exceptions) = &exceptions {
        crate::query::parameter::layer(&mut selection.parameters, exceptions.parameters());
    }
    let registry = registry(&selection)?;
    let policy = Policy::new(&file.admission.clone().unwrap_or_default(), args.mode)
        .map_err(anyhow::Error::msg)?;
    let engine = Engine {
        registry,
        exceptions,
        fail_on: args
            .fail_on
            .or(file.fail_on)
            .unwrap_or(Threshold::AtLeast(Severity::Low)),
        policy,
    };
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => TlsSource::Files(CertFiles { cert, key }),
        _ => TlsSource::SelfSigned {
            names: if args.tls_name.is_empty() {
                [
                    "rampart-admission",
                    "rampart-admission.rampart",
                    "rampart-admission.rampart.svc",
                    "localhost",
                    "127.0.0.1",
                ]
                .map(String::from)
                .to_vec()
            } else {
                args.tls_name
            },
            ca_out: args.tls_ca_out,
        },
    };
    let options = ServerOptions {
        listen: args.listen,
        max_body_bytes: usize::try_from(args.max_request_bytes).unwrap_or(usize::MAX),
        reload_every: std::time::Duration::from_secs(args.tls_reload_seconds),
        drain: std::time::Duration::from_secs(args.drain_seconds),
    };
    crate::admission::run(engine, tls, options, out)?;
    Ok(ExitStatus::Clean)
}
