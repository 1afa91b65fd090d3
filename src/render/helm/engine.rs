//! Rendering a loaded chart as `helm template` does: every chart's templates
//! in one template set (so `define`s are shared), each executed with its
//! chart's scoped `.Values`, under budgets for depth, time and size.
//!
//! Line origins: before execution, each template file's top-level text gets
//! an invisible marker after every newline naming its template line (never
//! inside `define`s, whose output `include` may compare or hash). A rendered
//! line starting with a marker came from that template line; the markers are
//! removed before anything else sees the text.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gotmpl::parse::{ListNode, Node, TextNode};
use gotmpl::{FuncMap, Template, TemplateError, Value};

use super::chart::Files;
use super::funcs::{base64, string_of};
use super::values::Map;

/// Budgets for one render.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Nested `include`/`tpl`/`template` calls allowed.
    pub max_depth: usize,
    /// Bytes of output (all templates together).
    pub max_output: usize,
    /// Wall time for the whole chart.
    pub max_time: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_depth: 64,
            max_output: 32 << 20,
            max_time: Duration::from_secs(20),
        }
    }
}

/// Marker start and end around a template line number.
const MARK_OPEN: char = '\u{E000}';
const MARK_CLOSE: char = '\u{E001}';
/// Name prefix of the marked copies of template bodies.
const MARKED: &str = "\u{E002}marked:";

/// One template to execute: its name in the set, the data it sees.
pub struct Job {
    /// Template name (`web/templates/deploy.yaml`).
    pub name: String,
    /// Display path of the file.
    pub display: String,
    /// The text (for line counting).
    pub text: String,
    /// `.` for it.
    pub data: Value,
    /// Only parsed (partials, library charts): defines, no output.
    pub render: bool,
}

/// The output of one executed template.
pub struct Output {
    /// Template name.
    pub name: String,
    /// Rendered text with markers removed.
    pub text: String,
    /// For each line of `text`, the template line it started on, if marked.
    pub lines: Vec<Option<u32>>,
}

/// A failure, with the template display path and line.
#[derive(Debug)]
pub struct Failure {
    /// Display path of the template.
    pub display: String,
    /// 1-based line (0 when unknown).
    pub line: u32,
    /// The error.
    pub message: String,
}

/// State shared by the `include` and `tpl` closures of one render.
struct Shared {
    set: Mutex<Option<Arc<Template>>>,
    funcs: Mutex<Option<FuncMap>>,
    depth: AtomicUsize,
    deadline: Instant,
    budget: Budget,
}

impl Shared {
    fn set(&self) -> Result<Arc<Template>, TemplateError> {
        self.set
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .ok_or_else(|| TemplateError::Exec("template set not ready".into()))
    }

    fn enter(&self, what: &str) -> Result<DepthGuard<'_>, TemplateError> {
        if Instant::now() > self.deadline {
            return Err(TemplateError::Exec(format!(
                "render time budget of {}s exceeded",
                self.budget.max_time.as_secs()
            )));
        }
        let depth = self.depth.fetch_add(1, Ordering::SeqCst) + 1;
        let guard = DepthGuard(&self.depth);
        if depth > self.budget.max_depth {
            return Err(TemplateError::Exec(format!(
                "{what}: nested deeper than {} calls (recursive template?)",
                self.budget.max_depth
            )));
        }
        Ok(guard)
    }
}

struct DepthGuard<'a>(&'a AtomicUsize);

impl Drop for DepthGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A writer that stops at the output budget or the deadline.
struct Bounded<'a> {
    out: String,
    total: &'a mut usize,
    max: usize,
    deadline: Instant,
    exceeded: Option<String>,
}

impl std::fmt::Write for Bounded<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        *self.total += s.len();
        if *self.total > self.max {
            self.exceeded = Some(format!("output larger than {} MiB", self.max >> 20));
            return Err(std::fmt::Error);
        }
        if Instant::now() > self.deadline {
            self.exceeded = Some("render time budget exceeded".into());
            return Err(std::fmt::Error);
        }
        self.out.push_str(s);
        Ok(())
    }
}

