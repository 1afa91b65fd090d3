//! Finding the files to read: paths in, a sorted list of candidate files out.
//!
//! Directories are walked in parallel with the `ignore` crate (ripgrep's
//! walker), honouring `.gitignore` and `.ignore` whether or not the tree is a
//! git repository, always skipping `.git/` and `.terraform/`, and skipping
//! what `--exclude` globs match. Files are classified here by *name* only;
//! YAML and JSON need their content to tell Kubernetes from CloudFormation
//! from anything else, which happens once the file is read
//! ([`crate::detect`]), so each file is read only once.
//!
//! A file named on the command line is always a candidate, whatever the
//! ignore files and excludes say: the user asked for it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};

use crate::diagnostic::Diagnostic;

/// What a file's name says it may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Candidate {
    /// `.tf`: Terraform native syntax.
    TerraformHcl,
    /// `.tf.json`: Terraform JSON syntax.
    TerraformJson,
    /// `Dockerfile`, `Dockerfile.<suffix>`, `*.dockerfile`, `Containerfile`
    /// (see [`classify_name`]).
    Dockerfile,
    /// `.yaml`, `.yml`: Kubernetes, CloudFormation, or neither.
    Yaml,
    /// `.json`, `.template`: CloudFormation, Kubernetes, or neither.
    JsonOrYaml,
    /// Named on the command line but not recognised by name: read it and
    /// let the content decide.
    Unknown,
}

/// A file to read.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FoundFile {
    /// The path to open.
    pub path: PathBuf,
    /// The path as reports show it: as reached from the path the user gave,
    /// with `/` separators and no leading `./`.
    pub display: String,
    /// What its name says it may be.
    pub candidate: Candidate,
    /// How it came to be read.
    pub origin: Origin,
}

/// Why a file is read. The order is the priority when one file is reached
/// two ways: named on the command line beats found by walking, which beats
/// read only for context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// Named on the command line: always read, whatever the ignore files say.
    Explicit,
    /// Found by walking a directory.
    Walked,
    /// A Terraform file beside one named on the command line: read because
    /// variables, locals and references cross the files of a module, but
    /// not reported on (a pre-commit hook passes only the changed files).
    ModuleContext,
}

impl FoundFile {
    /// Named on the command line.
    pub fn is_explicit(&self) -> bool {
        self.origin == Origin::Explicit
    }
}

/// How to walk.
#[derive(Clone, Debug, Default)]
pub struct DiscoverOptions {
    /// Globs of paths to leave out (`--exclude`), matched against the path
    /// relative to the walked root and against the file name.
    pub excludes: Vec<String>,
    /// Worker threads for the walk (0: as many as cores).
    pub threads: usize,
    /// Read the other Terraform files of a named file's directory as
    /// context (the CLI does; a fixture case is scanned alone).
    pub module_context: bool,
    /// Read only files that may be of these platforms (`--platform`);
    /// empty for every platform.
    pub platforms: Vec<crate::platform::Platform>,
}

impl Candidate {
    /// Whether a file of this kind may hold IaC of `platform`: YAML and
    /// JSON may be Kubernetes or CloudFormation, an unrecognised name
    /// named on the command line anything.
    pub fn may_be(self, platform: crate::platform::Platform) -> bool {
        use crate::platform::Platform;
        match self {
            Candidate::TerraformHcl | Candidate::TerraformJson => platform == Platform::Terraform,
            Candidate::Dockerfile => platform == Platform::Dockerfile,
            Candidate::Yaml | Candidate::JsonOrYaml => {
                matches!(platform, Platform::Kubernetes | Platform::CloudFormation)
            }
            Candidate::Unknown => true,
        }
    }
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// The candidate files, sorted by display path, without duplicates.
    pub files: Vec<FoundFile>,
    /// Notices (a skipped Helm chart) and errors (an unreadable directory,
    /// a path that does not exist).
    pub diagnostics: Vec<Diagnostic>,
    /// Helm charts and kustomizations, sorted by display path: rendered,
    /// not read file by file.
    pub roots: Vec<RenderRoot>,
}

