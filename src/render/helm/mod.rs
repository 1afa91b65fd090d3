//! Helm charts rendered in-process, as `helm template` would, with no
//! `helm` binary: Go templates (the vendored `gotmpl` engine) with Helm's
//! and Sprig's functions, values coalesced from the chart, value sets and
//! the command line, subcharts (unpacked or `.tgz`) with their scoped values
//! and `global`, library charts, and `crds/`.
//!
//! [`render_chart`] returns one [`Rendered`] stream per value set; each
//! rendered line knows the template line (or values-file line) it came from.

pub mod chart;
pub mod engine;
pub mod funcs;
pub mod origins;
pub mod schema;
pub mod serialize;
pub mod settings;
pub mod values;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gotmpl::Value;

use self::chart::{Chart, Files};
use self::engine::{Budget, Job};
use self::values::{Map, ValuesFile, apply_set, coalesce};
use crate::diagnostic::Diagnostic;
use crate::render::{Disk, Origin, Rendered};

/// The Kubernetes version `.Capabilities.KubeVersion` reports by default.
pub const DEFAULT_KUBE_VERSION: &str = "v1.31.0";

/// A values file given by the user, already read.
#[derive(Clone, Debug)]
pub struct ValuesInput {
    /// Display path.
    pub display: String,
    /// The YAML text.
    pub text: String,
}

/// A named set of values for one chart (from `.rampart.yaml`): each set is
/// rendered and scanned on its own.
#[derive(Clone, Debug, Default)]
pub struct ValueSet {
    /// Name reports give (`dev`, `prod`).
    pub name: String,
    /// Values files, relative to the chart directory, in order.
    pub files: Vec<PathBuf>,
    /// `key=value` assignments, applied after the files.
    pub set: Vec<String>,
}

/// How charts are rendered.
#[derive(Clone, Debug)]
pub struct HelmOptions {
    /// `.Release.Name`.
    pub release_name: String,
    /// `.Release.Namespace`.
    pub namespace: String,
    /// `.Capabilities.KubeVersion` (`v1.31.0`).
    pub kube_version: String,
    /// API versions `.Capabilities.APIVersions.Has` knows beyond the built-in list.
    pub api_versions: Vec<String>,
    /// `--helm-values` files, in order (applied to every chart and set).
    pub values: Vec<ValuesInput>,
    /// `--helm-set` assignments, in order.
    pub set: Vec<String>,
    /// Value sets per chart directory (display path of the chart as the
    /// scan names it, or a path it ends with).
    pub value_sets: BTreeMap<String, Vec<ValueSet>>,
    /// Render budgets.
    pub budget: Budget,
}

impl Default for HelmOptions {
    fn default() -> Self {
        HelmOptions {
            release_name: "release-name".into(),
            namespace: "default".into(),
            kube_version: DEFAULT_KUBE_VERSION.into(),
            api_versions: Vec::new(),
            values: Vec::new(),
            set: Vec::new(),
            value_sets: BTreeMap::new(),
            budget: Budget::default(),
        }
    }
}

