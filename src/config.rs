//! `.rampart.yaml`: the settings a repository keeps beside its code, the same
//! ones the flags set. Found by walking up from the scan root to the
//! repository root (outside git, only the scan root itself is looked at).
//!
//! A repository's file is written by the repository's author, so it is
//! trusted less than a file the person running rampart names
//! (`--config FILE` or `RAMPART_CONFIG`, a *pinned* file): the pinned file
//! alone decides the [`POLICY_KEYS`], and a repository's file may only
//! name paths inside its repository. Precedence, highest first: flags and
//! `RAMPART_*` variables, the pinned file, the repository's file, defaults.
//!
//! ```yaml
//! exclude: ["test/**", "examples/**"]
//! fail_on: high
//! severity: medium
//! skip: [k8s-memory-limit-missing]
//! queries: [policies/queries]
//! outputs: [human, "sarif:rampart.sarif"]
//! parameters:
//!   k8s-image-untrusted-registry:
//!     trusted_registries: [registry.example.com/]
//! ```

use std::path::{Path, PathBuf};

use crate::finding::Severity;
use crate::parse::yaml;
use crate::tree::{LineIndex, Node, Value};

/// File names looked for, in order.
pub const FILE_NAMES: [&str; 2] = [".rampart.yaml", ".rampart.yml"];

/// Settings that decide what fails the run and what is looked at: when a
/// file is pinned, the repository's values for these are ignored, so a
/// repository cannot relax the policy a security team set.
pub const POLICY_KEYS: [&str; 8] = [
    "admission",
    "fail_on",
    "parameters",
    "fail_on_parse_error",
    "severity",
    "only",
    "skip",
    "exclude",
];

/// The largest `max_file_size` accepted (1 GiB): far above any hand-written
/// IaC, and small enough that a file read whole stays affordable.
pub const MAX_FILE_SIZE_LIMIT: u64 = 1 << 30;

/// Checks a `max_file_size` (flag or file): at least one byte, at most
/// [`MAX_FILE_SIZE_LIMIT`]. A cap of zero would refuse every file, and a
/// huge one used to wrap around to zero.
pub fn check_max_file_size(bytes: u64) -> Result<u64, String> {
    if (1..=MAX_FILE_SIZE_LIMIT).contains(&bytes) {
        Ok(bytes)
    } else {
        Err(format!(
            "{bytes} is not a usable file size: expected 1 to {MAX_FILE_SIZE_LIMIT} bytes (1 GiB)"
        ))
    }
}

/// The severity at which findings fail the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threshold {
    /// Findings of this severity or above fail the run.
    AtLeast(Severity),
    /// No finding fails the run (report only).
    Never,
}

impl Threshold {
    /// Parses `critical`..`info`, or `none`.
    pub fn parse(text: &str) -> Result<Threshold, String> {
        match text {
            "none" | "never" => Ok(Threshold::Never),
            other => Severity::parse(other).map(Threshold::AtLeast).ok_or_else(|| {
                format!(
                    "invalid level \"{other}\": expected one of critical, high, medium, low, info, none"
                )
            }),
        }
    }

    /// Whether a finding of `severity` fails the run.
    pub fn fails(self, severity: Severity) -> bool {
        match self {
            Threshold::AtLeast(min) => severity >= min,
            Threshold::Never => false,
        }
    }
}

