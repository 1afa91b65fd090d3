//! Where reports go, and writing them all or none.
//!
//! A report file is replaced atomically (a temporary file beside it, then a
//! rename), so a CI step never reads half a report; but only a regular file
//! (or nothing) is ever replaced: a device, a FIFO or `/dev/stdout` is
//! written in place, since renaming over `/dev/null` as root replaces the
//! device itself. An existing file keeps its permissions (and, where the
//! system allows, its owner); a new one gets the umask's. Every output is
//! staged before any is committed, so when one cannot be written none is.

use std::fs::{self, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// Where one output goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The process's standard output (`-o FORMAT`, `-o FORMAT:-`,
    /// `-o FORMAT:/dev/stdout`).
    Stdout,
    /// A file.
    File(PathBuf),
}

impl Target {
    /// The target a `-o` path names: `-` and the names of standard output
    /// are standard output itself, written through the same stream as the
    /// other stdout reports (opening `/dev/stdout` anew would write at the
    /// start of a redirected file).
    pub fn of_path(path: &str) -> Target {
        match path {
            "-" | "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1" => Target::Stdout,
            other => Target::File(PathBuf::from(other)),
        }
    }

    /// How the target is named in messages.
    pub fn describe(&self) -> String {
        match self {
            Target::Stdout => "standard output".to_string(),
            Target::File(path) => path.display().to_string(),
        }
    }
}

/// How a file target is written.
#[derive(Debug)]
enum Method {
    /// A new file at this path, through a temporary file and a rename.
    Create(PathBuf),
    /// An existing regular file (at this path, symbolic links resolved),
    /// replaced through a temporary file and a rename, keeping its mode and
    /// owner.
    Replace(PathBuf, fs::Metadata),
    /// A device, FIFO or anything under `/dev` or `/proc`: written in
    /// place, never renamed over.
    InPlace(PathBuf),
}

/// Decides how `path` is written, refusing what cannot be written:
/// a directory, a symbolic link to nothing.
fn method(path: &Path) -> anyhow::Result<Method> {
    let shown = path.display();
    if is_system_path(path) {
        return Ok(Method::InPlace(path.to_path_buf()));
    }
    let link = fs::symlink_metadata(path);
    let is_link = link.as_ref().is_ok_and(|m| m.file_type().is_symlink());
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => bail!("{shown} is a directory, not a report file"),
        Ok(meta) if meta.is_file() => {
            // Replace the file a link points at, not the link.
            let resolved = if is_link {
                fs::canonicalize(path).with_context(|| format!("cannot resolve {shown}"))?
            } else {
                path.to_path_buf()
            };
            if is_system_path(&resolved) {
                return Ok(Method::InPlace(path.to_path_buf()));
            }
            Ok(Method::Replace(resolved, meta))
        }
        Ok(_) => Ok(Method::InPlace(path.to_path_buf())),
        Err(_) if is_link => {
            bail!("{shown} is a symbolic link to a file that does not exist")
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(Method::Create(path.to_path_buf()))
        }
        Err(e) => Err(e).with_context(|| format!("cannot write {shown}")),
    }
}

/// Paths that name the system's special files, never to be renamed over
/// whatever they look like (`/proc/self/fd/N` may show as a regular file).
fn is_system_path(path: &Path) -> bool {
    path.starts_with("/dev") || path.starts_with("/proc")
}

/// Checks the targets before anything is scanned or written: no directory,
/// no dangling link, and no two outputs to one place (the second would
/// silently replace the first).
pub fn check_targets(targets: &[Target]) -> anyhow::Result<()> {
    let mut seen: Vec<(PathBuf, &Target)> = Vec::new();
    for target in targets {
        let key = match target {
            Target::Stdout => PathBuf::from("-"),
            Target::File(path) => {
                method(path)?;
                identity(path)
            }
        };
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            if *target == Target::Stdout {
                bail!("two outputs write to standard output");
            }
            bail!(
                "two outputs write to the same file ({} and {})",
                first.describe(),
                target.describe()
            );
        }
        seen.push((key, target));
    }
    Ok(())
}

/// What makes two paths the same file: the canonical path where it exists,
/// else the canonical parent and the name.
fn identity(path: &Path) -> PathBuf {
    if let Ok(canonical) = fs::canonicalize(path) {
        return canonical;
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (fs::canonicalize(parent), path.file_name()) {
        (Ok(parent), Some(name)) => parent.join(name),
        _ => std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf()),
    }
}

/// What writes an output's content.
pub type WriteContent<'a> = Box<dyn Fn(&mut dyn Write) -> io::Result<()> + 'a>;

/// One output, waiting to be written.
pub struct Pending<'a> {
    /// Where it goes.
    pub target: Target,
    /// Writes what it says. Reports are rendered straight into their
    /// (temporary) file rather than into memory first: a report as large
    /// as the findings it lists is never held whole (issue 20).
    pub write: WriteContent<'a>,
}

impl<'a> Pending<'a> {
    /// An output whose content is already made.
    pub fn bytes(target: Target, bytes: Vec<u8>) -> Pending<'a> {
        Pending {
            target,
            write: Box::new(move |out: &mut dyn Write| out.write_all(&bytes)),
        }
    }
}