/// An `--exclude` glob that does not compile.
#[derive(Debug, thiserror::Error)]
#[error("invalid --exclude glob \"{glob}\": {reason}")]
pub struct ExcludeError {
    glob: String,
    reason: String,
}

/// Classifies a file by its name alone. A Dockerfile is known by the
/// conventional spellings only (see `is_dockerfile_name`).
pub fn classify_name(name: &str) -> Option<Candidate> {
    let lower = name.to_ascii_lowercase();
    // OpenTofu's `.tofu` and `.tofu.json` are Terraform (see `tofu`).
    if lower.ends_with(".tf") || lower.ends_with(".tofu") {
        return Some(Candidate::TerraformHcl);
    }
    if lower.ends_with(".tf.json") || lower.ends_with(".tofu.json") {
        return Some(Candidate::TerraformJson);
    }
    if is_dockerfile_name(&lower) {
        return Some(Candidate::Dockerfile);
    }
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        return Some(Candidate::Yaml);
    }
    if lower.ends_with(".json") || lower.ends_with(".template") {
        return Some(Candidate::JsonOrYaml);
    }
    None
}

/// The conventional Dockerfile names: `Dockerfile`, `Containerfile`,
/// `*.dockerfile`, `*.containerfile`, and `Dockerfile.<suffix>` or
/// `Dockerfile-<suffix>` unless the suffix ends in an extension that says
/// the file is something else: `dockerfile.rs` is Rust, `Dockerfile.md` a
/// document, `Dockerfile.template` a template a build renders, and
/// `Dockerfile.dockerignore` an ignore file (issue 21, item 7).
fn is_dockerfile_name(lower: &str) -> bool {
    if lower == "dockerfile" || lower == "containerfile" {
        return true;
    }
    if lower.ends_with(".dockerfile") || lower.ends_with(".containerfile") {
        return true;
    }
    let prefixes = [
        ("dockerfile.", true),
        ("dockerfile-", false),
        ("containerfile.", true),
        ("containerfile-", false),
    ];
    for (prefix, dotted) in prefixes {
        let Some(suffix) = lower.strip_prefix(prefix) else {
            continue;
        };
        // After a dot the whole suffix is an extension (`Dockerfile.go`);
        // after a dash only what follows a dot is (`Dockerfile-go` names a
        // variant, `Dockerfile-utils.ts` is TypeScript).
        let extension = match suffix.rsplit_once('.') {
            Some((_, extension)) => Some(extension),
            None => dotted.then_some(suffix),
        };
        return !suffix.is_empty()
            && !extension.is_some_and(|e| NOT_DOCKERFILE_EXTENSIONS.contains(&e));
    }
    false
}

/// Extensions that make `Dockerfile.<x>` something other than a Dockerfile:
/// source code, scripts, documents, data and configuration, templates,
/// patches, editor files.
const NOT_DOCKERFILE_EXTENSIONS: &[&str] = &[
    // Source code.
    "rs",
    "go",
    "py",
    "pyc",
    "pyi",
    "js",
    "mjs",
    "cjs",
    "ts",
    "mts",
    "cts",
    "tsx",
    "jsx",
    "java",
    "kt",
    "kts",
    "scala",
    "groovy",
    "gradle",
    "c",
    "h",
    "cc",
    "cpp",
    "cxx",
    "hpp",
    "cs",
    "fs",
    "vb",
    "rb",
    "php",
    "pl",
    "pm",
    "lua",
    "swift",
    "m",
    "mm",
    "dart",
    "ex",
    "exs",
    "erl",
    "hs",
    "clj",
    "r",
    "jl",
    "zig",
    "nim",
    "vue",
    "svelte",
    "proto",
    // Scripts.
    "sh",
    "bash",
    "zsh",
    "fish",
    "ps1",
    "psm1",
    "bat",
    "cmd",
    // Documents.
    "md",
    "markdown",
    "mdx",
    "rst",
    "txt",
    "adoc",
    "asciidoc",
    "org",
    "html",
    "htm",
    "pdf",
    "tex",
    // Data and configuration.
    "json",
    "yaml",
    "yml",
    "toml",
    "xml",
    "ini",
    "cfg",
    "conf",
    "properties",
    "csv",
    "lock",
    "snap",
    "sum",
    "mod",
    // Templates a build renders into a Dockerfile.
    "template",
    "tmpl",
    "tpl",
    "j2",
    "jinja",
    "jinja2",
    "erb",
    "mustache",
    "hbs",
    "gotmpl",
    "in",
    // Patches, editor and ignore files.
    "patch",
    "diff",
    "rej",
    "swp",
    "dockerignore",
];

