//! Loading a chart: its files from a directory (through the render `Disk`)
//! or a `.tgz` archive, `Chart.yaml`, `values.yaml`, `templates/`, `crds/`,
//! and its subcharts in `charts/` (unpacked or archived).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gotmpl::Value;

use super::values::{Map, ValuesFile, node_to_value, parse_values};
use crate::diagnostic::Diagnostic;
use crate::parse::yaml;
use crate::render::Disk;
use crate::tree::LineIndex;

/// Bytes a chart (with its subcharts, archives unpacked) may hold.
pub const MAX_CHART_BYTES: usize = 64 << 20;
/// Files a chart may hold.
pub const MAX_CHART_FILES: usize = 20_000;
/// Subchart nesting allowed.
const MAX_CHART_DEPTH: usize = 8;

/// A chart's files by path relative to the chart root (`/`-separated).
pub type Files = BTreeMap<String, Vec<u8>>;

/// One template (or CRD) file.
#[derive(Clone, Debug)]
pub struct TemplateFile {
    /// Path inside the chart (`templates/deploy.yaml`).
    pub rel: String,
    /// Display path for reports.
    pub display: String,
    /// The text.
    pub text: String,
}

/// A dependency declared in `Chart.yaml` (or `requirements.yaml`).
#[derive(Clone, Debug, Default)]
pub struct Dependency {
    /// Chart name.
    pub name: String,
    /// Name it is rendered under, if aliased.
    pub alias: Option<String>,
    /// `condition:` (comma-separated value paths).
    pub condition: Option<String>,
    /// `tags:`.
    pub tags: Vec<String>,
}

/// A loaded chart.
#[derive(Clone, Debug)]
pub struct Chart {
    /// The chart's name (its alias when a parent aliases it).
    pub name: String,
    /// `.Chart`: Chart.yaml with Helm's capitalised field names.
    pub metadata: Map,
    /// `type: library`.
    pub library: bool,
    /// values.yaml (empty when absent).
    pub values: ValuesFile,
    /// `templates/**`.
    pub templates: Vec<TemplateFile>,
    /// `crds/**` (not templated).
    pub crds: Vec<TemplateFile>,
    /// Files for `.Files` (everything but templates, subcharts and Chart.yaml).
    pub files: Arc<Files>,
    /// Declared dependencies.
    pub dependencies: Vec<Dependency>,
    /// Subcharts found in `charts/`.
    pub subcharts: Vec<Chart>,
    /// values.schema.json (display, text).
    pub schema: Option<(String, String)>,
    /// Display path of the chart directory or archive.
    pub display: String,
}

/// Where a chart's files came from, to name them in reports.
struct Origin<'a> {
    display_root: String,
    disk_root: Option<&'a Path>,
}

impl Origin<'_> {
    fn display(&self, rel: &str) -> String {
        if self.display_root.is_empty() {
            rel.to_string()
        } else {
            format!("{}/{rel}", self.display_root.trim_end_matches('/'))
        }
    }
}

/// Reads every file under `dir` (skipping dot-directories), within the
/// chart budgets. Also returns the paths read, which the scan does not read
/// again alone.
pub fn read_dir(disk: &dyn Disk, dir: &Path) -> Result<(Files, Vec<PathBuf>), String> {
    let mut files = Files::new();
    let mut paths = Vec::new();
    let mut total = 0usize;
    walk(disk, dir, "", 0, &mut files, &mut paths, &mut total)?;
    Ok((files, paths))
}

