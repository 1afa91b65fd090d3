//! The command line: what the user typed, checked, and nothing else.
//! Everything past this module works from plain configuration values.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::source::DEFAULT_MAX_FILE_SIZE;

/// rampart: finds security misconfigurations in Terraform, Kubernetes
/// manifests, Dockerfiles and CloudFormation before they ship.
#[derive(Debug, Parser)]
#[command(name = "rampart", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what rampart reads: each file's platform and entities, and with
    /// --tree the parsed tree with spans.
    Inspect(InspectArgs),
}

/// `rampart inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Files or directories to read (default: the current directory).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Print each file's parsed tree, with spans, as JSON.
    #[arg(long)]
    pub tree: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// How the files are found and read.
    #[command(flatten)]
    pub input: InputArgs,
}

/// Flags shared by every command that reads IaC.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Leave out paths matching this glob (repeatable), matched against the
    /// path below each given directory and against the file name.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Skip files larger than this many bytes (reported as a diagnostic).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,

    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For programs.
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_flags() {
        let cli = Cli::try_parse_from([
            "rampart",
            "inspect",
            "a",
            "b",
            "--tree",
            "--exclude",
            "x/**",
            "--exclude",
            "*.json",
            "--max-file-size",
            "10",
        ])
        .expect("parses");
        let Command::Inspect(args) = cli.command;
        assert_eq!(args.paths, vec![PathBuf::from("a"), PathBuf::from("b")]);
        assert!(args.tree);
        assert_eq!(args.input.exclude, vec!["x/**", "*.json"]);
        assert_eq!(args.input.max_file_size, 10);
    }

    #[test]
    fn defaults() {
        let Command::Inspect(args) = Cli::try_parse_from(["rampart", "inspect"])
            .expect("parses")
            .command;
        assert!(args.paths.is_empty());
        assert_eq!(args.format, Format::Text);
        assert_eq!(args.input.max_file_size, DEFAULT_MAX_FILE_SIZE);
    }
}