/// The settings a config file may hold; `None`/empty means "not set here".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// `exclude`: globs added to `--exclude`.
    pub exclude: Vec<String>,
    /// `fail_on`.
    pub fail_on: Option<Threshold>,
    /// `fail_on_parse_error`.
    pub fail_on_parse_error: Option<bool>,
    /// `severity`: the minimum severity reported.
    pub severity: Option<Severity>,
    /// `only`: query ids.
    pub only: Vec<String>,
    /// `skip`: query ids.
    pub skip: Vec<String>,
    /// `queries`: extra query directories, relative to the file.
    pub queries: Vec<PathBuf>,
    /// `outputs`: `FORMAT[:PATH]`, as `-o` takes them.
    pub outputs: Vec<String>,
    /// `max_file_size` in bytes.
    pub max_file_size: Option<u64>,
    /// `threads`.
    pub threads: Option<usize>,
    /// `sarif_category`.
    pub sarif_category: Option<String>,
    /// `exceptions`: the exceptions file, relative to this file.
    pub exceptions: Option<PathBuf>,
    /// `baseline`: the baseline file, relative to this file.
    pub baseline: Option<PathBuf>,
    /// `helm`: release, Kubernetes version and value sets per chart.
    pub helm: Option<crate::render::helm::settings::HelmSettings>,
    /// `parameters`: query id to parameter name to value (checked against
    /// each query's declarations when the library is compiled).
    pub parameters: crate::query::parameter::Overrides,
    /// `admission`: how `rampart admission` treats each namespace.
    pub admission: Option<AdmissionSettings>,
}

/// What `rampart admission` does with an object's findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AdmissionMode {
    /// Deny when a finding is at or above `fail_on`.
    Enforce,
    /// Allow, returning the findings as warnings `kubectl` prints.
    Warn,
    /// Allow; the findings are only logged.
    Audit,
}

impl AdmissionMode {
    /// The name settings and logs use.
    pub fn name(self) -> &'static str {
        match self {
            AdmissionMode::Enforce => "enforce",
            AdmissionMode::Warn => "warn",
            AdmissionMode::Audit => "audit",
        }
    }

    /// Parses `enforce`, `warn` or `audit`.
    pub fn parse(text: &str) -> Result<AdmissionMode, String> {
        match text {
            "enforce" => Ok(AdmissionMode::Enforce),
            "warn" => Ok(AdmissionMode::Warn),
            "audit" => Ok(AdmissionMode::Audit),
            other => Err(format!(
                "invalid mode \"{other}\": expected enforce, warn or audit"
            )),
        }
    }
}

/// The `admission:` section: namespace names below are globs (`team-*`).
///
/// ```yaml
/// admission:
///   mode: enforce                  # default for namespaces not listed
///   namespaces: {dev-*: warn, sandbox: audit}
///   exempt_namespaces: [kube-system, cert-manager]   # default [kube-system]
///   allow_ignore_annotation: [dev-*]                 # default: nowhere
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AdmissionSettings {
    /// `mode`: for namespaces `namespaces` does not list.
    pub mode: Option<AdmissionMode>,
    /// `namespaces`: per-namespace modes, first match wins.
    pub namespaces: Vec<(String, AdmissionMode)>,
    /// `exempt_namespaces`: never evaluated (`None`: `kube-system`).
    pub exempt_namespaces: Option<Vec<String>>,
    /// `allow_ignore_annotation`: namespaces where an object's
    /// `rampart.dev/ignore` annotation is honoured; `true` is everywhere,
    /// `false` (the default) nowhere, since whoever applies an object writes
    /// its annotations.
    pub allow_ignore_annotation: Vec<String>,
}

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// 1-based line (0 when the file itself is the problem).
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong, naming the key.
    pub message: String,
}

const KEYS: [&str; 16] = [
    "parameters",
    "admission",
    "exclude",
    "fail_on",
    "fail_on_parse_error",
    "severity",
    "only",
    "skip",
    "queries",
    "outputs",
    "max_file_size",
    "threads",
    "sarif_category",
    "exceptions",
    "baseline",
    "helm",
];

/// A repository's settings file, and the directory its paths must stay in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The file (canonical).
    pub path: PathBuf,
    /// The repository root (the directory with `.git`), or outside git the
    /// scan root: the file may name paths below it only.
    pub root: PathBuf,
}