/// Directories never worth entering.
fn is_skipped_dir(name: &str) -> bool {
    name == ".git" || name == ".terraform"
}

fn compile_excludes(globs: &[String]) -> Result<GlobSet, ExcludeError> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        // A trailing slash means "this directory", as in .gitignore.
        let pattern = glob.trim_end_matches('/');
        let compiled = Glob::new(pattern).map_err(|e| ExcludeError {
            glob: glob.clone(),
            reason: e.kind().to_string(),
        })?;
        builder.add(compiled);
    }
    builder.build().map_err(|e| ExcludeError {
        glob: globs.join(", "),
        reason: e.to_string(),
    })
}

/// Walks `paths` and returns the files to read.
pub fn discover(paths: &[PathBuf], options: &DiscoverOptions) -> Result<Discovery, ExcludeError> {
    let excludes = compile_excludes(&options.excludes)?;
    let mut discovery = Discovery::default();
    // Symbolic links are followed only to what lies inside these.
    let roots: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    for root in paths {
        match std::fs::metadata(root) {
            Ok(meta) if meta.is_dir() => {
                let walk_options = WalkOptions {
                    excludes: &excludes,
                    threads: options.threads,
                    roots: &roots,
                };
                walk(root, &walk_options, &mut discovery)
            }
            Ok(_) => {
                let name = file_name(root);
                let candidate = classify_name(&name).unwrap_or(Candidate::Unknown);
                discovery.files.push(FoundFile {
                    path: root.clone(),
                    display: display_path(root),
                    candidate,
                    origin: Origin::Explicit,
                });
                if options.module_context
                    && matches!(
                        candidate,
                        Candidate::TerraformHcl | Candidate::TerraformJson
                    )
                {
                    module_context(root, &mut discovery.files);
                }
            }
            Err(err) => discovery.diagnostics.push(Diagnostic::error(
                display_path(root),
                0,
                0,
                format!("cannot read path: {}", io_reason(&err)),
            )),
        }
    }
    // The same file reached two ways sorts by origin, so dedup keeps the
    // stronger reason to read it.
    discovery
        .files
        .sort_by(|a, b| a.display.cmp(&b.display).then(a.origin.cmp(&b.origin)));
    discovery.files.dedup_by(|a, b| a.display == b.display);
    if !options.platforms.is_empty() {
        discovery
            .files
            .retain(|f| options.platforms.iter().any(|p| f.candidate.may_be(*p)));
    }
    discovery.diagnostics.sort();
    discovery.roots.sort();
    discovery.roots.dedup_by(|a, b| a.display == b.display);
    Ok(discovery)
}

/// The other Terraform files of the directory of `file`, as context.
fn module_context(file: &Path, out: &mut Vec<FoundFile>) {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = file_name(&path);
        let Some(candidate @ (Candidate::TerraformHcl | Candidate::TerraformJson)) =
            classify_name(&name)
        else {
            continue;
        };
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        // Keep the path in the form the user wrote the named file in.
        let path = match file.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.join(&name),
            _ => PathBuf::from(&name),
        };
        out.push(FoundFile {
            display: display_path(&path),
            path,
            candidate,
            origin: Origin::ModuleContext,
        });
    }
}

