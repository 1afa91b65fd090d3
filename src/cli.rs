//! The command line: what the user typed, checked, and nothing else.
//! Everything past this module works from plain configuration values.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Threshold;
use crate::finding::Severity;
use crate::platform::Platform;
use crate::report::{GroupBy, OutputFormat};

/// rampart: finds security misconfigurations in Terraform, Kubernetes
/// manifests, Dockerfiles and CloudFormation before they ship.
#[derive(Debug, Parser)]
#[command(name = "rampart", version = crate::VERSION_TEXT, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories for misconfigurations.
    Scan(Box<ScanArgs>),
    /// Show what rampart reads: each file's platform and entities, and with
    /// --tree the parsed tree with spans.
    Inspect(InspectArgs),
    /// List the query library.
    Queries(QueriesArgs),
    /// Explain a query: why it matters, how to fix it, and its examples.
    Explain(ExplainArgs),
    /// Run a query pack's fixtures (DIR holds queries/ and fixtures/).
    Test(TestArgs),
    /// Print the Kubernetes objects rampart scans for Helm charts and
    /// kustomizations, as multi-document YAML.
    Render(RenderArgs),
    /// Roll many scan results (JSON reports) up into one compliance report:
    /// repositories, controls, exceptions, trend.
    Report(ReportArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
    /// Serve a Kubernetes validating admission webhook (HTTPS, POST
    /// /validate) that applies the scan policy to every object the cluster
    /// is asked to store. Needs a build with the `admission` feature.
    Admission(Box<AdmissionArgs>),
}

/// `rampart admission`.
#[derive(Debug, Args)]
pub struct AdmissionArgs {
    /// Address and port to listen on.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8443")]
    pub listen: std::net::SocketAddr,

    /// PEM certificate chain (re-read when it changes).
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        required_unless_present = "tls_self_signed"
    )]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Make a CA and a certificate at start (for local trials) and print
    /// the CA as a caBundle.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    pub tls_self_signed: bool,

    /// DNS name or IP address of the self-signed certificate (repeatable)
    /// [default: rampart-admission.rampart.svc and its shorter forms,
    /// localhost, 127.0.0.1].
    #[arg(long, value_name = "NAME", requires = "tls_self_signed")]
    pub tls_name: Vec<String>,

    /// Also write the self-signed CA certificate (PEM) to this file.
    #[arg(long, value_name = "FILE", requires = "tls_self_signed")]
    pub tls_ca_out: Option<PathBuf>,

    /// Seconds between checks of the certificate files for a change.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub tls_reload_seconds: u64,

    /// Mode for namespaces the settings do not list: enforce, warn or
    /// audit [default: the settings' admission.mode, else enforce].
    #[arg(long, value_name = "MODE", value_parser = crate::config::AdmissionMode::parse)]
    pub mode: Option<crate::config::AdmissionMode>,

    /// Deny (in enforce mode) when a finding is at or above this severity
    /// [default: the settings' fail_on, else low].
    #[arg(long, value_name = "LEVEL", value_parser = parse_threshold)]
    pub fail_on: Option<Threshold>,

    /// The settings file (.rampart.yaml form, with its admission: section).
    #[arg(long, value_name = "FILE", env = "RAMPART_CONFIG")]
    pub config: Option<PathBuf>,

    /// The security team's exceptions file [default: the settings'
    /// exceptions].
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,

    /// Which queries run.
    #[command(flatten)]
    pub queries: QuerySelection,

    /// Request bodies larger than this many bytes are refused (413).
    #[arg(long, value_name = "BYTES", default_value_t = 3 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1024..=(64 * 1024 * 1024)))]
    pub max_request_bytes: u64,

    /// On SIGTERM, seconds to let in-flight reviews finish.
    #[arg(long, value_name = "SECONDS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub drain_seconds: u64,
}