fn walk(
    disk: &dyn Disk,
    dir: &Path,
    prefix: &str,
    depth: usize,
    files: &mut Files,
    paths: &mut Vec<PathBuf>,
    total: &mut usize,
) -> Result<(), String> {
    if depth > 32 {
        return Err(format!(
            "{}: directories nested too deeply",
            disk.display(dir)
        ));
    }
    let entries = disk.list(dir);
    for entry in entries {
        let Some(name) = entry
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        if disk.is_dir(&entry) {
            if !name.starts_with('.') {
                walk(disk, &entry, &rel, depth + 1, files, paths, total)?;
            }
            continue;
        }
        if !disk.is_file(&entry) {
            continue;
        }
        let bytes = disk
            .read_bytes(&entry)
            .map_err(|e| format!("{}: {e}", disk.display(&entry)))?;
        *total += bytes.len();
        if *total > MAX_CHART_BYTES || files.len() >= MAX_CHART_FILES {
            return Err(format!(
                "{}: chart larger than {} MiB or {MAX_CHART_FILES} files",
                disk.display(dir),
                MAX_CHART_BYTES >> 20
            ));
        }
        files.insert(rel, bytes);
        paths.push(entry);
    }
    Ok(())
}

/// Unpacks a chart archive (`.tgz`): its files with the top directory
/// stripped, within the chart budgets.
pub fn unpack(bytes: &[u8]) -> Result<Files, String> {
    let decoder = flate2::read::GzDecoder::new(bytes);
    // Never read more than the budget, whatever the archive claims.
    let limited = decoder.take(MAX_CHART_BYTES as u64 + 1);
    let mut archive = tar::Archive::new(limited);
    let mut files = Files::new();
    let mut total = 0usize;
    let entries = archive
        .entries()
        .map_err(|e| format!("bad chart archive: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("bad chart archive: {e}"))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| format!("bad chart archive: {e}"))?
            .to_string_lossy()
            .replace('\\', "/");
        // Drop the top directory (`mychart/`); never accept `..`.
        let Some((_, rel)) = path.split_once('/') else {
            continue;
        };
        if rel.split('/').any(|c| c == ".." || c.is_empty()) {
            continue;
        }
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| format!("bad chart archive: {e}"))?;
        total += data.len();
        if total > MAX_CHART_BYTES || files.len() >= MAX_CHART_FILES {
            return Err(format!(
                "chart archive larger than {} MiB or {MAX_CHART_FILES} files",
                MAX_CHART_BYTES >> 20
            ));
        }
        files.insert(rel.to_string(), data);
    }
    Ok(files)
}