/// Builds the function map: Sprig and Helm functions, with `include`,
/// `tpl` and `required` bound to this render.
fn functions(shared: &Arc<Shared>) -> FuncMap {
    let mut map = FuncMap::new();
    super::funcs::register(&mut map);
    // Every call checks the deadline: a loop that only calls functions
    // (never writes, never includes) still stops at the time budget.
    let deadline = shared.deadline;
    let seconds = shared.budget.max_time.as_secs();
    for f in map.values_mut() {
        let inner = Arc::clone(f);
        *f = Arc::new(move |args: &[Value]| {
            if Instant::now() > deadline {
                return Err(TemplateError::Exec(format!(
                    "render time budget of {seconds}s exceeded"
                )));
            }
            inner(args)
        });
    }
    let s = Arc::clone(shared);
    map.insert(
        "include".into(),
        Arc::new(move |args: &[Value]| {
            let name = string_of(args.first().unwrap_or(&Value::Nil));
            let data = args.get(1).cloned().unwrap_or(Value::Nil);
            let _guard = s.enter(&format!("include \"{name}\""))?;
            let set = s.set()?;
            let mut out = String::new();
            set.execute_template_fmt(&mut out, &name, &data)
                .map_err(|e| {
                    TemplateError::Exec(format!("error calling include \"{name}\": {e}"))
                })?;
            Ok(Value::String(out.replace("<no value>", "").into()))
        }),
    );
    let s = Arc::clone(shared);
    map.insert(
        "tpl".into(),
        Arc::new(move |args: &[Value]| {
            let text = string_of(args.first().unwrap_or(&Value::Nil));
            let data = args.get(1).cloned().unwrap_or(Value::Nil);
            let _guard = s.enter("tpl")?;
            let set = s.set()?;
            let funcs = s
                .funcs
                .lock()
                .ok()
                .and_then(|f| f.clone())
                .ok_or_else(|| TemplateError::Exec("template set not ready".into()))?;
            let template = Template::new("tpl")
                .funcs(funcs)
                .with_shared_defines(
                    set.shared_defines()
                        .iter()
                        .filter(|(k, _)| !k.starts_with(MARKED))
                        .map(|(k, v)| (k.clone(), Arc::clone(v))),
                )
                .parse(&text)
                .map_err(|e| TemplateError::Exec(format!("error calling tpl: {e}")))?;
            let out = template
                .execute_to_string(&data)
                .map_err(|e| TemplateError::Exec(format!("error calling tpl: {e}")))?;
            Ok(Value::String(out.replace("<no value>", "").into()))
        }),
    );
    map
}

/// Parses every job's text into one set and executes the ones to render.
/// Returns outputs in job order and failures (parse or execution).
pub fn execute(jobs: &[Job], budget: Budget) -> (Vec<Output>, Vec<Failure>) {
    gotmpl::reset_rebinds();
    super::funcs::reset_budget();
    let result = execute_set(jobs, budget);
    gotmpl::reset_rebinds();
    result
}

