//! rampart reads Terraform, Kubernetes manifests, Dockerfiles and
//! CloudFormation into one spanned tree, finds the entities each platform
//! defines, and (with the query engine) reports misconfigurations in them.
//!
//! The pipeline, one module an arrow:
//! [`discover`] → [`load`] (read, [`detect`], [`parse`]) → [`platform`]
//! entities → [`query`] engine → [`finding`]s → [`report`]; or, for
//! `inspect`, the entities themselves. [`scan`] runs units in parallel.

#[cfg(feature = "admission")]
pub mod admission;
pub mod cli;
mod commands;
pub mod comments;
pub mod compliance;
pub mod config;
pub mod date;
pub mod detect;
pub mod diagnostic;
pub mod diff_base;
pub mod discover;
mod embedded;
pub mod finding;
pub mod identity;
pub mod inspect;
pub mod line_hash;
pub mod load;
pub mod parse;
pub mod platform;
pub mod query;
pub mod render;
pub mod report;
pub mod scan;
pub mod source;
pub mod stdin;
pub mod suppress;
pub mod testing;
pub mod tofu;
pub mod tree;

/// The query library's version, in a macro so `--version` can be built at
/// compile time. Bumped deliberately (see CHANGELOG.md): minor for added
/// queries, major when a query id goes away or a verdict changes meaning.
macro_rules! library_version {
    () => {
        "2.0.0"
    };
}

/// The built-in query library's version.
pub const LIBRARY_VERSION: &str = library_version!();

/// The JSON report's format version (`version` in the report): fields are
/// only added within a version.
pub const JSON_FORMAT_VERSION: u32 = 1;

/// The SARIF version rampart writes.
pub const SARIF_VERSION: &str = "2.1.0";

/// What `rampart --version` prints after the name.
pub const VERSION_TEXT: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\nquery library ",
    library_version!(),
    "\nJSON report format 1, SARIF 2.1.0"
);

use cli::{Cli, Command};
use std::io::Write;

/// How a run ended; `main` turns it into the process exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Nothing to report: exit 0.
    Clean,
    /// Findings at or above the failure threshold: exit 1.
    Findings,
    /// A usage or configuration error: exit 2.
    Error,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Clean => 0,
            ExitStatus::Findings => 1,
            ExitStatus::Error => 2,
        }
    }
}

/// Runs a parsed command line, writing the report to `out` and errors to
/// `err`.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> ExitStatus {
    let result = match cli.command {
        Command::Scan(args) => commands::scan(*args, out),
        Command::Inspect(args) => commands::inspect(args, out),
        Command::Queries(args) => commands::queries(args, out),
        Command::Explain(args) => commands::explain(args, out),
        Command::Render(args) => commands::render(args, out),
        Command::Report(args) => commands::report(args, out),
        Command::Test(args) => commands::test(args, out),
        Command::Completions(args) => commands::completions(args, out),
        Command::Admission(args) => commands::admission(*args, out),
    };
    match result {
        Ok(status) => status,
        Err(e) => {
            // A closed pipe (`rampart queries | head`) is not an error.
            if is_broken_pipe(&e) {
                return ExitStatus::Clean;
            }
            let _ = writeln!(err, "rampart: error: {e}");
            for cause in e.chain().skip(1) {
                let _ = writeln!(err, "  caused by: {cause}");
            }
            ExitStatus::Error
        }
    }
}

/// True when `error` is a write into a pipe whose reader has gone
/// (`rampart queries | head`): the output is no longer wanted, which is
/// no failure of the run.
pub(crate) fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