/// What every walk of one scan shares.
struct WalkOptions<'a> {
    excludes: &'a GlobSet,
    threads: usize,
    /// The scanned paths, canonical.
    roots: &'a [PathBuf],
}

fn walk(root: &Path, options: &WalkOptions, discovery: &mut Discovery) {
    let mut builder = WalkBuilder::new(root);
    // Links are not followed by the walker but looked at one by one
    // (`Visitor::visit_link`): only those inside the scanned paths are
    // read, and a directory is walked once, at its own path.
    builder
        .hidden(false)
        .require_git(false)
        .git_global(false)
        .follow_links(false)
        .threads(options.threads);
    let shared = Shared {
        root,
        excludes: options.excludes,
        roots: options.roots,
        files: Mutex::new(Vec::new()),
        links: Mutex::new(Vec::new()),
        diagnostics: Mutex::new(Vec::new()),
        render_roots: Mutex::new(Vec::new()),
    };
    builder
        .build_parallel()
        .visit(&mut VisitorBuilder { shared: &shared });
    let mut files = shared.files.into_inner().unwrap_or_else(|e| e.into_inner());
    let links = shared.links.into_inner().unwrap_or_else(|e| e.into_inner());
    drop_links_read_anyway(root, &mut files, &links);
    discovery.files.extend(files);
    discovery.diagnostics.extend(
        shared
            .diagnostics
            .into_inner()
            .unwrap_or_else(|e| e.into_inner()),
    );
    discovery.roots.extend(
        shared
            .render_roots
            .into_inner()
            .unwrap_or_else(|e| e.into_inner()),
    );
}

/// A file reached through a symbolic link, and where the link leads.
struct Link {
    /// The link's display path.
    display: String,
    /// The canonical path of the link's directory.
    dir: PathBuf,
    /// The canonical path of the file it leads to.
    target: PathBuf,
}

/// Removes the links whose target the walk reads at its own path anyway,
/// so a finding is reported once: a Kubernetes manifest or Dockerfile
/// linked from elsewhere is one file. A Terraform file linked into another
/// directory is kept, as Terraform reads it: it is part of that directory's
/// module too (`env/bucket.tf -> ../shared/bucket.tf`).
fn drop_links_read_anyway(root: &Path, files: &mut Vec<FoundFile>, links: &[Link]) {
    if links.is_empty() {
        return;
    }
    let Ok(canonical_root) = std::fs::canonicalize(root) else {
        return;
    };
    let link_displays: std::collections::HashSet<&str> =
        links.iter().map(|l| l.display.as_str()).collect();
    // The walk never enters a linked directory, so a file reached without a
    // link has the canonical path of the root joined with its own.
    let walked: std::collections::HashSet<PathBuf> = files
        .iter()
        .filter(|f| !link_displays.contains(f.display.as_str()))
        .filter_map(|f| f.path.strip_prefix(root).ok())
        .map(|relative| canonical_root.join(relative))
        .collect();
    let redundant: std::collections::HashSet<&str> = links
        .iter()
        .filter(|l| walked.contains(&l.target))
        .map(|l| l.display.as_str())
        .collect();
    files.retain(|f| {
        if !redundant.contains(f.display.as_str()) {
            return true;
        }
        let terraform = matches!(
            f.candidate,
            Candidate::TerraformHcl | Candidate::TerraformJson
        );
        let link = links.iter().find(|l| l.display == f.display);
        terraform && link.is_some_and(|l| l.target.parent() != Some(l.dir.as_path()))
    });
}

struct Shared<'a> {
    root: &'a Path,
    excludes: &'a GlobSet,
    roots: &'a [PathBuf],
    files: Mutex<Vec<FoundFile>>,
    links: Mutex<Vec<Link>>,
    diagnostics: Mutex<Vec<Diagnostic>>,
    render_roots: Mutex<Vec<RenderRoot>>,
}

