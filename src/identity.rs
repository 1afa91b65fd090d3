//! What a scan result says about itself: which repository, commit and
//! branch it scanned, when, with which rampart and query library, and with
//! which settings. `rampart report` joins results from many repositories by
//! it.
//!
//! The repository is read from the `.git` directory's files, never by
//! running `git`: a scanned repository's git configuration can name
//! programs (`core.fsmonitor`), and rampart executes nothing of a scanned
//! tree.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// Who and what a scan was.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ScanIdentity {
    /// The name results are grouped by: `--project`, else the repository
    /// (normalised remote), else the repository directory's name.
    pub project: String,
    /// The `origin` remote (else the first remote), normalised: no scheme,
    /// credentials or `.git` (`github.com/org/repo`).
    pub repository: Option<String>,
    /// The checked-out commit.
    pub commit: Option<String>,
    /// The checked-out branch (none when detached).
    pub branch: Option<String>,
    /// When the scan ran, UTC, RFC 3339 (`SOURCE_DATE_EPOCH` fixes it, for
    /// reproducible reports).
    pub scanned_at: String,
    /// rampart's version.
    pub rampart_version: &'static str,
    /// The built-in query library's version.
    pub library_version: &'static str,
    /// The exceptions file used, as given.
    pub exceptions: Option<String>,
    /// The paths scanned, as given.
    pub paths: Vec<String>,
}

impl ScanIdentity {
    /// The identity of a scan of `paths` now.
    pub fn of_scan(paths: &[PathBuf], project: Option<&str>, exceptions: Option<&Path>) -> Self {
        let repo = paths
            .first()
            .and_then(|p| crate::discover::repository_root(p));
        let git = repo.as_deref().and_then(GitDir::find);
        let repository = git
            .as_ref()
            .and_then(GitDir::remote_url)
            .map(|u| normalise_remote(&u));
        let (commit, branch) = git.as_ref().map(GitDir::head).unwrap_or_default();
        let project = project
            .map(str::to_string)
            .or_else(|| repository.clone())
            .or_else(|| {
                repo.as_deref()
                    .or(paths.first().map(PathBuf::as_path))
                    .and_then(|p| std::fs::canonicalize(p).ok())
                    .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            })
            .unwrap_or_default();
        ScanIdentity {
            project,
            repository,
            commit,
            branch,
            scanned_at: rfc3339(now_seconds()),
            rampart_version: env!("CARGO_PKG_VERSION"),
            library_version: crate::LIBRARY_VERSION,
            exceptions: exceptions.map(crate::discover::display_path),
            paths: paths
                .iter()
                .map(|p| crate::discover::display_path(p))
                .collect(),
        }
    }
}