fn execute_set(jobs: &[Job], budget: Budget) -> (Vec<Output>, Vec<Failure>) {
    let shared = Arc::new(Shared {
        set: Mutex::new(None),
        funcs: Mutex::new(None),
        depth: AtomicUsize::new(0),
        deadline: Instant::now() + budget.max_time,
        budget,
    });
    let funcs = functions(&shared);
    if let Ok(mut slot) = shared.funcs.lock() {
        *slot = Some(funcs.clone());
    }
    let mut failures = Vec::new();
    let mut defines: Vec<(String, Arc<ListNode>)> = Vec::new();
    let mut parsed_ok = vec![false; jobs.len()];
    for (i, job) in jobs.iter().enumerate() {
        match Template::new(&job.name)
            .funcs(funcs.clone())
            .parse(&job.text)
        {
            Ok(t) => {
                parsed_ok[i] = true;
                for (name, tree) in t.shared_defines() {
                    defines.push((name.clone(), Arc::clone(tree)));
                    if name == &job.name && job.render {
                        let marked = mark(tree, &job.text);
                        defines.push((format!("{MARKED}{name}"), Arc::new(marked)));
                    }
                }
            }
            Err(e) => failures.push(failure_of(&job.display, &e)),
        }
    }
    let set = Arc::new(Template::new("").funcs(funcs).with_shared_defines(defines));
    if let Ok(mut slot) = shared.set.lock() {
        *slot = Some(Arc::clone(&set));
    }
    let mut outputs = Vec::new();
    let mut total = 0usize;
    for (i, job) in jobs.iter().enumerate() {
        if !job.render || !parsed_ok[i] {
            continue;
        }
        let marked_name = format!("{MARKED}{}", job.name);
        if set.lookup(&marked_name).is_none() {
            continue;
        }
        let mut writer = Bounded {
            out: String::new(),
            total: &mut total,
            max: budget.max_output,
            deadline: shared.deadline,
            exceeded: None,
        };
        let result = set.execute_template_fmt(&mut writer, &marked_name, &job.data);
        if let Some(reason) = writer.exceeded.take() {
            failures.push(Failure {
                display: job.display.clone(),
                line: 0,
                message: format!("rendering stopped: {reason}"),
            });
            break;
        }
        match result {
            Ok(()) => {
                let text = writer.out.replace("<no value>", "");
                let (text, lines) = strip_markers(&text);
                outputs.push(Output {
                    name: job.name.clone(),
                    text,
                    lines,
                });
            }
            Err(e) => failures.push(failure_of(&job.display, &e)),
        }
    }
    // Break the cycle closures → shared → set → closures.
    if let Ok(mut slot) = shared.set.lock() {
        *slot = None;
    }
    if let Ok(mut slot) = shared.funcs.lock() {
        *slot = None;
    }
    (outputs, failures)
}

fn failure_of(display: &str, error: &TemplateError) -> Failure {
    let (line, message) = match error {
        TemplateError::Parse { line, message, .. } | TemplateError::Lex { line, message, .. } => {
            (*line as u32, message.clone())
        }
        TemplateError::At { line, error } => (*line as u32, error.to_string()),
        other => (0, other.to_string()),
    };
    Failure {
        display: display.to_string(),
        line,
        message,
    }
}