/// `rampart completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `rampart scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan (default: the current directory); `-`
    /// reads one stream from standard input.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// The file name standard input (`-`) is reported under [default: <stdin>].
    #[arg(long, value_name = "NAME")]
    pub stdin_name: Option<String>,

    /// What standard input holds when its content does not say (a
    /// Dockerfile, Terraform JSON).
    #[arg(long, value_enum, value_name = "PLATFORM")]
    pub stdin_platform: Option<crate::stdin::StdinPlatform>,

    /// Format of the report on stdout [default: human].
    #[arg(long, value_enum, env = "RAMPART_FORMAT")]
    pub format: Option<OutputFormat>,

    /// Write a report (repeatable): `-o sarif:results.sarif -o json:out.json
    /// -o human`; without a path, to stdout. Files are written atomically.
    #[arg(short = 'o', long = "output", value_name = "FORMAT[:PATH]")]
    pub outputs: Vec<String>,

    /// One line per finding (`path:line:col: severity id message`), the
    /// form editors and grep read; same as `--format compact`.
    #[arg(long, conflicts_with = "format")]
    pub compact: bool,

    /// Print findings only: no summary, no diagnostics.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Print only the summary of the human report: totals, the queries and
    /// files with the most findings, findings per platform.
    #[arg(long, conflicts_with_all = ["quiet", "compact"])]
    pub summary: bool,

    /// Group the human report's findings by file or by query.
    #[arg(long, value_enum, value_name = "BY", default_value_t = GroupBy::File)]
    pub group_by: GroupBy,

    /// Exit 1 when a finding is at or above this severity; `none` never
    /// [default: low].
    #[arg(long, value_name = "LEVEL", env = "RAMPART_FAIL_ON", value_parser = parse_threshold)]
    pub fail_on: Option<Threshold>,

    /// Also exit 1 when a file cannot be read or parsed.
    #[arg(long)]
    pub fail_on_parse_error: bool,

    /// SARIF `automationDetails.id`, to tell runs of several scans apart in
    /// GitHub code scanning.
    #[arg(long, value_name = "ID")]
    pub sarif_category: Option<String>,

    /// The project name reports carry and `rampart report` groups by
    /// (default: the repository's normalised remote, else its directory).
    #[arg(long, value_name = "NAME")]
    pub project: Option<String>,

    /// A pinned settings file: it alone decides fail_on, fail_on_parse_error,
    /// severity, only, skip, exclude and admission, whatever the repository's
    /// .rampart.yaml (found from the scan root up to the repository root)
    /// says.
    #[arg(long, value_name = "FILE", env = "RAMPART_CONFIG")]
    pub config: Option<PathBuf>,

    /// Read no .rampart.yaml from the scanned tree (a file named by
    /// --config or RAMPART_CONFIG is still read).
    #[arg(long)]
    pub no_config: bool,

    /// Which queries run.
    #[command(flatten)]
    pub queries: QuerySelection,

    /// Suppressions, exceptions and baselines.
    #[command(flatten)]
    pub suppress: SuppressArgs,

    /// How the files are found and read.
    #[command(flatten)]
    pub input: InputArgs,
}

/// Flags about accepted findings.
#[derive(Debug, Args)]
pub struct SuppressArgs {
    /// The security team's exceptions file (YAML: query, paths, entity,
    /// namespaces, kinds, names, reason, approved_by, expires).
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,

    /// Report only findings that are not in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Record the current findings in this baseline file (by fingerprint,
    /// no line numbers) and accept them.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// Report only findings that are new compared with this git commit
    /// (the old tree is read through git, never checked out).
    #[arg(long, value_name = "REF")]
    pub diff_base: Option<String>,

    /// Ignore suppressions written in the scanned files (for audits).
    #[arg(long)]
    pub no_inline_suppressions: bool,

    /// Report inline suppressions that match no finding.
    #[arg(long)]
    pub report_unused_suppressions: bool,
}

fn parse_threshold(text: &str) -> Result<Threshold, String> {
    Threshold::parse(text)
}

/// Flags choosing the queries.
#[derive(Debug, Args)]
pub struct QuerySelection {
    /// Also load the queries in this directory (repeatable).
    #[arg(long = "queries", value_name = "DIR")]
    pub query_dirs: Vec<PathBuf>,

    /// Run only these queries (comma-separated): query ids, other tools'
    /// ids (CKV_AWS_20, AVD-AWS-0086, a KICS id), platforms (terraform,
    /// k8s) or category:NAME.
    #[arg(long, value_name = "SELECTORS", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Do not run these queries (comma-separated), named as for --only.
    #[arg(long, value_name = "SELECTORS", value_delimiter = ',')]
    pub skip: Vec<String>,

    /// Report only findings of this severity or above (`high`), or of
    /// exactly these severities (`high,critical`).
    #[arg(long, value_name = "LEVEL[,LEVEL..]", env = "RAMPART_SEVERITY", value_parser = parse_severity_filter)]
    pub severity: Option<SeverityFilter>,

    /// Query parameters set by the settings files (`parameters:`).
    #[arg(skip)]
    pub parameters: crate::query::parameter::Overrides,

