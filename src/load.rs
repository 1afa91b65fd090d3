//! From found files to parsed units: group files into scan units, read each
//! file once, decide its platform from name and content, parse it.
//!
//! A unit is the work one thread does at a time: a Terraform module
//! directory (all its `.tf` and `.tf.json` files, since variables, locals and
//! references cross files) or a single file of any other platform. A unit is
//! loaded, used and dropped, so memory does not grow with the tree.

use std::path::{Path, PathBuf};

use crate::detect;
use crate::diagnostic::Diagnostic;
use crate::discover::{Candidate, FoundFile};
use crate::parse::{self, Parsed, json::Strings};
use crate::platform::Platform;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::discover::{Origin, classify_name, display_path};
use crate::platform::LoadedFile;
use crate::platform::terraform::eval::Disk;
use crate::platform::terraform::eval::module::{Inputs, TerraformInputs, evaluate};
use crate::platform::terraform::eval::modules::instantiate;
use crate::platform::terraform::plan;
use crate::render::Rendered;
use crate::source::{ReadError, read_source};
use crate::tree::SourceText;
use crate::tree::{LineIndex, Node};

/// Files scanned together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// The files, sorted by display path.
    pub files: Vec<FoundFile>,
    /// A Terraform module directory another scanned directory calls: read
    /// (its parse errors are reported) but checked only through its calls
    /// ([`mark_called_modules`]).
    pub through_calls: bool,
    /// A rendered chart or kustomization, read instead of files.
    pub rendered: Option<Stream>,
}

/// A rendered stream a unit reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Kept from its render.
    Held(Arc<Rendered>),
    /// Let go after its render to bound what a scan holds, and rendered
    /// again when its unit is read.
    Again(RenderAgain),
}

/// How to render a stream again: its root, and which of the root's
/// streams it is.
#[derive(Clone, Debug)]
pub struct RenderAgain {
    /// The chart or kustomization.
    pub root: crate::discover::RenderRoot,
    /// The stream's position among the root's.
    pub stream: usize,
    /// The stream's display name.
    pub display: String,
    /// What rendered it.
    pub renderer: Arc<crate::render::Renderer>,
}

impl PartialEq for RenderAgain {
    fn eq(&self, other: &RenderAgain) -> bool {
        (&self.root, self.stream) == (&other.root, other.stream)
    }
}

impl Eq for RenderAgain {}

impl Stream {
    /// What reports call the stream.
    pub fn display(&self) -> &str {
        match self {
            Stream::Held(rendered) => &rendered.display,
            Stream::Again(again) => &again.display,
        }
    }
}

impl Unit {
    /// A unit of one rendered stream, held.
    pub fn rendered(rendered: Rendered) -> Unit {
        Unit::of_stream(Stream::Held(Arc::new(rendered)))
    }

    /// A unit of one rendered stream.
    pub fn of_stream(stream: Stream) -> Unit {
        Unit {
            files: Vec::new(),
            through_calls: false,
            rendered: Some(stream),
        }
    }
}

/// How to read files.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Files larger than this many bytes are reported and not read.
    pub max_file_size: u64,
    /// Terraform variable values from the command line, and the loader's
    /// reads that evaluation is handed.
    pub terraform: Arc<TerraformInputs>,
}

impl LoadOptions {
    /// Options with this size cap and no Terraform inputs.
    pub fn with_max_file_size(max_file_size: u64) -> Self {
        LoadOptions::new(max_file_size, Vec::new(), Vec::new(), Vec::new())
    }

    /// Options with this size cap, Terraform variable files and values from
    /// the command line, and the scanned paths (canonical) that `file()`
    /// and module sources stay inside.
    pub fn new(
        max_file_size: u64,
        var_files: Vec<PathBuf>,
        vars: Vec<(String, String)>,
        roots: Vec<PathBuf>,
    ) -> Self {
        LoadOptions {
            max_file_size,
            terraform: Arc::new(TerraformInputs {
                disk: Arc::new(LoaderDisk::new(max_file_size)),
                var_files,
                vars,
                roots,
                module_dirs: Vec::new(),
            }),
        }
    }