/// An output staged in a temporary file, ready to be renamed into place.
struct Staged {
    temp: tempfile::NamedTempFile,
    destination: PathBuf,
}

/// Writes every output, or none when one cannot be staged: files are
/// first written to temporary files beside their destination, and only
/// when all are ready are they renamed into place, then the in-place
/// targets and standard output written.
pub fn write_all(outputs: &[Pending<'_>], stdout: &mut dyn Write) -> anyhow::Result<()> {
    let mut staged = Vec::new();
    let mut in_place = Vec::new();
    for output in outputs {
        let Target::File(path) = &output.target else {
            continue;
        };
        match method(path)? {
            Method::Create(destination) => {
                staged.push(stage(&destination, &output.write, None)?);
            }
            Method::Replace(destination, meta) => {
                staged.push(stage(&destination, &output.write, Some(&meta))?);
            }
            Method::InPlace(destination) => in_place.push((destination, &output.write)),
        }
    }
    for Staged { temp, destination } in staged {
        temp.persist(&destination)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot write {}", destination.display()))?;
    }
    for (destination, write) in in_place {
        write_in_place(&destination, write)?;
    }
    for output in outputs.iter().filter(|o| o.target == Target::Stdout) {
        (output.write)(stdout)?;
    }
    Ok(())
}

/// Writes the content to a temporary file beside `destination`, with the mode
/// (and owner) of the file it will replace, or for a new file the mode the
/// umask gives.
fn stage(
    destination: &Path,
    write: &WriteContent<'_>,
    existing: Option<&fs::Metadata>,
) -> anyhow::Result<Staged> {
    let dir = destination
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // The mode is passed to open(2), so the umask applies to a new file as
    // it would to one the shell creates; an existing file's is set below.
    let mut temp = tempfile::Builder::new()
        .prefix(".rampart-")
        .permissions(Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    let mut buffered = io::BufWriter::new(temp.as_file_mut());
    write(&mut buffered)
        .and_then(|()| buffered.flush())
        .with_context(|| format!("cannot write {}", destination.display()))?;
    drop(buffered);
    if let Some(meta) = existing {
        let file = temp.as_file();
        // Best effort: only root may give a file to another owner, and a
        // report owned by the one who wrote it is no harm.
        let _ = std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()));
        file.set_permissions(Permissions::from_mode(meta.mode() & 0o7777))
            .with_context(|| format!("cannot keep the permissions of {}", destination.display()))?;
    }
    Ok(Staged {
        temp,
        destination: destination.to_path_buf(),
    })
}

/// Writes to a device or FIFO as the shell's `>` would, without creating,
/// truncating or renaming anything. A FIFO waits for its reader.
fn write_in_place(destination: &Path, write: &WriteContent<'_>) -> anyhow::Result<()> {
    let file = OpenOptions::new()
        .write(true)
        .open(destination)
        .with_context(|| format!("cannot write {}", destination.display()))?;
    let mut buffered = io::BufWriter::new(file);
    write(&mut buffered)
        .and_then(|()| buffered.flush())
        .with_context(|| format!("cannot write {}", destination.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdout_names() {
        assert_eq!(Target::of_path("-"), Target::Stdout);
        assert_eq!(Target::of_path("/dev/stdout"), Target::Stdout);
        assert_eq!(
            Target::of_path("out.json"),
            Target::File(PathBuf::from("out.json"))
        );
    }

    #[test]
    fn duplicates_and_directories_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.json");
        let again = dir.path().join("./a.json");
        let err = check_targets(&[Target::File(a.clone()), Target::File(again)])
            .expect_err("same file twice");
        assert!(
            err.to_string()
                .starts_with("two outputs write to the same file"),
            "{err}"
        );
        let err = check_targets(&[Target::Stdout, Target::Stdout]).expect_err("stdout twice");
        assert_eq!(err.to_string(), "two outputs write to standard output");
        let err = check_targets(&[Target::File(dir.path().to_path_buf())]).expect_err("dir");
        assert!(
            err.to_string()
                .ends_with("is a directory, not a report file"),
            "{err}"
        );
        check_targets(&[Target::Stdout, Target::File(a)]).expect("distinct");
    }

    #[test]
    fn a_failed_output_leaves_the_others_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = dir.path().join("first.json");
        fs::write(&first, "old").expect("write");
        let blocked = dir.path().join("file/under/a/file.json");
        fs::write(dir.path().join("file"), "not a directory").expect("write");
        let outputs = [
            Pending::bytes(Target::File(first.clone()), b"new".to_vec()),
            Pending::bytes(Target::File(blocked), b"x".to_vec()),
        ];
        let mut stdout = Vec::new();
        write_all(&outputs, &mut stdout).expect_err("second cannot be written");
        assert_eq!(fs::read_to_string(&first).expect("read"), "old");
        assert!(stdout.is_empty());
        let left: Vec<_> = fs::read_dir(dir.path()).expect("dir").flatten().collect();
        assert_eq!(left.len(), 2, "no temporary file is left behind");
    }
}