/// The repository's config file for a scan of `start`: the first
/// `.rampart.yaml` in `start` or a parent, stopping at the repository root
/// (the directory with `.git`); outside a git repository only `start`
/// itself is looked at, so a file in `/tmp` or a home directory above the
/// scanned tree never sets its policy.
pub fn find(start: &Path) -> Option<Found> {
    let start = if start.is_file() {
        start.parent()?.to_path_buf()
    } else {
        start.to_path_buf()
    };
    let start = if start.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        start
    };
    let start = std::fs::canonicalize(&start).ok()?;
    let root = crate::discover::repository_root(&start).unwrap_or_else(|| start.clone());
    for dir in start.ancestors() {
        for name in FILE_NAMES {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(Found {
                    path: candidate,
                    root,
                });
            }
        }
        if dir == root {
            break;
        }
    }
    None
}

/// Whether `path` (relative to `cwd` when relative) is inside `root`, once
/// `..` and symbolic links are resolved as far as the path exists.
pub fn is_inside(path: &Path, cwd: &Path, root: &Path) -> bool {
    let Ok(root) = std::fs::canonicalize(root) else {
        return false;
    };
    resolve(&cwd.join(path)).starts_with(root)
}

/// `path` made absolute without `.` and `..`, its longest existing prefix
/// resolved through symbolic links (the rest does not exist yet, so no link
/// can redirect it).
fn resolve(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut lexical = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                lexical.pop();
            }
            Component::CurDir => {}
            other => lexical.push(other),
        }
    }
    let mut existing = lexical.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = std::fs::canonicalize(existing) {
            return rest
                .iter()
                .rev()
                .fold(canonical, |acc: PathBuf, part| acc.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return lexical,
        }
    }
}

/// The settings files of a run, and what was made of them.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Sources {
    /// The file named by `--config` or `RAMPART_CONFIG`, as shown.
    pub pinned: Option<String>,
    /// The repository's `.rampart.yaml`, as shown.
    pub repository: Option<String>,
    /// The repository's settings ignored because the pinned file decides
    /// them ([`POLICY_KEYS`] it set).
    pub ignored: Vec<&'static str>,
}

impl Sources {
    /// Whether any settings file was read.
    pub fn is_empty(&self) -> bool {
        self.pinned.is_none() && self.repository.is_none()
    }
}

/// Merges a pinned file over a repository's: the pinned file alone decides
/// the [`POLICY_KEYS`]; for the other settings its values win where it sets
/// them (query directories add up). Returns the settings in force and the
/// repository's policy keys that were ignored.
pub fn merge(pinned: ConfigFile, repository: ConfigFile) -> (ConfigFile, Vec<&'static str>) {
    let ignored: Vec<&'static str> = POLICY_KEYS
        .into_iter()
        .filter(|key| repository.sets(key))
        .collect();
    let mut queries = pinned.queries;
    queries.extend(repository.queries);
    let merged = ConfigFile {
        path: pinned.path,
        exclude: pinned.exclude,
        fail_on: pinned.fail_on,
        fail_on_parse_error: pinned.fail_on_parse_error,
        severity: pinned.severity,
        only: pinned.only,
        skip: pinned.skip,
        queries,
        outputs: if pinned.outputs.is_empty() {
            repository.outputs
        } else {
            pinned.outputs
        },
        max_file_size: pinned.max_file_size.or(repository.max_file_size),
        threads: pinned.threads.or(repository.threads),
        sarif_category: pinned.sarif_category.or(repository.sarif_category),
        exceptions: pinned.exceptions.or(repository.exceptions),
        baseline: pinned.baseline.or(repository.baseline),
        helm: pinned.helm.or(repository.helm),
        parameters: pinned.parameters,
        admission: pinned.admission,
    };
    (merged, ignored)
}

