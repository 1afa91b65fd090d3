//! Diagnostics: what went wrong reading the input, or what was left out on
//! purpose, with the file and position. A diagnostic never stops a scan.

use serde::Serialize;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Input that could not be read or parsed: something was not scanned.
    Error,
    /// Something deliberately not scanned (a Helm chart's templates, a
    /// file given on the command line that is not IaC).
    Notice,
}

/// A problem or notice about one file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Diagnostic {
    /// The file (display path).
    pub file: String,
    /// 1-based line, or 0 when the diagnostic is about the whole file.
    pub line: u32,
    /// 1-based column, or 0 when the diagnostic is about the whole file.
    pub column: u32,
    /// Error or notice.
    pub level: Level,
    /// What happened, lowercase.
    pub message: String,
}

impl Diagnostic {
    /// An error at a position (0, 0 for the whole file).
    pub fn error(
        file: impl Into<String>,
        line: u32,
        column: u32,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.into(),
            line,
            column,
            level: Level::Error,
            message: message.into(),
        }
    }

    /// A notice at a position (0, 0 for the whole file).
    pub fn notice(
        file: impl Into<String>,
        line: u32,
        column: u32,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.into(),
            line,
            column,
            level: Level::Notice,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.level {
            Level::Error => "error",
            Level::Notice => "notice",
        };
        if self.line == 0 {
            write!(f, "{}: {level}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {level}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}
