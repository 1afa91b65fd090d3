//! The state a build shares between its steps: the builder, the
//! kustomization being built, and path normalisation. Its own file so the
//! build's steps (`build.rs`) and transformers (`transform.rs`) both read
//! it without importing each other.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use super::fieldspec::{self, NameRef};
use super::node::{KNode, Loc, Val};
use super::{Files, KustomizeOptions, replace};
use crate::diagnostic::Diagnostic;
use crate::render::Disk;

/// `a/b/../c` → `a/c`, without touching the disk.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The state of one build.
pub(crate) struct Builder<'a> {
    pub(super) disk: &'a dyn Disk,
    pub(super) opts: &'a KustomizeOptions,
    /// Every file read, for origins and snippets.
    pub(super) files: Files,
    /// What went wrong or was left out.
    pub(super) diagnostics: Vec<Diagnostic>,
    /// Files the build read.
    pub(super) consumed: BTreeSet<PathBuf>,
    pub(super) stack: Vec<PathBuf>,
    pub(super) bytes: usize,
    pub(super) nodes: usize,
    pub(super) exhausted: bool,
    pub(super) namerefs: Vec<NameRef>,
    pub(super) vars: Vec<replace::Var>,
    /// Field specs added by `configurations` files, by transformer
    /// (`commonLabels`, `commonAnnotations`, `namespace`).
    pub(super) extra_specs: Vec<(String, fieldspec::FieldSpec)>,
    /// The kustomization that declared each var, for diagnostics.
    pub(super) var_owner: Option<(String, u32)>,
}

/// A kustomization being built: its directory, file and parsed content.
pub(crate) struct Kust {
    pub(super) dir: PathBuf,
    pub(super) display: String,
    pub(super) file: u32,
    pub(super) doc: KNode,
}

impl Kust {
    /// The node of field `name`.
    pub fn field(&self, name: &str) -> Option<&KNode> {
        self.doc.get(name).filter(|n| !matches!(n.val, Val::Null))
    }

    /// Where field `name` is written (the kustomization's first line if absent).
    pub fn loc(&self, name: &str) -> Loc {
        self.doc.entry(name).map(|e| e.at).unwrap_or(Loc {
            file: self.file,
            line: 1,
        })
    }
}
