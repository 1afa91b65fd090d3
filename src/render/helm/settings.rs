//! Helm settings from the command line (`--helm-values`, `--helm-set`,
//! `--kube-version`, `--helm-release-name`, `--helm-namespace`,
//! `--helm-api-versions`) and from `.rampart.yaml`'s `helm:` section (value
//! sets per chart), into [`HelmOptions`].
//!
//! ```yaml
//! helm:
//!   release_name: web
//!   namespace: shop
//!   kube_version: v1.30.0
//!   charts:
//!     charts/web:                 # chart directory, relative to this file
//!       value_sets:
//!         dev: [values-dev.yaml]  # values files, relative to the chart
//!         prod:
//!           values: [values-prod.yaml]
//!           set: [replicaCount=3]
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{HelmOptions, ValueSet, ValuesInput};
use crate::tree::{Node, Value};

/// The `helm:` section of a config file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HelmSettings {
    /// `release_name`.
    pub release_name: Option<String>,
    /// `namespace`.
    pub namespace: Option<String>,
    /// `kube_version`.
    pub kube_version: Option<String>,
    /// Value sets by chart directory (relative to the config file).
    pub charts: BTreeMap<String, Vec<SetSpec>>,
}

/// One value set as written in the config file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SetSpec {
    /// Its name.
    pub name: String,
    /// Values files, relative to the chart directory.
    pub values: Vec<String>,
    /// `key=value` assignments.
    pub set: Vec<String>,
}

/// Checks a Kubernetes version as `--kube-version` takes it (`1.30`,
/// `v1.30.2`).
pub fn check_kube_version(text: &str) -> Result<String, String> {
    let t = text.trim().trim_start_matches('v');
    let parts: Vec<&str> = t.split('.').collect();
    let ok = (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 6 && p.chars().all(|c| c.is_ascii_digit()));
    if !ok {
        return Err(format!(
            "\"{text}\" is not a Kubernetes version (expected MAJOR.MINOR[.PATCH], as v1.31.0)"
        ));
    }
    Ok(if parts.len() == 2 {
        format!("v{t}.0")
    } else {
        format!("v{t}")
    })
}

/// Checks a `--helm-set` assignment.
pub fn check_set(text: &str) -> Result<String, String> {
    let mut probe = super::values::Map::new();
    super::values::apply_set(&mut probe, text).map_err(|e| format!("\"{text}\": {e}"))?;
    Ok(text.to_string())
}

/// Parses the `helm:` section; an error names the node at fault.
pub fn parse(node: &Node) -> Result<HelmSettings, (Node, String)> {
    let mut settings = HelmSettings::default();
    let Some(object) = node.as_object() else {
        return Err((node.clone(), "\"helm\": expected a mapping".into()));
    };
    let string = |n: &Node, key: &str| -> Result<String, (Node, String)> {
        n.as_str()
            .map(str::to_string)
            .ok_or_else(|| (n.clone(), format!("\"helm.{key}\": expected a string")))
    };
    for entry in &object.entries {
        let v = &entry.value;
        match entry.key.as_str() {
            "release_name" => settings.release_name = Some(string(v, "release_name")?),
            "namespace" => settings.namespace = Some(string(v, "namespace")?),
            "kube_version" => {
                let text = string(v, "kube_version")?;
                settings.kube_version = Some(
                    check_kube_version(&text)
                        .map_err(|m| (v.clone(), format!("\"helm.kube_version\": {m}")))?,
                );
            }
            "charts" => {
                let Some(charts) = v.as_object() else {
                    return Err((
                        v.clone(),
                        "\"helm.charts\": expected a mapping of chart directories".into(),
                    ));
                };
                for chart in &charts.entries {
                    settings
                        .charts
                        .insert(chart.key.clone(), parse_chart(&chart.key, &chart.value)?);
                }
            }
            other => {
                return Err((
                    v.clone(),
                    format!(
                        "unknown key \"helm.{other}\": expected one of release_name, namespace, kube_version, charts"
                    ),
                ));
            }
        }
    }
    Ok(settings)
}

fn strings(node: &Node, what: &str) -> Result<Vec<String>, (Node, String)> {
    match &node.value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| (i.clone(), format!("{what}: expected a string")))
            })
            .collect(),
        _ => Err((node.clone(), format!("{what}: expected a list of strings"))),
    }
}