/// A copy of a template body with a line marker after every newline of its
/// top-level text (and at its start).
fn mark(tree: &ListNode, source: &str) -> ListNode {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(source.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |offset: usize| line_starts.partition_point(|&s| s <= offset) as u32;
    let mut marked = tree.clone();
    mark_list(&mut marked, source, &line_of);
    marked
}

fn mark_list(list: &mut ListNode, source: &str, line_of: &dyn Fn(usize) -> u32) {
    for node in &mut list.nodes {
        match node {
            Node::Text(text) => mark_text(text, source, line_of),
            Node::If(b) | Node::Range(b) | Node::With(b) => {
                mark_list(&mut b.body, source, line_of);
                if let Some(e) = b.else_body.as_mut() {
                    mark_list(e, source, line_of);
                }
            }
            Node::List(l) => mark_list(l, source, line_of),
            _ => {}
        }
    }
}

fn mark_text(node: &mut TextNode, source: &str, line_of: &dyn Fn(usize) -> u32) {
    let text = node.text.to_string();
    let raw = source.get(node.pos.offset..).unwrap_or("");
    // The lexer records where the text began before trimming.
    let start = if raw.starts_with(&text) {
        node.pos.offset
    } else {
        node.pos.offset + (raw.len() - raw.trim_start().len())
    };
    let mut line = line_of(start);
    let mut out = String::with_capacity(text.len() + 16);
    if start == 0 || source.as_bytes().get(start - 1) == Some(&b'\n') {
        let _ = write!(out, "{MARK_OPEN}{line}{MARK_CLOSE}");
    }
    for c in text.chars() {
        out.push(c);
        if c == '\n' {
            line += 1;
            let _ = write!(out, "{MARK_OPEN}{line}{MARK_CLOSE}");
        }
    }
    node.text = out.into();
}

/// Removes markers: the text, and per line the template line it starts at.
fn strip_markers(text: &str) -> (String, Vec<Option<u32>>) {
    let mut out = String::with_capacity(text.len());
    let mut lines = Vec::new();
    for line in text.split('\n') {
        let mut origin = None;
        let mut clean = String::with_capacity(line.len());
        let mut rest = line;
        let mut at_start = true;
        while let Some(open) = rest.find(MARK_OPEN) {
            let before = &rest[..open];
            if !before.is_empty() {
                at_start = false;
            }
            clean.push_str(before);
            let after = &rest[open + MARK_OPEN.len_utf8()..];
            match after.find(MARK_CLOSE) {
                Some(close) => {
                    if at_start {
                        origin = after[..close].parse().ok();
                    }
                    rest = &after[close + MARK_CLOSE.len_utf8()..];
                }
                None => {
                    rest = after;
                }
            }
        }
        clean.push_str(rest);
        if !out.is_empty() || !lines.is_empty() {
            out.push('\n');
        }
        out.push_str(&clean);
        lines.push(origin);
    }
    (out, lines)
}

/// `.Files` for a chart: `Get`, `GetBytes`, `Glob`, `Lines`, `AsConfig`,
/// `AsSecrets`.
pub fn files_object(files: &Arc<Files>) -> Value {
    files_object_of(files, None)
}

fn files_object_of(files: &Arc<Files>, subset: Option<Vec<String>>) -> Value {
    let mut object = Map::new();
    let is_glob = subset.is_some();
    let keys: Arc<Vec<String>> =
        Arc::new(subset.unwrap_or_else(|| files.keys().cloned().collect()));
    if is_glob {
        // A Glob result ranges as path → content.
        for key in keys.iter() {
            if let Some(bytes) = files.get(key) {
                object.insert(
                    key.as_str().into(),
                    Value::String(String::from_utf8_lossy(bytes).into_owned().into()),
                );
            }
        }
    }
    let f = Arc::clone(files);
    object.insert(
        "Get".into(),
        Value::Function(Arc::new(move |args: &[Value]| {
            let name = string_of(args.first().unwrap_or(&Value::Nil));
            Ok(Value::String(
                f.get(&name)
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default()
                    .into(),
            ))
        })),
    );
    let f = Arc::clone(files);
    object.insert(
        "GetBytes".into(),
        Value::Function(Arc::new(move |args: &[Value]| {
            let name = string_of(args.first().unwrap_or(&Value::Nil));
            Ok(Value::String(
                f.get(&name)
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default()
                    .into(),
            ))
        })),
    );
    let f = Arc::clone(files);
    object.insert(
        "Lines".into(),
        Value::Function(Arc::new(move |args: &[Value]| {
            let name = string_of(args.first().unwrap_or(&Value::Nil));
            let text = f
                .get(&name)
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            Ok(Value::List(
                text.split('\n').map(|l| Value::String(l.into())).collect(),
            ))
        })),
    );
    let f = Arc::clone(files);
    let k = Arc::clone(&keys);
    object.insert(
        "Glob".into(),
        Value::Function(Arc::new(move |args: &[Value]| {
            let pattern = string_of(args.first().unwrap_or(&Value::Nil));
            let glob = globset::GlobBuilder::new(&pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| TemplateError::Exec(format!("bad glob {pattern:?}: {e}")))?
                .compile_matcher();
            let matched: Vec<String> = k
                .iter()
                .filter(|p| glob.is_match(p.as_str()))
                .cloned()
                .collect();
            Ok(files_object_of(&f, Some(matched)))
        })),
    );
    let f = Arc::clone(files);
    let k = Arc::clone(&keys);
    object.insert(
        "AsConfig".into(),
        Value::Function(Arc::new(move |_: &[Value]| {
            let mut data = Map::new();
            for key in k.iter() {
                if let Some(bytes) = f.get(key) {
                    let base = key.rsplit('/').next().unwrap_or(key);
                    data.insert(
                        base.into(),
                        Value::String(String::from_utf8_lossy(bytes).into_owned().into()),
                    );
                }
            }
            super::serialize::to_yaml(&Value::Map(Arc::new(data)))
                .map(|t| Value::String(t.into()))
                .map_err(TemplateError::Exec)
        })),
    );
    let f = Arc::clone(files);
    let k = Arc::clone(&keys);
    object.insert(
        "AsSecrets".into(),
        Value::Function(Arc::new(move |_: &[Value]| {
            let mut data = Map::new();
            for key in k.iter() {
                if let Some(bytes) = f.get(key) {
                    let base = key.rsplit('/').next().unwrap_or(key);
                    data.insert(base.into(), Value::String(base64(bytes).into()));
                }
            }
            super::serialize::to_yaml(&Value::Map(Arc::new(data)))
                .map(|t| Value::String(t.into()))
                .map_err(TemplateError::Exec)
        })),
    );
    Value::Map(Arc::new(object))
}

/// The API versions `.Capabilities.APIVersions.Has` answers yes to: the
/// built-in groups of a current Kubernetes, plus any given.
pub const API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "apiextensions.k8s.io/v1",
    "apiregistration.k8s.io/v1",
    "apps/v1",
    "authentication.k8s.io/v1",
    "authorization.k8s.io/v1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "certificates.k8s.io/v1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "events.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1",
    "networking.k8s.io/v1",
    "node.k8s.io/v1",
    "policy/v1",
    "rbac.authorization.k8s.io/v1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1",
];

