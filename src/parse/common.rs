//! What every parser returns, and the limits every parser honours.

use crate::tree::Node;

/// Nesting deeper than this is refused with a diagnostic instead of being
/// walked: real IaC nests a few dozen levels at most, and a recursive walk
/// over an adversarial file must not exhaust the stack.
pub const MAX_DEPTH: usize = 128;

/// A YAML file whose aliases would expand to more nodes than this, over all
/// its documents, is refused from the document that crosses it on (the
/// "billion laughs" attack), whatever its size on disk.
pub const MAX_ALIAS_EXPANSION: usize = 1_000_000;

/// A syntax error at a position in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong, lowercase, quoting the input where it helps.
    pub message: String,
}

impl ParseError {
    /// An error at `line`:`column`.
    pub fn new(line: u32, column: u32, message: impl Into<String>) -> Self {
        ParseError {
            line,
            column,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

/// The documents read from one file, and the errors met reading it.
///
/// A YAML stream whose third document is broken still yields the first two:
/// a parser keeps what it could read and reports what it could not.
#[derive(Debug, Default)]
pub struct Parsed {
    /// One node per document (YAML streams hold several; other formats one).
    pub documents: Vec<Node>,
    /// Errors, in source order.
    pub errors: Vec<ParseError>,
}

impl Parsed {
    /// A single document with no errors.
    pub fn one(document: Node) -> Self {
        Parsed {
            documents: vec![document],
            errors: Vec::new(),
        }
    }

    /// No document, one error.
    pub fn failed(error: ParseError) -> Self {
        Parsed {
            documents: Vec::new(),
            errors: vec![error],
        }
    }
}