impl ConfigFile {
    /// Whether this file sets `key` (one of [`KEYS`]).
    fn sets(&self, key: &str) -> bool {
        match key {
            "exclude" => !self.exclude.is_empty(),
            "fail_on" => self.fail_on.is_some(),
            "fail_on_parse_error" => self.fail_on_parse_error.is_some(),
            "severity" => self.severity.is_some(),
            "only" => !self.only.is_empty(),
            "skip" => !self.skip.is_empty(),
            "queries" => !self.queries.is_empty(),
            "outputs" => !self.outputs.is_empty(),
            "max_file_size" => self.max_file_size.is_some(),
            "threads" => self.threads.is_some(),
            "sarif_category" => self.sarif_category.is_some(),
            "exceptions" => self.exceptions.is_some(),
            "baseline" => self.baseline.is_some(),
            "helm" => self.helm.is_some(),
            "parameters" => !self.parameters.is_empty(),
            "admission" => self.admission.is_some(),
            _ => false,
        }
    }
}

/// Reads and checks a config file.
pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
    let file = crate::discover::display_path(path);
    let text = crate::source::read_settings_text(path).map_err(|e| ConfigError {
        file: file.clone(),
        line: 0,
        column: 0,
        message: format!("cannot read config file: {e}"),
    })?;
    let mut config = parse(&file, &text)?;
    let base = path.parent().unwrap_or(Path::new("."));
    for dir in config
        .queries
        .iter_mut()
        .chain(config.exceptions.iter_mut())
        .chain(config.baseline.iter_mut())
    {
        if dir.is_relative() {
            *dir = base.join(&*dir);
        }
    }
    // Chart directories in `helm.charts` are relative to this file too.
    if let Some(helm) = config.helm.as_mut() {
        helm.charts = std::mem::take(&mut helm.charts)
            .into_iter()
            .map(|(chart, sets)| (crate::discover::display_path(&base.join(chart)), sets))
            .collect();
    }
    config.path = path.to_path_buf();
    Ok(config)
}

/// A YAML number as a count: a non-negative integer that fits in 64 bits
/// (a float only when it is whole and exact, below 2^53).
fn whole_number(n: crate::tree::Number) -> Result<u64, &'static str> {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match n {
        crate::tree::Number::Int(i) => u64::try_from(i).map_err(|_| "expected a whole number"),
        crate::tree::Number::Float(f) if f < 0.0 || f.fract() != 0.0 => {
            Err("expected a whole number")
        }
        crate::tree::Number::Float(f) if f < EXACT => Ok(f as u64),
        crate::tree::Number::Float(_) => Err("too large"),
    }
}

/// `parameters:`: a mapping of query id to a mapping of parameter name to
/// value, checked against the queries when the library is compiled.
fn parameters(file: &str, v: &Node) -> Result<crate::query::parameter::Overrides, ConfigError> {
    use crate::query::parameter::{Owner, read_overrides};
    read_overrides(file, Owner::Settings, v).map_err(|(node, message)| ConfigError {
        file: file.to_string(),
        line: node.span.start_line,
        column: node.span.start_col,
        message,
    })
}