/// Seconds since the epoch: `SOURCE_DATE_EPOCH` when set, else the clock.
fn now_seconds() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        })
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(seconds: u64) -> String {
    let date = crate::date::Date::from_days((seconds / 86_400) as i64);
    let rest = seconds % 86_400;
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// A remote URL as a name: scheme, credentials, port-less `ssh` user and a
/// trailing `.git` or `/` dropped, the host lowercased.
/// `https://user:token@GitHub.com/org/repo.git` and
/// `git@github.com:org/repo.git` both give `github.com/org/repo`; a port is
/// dropped, so the https and ssh remotes of one repository name it alike.
pub fn normalise_remote(url: &str) -> String {
    let url = url.trim();
    let rest = match url.split_once("://") {
        Some((_, rest)) => rest,
        None => url,
    };
    // Credentials or an ssh user before the host.
    let rest = match rest.split_once('@') {
        Some((user, host)) if !user.contains('/') => host,
        _ => rest,
    };
    // scp-like `host:path`, unless the part after `:` is a port.
    let rest = match rest.split_once(':') {
        Some((host, path)) if !host.contains('/') => {
            let path = path.trim_start_matches(|c: char| c.is_ascii_digit());
            format!("{host}/{}", path.trim_start_matches('/'))
        }
        _ => rest.to_string(),
    };
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    match rest.split_once('/') {
        Some((host, path)) => format!("{}/{path}", host.to_ascii_lowercase()),
        None => rest.to_ascii_lowercase(),
    }
}

/// A repository's git directory (`.git`, or where a `.git` file points).
struct GitDir {
    dir: PathBuf,
    /// The shared directory of a linked worktree (`commondir`).
    common: PathBuf,
}

impl GitDir {
    fn find(repo: &Path) -> Option<GitDir> {
        let dot_git = repo.join(".git");
        let dir = if dot_git.is_dir() {
            dot_git
        } else {
            let text = read_small(&dot_git)?;
            let target = text.trim().strip_prefix("gitdir:")?.trim();
            repo.join(target)
        };
        let common = read_small(&dir.join("commondir"))
            .map(|c| dir.join(c.trim()))
            .unwrap_or_else(|| dir.clone());
        Some(GitDir { dir, common })
    }

    /// The commit and branch HEAD names.
    fn head(&self) -> (Option<String>, Option<String>) {
        let Some(head) = read_small(&self.dir.join("HEAD")) else {
            return (None, None);
        };
        let head = head.trim();
        match head.strip_prefix("ref:") {
            Some(reference) => {
                let reference = reference.trim();
                let branch = reference.strip_prefix("refs/heads/").map(str::to_string);
                (self.resolve(reference), branch)
            }
            None => (is_object_id(head).then(|| head.to_string()), None),
        }
    }

    /// A ref's commit: its loose file, else `packed-refs`.
    fn resolve(&self, reference: &str) -> Option<String> {
        if reference.contains("..") {
            return None;
        }
        for dir in [&self.dir, &self.common] {
            if let Some(id) = read_small(&dir.join(reference)) {
                let id = id.trim();
                return is_object_id(id).then(|| id.to_string());
            }
        }
        let packed = read_small(&self.common.join("packed-refs"))?;
        packed.lines().find_map(|line| {
            let (id, name) = line.split_once(' ')?;
            (name.trim() == reference && is_object_id(id)).then(|| id.to_string())
        })
    }

    /// The `origin` remote's URL, else the first remote's.
    fn remote_url(&self) -> Option<String> {
        let config = read_small(&self.common.join("config"))?;
        let mut section = String::new();
        let mut first = None;
        for line in config.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                section = line.to_string();
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            if key.trim() != "url" || !section.starts_with("[remote ") {
                continue;
            }
            let value = value.trim().trim_matches('"').to_string();
            if section == "[remote \"origin\"]" {
                return Some(value);
            }
            first.get_or_insert(value);
        }
        first
    }
}

fn is_object_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A small git file's text; `None` when missing, unreadable or oversized.
fn read_small(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > 1 << 20 {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remotes_are_named_without_scheme_credentials_or_suffix() {
        for (url, name) in [
            (
                "https://user:ghp_secret@GitHub.com/org/repo.git",
                "github.com/org/repo",
            ),
            ("git@github.com:org/repo.git", "github.com/org/repo"),
            (
                "ssh://git@gitlab.example:2222/g/r.git",
                "gitlab.example/g/r",
            ),
            (
                "https://dev.azure.com/o/p/_git/r/",
                "dev.azure.com/o/p/_git/r",
            ),
            ("/srv/git/repo.git", "/srv/git/repo"),
        ] {
            assert_eq!(normalise_remote(url), name, "{url}");
        }
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_764_772_496), "2025-12-03T14:34:56Z");
    }

    #[test]
    fn a_repository_is_read_from_its_git_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let git = dir.path().join(".git");
        std::fs::create_dir_all(git.join("refs/heads")).expect("mkdir");
        std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").expect("write");
        let id = "0123456789abcdef0123456789abcdef01234567";
        std::fs::write(
            git.join("packed-refs"),
            format!("# pack-refs with: peeled\n{id} refs/heads/main\n"),
        )
        .expect("write");
        std::fs::write(
            git.join("config"),
            "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://x.example/u/r\n[remote \"origin\"]\n\turl = https://tok@github.com/acme/infra.git\n",
        )
        .expect("write");
        let identity = ScanIdentity::of_scan(&[dir.path().to_path_buf()], None, None);
        assert_eq!(
            identity.repository.as_deref(),
            Some("github.com/acme/infra")
        );
        assert_eq!(identity.project, "github.com/acme/infra");
        assert_eq!(identity.commit.as_deref(), Some(id));
        assert_eq!(identity.branch.as_deref(), Some("main"));
        let named = ScanIdentity::of_scan(&[dir.path().to_path_buf()], Some("payments"), None);
        assert_eq!(named.project, "payments");
    }
}
