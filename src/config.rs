//! `.rampart.yaml`: the settings a repository keeps beside its code, the same
//! ones the flags set. Found by walking up from the scan root to the
//! repository root, or named with `--config`. Flags (and `RAMPART_*`
//! variables) override the file; the file overrides the defaults.
//!
//! ```yaml
//! exclude: ["test/**", "examples/**"]
//! fail_on: high
//! severity: medium
//! skip: [k8s-memory-limit-missing]
//! queries: [policies/queries]
//! outputs: [human, "sarif:rampart.sarif"]
//! ```

use std::path::{Path, PathBuf};

use crate::parse::yaml;
use crate::query::Severity;
use crate::tree::{LineIndex, Node, Value};

/// File names looked for, in order.
pub const FILE_NAMES: [&str; 2] = [".rampart.yaml", ".rampart.yml"];

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

const KEYS: [&str; 13] = [
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
];

/// The config file for a scan of `start`: the first `.rampart.yaml` in
/// `start` or a parent, stopping at the repository root (the directory with
/// `.git`).
pub fn find(start: &Path) -> Option<PathBuf> {
    let start = if start.is_file() {
        start.parent()?.to_path_buf()
    } else {
        start.to_path_buf()
    };
    let mut dir = std::fs::canonicalize(&start).ok()?;
    loop {
        for name in FILE_NAMES {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
        if dir.join(".git").exists() || !dir.pop() {
            return None;
        }
    }
}

/// Reads and checks a config file.
pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
    let file = crate::discover::display_path(path);
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
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
    config.path = path.to_path_buf();
    Ok(config)
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
            v.as_number()
                .map(|n| n.as_f64())
                .filter(|n| *n >= 0.0 && n.fract() == 0.0)
                .map(|n| n as u64)
                .ok_or_else(|| error(v, format!("\"{key}\": expected a whole number")))
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
            "max_file_size" => config.max_file_size = Some(number()?),
            "threads" => config.threads = Some(number()? as usize),
            "sarif_category" => config.sarif_category = Some(string()?),
            "exceptions" => config.exceptions = Some(PathBuf::from(string()?)),
            "baseline" => config.baseline = Some(PathBuf::from(string()?)),
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
    fn thresholds() {
        let high = Threshold::AtLeast(Severity::High);
        assert!(high.fails(Severity::Critical));
        assert!(!high.fails(Severity::Medium));
        assert!(!Threshold::Never.fails(Severity::Critical));
    }
}
