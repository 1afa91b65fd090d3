//! Kustomize built in-process, as `kustomize build` (v5) builds a
//! directory: resources, bases and components accumulated in order,
//! generators, then the built-in transformers in kustomize's order, then
//! content hashes and name references. Every node keeps the file and line
//! it came from, so a finding in the output points at the base, the patch
//! or the `images` entry that set the value.
//!
//! Nothing is fetched: a remote resource is one diagnostic and the build
//! goes on without it. A build error (missing file, patch target matching
//! nothing, cycle) is a diagnostic naming the kustomization and the field.

mod build;
mod emit;
mod fieldspec;
mod generate;
mod jsonpatch;
mod merge;
mod nameref;
mod node;
mod replace;
mod resource;
mod transform;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::render::{Disk, Origin, Rendered};

pub use build::{find_kustomization, normalize};

/// Limits of one build.
#[derive(Clone, Debug)]
pub struct KustomizeOptions {
    /// How deep kustomizations may include each other.
    pub max_depth: usize,
    /// Most objects a build may hold.
    pub max_resources: usize,
    /// Most YAML nodes a build may hold (all objects together).
    pub max_nodes: usize,
    /// Most bytes a build may read.
    pub max_bytes: usize,
}

impl Default for KustomizeOptions {
    fn default() -> Self {
        KustomizeOptions {
            max_depth: 32,
            max_resources: 20_000,
            max_nodes: 4_000_000,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// The display paths (and texts) of every file a build read, indexed by
/// [`node::Loc::file`].
#[derive(Default)]
pub(crate) struct Files {
    pub(crate) names: Vec<String>,
    pub(crate) texts: Vec<String>,
}

impl Files {
    fn add(&mut self, name: String, text: String) -> u32 {
        if let Some(i) = self.names.iter().position(|n| *n == name) {
            return i as u32;
        }
        self.names.push(name);
        self.texts.push(text);
        (self.names.len() - 1) as u32
    }
}

/// Builds the kustomization in `dir` as `kustomize build dir` would.
pub fn build(dir: &Path, disk: &dyn Disk, options: &KustomizeOptions) -> Rendered {
    let mut b = build::Builder::new(disk, options);
    let resources = b.build_root(dir);
    let mut out = emit::Emitted::default();
    for r in &resources {
        out.document(&r.obj, &[]);
    }
    let build::Builder {
        files,
        diagnostics,
        consumed,
        ..
    } = b;
    let mut text = String::new();
    let mut origins = Vec::with_capacity(out.lines.len());
    for (line, loc) in &out.lines {
        text.push_str(line);
        text.push('\n');
        origins.push(
            (loc.line > 0)
                .then(|| files.names.get(loc.file as usize))
                .flatten()
                .map(|f| Origin {
                    file: f.clone(),
                    line: loc.line,
                }),
        );
    }
    let sources: BTreeMap<String, String> = files.names.into_iter().zip(files.texts).collect();
    Rendered {
        display: disk.display(dir),
        text,
        origins,
        sources,
        diagnostics,
        consumed: consumed.into_iter().collect::<Vec<PathBuf>>(),
    }
}

/// The local directories a kustomization includes (`resources`, `bases`,
/// `components` that are directories), for deciding which kustomizations
/// are roots. Unreadable kustomizations include nothing.
pub fn includes(dir: &Path, disk: &dyn Disk) -> Vec<PathBuf> {
    build::local_includes(dir, disk)
}

/// A diagnostic about a whole build (helper for callers).
pub fn error(dir: &Path, disk: &dyn Disk, message: &str) -> Diagnostic {
    Diagnostic::error(disk.display(dir), 0, 0, message)
}