    /// These options with directories of downloaded Terraform modules
    /// (`--module-dir`, as given).
    pub fn with_module_dirs(mut self, module_dirs: Vec<PathBuf>) -> Self {
        let mut terraform = (*self.terraform).clone();
        terraform.module_dirs = module_dirs;
        self.terraform = Arc::new(terraform);
        self
    }
}

/// The loader's side of [`Disk`]: what Terraform evaluation reads, through
/// the one safe reader; module directories listed and parsed once per scan
/// (the root module of a repository is called by each of its examples).
#[derive(Debug)]
pub struct LoaderDisk {
    max_file_size: u64,
    /// Parsed module directories by canonical path.
    parsed: Mutex<ModuleCache>,
}

/// How much module source text (bytes) [`LoaderDisk`] keeps parsed: a
/// bound by size, not by count, so a tree with many small modules keeps
/// them all, and past the bound the directory used longest ago goes first
/// (a count that stopped remembering made Terraform superlinear past one
/// copy of the benchmark's 120 modules; issue 20).
pub const MAX_PARSED_MODULE_BYTES: usize = 32 << 20;

/// Parsed module directories, least recently used evicted past
/// [`MAX_PARSED_MODULE_BYTES`]. Entries are shared (`Arc`): a hit clones
/// the pointer under the lock and the files outside it.
#[derive(Debug, Default)]
struct ModuleCache {
    entries: HashMap<PathBuf, CachedModule>,
    bytes: usize,
    clock: u64,
}

#[derive(Debug)]
struct CachedModule {
    files: Arc<Vec<LoadedFile>>,
    bytes: usize,
    used: u64,
}

impl ModuleCache {
    fn get(&mut self, dir: &Path) -> Option<Arc<Vec<LoadedFile>>> {
        self.clock += 1;
        let entry = self.entries.get_mut(dir)?;
        entry.used = self.clock;
        Some(Arc::clone(&entry.files))
    }

    fn insert(&mut self, dir: PathBuf, files: Arc<Vec<LoadedFile>>) {
        let bytes: usize = files.iter().map(|f| f.source.text.len()).sum();
        if bytes > MAX_PARSED_MODULE_BYTES {
            return;
        }
        while self.bytes + bytes > MAX_PARSED_MODULE_BYTES {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(gone) = self.entries.remove(&oldest) {
                self.bytes -= gone.bytes;
            }
        }
        self.clock += 1;
        let entry = CachedModule {
            files,
            bytes,
            used: self.clock,
        };
        if let Some(old) = self.entries.insert(dir, entry) {
            self.bytes -= old.bytes;
        }
        self.bytes += bytes;
    }
}

impl LoaderDisk {
    fn new(max_file_size: u64) -> LoaderDisk {
        LoaderDisk {
            max_file_size,
            parsed: Mutex::new(ModuleCache::default()),
        }
    }
}

impl Disk for LoaderDisk {
    fn read(&self, path: &Path, cap: u64) -> Result<String, String> {
        read_source(path, cap).map(|s| s.text).map_err(|e| match e {
            // The caller's own cap, which `--max-file-size` does not move:
            // do not suggest it.
            ReadError::TooLarge { size, cap } => {
                format!("file is {size} bytes, over the {cap}-byte limit")
            }
            other => other.to_string(),
        })
    }