    /// Scan only these platforms (comma-separated: terraform, kubernetes,
    /// cloudformation, dockerfile, or tf, k8s, cfn, docker); other files
    /// are not read.
    #[arg(long = "platform", visible_alias = "framework", value_name = "PLATFORMS", value_delimiter = ',', value_parser = parse_platform)]
    pub platforms: Vec<Platform>,
}

/// Which severities `--severity` keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeverityFilter {
    /// This severity and above (`--severity medium`).
    AtLeast(Severity),
    /// Exactly these (`--severity high,critical`, as Trivy users write it).
    AnyOf(Vec<Severity>),
}

impl SeverityFilter {
    /// True when a finding of `severity` is kept.
    pub fn keeps(&self, severity: Severity) -> bool {
        match self {
            SeverityFilter::AtLeast(minimum) => severity >= *minimum,
            SeverityFilter::AnyOf(list) => list.contains(&severity),
        }
    }
}

fn parse_severity(text: &str) -> Result<Severity, String> {
    Severity::parse(&text.trim().to_ascii_lowercase()).ok_or_else(|| {
        format!("invalid severity \"{text}\": expected one of critical, high, medium, low, info")
    })
}

fn parse_severity_filter(text: &str) -> Result<SeverityFilter, String> {
    if text.contains(',') {
        let list = text
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .map(parse_severity)
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(SeverityFilter::AnyOf(list));
    }
    parse_severity(text).map(SeverityFilter::AtLeast)
}

fn parse_platform(text: &str) -> Result<Platform, String> {
    Platform::parse(text).ok_or_else(|| {
        format!(
            "invalid platform \"{text}\": expected one of terraform, kubernetes, cloudformation, dockerfile (or tf, k8s, cfn, docker)"
        )
    })
}

/// `rampart queries`.
#[derive(Debug, Args)]
pub struct QueriesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also list the queries in this directory (repeatable).
    #[arg(long = "queries", value_name = "DIR")]
    pub query_dirs: Vec<PathBuf>,

    /// Only the queries that support this compliance control
    /// (`CIS-K8S-5.2.1`, `PSS-restricted`, `NIST-800-53-AC-6`).
    #[arg(long, value_name = "CONTROL")]
    pub control: Option<String>,
}

/// `rampart explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The query id.
    pub id: String,

    /// A settings file whose `parameters:` to show in force (default: the
    /// current directory's .rampart.yaml).
    #[arg(long, value_name = "FILE", env = "RAMPART_CONFIG")]
    pub config: Option<PathBuf>,

    /// Read no .rampart.yaml from the current directory.
    #[arg(long)]
    pub no_config: bool,

    /// The security team's exceptions file whose `parameters:` overrule
    /// the settings file's [default: the settings' exceptions].
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,

    /// Also look in the queries in this directory (repeatable).
    #[arg(long = "queries", value_name = "DIR")]
    pub query_dirs: Vec<PathBuf>,

    /// Print the query's YAML source instead of the explanation.
    #[arg(long)]
    pub source: bool,
}

/// `rampart test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The pack: a directory holding queries/ and fixtures/.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// Worker threads, at most 4 per core [default: one per core].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
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

/// `rampart report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// rampart JSON results, or directories holding them (read at any
    /// depth); the newest result per project is its current state.
    #[arg(value_name = "RESULTS", required = true)]
    pub inputs: Vec<PathBuf>,

    /// Write a report (repeatable): `-o html:compliance.html -o
    /// json:compliance.json`; without a path, to stdout.
    #[arg(short = 'o', long = "output", value_name = "FORMAT[:PATH]")]
    pub outputs: Vec<String>,

    /// A repository fails when a finding that counts is at or above this.
    #[arg(long, value_name = "LEVEL", default_value = "high", value_parser = parse_severity)]
    pub fail_on: Severity,

    /// Also read the queries in this directory (for titles and controls of
    /// a team's own queries).
    #[arg(long = "queries", value_name = "DIR")]
    pub query_dirs: Vec<PathBuf>,
}

/// `rampart render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Charts, kustomizations, or directories holding them (default: the
    /// current directory).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

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

    /// Skip files larger than this many bytes (reported as a diagnostic),
    /// 1 to 1073741824 [default: 5242880].
    #[arg(long, value_name = "BYTES", value_parser = parse_max_file_size)]
    pub max_file_size: Option<u64>,

    /// Worker threads, at most 4 per core [default: one per core].
    #[arg(long, value_name = "N", env = "RAMPART_THREADS")]
    pub threads: Option<usize>,

    /// A Terraform variables file, applied after the module's own
    /// `terraform.tfvars` and `*.auto.tfvars` (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,

    /// A Terraform variable, applied last (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,

    /// A directory of downloaded Terraform modules (a copy of
    /// `.terraform/modules`, with or without its `modules.json`): remote
    /// module sources not found under the root module's own
    /// `.terraform/modules` are read from here (repeatable). Nothing is
    /// ever downloaded.
    #[arg(long = "module-dir", value_name = "DIR")]
    pub module_dirs: Vec<PathBuf>,

    /// How Helm charts are rendered.
    #[command(flatten)]
    pub helm: HelmArgs,
}