/// Parses config text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<ConfigFile, ConfigError> {
    let error = |node: &Node, message: String| ConfigError {
        file: file.to_string(),
        line: node.span.start_line,
        column: node.span.start_col,
        message,
    };
    let index = LineIndex::new(text);
    let parsed = yaml::parse(text, &index);
    if let Some(e) = parsed.errors.first() {
        return Err(ConfigError {
            file: file.to_string(),
            line: e.line,
            column: e.column,
            message: format!("invalid YAML: {}", e.message),
        });
    }
    let mut config = ConfigFile::default();
    let Some(root) = parsed.documents.first() else {
        return Ok(config);
    };
    let Some(obj) = root.as_object() else {
        return Err(error(root, "expected a mapping of settings".into()));
    };
    for entry in &obj.entries {
        let v = &entry.value;
        let key = entry.key.as_str();
        let strings = |what: &str| -> Result<Vec<String>, ConfigError> {
            v.items()
                .iter()
                .map(|i| match &i.value {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(error(i, format!("\"{key}\": expected {what}"))),
                })
                .collect()
        };
        let string = || -> Result<String, ConfigError> {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| error(v, format!("\"{key}\": expected a string")))
        };
        let number = || -> Result<u64, ConfigError> {
            let n = v
                .as_number()
                .ok_or_else(|| error(v, format!("\"{key}\": expected a whole number")))?;
            whole_number(n).map_err(|m| error(v, format!("\"{key}\": {m}")))
        };
        match key {
            "exclude" => config.exclude = strings("a list of globs")?,
            "only" => config.only = strings("a list of query ids")?,
            "skip" => config.skip = strings("a list of query ids")?,
            "queries" => {
                config.queries = strings("a list of directories")?
                    .into_iter()
                    .map(PathBuf::from)
                    .collect()
            }
            "outputs" => config.outputs = strings("a list of FORMAT or FORMAT:PATH")?,
            "fail_on" => {
                config.fail_on = Some(
                    Threshold::parse(&string()?)
                        .map_err(|m| error(v, format!("\"fail_on\": {m}")))?,
                )
            }
            "severity" => {
                let s = string()?;
                config.severity = Some(Severity::parse(&s).ok_or_else(|| {
                    error(
                        v,
                        format!(
                            "\"severity\": invalid severity \"{s}\": expected one of critical, high, medium, low, info"
                        ),
                    )
                })?)
            }
            "fail_on_parse_error" => {
                config.fail_on_parse_error = Some(v.as_bool().ok_or_else(|| {
                    error(v, "\"fail_on_parse_error\": expected true or false".into())
                })?)
            }
            "max_file_size" => {
                config.max_file_size = Some(
                    check_max_file_size(number()?)
                        .map_err(|m| error(v, format!("\"max_file_size\": {m}")))?,
                )
            }
            "threads" => {
                config.threads = Some(
                    usize::try_from(number()?)
                        .map_err(|_| error(v, "\"threads\": too large".into()))?,
                )
            }
            "sarif_category" => config.sarif_category = Some(string()?),
            "exceptions" => config.exceptions = Some(PathBuf::from(string()?)),
            "baseline" => config.baseline = Some(PathBuf::from(string()?)),
            "helm" => {
                config.helm =
                    Some(crate::render::helm::settings::parse(v).map_err(|(n, m)| error(&n, m))?)
            }
            "parameters" => config.parameters = parameters(file, v)?,
            "admission" => config.admission = Some(parse_admission(file, v, &error)?),
            other => {
                return Err(ConfigError {
                    file: file.to_string(),
                    line: entry.key_span.start_line,
                    column: entry.key_span.start_col,
                    message: format!(
                        "unknown key \"{other}\": expected one of {}",
                        KEYS.join(", ")
                    ),
                });
            }
        }
    }
    Ok(config)
}