struct VisitorBuilder<'a> {
    shared: &'a Shared<'a>,
}

impl<'s> ParallelVisitorBuilder<'s> for VisitorBuilder<'s> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor {
            shared: self.shared,
            files: Vec::new(),
            links: Vec::new(),
            diagnostics: Vec::new(),
            roots: Vec::new(),
        })
    }
}

/// Collects into thread-local vectors, merged once when the thread is done,
/// so the walk takes no lock per file.
struct Visitor<'a> {
    shared: &'a Shared<'a>,
    files: Vec<FoundFile>,
    links: Vec<Link>,
    diagnostics: Vec<Diagnostic>,
    roots: Vec<RenderRoot>,
}

impl Drop for Visitor<'_> {
    fn drop(&mut self) {
        if let Ok(mut roots) = self.shared.render_roots.lock() {
            roots.append(&mut self.roots);
        }
        if let Ok(mut files) = self.shared.files.lock() {
            files.append(&mut self.files);
        }
        if let Ok(mut links) = self.shared.links.lock() {
            links.append(&mut self.links);
        }
        if let Ok(mut diagnostics) = self.shared.diagnostics.lock() {
            diagnostics.append(&mut self.diagnostics);
        }
    }
}

impl ParallelVisitor for Visitor<'_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                self.diagnostics.push(walk_error(&err));
                return WalkState::Continue;
            }
        };
        let path = entry.path();
        let name = file_name(path);
        let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
        if entry.depth() > 0 {
            if is_dir && is_skipped_dir(&name) {
                return WalkState::Skip;
            }
            let relative = path.strip_prefix(self.shared.root).unwrap_or(path);
            if self.shared.excludes.is_match(relative) || self.shared.excludes.is_match(&name) {
                return WalkState::Skip;
            }
        }
        if is_dir {
            // A chart's templates and subcharts are not YAML until rendered:
            // the chart renders them (`crate::render`).
            if (name == "templates" || name == "charts")
                && path.parent().and_then(root_kind) == Some(RootKind::HelmChart)
            {
                return WalkState::Skip;
            }
            if let Some(kind) = root_kind(path) {
                self.roots.push(RenderRoot {
                    dir: path.to_path_buf(),
                    display: display_path(path),
                    kind,
                });
            }
            return WalkState::Continue;
        }
        if entry.depth() > 0 && entry.path_is_symlink() {
            self.visit_link(path, &name);
            return WalkState::Continue;
        }
        // Not only regular files: a FIFO or socket with an IaC name is
        // handed on, and reading refuses it with a diagnostic (item 15).
        if let Some(candidate) = classify_name(&name) {
            self.files.push(FoundFile {
                path: path.to_path_buf(),
                display: display_path(path),
                candidate,
                origin: Origin::Walked,
            });
        }
        WalkState::Continue
    }
}