    fn list(&self, dir: &Path) -> Vec<PathBuf> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    fn module_files(&self, dir: &Path, allowed: &[PathBuf]) -> Vec<LoadedFile> {
        let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let hit = self.parsed.lock().ok().and_then(|mut c| c.get(&canonical));
        if let Some(files) = hit {
            // Each instance evaluates its own copy.
            return files.as_ref().clone();
        }
        let options = LoadOptions::with_max_file_size(self.max_file_size);
        let mut loaded = LoadedUnit::default();
        for file in module_files(dir, allowed) {
            load_file(&file, &options, &mut loaded);
        }
        let shared = Arc::new(loaded.files);
        if let Ok(mut cache) = self.parsed.lock() {
            cache.insert(canonical, Arc::clone(&shared));
        }
        Arc::unwrap_or_clone(shared)
    }

    fn display(&self, path: &Path) -> String {
        display_path(path)
    }

    fn repository_root(&self, dir: &Path) -> Option<PathBuf> {
        crate::discover::repository_root(dir)
    }
}

/// The Terraform files of a module directory, in name order; a file that
/// is a link to somewhere outside the `allowed` directories is not read.
fn module_files(dir: &Path, allowed: &[PathBuf]) -> Vec<FoundFile> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<FoundFile> = entries
        .flatten()
        .filter_map(|e| {
            let path = e.path();
            let name = path.file_name()?.to_str()?.to_string();
            let candidate = classify_name(&name)?;
            let inside = std::fs::canonicalize(&path)
                .is_ok_and(|p| allowed.iter().any(|a| p.starts_with(a)));
            (inside
                && matches!(
                    candidate,
                    Candidate::TerraformHcl | Candidate::TerraformJson
                ))
            .then(|| FoundFile {
                display: display_path(&path),
                path,
                candidate,
                origin: Origin::ModuleContext,
            })
        })
        .collect();
    files.sort();
    crate::tofu::drop_shadowed(files, |f| f.path.as_path())
}

/// The result of loading one unit.
#[derive(Debug, Default)]
pub struct LoadedUnit {
    /// Recognised files, in the unit's order.
    pub files: Vec<LoadedFile>,
    /// What could not be read or parsed, and deliberate skips.
    pub diagnostics: Vec<Diagnostic>,
    /// Bytes read, recognised or not.
    pub bytes_read: u64,
    /// The platforms of files recognised but with no document read (every
    /// document failed to parse), for the summary's counts.
    pub unparsed: Vec<Platform>,
    /// The rendered stream the unit's one file is, for reporting its
    /// findings at their origins.
    pub rendered: Option<Arc<Rendered>>,
    /// A module directory checked through its callers ([`Unit::through_calls`]):
    /// read, not evaluated, not queried on its own.
    pub through_calls: bool,
    /// A Terraform plan: its findings give way to the same findings from
    /// the `.tf` files when both are scanned.
    pub plan: bool,
}

/// Groups found files into units: Terraform files by directory, every other
/// file alone. Units come out in display-path order.
pub fn units(files: Vec<FoundFile>) -> Vec<Unit> {
    let mut terraform: Vec<(PathBuf, Vec<FoundFile>)> = Vec::new();
    let mut units = Vec::new();
    for file in files {
        if matches!(
            file.candidate,
            Candidate::TerraformHcl | Candidate::TerraformJson
        ) {
            let dir = file.path.parent().unwrap_or(Path::new("")).to_path_buf();
            match terraform.last_mut() {
                // Files arrive sorted, so a directory's files are adjacent
                // unless a subdirectory sorts between them.
                Some((d, group)) if *d == dir => group.push(file),
                _ => match terraform.iter_mut().find(|(d, _)| *d == dir) {
                    Some((_, group)) => group.push(file),
                    None => terraform.push((dir, vec![file])),
                },
            }
        } else {
            units.push(Unit {
                files: vec![file],
                through_calls: false,
                rendered: None,
            });
        }
    }
    units.extend(terraform.into_iter().map(|(_, files)| Unit {
        files: crate::tofu::drop_shadowed(files, |f| f.path.as_path()),
        through_calls: false,
        rendered: None,
    }));
    units.sort_by(|a, b| first_display(a).cmp(first_display(b)));
    units
}

