//! Helm charts, rendered as `helm template` would.

use std::path::{Path, PathBuf};

use super::{Disk, Rendered};
use crate::diagnostic::Diagnostic;

/// The user's Helm settings (`--helm-values`, `--helm-set`, …).
#[derive(Clone, Debug, Default)]
pub struct HelmOptions {
    /// Release name (`.Release.Name`).
    pub release_name: Option<String>,
    /// Release namespace (`.Release.Namespace`).
    pub namespace: Option<String>,
    /// Values files merged over the chart's `values.yaml`, in order.
    pub values_files: Vec<PathBuf>,
    /// `key=value` settings applied last.
    pub set: Vec<String>,
    /// `.Capabilities.KubeVersion`.
    pub kube_version: Option<String>,
}

/// Renders the chart in `dir`: one stream per value set.
pub fn render_chart(dir: &Path, disk: &dyn Disk, _options: &HelmOptions) -> Vec<Rendered> {
    vec![Rendered::failed(
        disk.display(dir),
        vec![Diagnostic::notice(
            disk.display(dir),
            0,
            0,
            "Helm chart: templates/ skipped (templates are not YAML until rendered)",
        )],
    )]
}
