//! Rendering: Helm charts and Kustomize overlays turned into the Kubernetes
//! documents a cluster would receive, with where each line came from.
//!
//! (Interim copy of the shared interface until the lead's plumbing lands on
//! main; the meaning of every item is the agreed one.)

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;

pub mod kustomize;
pub mod roots;

/// Where one line of rendered output came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// Display path of the file.
    pub file: String,
    /// 1-based line.
    pub line: u32,
}

/// A rendered stream of Kubernetes documents, as rampart scans it.
#[derive(Clone, Debug, Default)]
pub struct Rendered {
    /// What reports call it.
    pub display: String,
    /// Multi-document YAML text.
    pub text: String,
    /// For each line of `text` (index 0 = line 1): where it came from.
    pub origins: Vec<Option<Origin>>,
    /// Texts of origin files by display path.
    pub sources: BTreeMap<String, String>,
    /// Render problems: counted as parse errors.
    pub diagnostics: Vec<Diagnostic>,
    /// Files the render consumed.
    pub consumed: Vec<PathBuf>,
}

/// Reading for renderers: only inside the scanned tree.
pub trait Disk {
    /// The text of a file.
    fn read(&self, path: &Path) -> io::Result<String>;
    /// The bytes of a file.
    fn read_bytes(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// The entries of a directory.
    fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>>;
    /// The display path of a file.
    fn display(&self, path: &Path) -> String;
}

/// A map of path → text, for tests.
#[derive(Clone, Debug, Default)]
pub struct MemoryDisk {
    /// The files.
    pub files: BTreeMap<PathBuf, String>,
}

impl MemoryDisk {
    /// A disk holding `files`.
    pub fn new<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        MemoryDisk {
            files: files
                .into_iter()
                .map(|(p, t)| (PathBuf::from(p), t.to_string()))
                .collect(),
        }
    }
}

impl Disk for MemoryDisk {
    fn read(&self, path: &Path) -> io::Result<String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }
    fn read_bytes(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.read(path).map(String::into_bytes)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let mut out: Vec<PathBuf> = Vec::new();
        for p in self.files.keys() {
            if let Ok(rest) = p.strip_prefix(dir)
                && let Some(first) = rest.components().next()
            {
                let child = dir.join(first);
                if !out.contains(&child) {
                    out.push(child);
                }
            }
        }
        if out.is_empty() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such directory"));
        }
        Ok(out)
    }
    fn display(&self, path: &Path) -> String {
        path.display().to_string()
    }
}

/// A real-filesystem disk rooted anywhere (interim; the lead's safe reader replaces it).
pub struct FsDisk;

impl Disk for FsDisk {
    fn read(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }
    fn read_bytes(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        v.sort();
        Ok(v)
    }
    fn display(&self, path: &Path) -> String {
        path.display().to_string()
    }
}
