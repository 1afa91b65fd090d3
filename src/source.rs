//! Reading a file's bytes into text a parser can take, refusing deliberately
//! what is not text: too large, binary, UTF-16, or not valid UTF-8.
//!
//! This is the one place rampart opens a file it scans (or that a scanned
//! file names, through `file()` or a module call): it opens only regular
//! files, and opens them without blocking, so a FIFO or a device in the
//! tree, or named on the command line, is refused with a diagnostic instead
//! of hanging the scan (issue 21, item 15).

use crate::tree::SourceText;
use std::io::Read;
use std::path::Path;

/// Files larger than this are not read unless the user raises the cap
/// (`--max-file-size`): generated or vendored blobs, not hand-written IaC.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 5 * 1024 * 1024;

/// How much of a file that cannot be read whole (too large, badly encoded)
/// is looked at to tell whether it is IaC worth a diagnostic: Kubernetes
/// objects and CloudFormation templates say what they are in their first
/// lines.
pub const HEAD_SIZE: u64 = 64 * 1024;

/// Why a file was not read. Messages are what the diagnostic says.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadError {
    /// Larger than the cap.
    #[error("file is {size} bytes, over the {cap}-byte limit (raise it with --max-file-size)")]
    TooLarge {
        /// Size on disk.
        size: u64,
        /// The cap in force.
        cap: u64,
    },
    /// Has NUL bytes: not a text file.
    #[error("binary file (contains NUL bytes)")]
    Binary,
    /// Starts with a UTF-16 byte-order mark.
    #[error("UTF-16 encoded; only UTF-8 is read")]
    Utf16,
    /// Not valid UTF-8.
    #[error("invalid UTF-8 at line {line}, column {column}")]
    NotUtf8 {
        /// 1-based line of the first invalid byte.
        line: u32,
        /// 1-based column (in characters) of the first invalid byte.
        column: u32,
    },
    /// A FIFO, socket, device or directory: reading it could block forever
    /// or never end.
    #[error("not a regular file ({0}); not read")]
    NotRegular(&'static str),
    /// The operating system refused.
    #[error("cannot read file: {0}")]
    Io(String),
}

impl ReadError {
    /// Whether the bytes were read but are not UTF-8 text.
    pub fn is_encoding(&self) -> bool {
        matches!(
            self,
            ReadError::Binary | ReadError::Utf16 | ReadError::NotUtf8 { .. }
        )
    }
}

/// Settings, exception, baseline and query files larger than this are not
/// read: generous for a baseline of a million findings, bounded all the
/// same.
pub const MAX_SETTINGS_FILE_SIZE: u64 = 256 * 1024 * 1024;

/// The text of a file the user named for rampart itself (a configuration,
/// an exceptions file, a baseline, a query), through the same safe reader
/// as scanned files: a FIFO or device named there is refused, never
/// waited on.
pub fn read_settings_text(path: &Path) -> Result<String, ReadError> {
    read_source(path, MAX_SETTINGS_FILE_SIZE).map(|s| s.text)
}

/// Reads `path`, refusing files over `max_size` bytes and anything that is
/// not a regular file.
pub fn read_source(path: &Path, max_size: u64) -> Result<SourceText, ReadError> {
    decode(read_bytes(path, max_size)?)
}

/// Reads a UTF-16 file (with its byte-order mark) at `path` as text, for
/// the one kind of file tools write so on Windows that rampart reads:
/// Terraform plan JSON (`terraform show -json > plan.json` in PowerShell).
/// Refuses what [`read_source`] refuses, and UTF-16 that does not decode.
pub fn read_utf16(path: &Path, max_size: u64) -> Result<SourceText, ReadError> {
    let bytes = read_bytes(path, max_size)?;
    let unit: fn([u8; 2]) -> u16 = if bytes.starts_with(&[0xFF, 0xFE]) {
        u16::from_le_bytes
    } else if bytes.starts_with(&[0xFE, 0xFF]) {
        u16::from_be_bytes
    } else {
        return decode(bytes);
    };
    let units: Vec<u16> = bytes[2..]
        .chunks_exact(2)
        .map(|pair| unit([pair[0], pair[1]]))
        .collect();
    let text = String::from_utf16(&units).map_err(|_| ReadError::NotUtf8 { line: 0, column: 0 })?;
    if text.contains('\0') {
        return Err(ReadError::Binary);
    }
    Ok(SourceText { text, bom_len: 0 })
}

/// The bytes of the regular file at `path`, refusing more than `max_size`.
fn read_bytes(path: &Path, max_size: u64) -> Result<Vec<u8>, ReadError> {
    let (file, size) = open_regular(path)?;
    if size > max_size {
        return Err(ReadError::TooLarge {
            size,
            cap: max_size,
        });
    }
    // The size is known to fit under the cap; a cap beyond memory is the
    // caller's to validate, so never reserve more than the file holds.
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // `take` guards a file that grows between the size check and the read.
    file.take(max_size.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Io(e.to_string()))?;
    if bytes.len() as u64 > max_size {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            cap: max_size,
        });
    }
    Ok(bytes)
}

/// The first [`HEAD_SIZE`] bytes of the regular file at `path` as text,
/// decoded leniently (UTF-16 decoded, invalid bytes and NULs replaced), to
/// tell what a file that cannot be read whole would have been.
pub fn read_head_lossy(path: &Path) -> Result<String, ReadError> {
    let (file, _) = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(HEAD_SIZE)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Io(e.to_string()))?;
    Ok(lossy_text(&bytes))
}

