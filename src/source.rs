//! Reading a file's bytes into text a parser can take, refusing deliberately
//! what is not text: too large, binary, UTF-16, or not valid UTF-8.

use std::io::Read;
use std::path::Path;

/// Files larger than this are not read unless the user raises the cap
/// (`--max-file-size`): generated or vendored blobs, not hand-written IaC.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 5 * 1024 * 1024;

/// A file's text, ready to parse.
#[derive(Clone, Debug)]
pub struct SourceText {
    /// The text without any UTF-8 byte-order mark.
    pub text: String,
    /// Bytes removed from the front (3 for a BOM, else 0); spans add it back
    /// so byte ranges index the file on disk.
    pub bom_len: u32,
}

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
    /// The operating system refused.
    #[error("cannot read file: {0}")]
    Io(String),
}

/// Reads `path`, refusing files over `max_size` bytes.
pub fn read_source(path: &Path, max_size: u64) -> Result<SourceText, ReadError> {
    let file = std::fs::File::open(path).map_err(|e| ReadError::Io(e.to_string()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > max_size {
        return Err(ReadError::TooLarge {
            size,
            cap: max_size,
        });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // `take` guards a file that grows between the size check and the read.
    file.take(max_size + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Io(e.to_string()))?;
    if bytes.len() as u64 > max_size {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            cap: max_size,
        });
    }
    decode(bytes)
}

/// Turns bytes into text, with the same refusals as [`read_source`].
pub fn decode(mut bytes: Vec<u8>) -> Result<SourceText, ReadError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ReadError::Utf16);
    }
    if bytes.contains(&0) {
        return Err(ReadError::Binary);
    }
    let bom_len = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
        3
    } else {
        0
    };
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
