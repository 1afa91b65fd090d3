//! Rendering: Helm charts (and, later, kustomizations) into the Kubernetes
//! documents rampart scans. (Temporary copy of the interface the lead lands
//! on main; replaced at merge.)

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;

pub mod helm;

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
    /// For each line of `text`: where it came from, if known.
    pub origins: Vec<Option<Origin>>,
    /// Texts of origin files by display path.
    pub sources: BTreeMap<String, String>,
    /// Render problems: counted as parse errors.
    pub diagnostics: Vec<Diagnostic>,
    /// Files the render consumed.
    pub consumed: Vec<PathBuf>,
}

/// Reading for renderers: only inside the scanned tree.
pub trait Disk: Sync {
    /// Reads a text file.
    fn read(&self, path: &Path) -> io::Result<String>;
    /// Reads a file's bytes.
    fn read_bytes(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Lists a directory's entries.
    fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>>;
    /// The display path of a file.
    fn display(&self, path: &Path) -> String;
}

/// A map of path to text, for tests.
#[derive(Clone, Debug, Default)]
pub struct MemoryDisk {
    /// The files.
    pub files: BTreeMap<PathBuf, Vec<u8>>,
}

impl MemoryDisk {
    /// A disk holding `files`.
    pub fn new<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        MemoryDisk {
            files: files
                .into_iter()
                .map(|(p, t)| (PathBuf::from(p), t.as_bytes().to_vec()))
                .collect(),
        }
    }
}

impl Disk for MemoryDisk {
    fn read(&self, path: &Path) -> io::Result<String> {
        String::from_utf8(self.read_bytes(path)?)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
    fn read_bytes(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let mut out: Vec<PathBuf> = Vec::new();
        for p in self.files.keys() {
            if let Ok(rest) = p.strip_prefix(dir)
                && let Some(first) = rest.components().next()
            {
                let child = dir.join(first);
                if out.last() != Some(&child) && !out.contains(&child) {
                    out.push(child);
                }
            }
        }
        if out.is_empty() {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        }
        Ok(out)
    }
    fn display(&self, path: &Path) -> String {
        path.display().to_string()
    }
}