/// `bytes` as text whatever they hold: UTF-16 when it says so, else UTF-8
/// with invalid sequences and NULs replaced by U+FFFD, byte-order marks
/// dropped.
pub fn lossy_text(bytes: &[u8]) -> String {
    let utf16 = |rest: &[u8], unit: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|pair| unit([pair[0], pair[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    };
    let text = if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        utf16(rest, u16::from_le_bytes)
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        utf16(rest, u16::from_be_bytes)
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    };
    text.trim_start_matches('\u{FEFF}')
        .replace('\0', "\u{FFFD}")
}

/// Opens `path` for reading if it is a regular file, without blocking.
/// Returns the file and its size.
fn open_regular(path: &Path) -> Result<(std::fs::File, u64), ReadError> {
    // Look before opening: opening a device can have effects of its own
    // (a tape rewinds, a watchdog starts).
    let meta = std::fs::metadata(path).map_err(|e| ReadError::Io(e.to_string()))?;
    regular(&meta.file_type())?;
    let file = open_nonblocking(path).map_err(|e| ReadError::Io(e.to_string()))?;
    // What was opened, in case the path changed since it was looked at.
    let meta = file.metadata().map_err(|e| ReadError::Io(e.to_string()))?;
    regular(&meta.file_type())?;
    Ok((file, meta.len()))
}

/// Opening a FIFO for reading blocks until a writer comes; `O_NONBLOCK`
/// returns at once (and changes nothing for a regular file's reads).
#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// Refuses anything but a regular file, naming what it is.
fn regular(file_type: &std::fs::FileType) -> Result<(), ReadError> {
    if file_type.is_file() {
        return Ok(());
    }
    if file_type.is_dir() {
        return Err(ReadError::NotRegular("a directory"));
    }
    Err(ReadError::NotRegular(special_kind(file_type)))
}

#[cfg(unix)]
fn special_kind(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

/// Turns bytes into text, with the same refusals as [`read_source`].
pub fn decode(mut bytes: Vec<u8>) -> Result<SourceText, ReadError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ReadError::Utf16);
    }
    if bytes.contains(&0) {
        return Err(ReadError::Binary);
    }
    // Every leading mark, not just one: a file saved twice through a tool
    // that adds one has two, and editors show neither (issue 21, item 3).
    let marks = bytes
        .chunks_exact(3)
        .take_while(|c| *c == [0xEF, 0xBB, 0xBF])
        .count();
    bytes.drain(..marks * 3);
    let bom_len = u32::try_from(marks * 3).unwrap_or(u32::MAX);
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceText { text, bom_len }),
        Err(err) => {
            let bytes = err.as_bytes();
            let valid = &bytes[..err.utf8_error().valid_up_to()];
            // The prefix is valid UTF-8 by construction.
            let prefix = std::str::from_utf8(valid).unwrap_or_default();
            let line = prefix.matches('\n').count() as u32 + 1;
            let line_start = prefix.rfind('\n').map_or(0, |i| i + 1);
            let column = prefix[line_start..].chars().count() as u32 + 1;
            Err(ReadError::NotUtf8 { line, column })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_is_stripped_and_counted() {
        let s = decode(b"\xEF\xBB\xBFkind: Pod\n".to_vec()).expect("text");
        assert_eq!(s.text, "kind: Pod\n");
        assert_eq!(s.bom_len, 3);
    }

    #[test]
    fn refusals() {
        assert_eq!(decode(b"a\0b".to_vec()).unwrap_err(), ReadError::Binary);
        assert_eq!(
            decode(b"\xFF\xFEa\0".to_vec()).unwrap_err(),
            ReadError::Utf16
        );
        assert_eq!(
            decode(b"ok\nab\xC3(".to_vec()).unwrap_err(),
            ReadError::NotUtf8 { line: 2, column: 3 }
        );
    }

    #[test]
    fn doubled_bom_is_stripped_and_counted() {
        let s = decode(b"\xEF\xBB\xBF\xEF\xBB\xBFkind: Pod\n".to_vec()).expect("text");
        assert_eq!(s.text, "kind: Pod\n");
        assert_eq!(s.bom_len, 6);
    }

    #[test]
    fn lossy_text_reads_what_decode_refuses() {
        assert_eq!(
            lossy_text(b"kind: P\xE9d\0\n"),
            "kind: P\u{FFFD}d\u{FFFD}\n"
        );
        assert_eq!(lossy_text(b"\xFF\xFEk\0:\0"), "k:");
        assert_eq!(lossy_text(b"\xFE\xFF\0k\0:"), "k:");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pipe.tf");
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        assert_eq!(
            read_source(&path, DEFAULT_MAX_FILE_SIZE).unwrap_err(),
            ReadError::NotRegular("a FIFO")
        );
        assert_eq!(
            read_head_lossy(&path).unwrap_err(),
            ReadError::NotRegular("a FIFO")
        );
        assert_eq!(
            read_source(dir.path(), DEFAULT_MAX_FILE_SIZE).unwrap_err(),
            ReadError::NotRegular("a directory")
        );
    }

    #[test]
    fn size_cap() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big.tf");
        std::fs::write(&path, "x = 1\n".repeat(10)).expect("write");
        assert_eq!(
            read_source(&path, 10).unwrap_err(),
            ReadError::TooLarge { size: 60, cap: 10 }
        );
        assert_eq!(read_source(&path, 60).expect("fits").text.len(), 60);
    }
}
