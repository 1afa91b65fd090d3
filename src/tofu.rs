//! OpenTofu files: `.tofu` and `.tofu.json` are Terraform, and where a
//! directory holds both `x.tf` and `x.tofu` (or `x.tf.json` and
//! `x.tofu.json`), OpenTofu reads the `.tofu` file only, so rampart does too.

use std::path::{Path, PathBuf};

/// The Terraform file `path` stands in for, if it is an OpenTofu file:
/// `x.tofu` → `x.tf`, `x.tofu.json` → `x.tf.json`.
fn shadowed_by(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    let shadowed = if lower.ends_with(".tofu.json") {
        format!("{}.tf.json", &name[..name.len() - ".tofu.json".len()])
    } else if lower.ends_with(".tofu") {
        format!("{}.tf", &name[..name.len() - ".tofu".len()])
    } else {
        return None;
    };
    Some(path.with_file_name(shadowed))
}

/// Leaves out each `x.tf` (`x.tf.json`) that an `x.tofu` (`x.tofu.json`) in
/// the same directory replaces; `path_of` gives an item's path.
pub fn drop_shadowed<T>(items: Vec<T>, path_of: impl Fn(&T) -> &Path) -> Vec<T> {
    let shadowed: Vec<PathBuf> = items
        .iter()
        .filter_map(|i| shadowed_by(path_of(i)))
        .collect();
    if shadowed.is_empty() {
        return items;
    }
    items
        .into_iter()
        .filter(|i| !shadowed.iter().any(|s| s == path_of(i)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tofu_files_replace_their_tf_twins() {
        let paths: Vec<PathBuf> = [
            "m/main.tf",
            "m/main.tofu",
            "m/vars.tf",
            "m/out.tf.json",
            "m/out.tofu.json",
            "other/main.tf",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let kept = drop_shadowed(paths, |p| p.as_path());
        let kept: Vec<&str> = kept.iter().filter_map(|p| p.to_str()).collect();
        assert_eq!(
            kept,
            vec![
                "m/main.tofu",
                "m/vars.tf",
                "m/out.tofu.json",
                "other/main.tf"
            ]
        );
    }
}
