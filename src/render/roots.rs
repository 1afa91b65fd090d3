//! Which kustomizations a scan builds: every kustomization that no other
//! scanned kustomization includes (the overlays a GitOps tool applies).
//! Files a build consumes are not also scanned alone.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::render::Disk;
use crate::render::kustomize;

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
        let disk = MemoryDisk::new([
            ("r/base/kustomization.yaml", "resources: [d.yaml]\n"),
            ("r/base/d.yaml", "kind: ConfigMap\nmetadata: {name: a}\n"),
            ("r/prod/kustomization.yaml", "resources: [../base]\n"),
            ("r/dev/kustomization.yaml", "resources:\n- ../base\n"),
            ("r/lone/kustomization.yaml", "resources: [x.yaml]\n"),
        ]);
        let dirs: Vec<PathBuf> = ["r/base", "r/prod", "r/dev", "r/lone"].iter().map(PathBuf::from).collect();
        assert_eq!(
            kustomize_roots(&dirs, &disk),
            vec![PathBuf::from("r/prod"), PathBuf::from("r/dev"), PathBuf::from("r/lone")]
        );
    }
}