/// Marks the Terraform units whose directory another scanned directory
/// calls as a module (`source = "../x"`), reached from a root module: they
/// are checked through those calls, with the caller's arguments, and not
/// also alone with their defaults. Files are read through the safe reader
/// (at most `max_file_size` bytes); one that cannot be read calls nothing
/// here (its own unit reports why).
pub fn mark_called_modules(units: &mut [Unit], max_file_size: u64) {
    use crate::platform::terraform::calls;
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let dirs: Vec<Option<PathBuf>> = units
        .iter()
        .map(|u| match u.files.first() {
            Some(f) if is_terraform(f) => Some(canonical(unit_dir(f))),
            _ => None,
        })
        .collect();
    let mut edges = Vec::new();
    for (caller, unit) in units.iter().enumerate() {
        let Some(dir) = &dirs[caller] else {
            continue;
        };
        for file in unit.files.iter().filter(|f| is_terraform(f)) {
            let Ok(source) = read_source(&file.path, max_file_size) else {
                continue;
            };
            // Most files call no module: not parsed twice.
            if !source.text.contains("module") || !source.text.contains("source") {
                continue;
            }
            let index = LineIndex::new(&source.text);
            let parsed = match file.candidate {
                Candidate::TerraformJson => {
                    parse::json::parse(&source.text, &index, Strings::TerraformTemplates)
                }
                _ => parse::hcl::parse(&source.text, &index),
            };
            for document in &parsed.documents {
                for local in calls::local_sources(document) {
                    let target = canonical(&dir.join(local));
                    if let Some(callee) = dirs.iter().position(|d| d.as_ref() == Some(&target)) {
                        edges.push((caller, callee));
                    }
                }
            }
        }
    }
    for (unit, through) in units
        .iter_mut()
        .zip(calls::checked_through_calls(dirs.len(), &edges))
    {
        unit.through_calls = through;
    }
}

fn is_terraform(file: &FoundFile) -> bool {
    matches!(
        file.candidate,
        Candidate::TerraformHcl | Candidate::TerraformJson
    )
}