/// Helm rendering flags (every chart found is rendered with them).
#[derive(Debug, Args, Default)]
pub struct HelmArgs {
    /// A values file merged over each chart's values.yaml, in order
    /// (repeatable), as `helm template -f`.
    #[arg(long = "helm-values", value_name = "FILE")]
    pub helm_values: Vec<PathBuf>,

    /// A value, applied after the values files (repeatable; `a.b=1,c={x,y}`),
    /// as `helm template --set`.
    #[arg(long = "helm-set", value_name = "KEY=VALUE", value_parser = crate::render::helm::settings::check_set)]
    pub helm_set: Vec<String>,

    /// Kubernetes version charts see in `.Capabilities.KubeVersion`
    /// [default: v1.31.0].
    #[arg(long = "kube-version", value_name = "VERSION", value_parser = crate::render::helm::settings::check_kube_version)]
    pub kube_version: Option<String>,

    /// `.Release.Name` [default: release-name].
    #[arg(long = "helm-release-name", value_name = "NAME")]
    pub helm_release_name: Option<String>,

    /// `.Release.Namespace` [default: default].
    #[arg(long = "helm-namespace", value_name = "NAMESPACE")]
    pub helm_namespace: Option<String>,

    /// An API version `.Capabilities.APIVersions.Has` answers yes to, beyond
    /// the built-in list (repeatable; `group/version` or `group/version/Kind`).
    #[arg(long = "helm-api-versions", value_name = "VERSION")]
    pub helm_api_versions: Vec<String>,
}

impl HelmArgs {
    /// The flags as the Helm renderer takes them.
    pub fn flags(&self) -> crate::render::helm::settings::HelmFlags {
        crate::render::helm::settings::HelmFlags {
            values: self.helm_values.clone(),
            set: self.helm_set.clone(),
            kube_version: self.kube_version.clone(),
            release_name: self.helm_release_name.clone(),
            namespace: self.helm_namespace.clone(),
            api_versions: self.helm_api_versions.clone(),
        }
    }
}

fn parse_max_file_size(text: &str) -> Result<u64, String> {
    let bytes = text
        .parse::<u64>()
        .map_err(|_| format!("\"{text}\" is not a number of bytes"))?;
    crate::config::check_max_file_size(bytes)
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("\"{text}\" is not NAME=VALUE")),
    }
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
    fn scan_flags() {
        let cli = Cli::try_parse_from([
            "rampart",
            "scan",
            ".",
            "--only",
            "a,b",
            "--skip",
            "c",
            "--severity",
            "high",
            "--queries",
            "team",
            "--format",
            "json",
        ])
        .expect("parses");
        let Command::Scan(args) = cli.command else {
            panic!("scan")
        };
        assert_eq!(args.queries.only, vec!["a", "b"]);
        assert_eq!(args.queries.skip, vec!["c"]);
        assert_eq!(
            args.queries.severity,
            Some(SeverityFilter::AtLeast(Severity::High))
        );
        assert_eq!(args.queries.query_dirs, vec![PathBuf::from("team")]);
        assert_eq!(args.format, Some(OutputFormat::Json));
        let err =
            Cli::try_parse_from(["rampart", "scan", "--severity", "hgh"]).expect_err("invalid");
        assert!(err.to_string().contains("invalid severity \"hgh\""));
    }

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
        let Command::Inspect(args) = cli.command else {
            panic!("inspect")
        };
        assert_eq!(args.paths, vec![PathBuf::from("a"), PathBuf::from("b")]);
        assert!(args.tree);
        assert_eq!(args.input.exclude, vec!["x/**", "*.json"]);
        assert_eq!(args.input.max_file_size, Some(10));
    }

    #[test]
    fn defaults() {
        let Command::Inspect(args) = Cli::try_parse_from(["rampart", "inspect"])
            .expect("parses")
            .command
        else {
            panic!("inspect")
        };
        assert!(args.paths.is_empty());
        assert_eq!(args.format, Format::Text);
        assert_eq!(args.input.max_file_size, None);
    }
}