impl Visitor<'_> {
    /// A symbolic link met by the walk (issue 21, item 4). A link to a
    /// file inside the scanned paths is read under the link's path, the
    /// path the user sees; a link to a directory inside them is not
    /// entered, since that directory is walked at its own path (once, so
    /// neither a loop nor a fan of links multiplies the walk). A link that
    /// leads outside the scanned paths, to itself, or nowhere is named in a
    /// diagnostic (a link to a file only when its name could be IaC).
    fn visit_link(&mut self, path: &Path, name: &str) {
        let candidate = classify_name(name);
        let display = display_path(path);
        let shown = std::fs::read_link(path)
            .map(|t| display_path(&t))
            .unwrap_or_default();
        let target = match std::fs::canonicalize(path) {
            Ok(target) => target,
            Err(err) => {
                if candidate.is_some() {
                    self.diagnostics.push(Diagnostic::error(
                        display,
                        0,
                        0,
                        format!(
                            "cannot follow symbolic link to {shown}: {}",
                            io_reason(&err)
                        ),
                    ));
                }
                return;
            }
        };
        let is_dir = std::fs::metadata(&target).is_ok_and(|m| m.is_dir());
        if !is_dir && candidate.is_none() {
            return;
        }
        let what = if is_dir { "directory" } else { "file" };
        if !self.shared.roots.iter().any(|r| target.starts_with(r)) {
            self.diagnostics.push(Diagnostic::notice(
                display,
                0,
                0,
                format!(
                    "symbolic link to a {what} outside the scanned paths ({shown}); not followed"
                ),
            ));
            return;
        }
        let dir = path
            .parent()
            .and_then(|p| std::fs::canonicalize(p).ok())
            .unwrap_or_default();
        if is_dir {
            if dir.starts_with(&target) {
                self.diagnostics.push(Diagnostic::notice(
                    display,
                    0,
                    0,
                    format!("symbolic link loop: {shown} contains the link itself; not followed"),
                ));
            }
            return;
        }
        if let Some(candidate) = candidate {
            self.files.push(FoundFile {
                path: path.to_path_buf(),
                display: display.clone(),
                candidate,
                origin: Origin::Walked,
            });
            self.links.push(Link {
                display,
                dir,
                target,
            });
        }
    }
}

fn walk_error(err: &ignore::Error) -> Diagnostic {
    let mut path = None;
    let mut current = err;
    loop {
        match current {
            ignore::Error::WithPath { path: p, err } => {
                path = Some(display_path(p));
                current = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                current = err
            }
            _ => break,
        }
    }
    Diagnostic::error(
        path.unwrap_or_default(),
        0,
        0,
        format!("cannot walk: {current}"),
    )
}

/// An I/O error in the words diagnostics use.
pub fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => err.to_string(),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A path as reports show it: `/` separators, no leading `./`.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    let mut s = s.as_str();
    while let Some(rest) = s.strip_prefix("./") {
        s = rest;
    }
    if s.is_empty() {
        ".".to_string()
    } else {
        s.to_string()
    }
}

/// The nearest directory at or above `dir` holding `.git` (a directory in
/// a clone, a file in a worktree or submodule).
pub fn repository_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// Turns the paths findings are reported under into the paths their
/// fingerprints name: relative to the repository root, or outside git to
/// the scan root, whatever directory rampart runs from and however the
/// path was typed (`infra/`, `./infra`, `/home/x/repo/infra`).
#[derive(Debug, Default)]
pub struct FingerprintPaths {
    /// Canonical directories a key is relative to, longest first.
    bases: Vec<PathBuf>,
    /// Canonical form of each directory seen.
    canonical_dirs: std::collections::HashMap<PathBuf, Option<PathBuf>>,
}

impl FingerprintPaths {
    /// For a scan of `paths`; `fixed` names the one base to use instead
    /// (the root of an old tree unpacked for `--diff-base`, which stands
    /// for the repository root).
    pub fn new(paths: &[PathBuf], fixed: Option<&Path>) -> FingerprintPaths {
        let mut bases: Vec<PathBuf> = match fixed {
            Some(root) => std::fs::canonicalize(root).into_iter().collect(),
            None => paths
                .iter()
                .filter_map(|p| {
                    let dir = if p.is_dir() {
                        p.as_path()
                    } else {
                        p.parent()
                            .filter(|d| !d.as_os_str().is_empty())
                            .unwrap_or(Path::new("."))
                    };
                    let dir = std::fs::canonicalize(dir).ok()?;
                    Some(repository_root(&dir).unwrap_or(dir))
                })
                .collect(),
        };
        bases.sort_by_key(|b| std::cmp::Reverse(b.as_os_str().len()));
        bases.dedup();
        FingerprintPaths {
            bases,
            canonical_dirs: Default::default(),
        }
    }