/// Builds a chart from its files. `display_root` names the chart in
/// reports; problems that leave part of it out are pushed to `diagnostics`.
pub fn build(
    files: Files,
    display_root: &str,
    disk_root: Option<&Path>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Chart, Diagnostic> {
    build_at(files, display_root, disk_root, 0, diagnostics)
}

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn build_at(
    mut files: Files,
    display_root: &str,
    disk_root: Option<&Path>,
    depth: usize,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Chart, Diagnostic> {
    let origin = Origin {
        display_root: display_root.to_string(),
        disk_root,
    };
    let _ = origin.disk_root;
    let chart_yaml_display = origin.display("Chart.yaml");
    let Some(chart_yaml) = files.remove("Chart.yaml") else {
        return Err(Diagnostic::error(
            display_root,
            0,
            0,
            "not a Helm chart: no Chart.yaml",
        ));
    };
    let chart_text = text_of(&chart_yaml);
    let index = LineIndex::new(&chart_text);
    let parsed = yaml::parse(&chart_text, &index);
    if let Some(e) = parsed.errors.first() {
        return Err(Diagnostic::error(
            &chart_yaml_display,
            e.line,
            e.column,
            format!("invalid Chart.yaml: {}", e.message),
        ));
    }
    let raw = parsed
        .documents
        .first()
        .map(node_to_value)
        .unwrap_or(Value::Nil);
    let Value::Map(raw) = raw else {
        return Err(Diagnostic::error(
            &chart_yaml_display,
            1,
            1,
            "invalid Chart.yaml: not a mapping",
        ));
    };
    let name = raw
        .get("name")
        .map(super::funcs::string_of)
        .unwrap_or_default();
    if name.is_empty() {
        return Err(Diagnostic::error(
            &chart_yaml_display,
            1,
            1,
            "invalid Chart.yaml: no name",
        ));
    }
    let chart_type = raw
        .get("type")
        .map(super::funcs::string_of)
        .unwrap_or_default();
    if !matches!(chart_type.as_str(), "" | "application" | "library") {
        return Err(Diagnostic::error(
            &chart_yaml_display,
            1,
            1,
            format!("invalid Chart.yaml: type {chart_type:?}: must be application or library"),
        ));
    }
    let library = chart_type == "library";
    let mut metadata = Map::new();
    for (key, value) in raw.iter() {
        metadata.insert(capitalised(key).into(), value.clone());
    }
    metadata.insert("IsRoot".into(), Value::Bool(depth == 0));

    let mut dependencies = dependencies_of(raw.get("dependencies"));
    if let Some(req) = files.remove("requirements.yaml")
        && let Ok(Value::Map(req)) = super::values::yaml_to_value(&text_of(&req))
    {
        dependencies.extend(dependencies_of(req.get("dependencies")));
    }

    let values = match files.remove("values.yaml") {
        None => ValuesFile {
            display: origin.display("values.yaml"),
            ..ValuesFile::default()
        },
        Some(bytes) => {
            let display = origin.display("values.yaml");
            parse_values(&display, &text_of(&bytes)).map_err(|(line, message)| {
                Diagnostic::error(&display, line, 0, format!("invalid values: {message}"))
            })?
        }
    };
    let schema = files
        .remove("values.schema.json")
        .map(|b| (origin.display("values.schema.json"), text_of(&b)));

    let mut templates = Vec::new();
    let mut crds = Vec::new();
    let mut sub_dirs: BTreeMap<String, Files> = BTreeMap::new();
    let mut sub_archives: Vec<(String, Vec<u8>)> = Vec::new();
    let mut rest = Files::new();
    for (rel, bytes) in files {
        if let Some(t) = rel.strip_prefix("templates/") {
            let _ = t;
            templates.push(TemplateFile {
                display: origin.display(&rel),
                text: text_of(&bytes),
                rel,
            });
        } else if rel.starts_with("crds/") {
            if rel.ends_with(".yaml") || rel.ends_with(".yml") || rel.ends_with(".json") {
                crds.push(TemplateFile {
                    display: origin.display(&rel),
                    text: text_of(&bytes),
                    rel,
                });
            }
        } else if let Some(inner) = rel.strip_prefix("charts/") {
            match inner.split_once('/') {
                Some((dir, path)) => {
                    sub_dirs
                        .entry(dir.to_string())
                        .or_default()
                        .insert(path.to_string(), bytes);
                }
                None if inner.ends_with(".tgz") || inner.ends_with(".tar.gz") => {
                    sub_archives.push((inner.to_string(), bytes));
                }
                None => {}
            }
        } else {
            rest.insert(rel, bytes);
        }
    }

    let mut subcharts = Vec::new();
    if depth < MAX_CHART_DEPTH {
        for (dir, sub_files) in sub_dirs {
            if !sub_files.contains_key("Chart.yaml") {
                continue;
            }
            let root = origin.display(&format!("charts/{dir}"));
            match build_at(sub_files, &root, None, depth + 1, diagnostics) {
                Ok(sub) => subcharts.push(sub),
                Err(d) => diagnostics.push(d),
            }
        }
        for (file, bytes) in sub_archives {
            let root = origin.display(&format!("charts/{file}"));
            match unpack(&bytes) {
                Ok(sub_files) => match build_at(sub_files, &root, None, depth + 1, diagnostics) {
                    Ok(sub) => subcharts.push(sub),
                    Err(d) => diagnostics.push(d),
                },
                Err(message) => diagnostics.push(Diagnostic::error(&root, 0, 0, message)),
            }
        }
    } else {
        diagnostics.push(Diagnostic::error(
            display_root,
            0,
            0,
            format!("subcharts nested deeper than {MAX_CHART_DEPTH} levels are not rendered"),
        ));
    }

    Ok(Chart {
        name,
        metadata,
        library,
        values,
        templates,
        crds,
        files: Arc::new(rest),
        dependencies,
        subcharts,
        schema,
        display: display_root.to_string(),
    })
}

/// Chart.yaml keys as `.Chart` names them (`appVersion` → `AppVersion`,
/// `apiVersion` → `APIVersion`).
fn capitalised(key: &str) -> String {
    match key {
        "apiVersion" => "APIVersion".into(),
        _ => {
            let mut chars = key.chars();
            match chars.next() {
                Some(c) => c.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        }
    }
}

fn dependencies_of(value: Option<&Value>) -> Vec<Dependency> {
    let Some(Value::List(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let get = |k: &str| {
                item.field(k)
                    .map(super::funcs::string_of)
                    .filter(|s| !s.is_empty())
            };
            Some(Dependency {
                name: get("name")?,
                alias: get("alias"),
                condition: get("condition"),
                tags: match item.field("tags") {
                    Some(Value::List(tags)) => tags.iter().map(super::funcs::string_of).collect(),
                    _ => Vec::new(),
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(entries: &[(&str, &str)]) -> Files {
        entries
            .iter()
            .map(|(p, t)| (p.to_string(), t.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn builds_chart_with_subchart_and_dependencies() {
        let mut diagnostics = Vec::new();
        let chart = build(
            files(&[
                ("Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\nappVersion: '2'\ndependencies:\n  - name: db\n    alias: database\n    condition: database.enabled\n"),
                ("values.yaml", "replicas: 2\n"),
                ("templates/deploy.yaml", "kind: Deployment\n"),
                ("templates/_helpers.tpl", "{{ define \"x\" }}{{ end }}"),
                ("crds/crd.yaml", "kind: CustomResourceDefinition\n"),
                ("files/config.txt", "hello"),
                ("charts/db/Chart.yaml", "name: db\nversion: 0.1.0\n"),
                ("charts/db/templates/svc.yaml", "kind: Service\n"),
            ]),
            "web",
            None,
            &mut diagnostics,
        )
        .expect("chart");
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(chart.name, "web");
        assert_eq!(
            chart.metadata.get("AppVersion"),
            Some(&Value::String("2".into()))
        );
        assert_eq!(
            chart.metadata.get("APIVersion"),
            Some(&Value::String("v2".into()))
        );
        assert_eq!(chart.templates.len(), 2);
        assert_eq!(chart.crds.len(), 1);
        assert!(chart.files.contains_key("files/config.txt"));
        assert_eq!(chart.subcharts.len(), 1);
        assert_eq!(
            chart.subcharts[0].templates[0].display,
            "web/charts/db/templates/svc.yaml"
        );
        assert_eq!(chart.dependencies[0].alias.as_deref(), Some("database"));
        assert_eq!(chart.values.lines.get("replicas"), Some(&1));
    }

    #[test]
    fn unpacks_archive_and_refuses_escapes() {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, text) in [("db/Chart.yaml", "name: db\n"), ("db/../../evil", "x")] {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            let _ = builder.append_data(&mut header, path, text.as_bytes());
        }
        let tar_bytes = builder.into_inner().expect("tar");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar_bytes).expect("gz");
        let files = unpack(&gz.finish().expect("gz")).expect("unpack");
        assert_eq!(files.keys().collect::<Vec<_>>(), vec!["Chart.yaml"]);
        assert!(unpack(b"not gzip").is_err());
    }

    #[test]
    fn missing_chart_yaml_is_an_error() {
        let mut diagnostics = Vec::new();
        let e = build(files(&[("values.yaml", "")]), "x", None, &mut diagnostics)
            .expect_err("no chart");
        assert!(e.message.contains("no Chart.yaml"));
    }
}
