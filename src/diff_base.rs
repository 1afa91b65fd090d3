//! `--diff-base REF`: findings that are new compared with a git commit.
//!
//! The tree at REF is read through git (`git archive`) into a temporary
//! directory, never checked out over the user's work tree; it is scanned
//! with the same settings, and its findings become a baseline for the scan
//! of the work tree. Fingerprints carry no line numbers, so code that moved
//! between the two commits does not count as new.
//!
//! REF comes from the user (or a CI variable a pull request may set), so it
//! never reaches git as an option: it is checked, resolved to a commit with
//! `git rev-parse --verify` after `--end-of-options`, and only the commit id
//! is handed to `git archive`.

use std::io::Write as _;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

use crate::discover::display_path;
use crate::query::registry::Registry;
use crate::scan::{ScanConfig, scan};
use crate::suppress::Baseline;

fn git(args: &[&str], dir: &Path) -> anyhow::Result<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .context("cannot run git (is it installed?)")?;
    if !output.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .trim_end_matches('\n')
        .to_string())
}

/// Checks `--diff-base REF` before anything runs: a reference that looks
/// like an option (`--output=FILE`, `--remote=PATH`) is refused, whatever
/// git would make of it.
pub fn check_reference(reference: &str) -> anyhow::Result<()> {
    if reference.trim().is_empty() {
        bail!("--diff-base: the reference is empty");
    }
    if reference.starts_with('-') {
        bail!(
            "--diff-base {reference}: a git reference cannot start with '-' (it would be read as an option)"
        );
    }
    Ok(())
}

/// The commit `reference` names, as a full object id.
fn resolve_commit(reference: &str, dir: &Path) -> anyhow::Result<String> {
    check_reference(reference)?;
    let revision = format!("{reference}^{{commit}}");
    let id = git(
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &revision,
        ],
        dir,
    )
    .map_err(|_| anyhow::anyhow!("--diff-base {reference}: not a commit in this repository"))?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("--diff-base {reference}: not a commit in this repository");
    }
    Ok(id)
}

/// The findings of the tree at `reference`, as a baseline for the scan of
/// the work tree described by `config`.
pub fn baseline_at(
    reference: &str,
    config: &ScanConfig,
    registry: &Registry,
) -> anyhow::Result<Baseline> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let toplevel = PathBuf::from(
        git(&["rev-parse", "--show-toplevel"], &cwd)
            .context("--diff-base needs a git repository")?,
    );
    let prefix = git(&["rev-parse", "--show-prefix"], &cwd)?;
    let commit = resolve_commit(reference, &toplevel)?;
    let archive = Command::new("git")
        .args(["archive", "--format=tar", "--end-of-options", &commit])
        .current_dir(&toplevel)
        .output()
        .context("cannot run git archive")?;
    if !archive.status.success() {
        bail!(
            "--diff-base {reference}: {}",
            String::from_utf8_lossy(&archive.stderr).trim()
        );
    }
    let old_root = tempfile::tempdir().context("cannot create a temporary directory")?;
    let mut tar = Command::new("tar")
        .args(["-x", "-C"])
        .arg(old_root.path())
        .stdin(Stdio::piped())
        .spawn()
        .context("cannot run tar")?;
    tar.stdin
        .take()
        .context("tar has no stdin")?
        .write_all(&archive.stdout)?;
    if !tar.wait()?.success() {
        bail!("--diff-base {reference}: cannot unpack the old tree");
    }
    let old_cwd = old_root.path().join(&prefix);

    // Each path given maps to the same path in the old tree; findings there
    // are renamed back so their fingerprints match the work tree's.
    let mut pairs: Vec<(PathBuf, String)> = Vec::new();
    let mut old_paths = Vec::new();
    for path in &config.paths {
        let relative = if path.is_absolute() {
            path.strip_prefix(&cwd)
                .with_context(|| {
                    format!(
                        "--diff-base: {} is outside the current directory",
                        path.display()
                    )
                })?
                .to_path_buf()
        } else {
            path.clone()
        };
        // `.` (the default) must name the old root itself: a `/.` left in
        // the old paths would match no finding, and every finding would
        // count as new.
        let relative: PathBuf = relative
            .components()
            .filter(|c| *c != Component::CurDir)
            .collect();
        let old = if relative.as_os_str().is_empty() {
            old_cwd.clone()
        } else {
            old_cwd.join(&relative)
        };
        if !old.exists() {
            continue;
        }
        pairs.push((old.clone(), display_path(path)));
        old_paths.push(old);
    }
    if old_paths.is_empty() {
        return Ok(Baseline::default());
    }
    // The unpacked tree's root stands for the repository root: the old
    // findings' fingerprints name the same repository paths as the work
    // tree's.
    let old_config = ScanConfig {
        paths: old_paths,
        progress: false,
        exceptions: None,
        baseline: None,
        fingerprint_root: Some(old_root.path().to_path_buf()),
        // Only the old findings' fingerprints are used.
        line_hashes: false,
        ..config.clone()
    };
    let old = scan(&old_config, registry)?;
    let findings: Vec<_> = old
        .findings
        .into_iter()
        .filter_map(|mut f| {
            // Named as in the work tree, for people reading a written
            // baseline.
            f.file = renamed(&f.file, &pairs)?;
            Some(f)
        })
        .collect();
    Ok(Baseline::of(&findings))
}

/// The work tree's name for `file`, a finding's file in the old tree: the
/// path given for the old root it lies under, joined with the rest.
fn renamed(file: &str, pairs: &[(PathBuf, String)]) -> Option<String> {
    let file = Path::new(file);
    let (old, new) = pairs.iter().find(|(old, _)| file.starts_with(old))?;
    let rest = file.strip_prefix(old).ok()?;
    Some(if rest.as_os_str().is_empty() {
        new.clone()
    } else {
        display_path(&Path::new(new).join(rest))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_of_the_old_tree_get_the_work_tree_names() {
        let pairs = vec![
            (PathBuf::from("/tmp/old"), ".".to_string()),
            (
                PathBuf::from("/tmp/old/infra/main.tf"),
                "infra/main.tf".to_string(),
            ),
        ];
        assert_eq!(
            renamed("/tmp/old/k8s/pod.yaml", &pairs).as_deref(),
            Some("k8s/pod.yaml")
        );
        assert_eq!(
            renamed("/tmp/old/infra/main.tf", &pairs[1..]).as_deref(),
            Some("infra/main.tf")
        );
        assert_eq!(renamed("/tmp/older/x.tf", &pairs), None);
    }

    #[test]
    fn references_that_look_like_options_are_refused() {
        for reference in ["--output=/tmp/x", "--remote=/tmp", "-h", "", " "] {
            assert!(check_reference(reference).is_err(), "{reference:?}");
        }
        check_reference("origin/main").expect("a ref");
    }
}
