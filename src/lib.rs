//! rampart reads Terraform, Kubernetes manifests, Dockerfiles and
//! CloudFormation into one spanned tree, finds the entities each platform
//! defines, and (with the query engine) reports misconfigurations in them.
//!
//! The pipeline, one module an arrow:
//! [`discover`] → [`load`] (read, [`detect`], [`parse`]) → [`platform`]
//! entities → commands ([`inspect`]), run in parallel by [`scan`].

pub mod cli;
pub mod detect;
pub mod diagnostic;
pub mod discover;
pub mod inspect;
pub mod load;
pub mod parse;
pub mod platform;
pub mod scan;
pub mod source;
pub mod tree;

use std::io::Write;
use std::path::PathBuf;

use cli::{Cli, Command, Format, InspectArgs};

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
        Command::Inspect(args) => run_inspect(args, out),
    };
    match result {
        Ok(status) => status,
        Err(e) => {
            // A closed pipe (`rampart inspect | head`) is not an error.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
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

fn run_inspect(args: InspectArgs, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths
    };
    let config = inspect::InspectConfig {
        paths,
        discover: discover::DiscoverOptions {
            excludes: args.input.exclude,
            threads: args.input.threads,
        },
        load: load::LoadOptions {
            max_file_size: args.input.max_file_size,
        },
        tree: args.tree,
    };
    let report = inspect::inspect(&config, args.input.threads)?;
    match args.format {
        Format::Json => inspect::render_json(&report, out)?,
        Format::Text => inspect::render_text(&report, out)?,
    }
    Ok(ExitStatus::Clean)
}
