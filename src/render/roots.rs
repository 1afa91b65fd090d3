//! Which kustomizations a scan builds: every kustomization that no other
//! scanned kustomization includes (the overlays a GitOps tool applies).
//! Files a build consumes are not also scanned alone.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::render::kustomize;
use crate::render::{Disk, RenderRoot, RootKind};

/// The roots to render among those discovered: every chart, and every
/// kustomization that no other discovered kustomization includes (a base
/// is built through its overlays, not alone).
pub fn select(found: Vec<RenderRoot>, disk: &dyn Disk) -> Vec<RenderRoot> {
    let dirs: Vec<PathBuf> = found
        .iter()
        .filter(|r| r.kind == RootKind::Kustomization)
        .map(|r| crate::render::kustomize::normalize(&r.dir))
        .collect();
    let roots = kustomize_roots(&dirs, disk);
    found
        .into_iter()
        .filter(|r| {
            r.kind != RootKind::Kustomization
                || roots.contains(&crate::render::kustomize::normalize(&r.dir))
        })
        .collect()
}

/// The kustomization directories among `dirs` that none of `dirs`
/// includes (through `resources`, `bases` or `components`), in the order given.
pub fn kustomize_roots(dirs: &[PathBuf], disk: &dyn Disk) -> Vec<PathBuf> {
    let included: BTreeSet<PathBuf> = dirs
        .iter()
        .flat_map(|d| kustomize::includes(d, disk))
        .collect();
    dirs.iter()
        .filter(|d| !included.contains(*d))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::MemoryDisk;

    #[test]
    fn overlays_are_roots_and_their_bases_are_not() {
        let disk = MemoryDisk::new()
            .with("r/base/kustomization.yaml", "resources: [d.yaml]\n")
            .with("r/base/d.yaml", "kind: ConfigMap\nmetadata: {name: a}\n")
            .with("r/prod/kustomization.yaml", "resources: [../base]\n")
            .with("r/dev/kustomization.yaml", "resources:\n- ../base\n")
            .with("r/lone/kustomization.yaml", "resources: [x.yaml]\n");
        let dirs: Vec<PathBuf> = ["r/base", "r/prod", "r/dev", "r/lone"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(
            kustomize_roots(&dirs, &disk),
            vec![
                PathBuf::from("r/prod"),
                PathBuf::from("r/dev"),
                PathBuf::from("r/lone")
            ]
        );
    }
}
