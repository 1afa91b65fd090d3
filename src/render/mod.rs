//! Rendering: the Kubernetes objects a Helm chart or a Kustomize overlay
//! really produces, made in-process, with where each rendered line came
//! from.
//!
//! A GitOps repository holds templates and overlays, not the objects a
//! cluster receives. A renderer turns a chart or kustomization directory
//! into a [`Rendered`] stream (multi-document YAML, as `helm template` or
//! `kustomize build` would print it) and a line-level map back to the files
//! that wrote each line (a template, a values file, a patch). The scan parses
//! the stream as Kubernetes YAML, runs the queries on it, and reports each
//! finding at its origin. Renderers read only through [`Disk`] (inside the
//! scanned tree, through the safe reader), never the network, and never run
//! anything.

pub mod helm;
pub mod kustomize;
pub mod roots;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;

/// Where one line of rendered output came from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Origin {
    /// The display path of the file that wrote it: a template, a values
    /// file, a patch, a base manifest. Shared: every line of a stream names
    /// one of a few files (one `String` a line was a fifth of a scan's
    /// memory on the benchmark; issue 20).
    pub file: std::sync::Arc<str>,
    /// 1-based line in that file.
    pub line: u32,
}

/// A rendered stream of Kubernetes documents, as rampart scans it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rendered {
    /// What reports call the stream where no origin is known: the chart or
    /// kustomization directory, with a qualifier where one directory renders
    /// several ways (`charts/web [prod]`).
    pub display: String,
    /// Multi-document YAML: what `rampart render` prints and the scan reads.
    pub text: String,
    /// For each line of `text` (index 0 is line 1), where it came from, when
    /// known. A finding on a line with an origin is reported there.
    pub origins: Vec<Option<Origin>>,
    /// The texts of origin files, by display path, for snippets and inline
    /// suppressions at the origin.
    pub sources: BTreeMap<String, String>,
    /// Render problems. Errors count as parse errors, so
    /// `--fail-on-parse-error` fails the gate on a chart that does not render.
    pub diagnostics: Vec<Diagnostic>,
    /// Files the render read as its input (templates, values, patches,
    /// bases): the scan does not also read them alone.
    pub consumed: Vec<PathBuf>,
    /// Which way the directory was rendered (a Helm value set's name): each
    /// finding's entity names it, since its file and line alone (a template
    /// shared by every set) do not say.
    pub variant: Option<String>,
}

impl Rendered {
    /// The bytes it holds (text, origins, origin texts): what a scan counts
    /// against its budget for streams kept between rendering and reading.
    pub fn held_bytes(&self) -> usize {
        self.text.len()
            + self.origins.len() * std::mem::size_of::<Option<Origin>>()
            + self.sources.values().map(String::len).sum::<usize>()
    }

    /// Where line `line` (1-based) of the rendered text came from.
    pub fn origin(&self, line: u32) -> Option<&Origin> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        self.origins.get(index)?.as_ref()
    }

    /// A stream that could not be made: only its diagnostics.
    pub fn failed(display: impl Into<String>, diagnostics: Vec<Diagnostic>) -> Rendered {
        Rendered {
            display: display.into(),
            diagnostics,
            ..Rendered::default()
        }
    }
}

/// What a renderer may read: only inside the scanned tree, through
/// rampart's safe reader (size cap, no FIFOs or devices).
pub trait Disk: Sync {
    /// The text of a file.
    fn read(&self, path: &Path) -> Result<String, String>;
    /// The bytes of a file (a packed subchart).
    fn read_bytes(&self, path: &Path) -> Result<Vec<u8>, String>;
    /// The entries of a directory, sorted; empty when it cannot be listed.
    fn list(&self, dir: &Path) -> Vec<PathBuf>;
    /// Whether `path` is a directory.
    fn is_dir(&self, path: &Path) -> bool;
    /// Whether `path` is a file.
    fn is_file(&self, path: &Path) -> bool;
    /// How reports show `path`.
    fn display(&self, path: &Path) -> String;
}