/// Renders the chart in `dir`: one stream per value set configured for it
/// (one when none is). A chart that cannot be rendered gives a stream with
/// an error diagnostic, never nothing.
pub fn render_chart(dir: &Path, disk: &dyn Disk, options: &HelmOptions) -> Vec<Rendered> {
    let started = std::time::Instant::now();
    let display = disk.display(dir);
    let (files, consumed) = match chart::read_dir(disk, dir) {
        Ok(read) => read,
        Err(message) => return vec![failed(&display, Diagnostic::error(&display, 0, 0, message))],
    };
    let sets = value_sets_for(dir, &display, options);
    sets.iter()
        .map(|set| {
            let mut rendered =
                render_files(files.clone(), &display, dir, disk, set.as_ref(), options);
            rendered.consumed = consumed.clone();
            // Which values were used, and how long it took, in the report.
            let mut used = vec![format!("{display}/values.yaml")];
            if let Some(set) = &set {
                used.extend(set.files.iter().map(|f| disk.display(&dir.join(f))));
            }
            used.extend(options.values.iter().map(|v| v.display.clone()));
            let sets = set
                .iter()
                .flat_map(|s| s.set.iter())
                .chain(options.set.iter())
                .count();
            rendered.diagnostics.push(Diagnostic::notice(
                &display,
                0,
                0,
                format!(
                    "Helm chart rendered{} with values from {}{} in {} ms",
                    set.as_ref()
                        .map(|s| format!(" as value set {:?}", s.name))
                        .unwrap_or_default(),
                    used.join(", "),
                    if sets > 0 {
                        format!(" and {sets} set value(s)")
                    } else {
                        String::new()
                    },
                    started.elapsed().as_millis()
                ),
            ));
            rendered
        })
        .collect()
}

fn value_sets_for(dir: &Path, display: &str, options: &HelmOptions) -> Vec<Option<ValueSet>> {
    // The config names chart directories as paths; compare them as the
    // same directory on disk, else as the same display path.
    let canonical = std::fs::canonicalize(dir).ok();
    let display = display.trim_end_matches('/');
    let found = options.value_sets.iter().find(|(chart, _)| {
        let same_dir = canonical.is_some()
            && std::fs::canonicalize(Path::new(chart.as_str())).ok() == canonical;
        same_dir || chart.trim_end_matches('/').trim_start_matches("./") == display
    });
    match found {
        Some((_, sets)) if !sets.is_empty() => sets.iter().cloned().map(Some).collect(),
        _ => vec![None],
    }
}

fn failed(display: &str, diagnostic: Diagnostic) -> Rendered {
    Rendered {
        display: display.to_string(),
        diagnostics: vec![diagnostic],
        ..Rendered::default()
    }
}

/// A chart scope: a chart with the values its templates see.
struct Scope<'a> {
    chart: &'a Chart,
    /// `.Chart` (its name is the alias when aliased).
    metadata: Map,
    /// Template name prefix (`web`, `web/charts/db`).
    prefix: String,
    values: Map,
    /// Values files reaching it, lowest precedence first.
    layers: Vec<(&'a ValuesFile, Vec<String>)>,
}