/// `.Capabilities` for a Kubernetes version (`v1.31.0`) and extra API
/// versions.
pub fn capabilities(kube_version: &str, extra_api_versions: &[String]) -> Value {
    let version = if kube_version.starts_with('v') {
        kube_version.to_string()
    } else {
        format!("v{kube_version}")
    };
    let mut parts = version.trim_start_matches('v').split('.');
    let major = parts.next().unwrap_or("1").to_string();
    let minor = parts.next().unwrap_or("0").to_string();
    let mut kube = Map::new();
    kube.insert("Version".into(), Value::String(version.as_str().into()));
    kube.insert("GitVersion".into(), Value::String(version.as_str().into()));
    kube.insert("Major".into(), Value::String(major.into()));
    kube.insert("Minor".into(), Value::String(minor.into()));
    let mut known: Vec<String> = API_VERSIONS.iter().map(|s| s.to_string()).collect();
    known.extend(extra_api_versions.iter().cloned());
    let known = Arc::new(known);
    let mut apis = Map::new();
    let k = Arc::clone(&known);
    apis.insert(
        "Has".into(),
        Value::Function(Arc::new(move |args: &[Value]| {
            let wanted = string_of(args.first().unwrap_or(&Value::Nil));
            // `group/version` or `group/version/Kind`: a known group/version
            // answers for its kinds.
            let has = k.iter().any(|v| {
                wanted == *v
                    || wanted
                        .strip_prefix(v.as_str())
                        .is_some_and(|rest| rest.starts_with('/') && !rest[1..].contains('/'))
            });
            Ok(Value::Bool(has))
        })),
    );
    let mut helm = Map::new();
    helm.insert("Version".into(), Value::String("v3.16.0".into()));
    helm.insert("GitCommit".into(), Value::String("".into()));
    helm.insert("GoVersion".into(), Value::String("go1.22".into()));
    let mut caps = Map::new();
    caps.insert("KubeVersion".into(), Value::Map(Arc::new(kube)));
    caps.insert("APIVersions".into(), Value::Map(Arc::new(apis)));
    caps.insert("HelmVersion".into(), Value::Map(Arc::new(helm)));
    Value::Map(Arc::new(caps))
}