/// The real file system, limited to the scanned paths and the git
/// repositories they are in: a file outside them (reached through `..` or a
/// link) is refused.
#[derive(Debug)]
pub struct FsDisk {
    max_file_size: u64,
    /// The scanned paths, canonical.
    roots: Vec<PathBuf>,
}

impl FsDisk {
    /// Reads under `roots` (the scanned paths), files up to `max_file_size`.
    ///
    /// The git repository a scanned path is in counts as scanned too, as
    /// for Terraform modules: an overlay named alone (`rampart render
    /// overlays/prod`) reads its `../base`, never past the repository.
    pub fn new(roots: &[PathBuf], max_file_size: u64) -> FsDisk {
        let roots = roots
            .iter()
            .filter_map(|r| std::fs::canonicalize(r).ok())
            .map(|r| match r.is_file() {
                true => r.parent().map(Path::to_path_buf).unwrap_or(r),
                false => r,
            })
            .map(|r| crate::discover::repository_root(&r).unwrap_or(r))
            .collect();
        FsDisk {
            max_file_size,
            roots,
        }
    }

    fn inside(&self, path: &Path) -> Result<(), String> {
        let canonical =
            std::fs::canonicalize(path).map_err(|e| crate::discover::io_reason(&e).to_string())?;
        if self.roots.iter().any(|r| canonical.starts_with(r)) {
            Ok(())
        } else {
            Err("outside the scanned paths; not read".to_string())
        }
    }
}

impl Disk for FsDisk {
    fn read(&self, path: &Path) -> Result<String, String> {
        self.inside(path)?;
        crate::source::read_source(path, self.max_file_size)
            .map(|s| s.text)
            .map_err(|e| e.to_string())
    }

    fn read_bytes(&self, path: &Path) -> Result<Vec<u8>, String> {
        self.inside(path)?;
        let meta = std::fs::metadata(path).map_err(|e| crate::discover::io_reason(&e))?;
        if !meta.is_file() {
            return Err("not a regular file".to_string());
        }
        if meta.len() > self.max_file_size {
            return Err(format!(
                "file is {} bytes, over the {}-byte limit",
                meta.len(),
                self.max_file_size
            ));
        }
        std::fs::read(path).map_err(|e| crate::discover::io_reason(&e).to_string())
    }

    fn list(&self, dir: &Path) -> Vec<PathBuf> {
        if self.inside(dir).is_err() {
            return Vec::new();
        }
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.inside(path).is_ok() && path.is_dir()
    }

    fn is_file(&self, path: &Path) -> bool {
        self.inside(path).is_ok() && path.is_file()
    }

    fn display(&self, path: &Path) -> String {
        crate::discover::display_path(path)
    }
}

/// Files held in memory, for tests: paths as given, directories implied by
/// the files under them.
#[derive(Debug, Default)]
pub struct MemoryDisk {
    files: BTreeMap<PathBuf, Vec<u8>>,
}

impl MemoryDisk {
    /// An empty disk.
    pub fn new() -> MemoryDisk {
        MemoryDisk::default()
    }

    /// Adds (or replaces) a file.
    pub fn with(mut self, path: impl Into<PathBuf>, content: impl Into<Vec<u8>>) -> MemoryDisk {
        self.files.insert(path.into(), content.into());
        self
    }
}

impl Disk for MemoryDisk {
    fn read(&self, path: &Path) -> Result<String, String> {
        let bytes = self.read_bytes(path)?;
        String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
    }

    fn read_bytes(&self, path: &Path) -> Result<Vec<u8>, String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| "no such file or directory".to_string())
    }

    fn list(&self, dir: &Path) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self
            .files
            .keys()
            .filter_map(|p| {
                let rest = p.strip_prefix(dir).ok()?;
                let first = rest.components().next()?;
                Some(dir.join(first))
            })
            .collect();
        out.dedup();
        out
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.files.keys().any(|p| p != path && p.starts_with(path))
    }

    fn is_file(&self, path: &Path) -> bool {
        self.files.contains_key(path)
    }

    fn display(&self, path: &Path) -> String {
        crate::discover::display_path(path)
    }
}