/// Renders a chart from its files (a directory read, or an archive).
pub fn render_files(
    files: Files,
    display: &str,
    dir: &Path,
    disk: &dyn Disk,
    set: Option<&ValueSet>,
    options: &HelmOptions,
) -> Rendered {
    let mut diagnostics = Vec::new();
    let chart = match chart::build(files, display, Some(dir), &mut diagnostics) {
        Ok(chart) => chart,
        Err(d) => return failed(display, d),
    };
    let stream_display = match set {
        Some(set) => format!("{display} [{}]", set.name),
        None => display.to_string(),
    };

    // User values: the set's files and assignments, then the command line's.
    let mut user_files: Vec<ValuesFile> = Vec::new();
    let mut sources: BTreeMap<String, String> = BTreeMap::new();
    let mut set_assignments: Vec<String> = Vec::new();
    if let Some(set) = set {
        for file in &set.files {
            let path = dir.join(file);
            let file_display = disk.display(&path);
            match disk.read(&path) {
                Ok(text) => match values::parse_values(&file_display, &text) {
                    Ok(v) => {
                        sources.insert(file_display, text);
                        user_files.push(v);
                    }
                    Err((line, m)) => diagnostics.push(Diagnostic::error(
                        &file_display,
                        line,
                        0,
                        format!("invalid values: {m}"),
                    )),
                },
                Err(e) => diagnostics.push(Diagnostic::error(
                    &file_display,
                    0,
                    0,
                    format!("cannot read values file of set {}: {e}", set.name),
                )),
            }
        }
        set_assignments.extend(set.set.iter().cloned());
    }
    for input in &options.values {
        match values::parse_values(&input.display, &input.text) {
            Ok(v) => {
                sources.insert(input.display.clone(), input.text.clone());
                user_files.push(v);
            }
            Err((line, m)) => diagnostics.push(Diagnostic::error(
                &input.display,
                line,
                0,
                format!("invalid values: {m}"),
            )),
        }
    }
    set_assignments.extend(options.set.iter().cloned());
    let mut user = Map::new();
    for file in &user_files {
        user = coalesce(&user, &file.values);
    }
    for assignment in &set_assignments {
        if let Err(m) = apply_set(&mut user, assignment) {
            diagnostics.push(Diagnostic::error(
                display,
                0,
                0,
                format!("invalid --helm-set {assignment:?}: {m}"),
            ));
        }
    }

    let mut user_layers: Vec<(&ValuesFile, Vec<String>)> = Vec::new();
    for file in &user_files {
        user_layers.push((file, Vec::new()));
    }
    let mut scopes = Vec::new();
    collect_scopes(
        &chart,
        &chart.name,
        chart.name.clone(),
        &user,
        user_layers,
        &mut scopes,
        &mut diagnostics,
    );

    // Schema checks, per chart, against the values it sees.
    for scope in &scopes {
        if let Some((schema_display, schema_text)) = &scope.chart.schema {
            diagnostics.extend(schema::check(schema_display, schema_text, &scope.values));
        }
    }

    let release = release_object(&options.release_name, &options.namespace);
    let capabilities = engine::capabilities(&options.kube_version, &options.api_versions);
    let mut jobs = Vec::new();
    let mut job_scope = Vec::new();
    // Helm parses deeper charts first, so a parent's define wins.
    let mut order: Vec<usize> = (0..scopes.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(scopes[i].prefix.matches('/').count()));
    for i in order {
        let scope = &scopes[i];
        let files_value = engine::files_object(&scope.chart.files);
        for template in &scope.chart.templates {
            let name = format!("{}/{}", scope.prefix, template.rel);
            let base = template
                .rel
                .rsplit_once('/')
                .map(|(d, _)| d)
                .unwrap_or("templates");
            let file_name = template.rel.rsplit('/').next().unwrap_or("");
            let render =
                !scope.chart.library && !file_name.starts_with('_') && file_name != "NOTES.txt";
            let data = engine::template_data(
                &scope.metadata,
                &scope.values,
                &release,
                &capabilities,
                &files_value,
                &name,
                &format!(
                    "{}/{}",
                    scope.prefix,
                    base.split('/').next().unwrap_or("templates")
                ),
            );
            jobs.push(Job {
                name,
                display: template.display.clone(),
                text: template.text.clone(),
                data,
                render,
            });
            job_scope.push(i);
        }
    }
    let (outputs, failures) = engine::execute(&jobs, options.budget);
    for failure in failures {
        diagnostics.push(Diagnostic::error(
            &failure.display,
            failure.line,
            0,
            format!("helm template failed: {}", failure.message),
        ));
    }

    let mut text = String::new();
    let mut origins: Vec<Option<Origin>> = Vec::new();
    // CRDs first, as Helm installs them first.
    for scope in &scopes {
        for crd in &scope.chart.crds {
            let name = format!("{}/{}", scope.prefix, crd.rel);
            sources.insert(crd.display.clone(), crd.text.clone());
            let display: std::sync::Arc<str> = crd.display.as_str().into();
            let lines: Vec<Option<Origin>> = (1..=crd.text.split('\n').count() as u32)
                .map(|line| {
                    Some(Origin {
                        file: std::sync::Arc::clone(&display),
                        line,
                    })
                })
                .collect();
            push_documents(&mut text, &mut origins, &name, &crd.text, &lines);
        }
    }
    let mut by_name: BTreeMap<&str, (usize, &engine::Output)> = BTreeMap::new();
    for output in &outputs {
        if let Some(i) = jobs.iter().position(|j| j.name == output.name) {
            by_name.insert(output.name.as_str(), (i, output));
        }
    }
    for (name, (i, output)) in by_name {
        let job = &jobs[i];
        let scope = &scopes[job_scope[i]];
        let layers: Vec<origins::Layer> = scope
            .layers
            .iter()
            .map(|(file, prefix)| origins::Layer {
                file,
                prefix: prefix.clone(),
                display: file.display.as_str().into(),
            })
            .collect();
        let ctx = origins::Context {
            display: &job.display,
            source: &job.text,
            layers: &layers,
            values: &scope.values,
        };
        let lines = origins::origins(&ctx, &output.text, &output.lines);
        let before = origins.len();
        push_documents(&mut text, &mut origins, name, &output.text, &lines);
        if origins.len() > before {
            sources.insert(job.display.clone(), job.text.clone());
        }
    }
    // Values files named by origins get their text (snippets in reports).
    for origin in origins.iter().flatten() {
        if sources.contains_key(&*origin.file) {
            continue;
        }
        if let Some(file) = scopes
            .iter()
            .flat_map(|s| s.layers.iter().map(|(f, _)| *f))
            .find(|f| *f.display == *origin.file)
        {
            sources.insert(file.display.clone(), file.text.clone());
        }
    }
    sources.retain(|_, t| !t.is_empty());

    Rendered {
        display: stream_display,
        text,
        origins,
        sources,
        diagnostics,
        consumed: Vec::new(),
        variant: set.map(|s| s.name.clone()),
    }
}