/// The directory of a unit's file, `.` for a bare name.
fn unit_dir(file: &FoundFile) -> &Path {
    match file.path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn first_display(unit: &Unit) -> &str {
    match &unit.rendered {
        Some(stream) => stream.display(),
        None => unit.files.first().map_or("", |f| f.display.as_str()),
    }
}

/// Reads and parses every file of a unit, and evaluates a Terraform
/// module's expressions with its variables and locals.
pub fn load_unit(unit: &Unit, options: &LoadOptions) -> LoadedUnit {
    match &unit.rendered {
        Some(Stream::Held(rendered)) => return load_rendered(rendered),
        Some(Stream::Again(again)) => return load_again(again),
        None => {}
    }
    let mut loaded = LoadedUnit {
        through_calls: unit.through_calls,
        ..LoadedUnit::default()
    };
    for file in &unit.files {
        load_file(file, options, &mut loaded);
    }
    if let Some(first) = unit.files.first()
        && !unit.through_calls
        && loaded
            .files
            .iter()
            .any(|f| f.platform == Platform::Terraform)
    {
        let dir = first.path.parent().unwrap_or(Path::new("."));
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let diagnostics = evaluate(&mut loaded.files, dir, &options.terraform, Inputs::Root);
        loaded.diagnostics.extend(diagnostics);
        instantiate(
            &mut loaded.files,
            &mut loaded.diagnostics,
            dir,
            &options.terraform,
        );
        // Terraform's kubernetes_* resources, as Kubernetes objects.
        crate::platform::kubernetes::terraform_provider::derive(&mut loaded.files);
    }
    // Policy documents, however written, read once into statements.
    crate::platform::policy::derive(&mut loaded.files);
    // Secrets written into configuration, found once.
    crate::platform::secrets::derive(&mut loaded.files);
    loaded
}

/// Parses a rendered stream as Kubernetes YAML. Its render diagnostics come
/// along; a line that does not parse is reported at its origin when known.
/// Renders a stream again and reads it.
fn load_again(again: &RenderAgain) -> LoadedUnit {
    match again
        .renderer
        .render(&again.root)
        .into_iter()
        .nth(again.stream)
    {
        Some(rendered) => load_rendered(&Arc::new(rendered)),
        // Rendering is deterministic: the stream is where it was.
        None => LoadedUnit {
            diagnostics: vec![Diagnostic::error(
                &again.display,
                0,
                0,
                "internal error: rendered again, the stream was not there (please report this)",
            )],
            ..LoadedUnit::default()
        },
    }
}

/// Reads a rendered stream.
pub fn load_rendered(rendered: &Arc<Rendered>) -> LoadedUnit {
    let mut loaded = LoadedUnit {
        diagnostics: rendered.diagnostics.clone(),
        bytes_read: rendered.text.len() as u64,
        rendered: Some(Arc::clone(rendered)),
        ..LoadedUnit::default()
    };
    if rendered.text.trim().is_empty() {
        return loaded;
    }
    let source = crate::tree::SourceText {
        text: rendered.text.clone(),
        bom_len: 0,
    };
    let index = LineIndex::new(&source.text);
    let Parsed { documents, errors } = parse::yaml::parse(&source.text, &index);
    for err in errors {
        let (file, line, column) = match rendered.origin(err.line) {
            Some(origin) => (origin.file.to_string(), origin.line, 0),
            None => (rendered.display.clone(), err.line, err.column),
        };
        loaded.diagnostics.push(Diagnostic::error(
            file,
            line,
            column,
            format!("rendered output does not parse: {}", err.message),
        ));
    }
    let model = Platform::Kubernetes.model();
    let documents: Vec<Node> = documents.into_iter().filter(|d| model.accepts(d)).collect();
    if documents.is_empty() {
        return loaded;
    }
    loaded.files.push(LoadedFile {
        display: rendered.display.clone(),
        platform: Platform::Kubernetes,
        source,
        documents,
        streamed: false,
        module: None,
        module_call: None,
        derived: false,
    });
    loaded
}

pub(crate) fn load_file(file: &FoundFile, options: &LoadOptions, out: &mut LoadedUnit) {
    let source = match read_source(&file.path, options.max_file_size) {
        Ok(source) => source,
        // Terraform plans saved from PowerShell are UTF-16.
        Err(ReadError::Utf16)
            if matches!(file.candidate, Candidate::JsonOrYaml | Candidate::Unknown)
                && let Ok(source) =
                    crate::source::read_utf16(&file.path, options.max_file_size)
                && plan::looks_like_plan(&source.text) =>
        {
            source
        }
        Err(err) => {
            out.diagnostics.extend(unread(file, &err));
            return;
        }
    };
    out.bytes_read += source.text.len() as u64 + u64::from(source.bom_len);
    let Some((platform, syntax)) = decide(file, &source.text) else {
        if file.is_explicit() {
            out.diagnostics.push(Diagnostic::notice(
                &file.display,
                0,
                0,
                "not a Terraform, Kubernetes, CloudFormation or Dockerfile file; skipped",
            ));
        }
        return;
    };
    if platform == Platform::Kubernetes
        && syntax == Syntax::Yaml
        && source.text.len() > STREAM_BATCH_BYTES
    {
        // Its trees would take some twenty times its size if held whole
        // (issue 21, item 14): read when queries run, a batch at a time.
        out.files.push(LoadedFile {
            display: file.display.clone(),
            platform,
            source,
            documents: Vec::new(),
            streamed: true,
            derived: false,
            module: None,
            module_call: None,
        });
        return;
    }
    if syntax == Syntax::TerraformPlan {
        load_plan(file, source, options, out);
        return;
    }
    let index = LineIndex::with_base(&source.text, source.bom_len);
    let parsed = match syntax {
        Syntax::Hcl => parse::hcl::parse(&source.text, &index),
        Syntax::TerraformJson => {
            parse::json::parse(&source.text, &index, Strings::TerraformTemplates)
        }
        Syntax::Json => parse::json::parse(&source.text, &index, Strings::Plain),
        Syntax::Yaml => parse::yaml::parse(&source.text, &index),
        Syntax::Dockerfile => parse::dockerfile::parse(&source.text, &index),
        Syntax::TerraformPlan => Parsed::default(),
    };
    let Parsed { documents, errors } = parsed;
    let had_errors = !errors.is_empty();
    for err in errors {
        out.diagnostics.push(Diagnostic::error(
            &file.display,
            err.line,
            err.column,
            err.message,
        ));
    }
    let model = platform.model();
    let documents: Vec<Node> = documents.into_iter().filter(|d| model.accepts(d)).collect();
    if documents.is_empty() {
        if had_errors {
            // Counted as what it was read as, so the summary says what the
            // parse errors are about.
            out.unparsed.push(platform);
        }
        // Either the parse errors above say why, or the text looked like IaC
        // but no document is: not ours, said only if the user named the file.
        if file.is_explicit() && !had_errors {
            out.diagnostics.push(Diagnostic::notice(
                &file.display,
                0,
                0,
                format!("no {platform} document found; skipped"),
            ));
        }
        return;
    }
    out.files.push(LoadedFile {
        display: file.display.clone(),
        platform,
        source,
        documents,
        streamed: false,
        derived: false,
        module: None,
        module_call: None,
    });
}

/// Reads a Terraform plan (`terraform show -json`): its resources become
/// Terraform files of the unit, reported at their `.tf` lines when the
/// plan's configuration is found beside it (inside the scanned paths).
fn load_plan(file: &FoundFile, source: SourceText, options: &LoadOptions, out: &mut LoadedUnit) {
    let index = LineIndex::with_base(&source.text, source.bom_len);
    let Parsed { documents, errors } = parse::json::parse(&source.text, &index, Strings::Plain);
    for err in errors {
        out.diagnostics.push(Diagnostic::error(
            &file.display,
            err.line,
            err.column,
            format!("Terraform plan JSON: {}", err.message),
        ));
    }
    let Some(document) = documents.first() else {
        out.unparsed.push(Platform::Terraform);
        return;
    };
    let dir = file.path.parent().unwrap_or(Path::new("")).to_path_buf();
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let context = &options.terraform;
    let allowed = crate::platform::terraform::eval::modules::allowed_dirs(context, &dir);
    let read_module = |d: &Path| context.disk.module_files(d, &allowed);
    let (files, diagnostics) = plan::load(&file.display, &dir, source, document, &read_module);
    out.diagnostics.extend(diagnostics);
    if files.is_empty() {
        out.unparsed.push(Platform::Terraform);
    }
    out.plan = true;
    out.files.extend(files);
}

/// The diagnostic for a file that could not be read, if it deserves one.
///
/// Every file that could be IaC and is not read is named (issue 21, item
/// 2): a file named on the command line, a Terraform file or a Dockerfile,
/// and any file that is not a regular file or that the system refused. A
/// `.yaml`, `.yml`, `.json` or `.template` found by walking may be anything
/// (a lockfile, a data set), so its first bytes decide: when they look like
/// Kubernetes or CloudFormation, it is an error; otherwise a file that is
/// too large is left out silently (a big `package-lock.json` is not IaC)
/// and a badly encoded one gets a notice (text that no tool can read is
/// worth a word).
fn unread(file: &FoundFile, err: &ReadError) -> Option<Diagnostic> {
    let (line, column) = match err {
        ReadError::NotUtf8 { line, column } => (*line, *column),
        _ => (0, 0),
    };
    let error = || Diagnostic::error(&file.display, line, column, err.to_string());
    let structured = matches!(file.candidate, Candidate::Yaml | Candidate::JsonOrYaml);
    if file.is_explicit() || !structured || !(err.is_encoding() || is_too_large(err)) {
        return Some(error());
    }
    let looks_like_iac = crate::source::read_head_lossy(&file.path)
        .is_ok_and(|head| detect::sniff_structured(&head).is_some());
    if looks_like_iac {
        Some(error())
    } else if err.is_encoding() {
        Some(Diagnostic::notice(
            &file.display,
            line,
            column,
            format!("{err}; skipped"),
        ))
    } else {
        None
    }
}

fn is_too_large(err: &ReadError) -> bool {
    matches!(err, ReadError::TooLarge { .. })
}

/// Kubernetes streams larger than this many bytes are read and queried a
/// batch of documents of about this size at a time, so memory follows one
/// batch's trees (plus the text, which reports quote), not the stream's.
pub const STREAM_BATCH_BYTES: usize = 256 * 1024;

/// Reads a streamed file ([`LoadedFile::streamed`]) for `run`: first the
/// documents holding entities of `context_kinds` (what relations look for,
/// kept in view of every batch), then every document a batch at a time.
/// Returns what `run` returned, the parse errors as diagnostics, and the
/// number of documents read.
pub fn read_streamed<R>(
    file: &LoadedFile,
    context_kinds: &[String],
    run: impl FnOnce(&[Node], &mut dyn Iterator<Item = Vec<Node>>) -> R,
) -> (R, Vec<Diagnostic>, usize) {
    let text = &file.source.text;
    let index = LineIndex::with_base(text, file.source.bom_len);
    let stream = parse::yaml::Stream::new(text, &index);
    let context = context_documents(&stream, file.platform, context_kinds);
    let mut batches = Batches {
        stream: &stream,
        next: 0,
        budget: parse::yaml::Budget::for_text(text),
        errors: Vec::new(),
        documents: 0,
    };
    let result = run(&context, &mut batches);
    let diagnostics = batches
        .errors
        .into_iter()
        .map(|e| Diagnostic::error(&file.display, e.line, e.column, e.message))
        .collect();
    (result, diagnostics, batches.documents)
}

/// Parses the documents of the streamed files of `unit` at once, for
/// commands that show every tree (`inspect`); a file with no Kubernetes
/// document left is dropped, as [`load_file`] drops it.
pub fn read_streamed_whole(unit: &mut LoadedUnit) {
    for file in unit.files.iter_mut().filter(|f| f.streamed) {
        let index = LineIndex::with_base(&file.source.text, file.source.bom_len);
        let Parsed { documents, errors } = parse::yaml::parse(&file.source.text, &index);
        for e in errors {
            let d = Diagnostic::error(&file.display, e.line, e.column, e.message);
            unit.diagnostics.push(d);
        }
        file.documents = documents
            .into_iter()
            .filter(|d| crate::platform::kubernetes::object_kind(d).is_some())
            .collect();
        file.streamed = false;
    }
    unit.files
        .retain(|f| f.platform != Platform::Kubernetes || !f.documents.is_empty());
}

/// The documents of a stream holding an entity of one of `kinds`. A piece
/// whose text cannot name the object kind a selector asks for (no
/// `ServiceAccount` in it, and no escape that could spell it) is not parsed.
fn context_documents(
    stream: &parse::yaml::Stream<'_>,
    platform: Platform,
    kinds: &[String],
) -> Vec<Node> {
    let mut kept = Vec::new();
    if kinds.is_empty() {
        return kept;
    }
    let names: Option<Vec<&str>> = kinds.iter().map(|k| k.strip_prefix("object.")).collect();
    let mut budget = parse::yaml::Budget::for_text(stream.text());
    for i in 0..stream.len() {
        let piece = stream.piece_text(i);
        if let Some(names) = &names
            && !piece.contains('\\')
            && !names.iter().any(|name| piece.contains(name))
        {
            continue;
        }
        stream.read(i..i + 1, &mut budget, |doc| {
            let wanted = crate::platform::entities(platform, std::slice::from_ref(&doc))
                .iter()
                .any(|e| {
                    kinds
                        .iter()
                        .any(|k| crate::platform::kind_covers(k, &e.kind))
                });
            if wanted {
                kept.push(doc);
            }
        });
    }
    kept
}

/// A streamed file's Kubernetes documents, about [`STREAM_BATCH_BYTES`] of
/// source at a time, with the parse errors met on the way.
struct Batches<'s, 'a> {
    stream: &'s parse::yaml::Stream<'a>,
    /// The next piece to read.
    next: usize,
    budget: parse::yaml::Budget,
    errors: Vec<crate::parse::ParseError>,
    /// Documents handed out.
    documents: usize,
}

impl Iterator for Batches<'_, '_> {
    type Item = Vec<Node>;

    fn next(&mut self) -> Option<Vec<Node>> {
        if self.next >= self.stream.len() {
            return None;
        }
        let start = self.next;
        let mut bytes = 0;
        while self.next < self.stream.len() && (self.next == start || bytes < STREAM_BATCH_BYTES) {
            bytes += self.stream.piece_text(self.next).len();
            self.next += 1;
        }
        let mut batch = Vec::new();
        let errors = self.stream.read(start..self.next, &mut self.budget, |doc| {
            if crate::platform::kubernetes::object_kind(&doc).is_some() {
                batch.push(doc);
            }
        });
        self.errors.extend(errors);
        self.documents += batch.len();
        Some(batch)
    }
}

/// The syntax a file is parsed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Syntax {
    Hcl,
    TerraformJson,
    Json,
    Yaml,
    Dockerfile,
    /// `terraform show -json` output, recognised by its content.
    TerraformPlan,
}