    /// The key of a file reported as `display` (a path usable from the
    /// working directory). A file under no base keeps its display path.
    pub fn key(&mut self, display: &str) -> String {
        let path = Path::new(display);
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return display.to_string();
        };
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let canonical = self
            .canonical_dirs
            .entry(dir.to_path_buf())
            .or_insert_with(|| std::fs::canonicalize(dir).ok());
        let Some(canonical) = canonical else {
            return display.to_string();
        };
        let full = canonical.join(name);
        self.bases
            .iter()
            .find_map(|base| full.strip_prefix(base).ok())
            .map_or_else(|| display.to_string(), display_path)
    }
}

/// What kind of directory renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RootKind {
    /// A directory with `Chart.yaml`.
    HelmChart,
    /// A directory with `kustomization.yaml`, `kustomization.yml` or
    /// `Kustomization`.
    Kustomization,
}

/// The file names that make a directory a kustomization, in the order
/// kustomize looks for them.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// What a directory renders as, by the files in it.
pub fn root_kind(dir: &Path) -> Option<RootKind> {
    if dir.join("Chart.yaml").is_file() {
        return Some(RootKind::HelmChart);
    }
    KUSTOMIZATION_FILES
        .iter()
        .any(|name| dir.join(name).is_file())
        .then_some(RootKind::Kustomization)
}

/// A directory to render.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RenderRoot {
    /// The directory.
    pub dir: PathBuf,
    /// How reports show it.
    pub display: String,
    /// Chart or kustomization.
    pub kind: RootKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_classify() {
        let cases = [
            ("main.tf", Some(Candidate::TerraformHcl)),
            ("main.TF", Some(Candidate::TerraformHcl)),
            ("main.tf.json", Some(Candidate::TerraformJson)),
            ("main.tofu", Some(Candidate::TerraformHcl)),
            ("main.tofu.json", Some(Candidate::TerraformJson)),
            ("Dockerfile", Some(Candidate::Dockerfile)),
            ("Dockerfile.alpine", Some(Candidate::Dockerfile)),
            ("Dockerfile-dev", Some(Candidate::Dockerfile)),
            ("api.dockerfile", Some(Candidate::Dockerfile)),
            ("Containerfile", Some(Candidate::Dockerfile)),
            ("Dockerfile.template", Some(Candidate::JsonOrYaml)),
            ("Dockerfile.prod", Some(Candidate::Dockerfile)),
            ("Dockerfile.ubuntu-22.04", Some(Candidate::Dockerfile)),
            ("Dockerfile-go", Some(Candidate::Dockerfile)),
            ("Containerfile.dev", Some(Candidate::Dockerfile)),
            ("dockerfile.rs", None),
            ("Dockerfile.go", None),
            ("Dockerfile.md", None),
            ("Dockerfile-utils.ts", None),
            ("Dockerfile.dockerignore", None),
            ("app.Dockerfile.dockerignore", None),
            ("Dockerfile.", None),
            ("Dockerfile.json", Some(Candidate::JsonOrYaml)),
            ("Dockerfile.j2", None),
            (".dockerignore", None),
            ("deploy.yaml", Some(Candidate::Yaml)),
            ("ci.yml", Some(Candidate::Yaml)),
            ("stack.template", Some(Candidate::JsonOrYaml)),
            ("stack.json", Some(Candidate::JsonOrYaml)),
            ("terraform.tfvars", None),
            ("README.md", None),
        ];
        for (name, want) in cases {
            assert_eq!(classify_name(name), want, "{name}");
        }
    }

    #[test]
    fn display_paths_are_clean() {
        assert_eq!(display_path(Path::new("./a/b.tf")), "a/b.tf");
        assert_eq!(display_path(Path::new(".")), ".");
        assert_eq!(display_path(Path::new("../x/y.yaml")), "../x/y.yaml");
    }

    #[test]
    fn bad_exclude_glob_is_an_error() {
        let err = compile_excludes(&["a[".to_string()]).expect_err("invalid");
        assert!(err.to_string().contains("invalid --exclude glob \"a[\""));
    }
}