/// Appends one template's output, cut into documents, each with Helm's
/// `---` and `# Source:` lines; documents with nothing but comments and
/// blank lines are dropped, as Helm drops them.
fn push_documents(
    text: &mut String,
    origins: &mut Vec<Option<Origin>>,
    name: &str,
    output: &str,
    lines: &[Option<Origin>],
) {
    let mut doc: Vec<(&str, Option<Origin>)> = Vec::new();
    let flush = |doc: &mut Vec<(&str, Option<Origin>)>,
                 text: &mut String,
                 origins: &mut Vec<Option<Origin>>| {
        let meaningful = doc.iter().any(|(l, _)| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        });
        if meaningful {
            // Trailing blank lines carry nothing.
            while doc.last().is_some_and(|(l, _)| l.trim().is_empty()) {
                doc.pop();
            }
            text.push_str("---\n");
            origins.push(None);
            text.push_str(&format!("# Source: {name}\n"));
            origins.push(None);
            for (line, origin) in doc.drain(..) {
                text.push_str(line);
                text.push('\n');
                origins.push(origin);
            }
        }
        doc.clear();
    };
    for (i, line) in output.split('\n').enumerate() {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed.starts_with("--- ") {
            flush(&mut doc, text, origins);
            let rest = trimmed.strip_prefix("---").unwrap_or("").trim();
            if !rest.is_empty() && !rest.starts_with('#') {
                doc.push((
                    line.trim_start_matches("---").trim_start(),
                    lines.get(i).cloned().flatten(),
                ));
            }
            continue;
        }
        doc.push((line, lines.get(i).cloned().flatten()));
    }
    flush(&mut doc, text, origins);
}

fn release_object(name: &str, namespace: &str) -> Value {
    let mut release = Map::new();
    release.insert("Name".into(), Value::String(name.into()));
    release.insert("Namespace".into(), Value::String(namespace.into()));
    release.insert("IsInstall".into(), Value::Bool(true));
    release.insert("IsUpgrade".into(), Value::Bool(false));
    release.insert("Revision".into(), Value::Int(1));
    release.insert("Service".into(), Value::String("Helm".into()));
    Value::Map(Arc::new(release))
}