fn parse_chart(chart: &str, node: &Node) -> Result<Vec<SetSpec>, (Node, String)> {
    let Some(object) = node.as_object() else {
        return Err((
            node.clone(),
            format!("\"helm.charts.{chart}\": expected a mapping with value_sets"),
        ));
    };
    let mut sets = Vec::new();
    for entry in &object.entries {
        if entry.key != "value_sets" {
            return Err((
                entry.value.clone(),
                format!(
                    "unknown key \"helm.charts.{chart}.{}\": expected value_sets",
                    entry.key
                ),
            ));
        }
        let Some(named) = entry.value.as_object() else {
            return Err((
                entry.value.clone(),
                format!("\"helm.charts.{chart}.value_sets\": expected a mapping of set names"),
            ));
        };
        for set in &named.entries {
            let what = format!("\"helm.charts.{chart}.value_sets.{}\"", set.key);
            let mut spec = SetSpec {
                name: set.key.clone(),
                ..SetSpec::default()
            };
            match set.value.as_object() {
                Some(fields) => {
                    for field in &fields.entries {
                        match field.key.as_str() {
                            "values" => spec.values = strings(&field.value, &what)?,
                            "set" => {
                                spec.set = strings(&field.value, &what)?;
                                for s in &spec.set {
                                    check_set(s).map_err(|m| {
                                        (field.value.clone(), format!("{what}: {m}"))
                                    })?;
                                }
                            }
                            other => {
                                return Err((
                                    field.value.clone(),
                                    format!(
                                        "{what}: unknown key \"{other}\": expected values or set"
                                    ),
                                ));
                            }
                        }
                    }
                }
                None => spec.values = strings(&set.value, &what)?,
            }
            sets.push(spec);
        }
    }
    Ok(sets)
}

/// The command line's Helm flags.
#[derive(Clone, Debug, Default)]
pub struct HelmFlags {
    /// `--helm-values`.
    pub values: Vec<PathBuf>,
    /// `--helm-set`.
    pub set: Vec<String>,
    /// `--kube-version` (checked).
    pub kube_version: Option<String>,
    /// `--helm-release-name`.
    pub release_name: Option<String>,
    /// `--helm-namespace`.
    pub namespace: Option<String>,
    /// `--helm-api-versions`.
    pub api_versions: Vec<String>,
}

/// Options from the flags (which win) and the config file's section (its
/// chart directories already made relative to the working directory). A
/// values file that cannot be read is an error: the user named it.
pub fn options(
    flags: &HelmFlags,
    settings: Option<&HelmSettings>,
    max_file_size: u64,
) -> Result<HelmOptions, String> {
    let mut options = HelmOptions::default();
    if let Some(s) = settings {
        if let Some(v) = &s.release_name {
            options.release_name = v.clone();
        }
        if let Some(v) = &s.namespace {
            options.namespace = v.clone();
        }
        if let Some(v) = &s.kube_version {
            options.kube_version = v.clone();
        }
        for (chart, sets) in &s.charts {
            options.value_sets.insert(
                chart.clone(),
                sets.iter()
                    .map(|set| ValueSet {
                        name: set.name.clone(),
                        files: set.values.iter().map(PathBuf::from).collect(),
                        set: set.set.clone(),
                    })
                    .collect(),
            );
        }
    }
    if let Some(v) = &flags.release_name {
        options.release_name = v.clone();
    }
    if let Some(v) = &flags.namespace {
        options.namespace = v.clone();
    }
    if let Some(v) = &flags.kube_version {
        options.kube_version = v.clone();
    }
    options.api_versions = flags.api_versions.clone();
    options.set = flags.set.clone();
    for path in &flags.values {
        let display = crate::discover::display_path(path);
        let text = crate::source::read_source(path, max_file_size)
            .map_err(|e| format!("--helm-values {display}: {e}"))?
            .text;
        options.values.push(ValuesInput { display, text });
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::parse::yaml::first_document as node;

    #[test]
    fn parses_value_sets() {
        let n = node(
            "release_name: web\nkube_version: '1.30'\ncharts:\n  charts/web:\n    value_sets:\n      dev: [values-dev.yaml]\n      prod:\n        values: values-prod.yaml\n        set: [a=1]\n",
        );
        let s = parse(&n).expect("parse");
        assert_eq!(s.release_name.as_deref(), Some("web"));
        assert_eq!(s.kube_version.as_deref(), Some("v1.30.0"));
        let sets = &s.charts["charts/web"];
        assert_eq!(sets.len(), 2);
        assert_eq!(sets[0].values, vec!["values-dev.yaml"]);
        assert_eq!(
            (sets[1].name.as_str(), sets[1].set.clone()),
            ("prod", vec!["a=1".to_string()])
        );
        let o = options(&HelmFlags::default(), Some(&s), 1 << 20).expect("options");
        assert_eq!(o.value_sets["charts/web"].len(), 2);
    }

    #[test]
    fn rejects_bad_settings() {
        for (text, want) in [
            ("charts: 1", "expected a mapping of chart directories"),
            ("nope: 1", "unknown key \"helm.nope\""),
            ("kube_version: banana", "not a Kubernetes version"),
            (
                "charts:\n  c:\n    value_sets:\n      d:\n        set: [novalue]\n",
                "has no value",
            ),
        ] {
            let e = parse(&node(text)).expect_err(text);
            assert!(e.1.contains(want), "{text}: {}", e.1);
        }
        assert!(check_kube_version("v1.31.2").is_ok());
        assert!(check_kube_version("1.x").is_err());
    }
}