/// Parses the `admission:` mapping; `error` builds an error at a node.
fn parse_admission(
    file: &str,
    v: &Node,
    error: &dyn Fn(&Node, String) -> ConfigError,
) -> Result<AdmissionSettings, ConfigError> {
    let Some(obj) = v.as_object() else {
        return Err(error(v, "\"admission\": expected a mapping".into()));
    };
    let mode = |node: &Node, key: &str| -> Result<AdmissionMode, ConfigError> {
        let text = node
            .as_str()
            .ok_or_else(|| error(node, format!("\"{key}\": expected a mode")))?;
        AdmissionMode::parse(text).map_err(|m| error(node, format!("\"{key}\": {m}")))
    };
    let names = |node: &Node, key: &str| -> Result<Vec<String>, ConfigError> {
        node.items()
            .iter()
            .map(|i| {
                i.as_str().map(str::to_string).ok_or_else(|| {
                    error(
                        i,
                        format!("\"admission.{key}\": expected a list of namespaces"),
                    )
                })
            })
            .collect()
    };
    let mut settings = AdmissionSettings::default();
    for entry in &obj.entries {
        let value = &entry.value;
        match entry.key.as_str() {
            "mode" => settings.mode = Some(mode(value, "admission.mode")?),
            "namespaces" => {
                let Some(map) = value.as_object() else {
                    return Err(error(
                        value,
                        "\"admission.namespaces\": expected a mapping of namespace to mode".into(),
                    ));
                };
                for e in &map.entries {
                    let key = format!("admission.namespaces.{}", e.key);
                    settings
                        .namespaces
                        .push((e.key.clone(), mode(&e.value, &key)?));
                }
            }
            "exempt_namespaces" => {
                settings.exempt_namespaces = Some(names(value, "exempt_namespaces")?)
            }
            "allow_ignore_annotation" => {
                settings.allow_ignore_annotation = match value.as_bool() {
                    Some(true) => vec!["*".to_string()],
                    Some(false) => Vec::new(),
                    None => names(value, "allow_ignore_annotation")?,
                }
            }
            other => {
                return Err(ConfigError {
                    file: file.to_string(),
                    line: entry.key_span.start_line,
                    column: entry.key_span.start_col,
                    message: format!(
                        "unknown key \"admission.{other}\": expected mode, namespaces, exempt_namespaces, allow_ignore_annotation"
                    ),
                });
            }
        }
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key() {
        let text = "exclude: [\"test/**\"]\nfail_on: high\nfail_on_parse_error: true\nseverity: medium\nonly: [a]\nskip: [b]\nqueries: [team]\noutputs: [human, \"sarif:out.sarif\"]\nmax_file_size: 1000\nthreads: 2\nsarif_category: iac\n";
        let c = parse("c.yaml", text).expect("parses");
        assert_eq!(c.exclude, vec!["test/**"]);
        assert_eq!(c.fail_on, Some(Threshold::AtLeast(Severity::High)));
        assert_eq!(c.fail_on_parse_error, Some(true));
        assert_eq!(c.severity, Some(Severity::Medium));
        assert_eq!(c.outputs, vec!["human", "sarif:out.sarif"]);
        assert_eq!(c.max_file_size, Some(1000));
        assert_eq!(c.threads, Some(2));
        assert_eq!(c.sarif_category.as_deref(), Some("iac"));
        assert_eq!(c.queries, vec![PathBuf::from("team")]);
    }

    #[test]
    fn errors_name_the_key_and_line() {
        let err = parse("c.yaml", "exclude: []\nfail_onn: high\n").expect_err("unknown key");
        assert!(
            err.to_string()
                .starts_with("c.yaml:2:1: unknown key \"fail_onn\""),
            "{err}"
        );
        let err = parse("c.yaml", "fail_on: hgh\n").expect_err("bad level");
        assert_eq!(
            err.to_string(),
            "c.yaml:1:10: \"fail_on\": invalid level \"hgh\": expected one of critical, high, medium, low, info, none"
        );
        let err = parse("c.yaml", "threads: two\n").expect_err("bad number");
        assert_eq!(
            err.to_string(),
            "c.yaml:1:10: \"threads\": expected a whole number"
        );
    }

    #[test]
    fn numbers_are_validated() {
        let err = parse("c.yaml", "max_file_size: 18446744073709551615\n").expect_err("huge");
        assert_eq!(err.to_string(), "c.yaml:1:16: \"max_file_size\": too large");
        let err = parse("c.yaml", "max_file_size: 0\n").expect_err("zero");
        assert!(
            err.to_string().contains("0 is not a usable file size"),
            "{err}"
        );
        let err = parse("c.yaml", "threads: -2\n").expect_err("negative");
        assert_eq!(
            err.to_string(),
            "c.yaml:1:10: \"threads\": expected a whole number"
        );
        assert_eq!(
            parse("c.yaml", "max_file_size: 1073741824\n")
                .expect("the limit itself")
                .max_file_size,
            Some(MAX_FILE_SIZE_LIMIT)
        );
    }

    #[test]
    fn a_pinned_file_decides_the_policy_keys() {
        let pinned = parse("p.yaml", "fail_on: high\nqueries: [team]\n").expect("parses");
        let repository = parse(
            "r.yaml",
            "fail_on: none\nskip: [a]\nexclude: [\"**\"]\nthreads: 2\nqueries: [own]\n",
        )
        .expect("parses");
        let (merged, ignored) = merge(pinned, repository);
        assert_eq!(ignored, vec!["fail_on", "skip", "exclude"]);
        assert_eq!(merged.fail_on, Some(Threshold::AtLeast(Severity::High)));
        assert!(merged.skip.is_empty() && merged.exclude.is_empty());
        assert_eq!(merged.threads, Some(2));
        assert_eq!(
            merged.queries,
            vec![PathBuf::from("team"), PathBuf::from("own")]
        );
    }

    #[test]
    fn the_search_stops_at_the_repository_or_the_scan_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().canonicalize().expect("canonical");
        std::fs::create_dir_all(root.join("repo/infra/app")).expect("dirs");
        std::fs::write(root.join(".rampart.yaml"), "fail_on: none\n").expect("write");
        // Outside git: only the scan root itself.
        assert_eq!(find(&root.join("repo/infra")), None);
        assert_eq!(
            find(&root).map(|f| f.path),
            Some(root.join(".rampart.yaml"))
        );
        // In a repository: up to its root, and no further.
        std::fs::create_dir(root.join("repo/.git")).expect("git");
        assert_eq!(find(&root.join("repo/infra/app")), None);
        std::fs::write(root.join("repo/.rampart.yaml"), "fail_on: high\n").expect("write");
        assert_eq!(
            find(&root.join("repo/infra/app")),
            Some(Found {
                path: root.join("repo/.rampart.yaml"),
                root: root.join("repo"),
            })
        );
    }

    #[test]
    fn inside_means_inside_after_dots_and_links() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("reports")).expect("dirs");
        std::os::unix::fs::symlink(dir.path(), root.join("up")).expect("link");
        assert!(is_inside(Path::new("reports/new/r.json"), &root, &root));
        assert!(is_inside(Path::new("a/../r.json"), &root, &root));
        assert!(!is_inside(Path::new("../r.json"), &root, &root));
        assert!(!is_inside(Path::new("up/r.json"), &root, &root));
        assert!(!is_inside(Path::new("/etc/passwd"), &root, &root));
    }

    #[test]
    fn thresholds() {
        let high = Threshold::AtLeast(Severity::High);
        assert!(high.fails(Severity::Critical));
        assert!(!high.fails(Severity::Medium));
        assert!(!Threshold::Never.fails(Severity::Critical));
    }

    #[test]
    fn the_admission_section() {
        let text = "admission:\n  mode: warn\n  namespaces:\n    prod-*: enforce\n  exempt_namespaces: [kube-system, cert-manager]\n  allow_ignore_annotation: true\n";
        let config = parse("c.yaml", text).expect("parses");
        assert_eq!(
            config.admission,
            Some(AdmissionSettings {
                mode: Some(AdmissionMode::Warn),
                namespaces: vec![("prod-*".into(), AdmissionMode::Enforce)],
                exempt_namespaces: Some(vec!["kube-system".into(), "cert-manager".into()]),
                allow_ignore_annotation: vec!["*".into()],
            })
        );
        let err = parse("c.yaml", "admission:\n  mode: block\n").expect_err("bad mode");
        assert_eq!(
            err.to_string(),
            "c.yaml:2:9: \"admission.mode\": invalid mode \"block\": expected enforce, warn or audit"
        );
        let err = parse("c.yaml", "admission:\n  modes: warn\n").expect_err("unknown key");
        assert!(
            err.to_string()
                .starts_with("c.yaml:2:3: unknown key \"admission.modes\"")
        );
    }
}