/// The data `.` a template of `chart` sees.
pub fn template_data(
    metadata: &Map,
    values: &Map,
    release: &Value,
    capabilities: &Value,
    files: &Value,
    template_name: &str,
    base_path: &str,
) -> Value {
    let mut template = Map::new();
    template.insert("Name".into(), Value::String(template_name.into()));
    template.insert("BasePath".into(), Value::String(base_path.into()));
    let mut data: BTreeMap<Arc<str>, Value> = BTreeMap::new();
    data.insert("Values".into(), Value::Map(Arc::new(values.clone())));
    data.insert("Chart".into(), Value::Map(Arc::new(metadata.clone())));
    data.insert("Release".into(), release.clone());
    data.insert("Capabilities".into(), capabilities.clone());
    data.insert("Files".into(), files.clone());
    data.insert("Template".into(), Value::Map(Arc::new(template)));
    Value::Map(Arc::new(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &str, text: &str, data: Value) -> Job {
        Job {
            name: name.into(),
            display: name.into(),
            text: text.into(),
            data,
            render: !name.contains("/_"),
        }
    }

    #[test]
    fn include_define_and_markers() {
        let jobs = vec![
            job(
                "c/templates/_h.tpl",
                "{{- define \"name\" -}}web-{{ . }}{{- end -}}",
                Value::Nil,
            ),
            job(
                "c/templates/a.yaml",
                "kind: A\nmetadata:\n  name: {{ include \"name\" \"x\" }}\n{{- if true }}\n  labels: {}\n{{- end }}\n",
                Value::Nil,
            ),
        ];
        let (outputs, failures) = execute(&jobs, Budget::default());
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(
            outputs[0].text,
            "kind: A\nmetadata:\n  name: web-x\n  labels: {}\n"
        );
        assert_eq!(
            outputs[0].lines,
            vec![Some(1), Some(2), Some(3), Some(5), Some(7)]
        );
    }

    #[test]
    fn include_result_compares_as_written() {
        let jobs = vec![
            job(
                "c/templates/_h.tpl",
                "{{- define \"on\" -}}\ntrue\n{{- end -}}",
                Value::Nil,
            ),
            job(
                "c/templates/a.yaml",
                "{{ if eq (include \"on\" .) \"true\" }}ok{{ end }}",
                Value::Nil,
            ),
        ];
        let (outputs, failures) = execute(&jobs, Budget::default());
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(outputs[0].text, "ok");
    }

    #[test]
    fn set_changes_maps_like_go_references() {
        let data = super::super::values::yaml_to_value("items: {a: {n: 1}}\n").expect("data");
        let jobs = vec![
            job(
                "c/templates/_h.tpl",
                "{{- define \"mark\" -}}{{- $_ := set . \"seen\" true -}}{{- end -}}",
                Value::Nil,
            ),
            job(
                "c/templates/a.yaml",
                "{{- range $k, $v := .items }}{{ $c := set . \"x\" 1 }}{{ $c := set . \"y\" 2 }}{{ $c }}{{ end }}|{{ $d := dict }}{{ include \"mark\" $d }}{{ $d.seen }}",
                data,
            ),
        ];
        let (outputs, failures) = execute(&jobs, Budget::default());
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(outputs[0].text, "map[n:1 x:1 y:2]|true");
    }

    #[test]
    fn recursion_stops_at_depth_limit() {
        let jobs = vec![
            job(
                "c/templates/_h.tpl",
                "{{- define \"loop\" -}}{{ include \"loop\" . }}{{- end -}}",
                Value::Nil,
            ),
            job(
                "c/templates/a.yaml",
                "a: 1\nb: {{ include \"loop\" . }}\n",
                Value::Nil,
            ),
        ];
        let (outputs, failures) = execute(&jobs, Budget::default());
        assert!(outputs.is_empty());
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].line, 2);
        assert!(
            failures[0].message.contains("nested deeper than 64"),
            "{}",
            failures[0].message
        );
    }

    #[test]
    fn tpl_sees_defines_and_output_budget_stops() {
        let data =
            super::super::values::yaml_to_value("t: '{{ include \"n\" . }}-{{ .v }}'\nv: 2\n")
                .expect("data");
        let jobs = vec![
            job(
                "c/templates/_h.tpl",
                "{{ define \"n\" }}N{{ end }}",
                Value::Nil,
            ),
            job("c/templates/a.yaml", "x: {{ tpl .t . }}", data),
        ];
        let (outputs, failures) = execute(&jobs, Budget::default());
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(outputs[0].text, "x: N-2");
        let big = vec![job(
            "c/templates/a.yaml",
            "{{ range until 200000 }}xxxxxxxxxx{{ end }}",
            Value::Nil,
        )];
        let budget = Budget {
            max_output: 1 << 20,
            ..Budget::default()
        };
        let (_, failures) = execute(&big, budget);
        assert!(
            failures[0].message.contains("output larger than 1 MiB"),
            "{}",
            failures[0].message
        );
    }

    #[test]
    fn parse_and_exec_errors_name_lines() {
        let jobs = vec![
            job(
                "c/templates/a.yaml",
                "a: 1\nb: {{ if }}{{ end }}\n",
                Value::Nil,
            ),
            job(
                "c/templates/b.yaml",
                "a: 1\n\nb: {{ fail \"boom\" }}\n",
                Value::Nil,
            ),
        ];
        let (_, failures) = execute(&jobs, Budget::default());
        assert_eq!(failures.len(), 2, "{failures:?}");
        assert_eq!(
            (failures[0].display.as_str(), failures[0].line),
            ("c/templates/a.yaml", 2)
        );
        assert_eq!(
            (failures[1].display.as_str(), failures[1].line),
            ("c/templates/b.yaml", 3)
        );
        assert!(failures[1].message.contains("boom"));
    }

    #[test]
    fn files_and_capabilities() {
        let mut files = Files::new();
        files.insert("conf/a.txt".into(), b"alpha".to_vec());
        files.insert("conf/b.txt".into(), b"beta".to_vec());
        files.insert("other.txt".into(), b"o\np".to_vec());
        let files = Arc::new(files);
        let mut data = Map::new();
        data.insert("Files".into(), files_object(&files));
        data.insert("Capabilities".into(), capabilities("v1.29.3", &[]));
        let data = Value::Map(Arc::new(data));
        let jobs = vec![job(
            "c/templates/a.yaml",
            "{{ .Files.Get \"conf/a.txt\" }}|{{ range $p, $c := .Files.Glob \"conf/*\" }}{{ $p }}={{ $c }};{{ end }}|{{ (.Files.Glob \"conf/*\").AsConfig }}|{{ (.Files.Glob \"conf/a.txt\").AsSecrets }}|{{ .Files.Lines \"other.txt\" }}|{{ .Capabilities.APIVersions.Has \"apps/v1\" }} {{ .Capabilities.APIVersions.Has \"apps/v1/Deployment\" }} {{ .Capabilities.APIVersions.Has \"x/v9\" }} {{ .Capabilities.KubeVersion.Minor }}",
            data,
        )];
        let (outputs, failures) = execute(&jobs, Budget::default());
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(
            outputs[0].text,
            "alpha|conf/a.txt=alpha;conf/b.txt=beta;|a.txt: alpha\nb.txt: beta|a.txt: YWxwaGE=|[o p]|true true false 29"
        );
    }
}
