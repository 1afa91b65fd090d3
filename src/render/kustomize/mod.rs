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
mod state;
mod transform;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::render::{Disk, Origin, Rendered};

pub use build::find_kustomization;
pub use state::normalize;

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
    let mut b = state::Builder::new(disk, options);
    let resources = b.build_root(dir);
    let mut out = emit::Emitted::default();
    for r in &resources {
        out.document(&r.obj, &[]);
    }
    let state::Builder {
        files,
        diagnostics,
        consumed,
        ..
    } = b;
    let mut text = String::new();
    let mut origins = Vec::with_capacity(out.lines.len());
    let names: Vec<std::sync::Arc<str>> = files.names.iter().map(|n| n.as_str().into()).collect();
    for (line, loc) in &out.lines {
        text.push_str(line);
        text.push('\n');
        origins.push(
            (loc.line > 0)
                .then(|| names.get(loc.file as usize))
                .flatten()
                .map(|f| Origin {
                    file: std::sync::Arc::clone(f),
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
        variant: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::MemoryDisk;

    fn disk() -> MemoryDisk {
        MemoryDisk::new()
            .with(
                "r/base/kustomization.yaml",
                "resources:\n- pod.yaml\n",
            )
            .with(
                "r/base/pod.yaml",
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx:1\n    securityContext:\n      runAsNonRoot: true\n",
            )
            .with(
                "r/prod/kustomization.yaml",
                "resources:\n- ../base\nimages:\n- name: nginx\n  newTag: \"2\"\npatches:\n- path: p.yaml\n",
            )
            .with(
                "r/prod/p.yaml",
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    securityContext:\n      privileged: true\n",
            )
    }

    /// The origin of the rendered line holding `needle`.
    fn origin_of(r: &Rendered, needle: &str) -> Option<(String, u32)> {
        let i = r.text.lines().position(|l| l.trim() == needle)?;
        r.origins[i].as_ref().map(|o| (o.file.to_string(), o.line))
    }

    #[test]
    fn every_line_points_at_the_file_that_set_it() {
        let r = build(Path::new("r/prod"), &disk(), &KustomizeOptions::default());
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
        assert_eq!(
            origin_of(&r, "privileged: true"),
            Some(("r/prod/p.yaml".into(), 9))
        );
        assert_eq!(
            origin_of(&r, "runAsNonRoot: true"),
            Some(("r/base/pod.yaml".into(), 10))
        );
        assert_eq!(
            origin_of(&r, "image: nginx:2"),
            Some(("r/prod/kustomization.yaml".into(), 4))
        );
        assert_eq!(
            origin_of(&r, "kind: Pod"),
            Some(("r/base/pod.yaml".into(), 2))
        );
        assert_eq!(r.origins.len(), r.text.lines().count());
        let consumed: Vec<&str> = r.consumed.iter().filter_map(|p| p.to_str()).collect();
        assert_eq!(
            consumed,
            vec![
                "r/base/kustomization.yaml",
                "r/base/pod.yaml",
                "r/prod/kustomization.yaml",
                "r/prod/p.yaml"
            ]
        );
        assert!(r.sources.contains_key("r/prod/p.yaml"));
    }

    #[test]
    fn openapi_is_ignored_with_a_notice_and_unknown_plugins_are_errors() {
        let disk = MemoryDisk::new()
            .with(
                "k/kustomization.yaml",
                "openapi:\n  path: schema.json\ntransformers:\n- t.yaml\n",
            )
            .with("k/t.yaml", "kind: X\n");
        let r = build(Path::new("k"), &disk, &KustomizeOptions::default());
        let messages: Vec<String> = r.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            vec![
                "k/kustomization.yaml:3:0: error: kustomize: transformers: not supported by rampart's built-in kustomize; the build goes on without it",
                "k/kustomization.yaml:1:0: notice: kustomize: openapi: ignored: rampart merges with the built-in Kubernetes merge keys",
            ]
        );
    }

    #[test]
    fn a_chart_only_a_repository_holds_is_not_fetched() {
        let disk = MemoryDisk::new().with(
            "k/kustomization.yaml",
            "helmCharts:\n- name: redis\n  repo: https://charts.example.com\n  releaseName: cache\n",
        );
        let r = build(Path::new("k"), &disk, &KustomizeOptions::default());
        let messages: Vec<String> = r.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            vec![
                "k/kustomization.yaml:2:0: error: kustomize: helmCharts: redis: not in charts/ and charts are never fetched from https://charts.example.com; the build is partial"
            ]
        );
    }
}