/// Decides platform and syntax from the name's candidate and the content.
fn decide(file: &FoundFile, text: &str) -> Option<(Platform, Syntax)> {
    let structured = |text: &str| {
        if detect::is_json(text) && plan::looks_like_plan(text) {
            return Some((Platform::Terraform, Syntax::TerraformPlan));
        }
        let platform = detect::sniff_structured(text)?;
        let syntax = if detect::is_json(text) {
            Syntax::Json
        } else {
            Syntax::Yaml
        };
        Some((platform, syntax))
    };
    match file.candidate {
        Candidate::TerraformHcl => Some((Platform::Terraform, Syntax::Hcl)),
        Candidate::TerraformJson => Some((Platform::Terraform, Syntax::TerraformJson)),
        Candidate::Dockerfile => Some((Platform::Dockerfile, Syntax::Dockerfile)),
        Candidate::Yaml | Candidate::JsonOrYaml => structured(text),
        Candidate::Unknown => structured(text).or_else(|| {
            detect::looks_like_dockerfile(text)
                .then_some((Platform::Dockerfile, Syntax::Dockerfile))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(path: &str, candidate: Candidate) -> FoundFile {
        FoundFile {
            path: PathBuf::from(path),
            display: path.to_string(),
            candidate,
            origin: crate::discover::Origin::Walked,
        }
    }

    #[test]
    fn terraform_files_group_by_directory() {
        let units = units(vec![
            found("a/main.tf", Candidate::TerraformHcl),
            found("a/sub/x.tf", Candidate::TerraformHcl),
            found("a/vars.tf.json", Candidate::TerraformJson),
            found("b/Dockerfile", Candidate::Dockerfile),
            found("b/k.yaml", Candidate::Yaml),
        ]);
        let shape: Vec<Vec<&str>> = units
            .iter()
            .map(|u| u.files.iter().map(|f| f.display.as_str()).collect())
            .collect();
        assert_eq!(
            shape,
            vec![
                vec!["a/main.tf", "a/vars.tf.json"],
                vec!["a/sub/x.tf"],
                vec!["b/Dockerfile"],
                vec!["b/k.yaml"],
            ]
        );
    }
}