// Which directories render is discovery's knowledge: it finds them.
pub use crate::discover::{KUSTOMIZATION_FILES, RenderRoot, RootKind, root_kind};

/// How to render: the user's Helm and Kustomize settings.
#[derive(Clone, Debug, Default)]
pub struct RenderOptions {
    /// Helm: release, values files, `--set`, Kubernetes version.
    pub helm: helm::HelmOptions,
    /// Kustomize settings.
    pub kustomize: kustomize::KustomizeOptions,
}

/// What renders roots: the disk it reads (the scanned tree) and the user's
/// settings. Shared by the workers of a scan, so a stream let go to bound
/// memory can be rendered again where it is read.
#[derive(Debug)]
pub struct Renderer {
    disk: FsDisk,
    options: RenderOptions,
}

impl Renderer {
    /// Renders under `paths` (the scanned paths), files up to
    /// `max_file_size`, with `options`.
    pub fn new(paths: &[PathBuf], max_file_size: u64, options: &RenderOptions) -> Renderer {
        Renderer {
            disk: FsDisk::new(paths, max_file_size),
            options: options.clone(),
        }
    }

    /// The disk it reads.
    pub fn disk(&self) -> &FsDisk {
        &self.disk
    }

    /// Renders `root` ([`render`]).
    pub fn render(&self, root: &RenderRoot) -> Vec<Rendered> {
        render(root, &self.disk, &self.options)
    }
}

/// Renders one root: a chart may render several ways (one per value set),
/// a kustomization once. Deterministic (Helm's random and time functions
/// give fixed placeholders), so a stream rendered again is the same.
pub fn render(root: &RenderRoot, disk: &dyn Disk, options: &RenderOptions) -> Vec<Rendered> {
    match root.kind {
        RootKind::HelmChart => helm::render_chart(&root.dir, disk, &options.helm),
        RootKind::Kustomization => vec![kustomize::build(&root.dir, disk, &options.kustomize)],
    }
}

/// The stream as `rampart render` prints it: each rendered stream headed
/// by a comment naming what it came from.
pub fn print(rendered: &Rendered, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    writeln!(out, "# rampart render: {}", rendered.display)?;
    out.write_all(rendered.text.as_bytes())?;
    if !rendered.text.is_empty() && !rendered.text.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_by_one_based_line() {
        let rendered = Rendered {
            text: "a: 1\nb: 2\n".into(),
            origins: vec![
                None,
                Some(Origin {
                    file: "values.yaml".into(),
                    line: 7,
                }),
            ],
            ..Rendered::default()
        };
        assert_eq!(rendered.origin(0), None);
        assert_eq!(rendered.origin(1), None);
        assert_eq!(rendered.origin(2).map(|o| o.line), Some(7));
        assert_eq!(rendered.origin(3), None);
    }

    #[test]
    fn the_memory_disk_lists_one_level() {
        let disk = MemoryDisk::new()
            .with("c/Chart.yaml", "name: c\n")
            .with("c/templates/a.yaml", "x")
            .with("c/templates/b.yaml", "y");
        assert_eq!(
            disk.list(Path::new("c")),
            vec![PathBuf::from("c/Chart.yaml"), PathBuf::from("c/templates")]
        );
        assert!(disk.is_dir(Path::new("c/templates")));
        assert!(disk.is_file(Path::new("c/templates/a.yaml")));
        assert_eq!(
            disk.read(Path::new("c/Chart.yaml")).as_deref(),
            Ok("name: c\n")
        );
    }

    #[test]
    fn a_file_outside_the_scanned_paths_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let inside = dir.path().join("in");
        std::fs::create_dir(&inside).expect("mkdir");
        std::fs::write(inside.join("a.yaml"), "a: 1\n").expect("write");
        std::fs::write(dir.path().join("secret.yaml"), "s: 1\n").expect("write");
        let disk = FsDisk::new(std::slice::from_ref(&inside), 1 << 20);
        assert_eq!(disk.read(&inside.join("a.yaml")).as_deref(), Ok("a: 1\n"));
        let outside = disk.read(&inside.join("../secret.yaml"));
        assert!(outside.is_err(), "{outside:?}");
    }
}