/// Walks the chart tree: each chart's values are its defaults under what
/// its parent passes down (`parent.values[name]`, with the parent's
/// `global` merged into its own), subcharts disabled by `condition` or
/// `tags` are left out.
fn collect_scopes<'a>(
    chart: &'a Chart,
    name: &str,
    prefix: String,
    overrides: &Map,
    layers_above: Vec<(&'a ValuesFile, Vec<String>)>,
    scopes: &mut Vec<Scope<'a>>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut values = coalesce(&chart.values.values, overrides);
    let mut layers = vec![(&chart.values, Vec::new())];
    layers.extend(layers_above);

    let mut children: Vec<(&Chart, String)> = Vec::new();
    for sub in &chart.subcharts {
        let declared: Vec<&chart::Dependency> = chart
            .dependencies
            .iter()
            .filter(|d| d.name == sub.name)
            .collect();
        if declared.is_empty() {
            children.push((sub, sub.name.clone()));
        }
        for dep in declared {
            if !dependency_enabled(dep, &values) {
                continue;
            }
            children.push((sub, dep.alias.clone().unwrap_or_else(|| sub.name.clone())));
        }
    }
    for dep in &chart.dependencies {
        if !chart.subcharts.iter().any(|s| s.name == dep.name) && dependency_enabled(dep, &values) {
            diagnostics.push(Diagnostic::notice(
                &chart.display,
                0,
                0,
                format!(
                    "dependency {:?} is declared in Chart.yaml but not in charts/ (run `helm dependency build`): not rendered",
                    dep.name
                ),
            ));
        }
    }

    let global = values.get("global").cloned();
    let mut child_values: Vec<(usize, Map)> = Vec::new();
    for (index, (_, name)) in children.iter().enumerate() {
        let mut over = match values.get(name.as_str()) {
            Some(Value::Map(m)) => (**m).clone(),
            _ => Map::new(),
        };
        if let Some(Value::Map(g)) = &global {
            let merged = match over.get("global") {
                Some(Value::Map(own)) => coalesce(own, g),
                _ => (**g).clone(),
            };
            over.insert("global".into(), Value::Map(Arc::new(merged)));
        }
        child_values.push((index, over));
    }
    let position = scopes.len();
    let mut metadata = chart.metadata.clone();
    metadata.insert("Name".into(), Value::String(name.into()));
    scopes.push(Scope {
        chart,
        metadata,
        prefix: prefix.clone(),
        values: Map::new(),
        layers: layers.clone(),
    });
    for (index, over) in child_values {
        let (sub, name) = &children[index];
        let child_layers: Vec<(&ValuesFile, Vec<String>)> = layers
            .iter()
            .map(|(f, p)| {
                let mut p = p.clone();
                p.push(name.clone());
                (*f, p)
            })
            .collect();
        let before = scopes.len();
        collect_scopes(
            sub,
            name,
            format!("{prefix}/charts/{name}"),
            &over,
            child_layers,
            scopes,
            diagnostics,
        );
        // The parent sees the subchart's final values under its name.
        if let Some(child) = scopes.get(before) {
            values.insert(
                name.as_str().into(),
                Value::Map(Arc::new(child.values.clone())),
            );
        }
    }
    if let Some(scope) = scopes.get_mut(position) {
        scope.values = values;
    }
}

fn dependency_enabled(dep: &chart::Dependency, values: &Map) -> bool {
    if let Some(condition) = &dep.condition {
        for path in condition
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            if let Some(Value::Bool(b)) = values::lookup_path(values, path) {
                return *b;
            }
        }
    }
    if !dep.tags.is_empty()
        && let Some(Value::Map(tags)) = values.get("tags")
    {
        let states: Vec<bool> = dep
            .tags
            .iter()
            .filter_map(|t| match tags.get(t.as_str()) {
                Some(Value::Bool(b)) => Some(*b),
                _ => None,
            })
            .collect();
        if !states.is_empty() {
            return states.iter().any(|b| *b);
        }
    }
    true
}
