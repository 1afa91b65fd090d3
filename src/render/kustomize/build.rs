//! Accumulating a kustomization: its resources, bases and components in
//! order, then its generators and transformers, under a budget.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::fieldspec::{self, NameRef};
use super::node::{KNode, Loc, Val};
use super::resource::Resource;
use super::state::{Builder, Kust, normalize};
use super::{Files, KustomizeOptions, generate, nameref, replace, transform};
use crate::diagnostic::Diagnostic;
use crate::render::{Disk, KUSTOMIZATION_FILES};
use crate::tree::LineIndex;

/// Why a path a kustomization names cannot be read, when it is missing or
/// lies outside what was scanned (an overlay named alone, without its base).
const OUTSIDE_OR_MISSING: &str = "not found, or outside the scanned paths (scan or render a directory holding both the overlay and its bases, such as the repository root)";

/// The kustomization file of `dir`, if it has one.
pub fn find_kustomization(dir: &Path, disk: &dyn Disk) -> Option<PathBuf> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| disk.is_file(p))
}

/// Whether a `resources` entry names something remote (a URL or a git
/// repository), which a scanner never fetches.
pub fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("github.com/")
        || entry.starts_with("gitlab.com/")
        || entry.starts_with("bitbucket.org/")
        || entry.starts_with("git@")
        || entry.starts_with("git::")
        || entry.contains("?ref=")
        || entry.contains(".git//")
}

/// The local directories the kustomization in `dir` includes.
pub fn local_includes(dir: &Path, disk: &dyn Disk) -> Vec<PathBuf> {
    let Some(file) = find_kustomization(dir, disk) else {
        return Vec::new();
    };
    let Ok(text) = disk.read(&file) else {
        return Vec::new();
    };
    let index = LineIndex::new(&text);
    let parsed = crate::parse::yaml::parse(&text, &index);
    let Some(doc) = parsed.documents.first() else {
        return Vec::new();
    };
    let k = KNode::from_tree(doc, 0);
    let mut out = Vec::new();
    for field in ["resources", "bases", "components"] {
        for item in k.get(field).map(KNode::items).unwrap_or_default() {
            let Some(s) = item.as_str() else { continue };
            if is_remote(s) {
                continue;
            }
            let p = normalize(&dir.join(s));
            if find_kustomization(&p, disk).is_some() {
                out.push(p);
            }
        }
    }
    out
}

impl<'a> Builder<'a> {
    pub fn new(disk: &'a dyn Disk, opts: &'a KustomizeOptions) -> Self {
        Builder {
            disk,
            opts,
            files: Files::default(),
            diagnostics: Vec::new(),
            consumed: BTreeSet::new(),
            stack: Vec::new(),
            bytes: 0,
            nodes: 0,
            exhausted: false,
            namerefs: fieldspec::name_references(),
            vars: Vec::new(),
            extra_specs: Vec::new(),
            var_owner: None,
        }
    }

    /// An error about field `field` of kustomization `k`.
    pub fn error(&mut self, k: &Kust, field: &str, at: Loc, message: impl std::fmt::Display) {
        self.diagnostics.push(Diagnostic::error(
            k.display.clone(),
            if at.file == k.file { at.line } else { 0 },
            0,
            format!("kustomize: {field}: {message}"),
        ));
    }

    /// A notice about field `field` of kustomization `k`.
    pub fn notice(&mut self, k: &Kust, field: &str, message: impl std::fmt::Display) {
        let at = k.loc(field);
        self.diagnostics.push(Diagnostic::notice(
            k.display.clone(),
            at.line,
            0,
            format!("kustomize: {field}: {message}"),
        ));
    }

    /// Builds the kustomization in `dir`: accumulation, then hashes and name
    /// references, as the top of `kustomize build` does.
    pub fn build_root(&mut self, dir: &Path) -> Vec<Resource> {
        let mut ra = Vec::new();
        self.accumulate(&normalize(dir), &mut ra, false);
        for r in &mut ra {
            if r.needs_hash {
                let suffix = generate::hash_suffix(&r.obj);
                let at = r
                    .obj
                    .at_path(&["metadata", "name"])
                    .map(|n| n.at)
                    .unwrap_or(r.at);
                let name = format!("{}-{suffix}", r.name());
                r.rename(name, at);
            }
        }
        nameref::fix(&mut ra, &self.namerefs);
        let vars = std::mem::take(&mut self.vars);
        for message in replace::resolve_vars(&mut ra, &vars) {
            let (file, line) = self.var_owner.clone().unwrap_or_default();
            self.diagnostics.push(Diagnostic::error(
                file,
                line,
                0,
                format!("kustomize: vars: {message}"),
            ));
        }
        for r in &mut ra {
            // kustomize keeps its own bookkeeping in annotations while it
            // builds and removes the field when nothing else is left in it.
            if let Some(meta) = r.obj.get_mut("metadata")
                && meta
                    .get("annotations")
                    .is_some_and(|a| a.entries().is_empty())
            {
                meta.remove("annotations");
            }
        }
        ra
    }

    /// Reads a file under the byte budget, recording it as consumed.
    pub fn read(&mut self, path: &Path) -> Result<(u32, String), String> {
        let text = self.disk.read(path)?;
        self.charge(text.len())?;
        self.consumed.insert(path.to_path_buf());
        let id = self.files.add(self.disk.display(path), text.clone());
        Ok((id, text))
    }

    /// The display path of file `id`.
    pub fn files_display(&self, id: u32) -> String {
        self.files
            .names
            .get(id as usize)
            .cloned()
            .unwrap_or_default()
    }

    /// Reads a file's bytes under the byte budget.
    pub fn read_bytes(&mut self, path: &Path) -> Result<Vec<u8>, String> {
        let bytes = self.disk.read_bytes(path)?;
        self.charge(bytes.len())?;
        self.consumed.insert(path.to_path_buf());
        Ok(bytes)
    }

    fn charge(&mut self, n: usize) -> Result<(), String> {
        self.bytes = self.bytes.saturating_add(n);
        if self.bytes > self.opts.max_bytes {
            self.exhausted = true;
            return Err(format!(
                "the build read more than {} bytes",
                self.opts.max_bytes
            ));
        }
        Ok(())
    }

    /// Parses YAML documents of file `file`; errors become diagnostics.
    pub fn parse_docs(&mut self, text: &str, file: u32, display: &str) -> Vec<KNode> {
        let index = LineIndex::new(text);
        let parsed = crate::parse::yaml::parse(text, &index);
        for e in &parsed.errors {
            self.diagnostics.push(Diagnostic::error(
                display.to_string(),
                e.line,
                e.column,
                e.message.clone(),
            ));
        }
        parsed
            .documents
            .iter()
            .map(|d| KNode::from_tree(d, file))
            .collect()
    }

    /// Counts nodes against the budget; false once it is spent.
    fn spend_nodes(&mut self, n: usize) -> bool {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.opts.max_nodes && !self.exhausted {
            self.exhausted = true;
        }
        !self.exhausted
    }

    /// Accumulates the kustomization in `dir` into `ra` (a component adds
    /// to and transforms what its parent accumulated so far).
    pub fn accumulate(&mut self, dir: &Path, ra: &mut Vec<Resource>, component: bool) {
        let display = self.disk.display(dir);
        let Some(kfile) = find_kustomization(dir, self.disk) else {
            self.diagnostics.push(Diagnostic::error(
                display,
                0,
                0,
                "kustomize: no kustomization.yaml, kustomization.yml or Kustomization in this directory",
            ));
            return;
        };
        if self.stack.iter().any(|d| d == dir) {
            let chain: Vec<String> = self.stack.iter().map(|d| self.disk.display(d)).collect();
            self.diagnostics.push(Diagnostic::error(
                display.clone(),
                0,
                0,
                format!(
                    "kustomize: resources: cycle: {} includes {display} again",
                    chain.join(" → ")
                ),
            ));
            return;
        }
        if self.stack.len() >= self.opts.max_depth {
            self.diagnostics.push(Diagnostic::error(
                display,
                0,
                0,
                format!(
                    "kustomize: kustomizations nest deeper than {}",
                    self.opts.max_depth
                ),
            ));
            return;
        }
        let kdisplay = self.disk.display(&kfile);
        let (file, text) = match self.read(&kfile) {
            Ok(x) => x,
            Err(e) => {
                self.diagnostics.push(Diagnostic::error(
                    kdisplay,
                    0,
                    0,
                    format!("kustomize: cannot read: {e}"),
                ));
                return;
            }
        };
        let docs = self.parse_docs(&text, file, &kdisplay);
        let doc = docs
            .into_iter()
            .next()
            .unwrap_or(KNode::map(Loc { file, line: 1 }));
        let k = Kust {
            dir: dir.to_path_buf(),
            display: kdisplay,
            file,
            doc,
        };
        if component && k.doc.get("kind").and_then(KNode::as_str) != Some("Component") {
            self.error(
                &k,
                "components",
                k.loc("kind"),
                "a component must have kind: Component",
            );
        }
        self.stack.push(dir.to_path_buf());
        self.unsupported(&k);
        for field in ["resources", "bases"] {
            let items = k
                .field(field)
                .map(|n| n.items().to_vec())
                .unwrap_or_default();
            for item in items {
                self.add_resource(&k, field, &item, ra);
            }
        }
        self.configurations(&k);
        for item in k
            .field("crds")
            .map(|n| n.items().to_vec())
            .unwrap_or_default()
        {
            if let Some(s) = item.as_str() {
                let p = normalize(&k.dir.join(s));
                if let Err(e) = self.read(&p) {
                    self.error(&k, "crds", item.at, format!("{s}: {e}"));
                }
            }
        }
        if k.field("openapi").is_some() {
            self.notice(
                &k,
                "openapi",
                "ignored: rampart merges with the built-in Kubernetes merge keys",
            );
        }
        self.helm_charts(&k, ra);
        // Generators run before components, components before this
        // kustomization's transformers (as in kustomize's accumulateTarget).
        transform::generators(self, &k, ra);
        for item in k
            .field("components")
            .map(|n| n.items().to_vec())
            .unwrap_or_default()
        {
            let Some(s) = item.as_str() else { continue };
            if is_remote(s) {
                self.remote(&k, "components", &item, s);
                continue;
            }
            let p = normalize(&k.dir.join(s));
            if find_kustomization(&p, self.disk).is_none() {
                let why = if self.disk.is_dir(&p) {
                    "no kustomization in this directory"
                } else {
                    OUTSIDE_OR_MISSING
                };
                self.error(&k, "components", item.at, format!("{s}: {why}"));
                continue;
            }
            self.accumulate(&p, ra, true);
        }
        transform::run(self, &k, ra);
        if let Some(vars) = k.field("vars") {
            self.vars.extend(replace::read_vars(vars));
            if self.var_owner.is_none() {
                self.var_owner = Some((k.display.clone(), k.loc("vars").line));
            }
        }
        self.stack.pop();
    }

    fn unsupported(&mut self, k: &Kust) {
        for field in ["transformers", "generators", "validators"] {
            if k.field(field).is_some() {
                self.diagnostics.push(Diagnostic::error(
                    k.display.clone(),
                    k.loc(field).line,
                    0,
                    format!("kustomize: {field}: not supported by rampart's built-in kustomize; the build goes on without it"),
                ));
            }
        }
    }

    /// `helmCharts`: each local chart (under `helmGlobals.chartHome`,
    /// default `charts/`) rendered by rampart's Helm renderer; its objects
    /// join the build with the origins the renderer gave them. A chart only
    /// a repository holds is never fetched.
    fn helm_charts(&mut self, k: &Kust, ra: &mut Vec<Resource>) {
        let charts = k
            .field("helmCharts")
            .map(|n| n.items().to_vec())
            .unwrap_or_default();
        if charts.is_empty() {
            return;
        }
        let home = k
            .field("helmGlobals")
            .and_then(|g| g.get("chartHome"))
            .and_then(KNode::as_str)
            .unwrap_or("charts")
            .to_string();
        for chart in charts {
            let str_of = |key: &str| chart.get(key).and_then(KNode::scalar_text);
            let Some(name) = str_of("name") else {
                self.error(k, "helmCharts", chart.at, "an entry without name");
                continue;
            };
            let dir = normalize(&k.dir.join(&home).join(&name));
            if !self.disk.is_file(&dir.join("Chart.yaml")) {
                let why = match str_of("repo") {
                    Some(repo) => format!(
                        "{name}: not in {home}/ and charts are never fetched from {repo}; the build is partial"
                    ),
                    None => format!("{name}: no chart at {home}/{name}"),
                };
                self.error(k, "helmCharts", chart.at, why);
                continue;
            }
            let defaults = crate::render::helm::HelmOptions::default();
            let mut options = crate::render::helm::HelmOptions {
                release_name: str_of("releaseName").unwrap_or(defaults.release_name.clone()),
                namespace: str_of("namespace").unwrap_or(defaults.namespace.clone()),
                kube_version: str_of("kubeVersion").unwrap_or(defaults.kube_version.clone()),
                ..defaults
            };
            for f in chart.get("valuesFile").into_iter().chain(
                chart
                    .get("additionalValuesFiles")
                    .map(KNode::items)
                    .unwrap_or_default(),
            ) {
                if let Some(f) = f.as_str() {
                    let path = normalize(&k.dir.join(f));
                    match self.disk.read(&path) {
                        Ok(text) => {
                            self.consumed.insert(path.clone());
                            options.values.push(crate::render::helm::ValuesInput {
                                display: self.disk.display(&path),
                                text,
                            });
                        }
                        Err(why) => {
                            self.error(k, "helmCharts", chart.at, format!("{f}: {why}"));
                        }
                    }
                }
            }
            if let Some(inline) = chart.get("valuesInline") {
                flatten_values(inline, "", &mut options.set);
            }
            for rendered in crate::render::helm::render_chart(&dir, self.disk, &options) {
                self.diagnostics
                    .extend(rendered.diagnostics.iter().cloned());
                self.consumed.extend(rendered.consumed.iter().cloned());
                self.add_rendered(k, &chart, &rendered, ra);
            }
        }
    }

    /// Adds the objects of a rendered stream, each node placed at the
    /// origin the renderer recorded for its line.
    fn add_rendered(
        &mut self,
        k: &Kust,
        chart: &KNode,
        rendered: &crate::render::Rendered,
        ra: &mut Vec<Resource>,
    ) {
        if rendered.text.trim().is_empty() {
            return;
        }
        let stream = self
            .files
            .add(format!("{} (rendered)", rendered.display), String::new());
        let mut objects = self.resources_of(&rendered.text, stream, &rendered.display);
        for r in &mut objects {
            relocate_by(&mut r.obj, &mut |loc| {
                // A line the renderer could not trace has no origin here either.
                let Some(origin) = rendered.origin(loc.line) else {
                    return Some(Loc {
                        file: loc.file,
                        line: 0,
                    });
                };
                let text = rendered
                    .sources
                    .get(&*origin.file)
                    .cloned()
                    .unwrap_or_default();
                Some(Loc {
                    file: self.files.add(origin.file.to_string(), text),
                    line: origin.line,
                })
            });
            r.at = r.obj.at;
        }
        for r in objects {
            self.push(k, "helmCharts", chart.at, ra, r);
        }
    }

    fn remote(&mut self, k: &Kust, field: &str, item: &KNode, s: &str) {
        self.error(
            k,
            field,
            item.at,
            format!("{s}: remote resources are never fetched; the build is partial"),
        );
    }

    fn add_resource(&mut self, k: &Kust, field: &str, item: &KNode, ra: &mut Vec<Resource>) {
        let Some(s) = item.as_str() else {
            self.error(k, field, item.at, "entries must be strings");
            return;
        };
        if is_remote(s) {
            self.remote(k, field, item, s);
            return;
        }
        let path = normalize(&k.dir.join(s));
        if let Some(kf) = find_kustomization(&path, self.disk) {
            let _ = kf;
            let mut sub = Vec::new();
            self.accumulate(&path, &mut sub, false);
            for r in sub {
                self.push(k, field, item.at, ra, r);
            }
            return;
        }
        if self.disk.is_dir(&path) {
            self.error(
                k,
                field,
                item.at,
                format!("{s}: a directory without a kustomization"),
            );
            return;
        }
        match self.read(&path) {
            Ok((file, text)) => {
                let display = self.disk.display(&path);
                for r in self.resources_of(&text, file, &display) {
                    self.push(k, field, item.at, ra, r);
                }
            }
            Err(e) if e.contains("outside the scanned paths") => {
                self.error(k, field, item.at, format!("{s}: {OUTSIDE_OR_MISSING}"))
            }
            Err(e) => self.error(k, field, item.at, format!("{s}: {e}")),
        }
    }

    /// The objects of a manifest file (`kind: List` items spread out).
    pub fn resources_of(&mut self, text: &str, file: u32, display: &str) -> Vec<Resource> {
        let mut out = Vec::new();
        for doc in self.parse_docs(text, file, display) {
            if matches!(doc.val, Val::Null) {
                continue;
            }
            if !self.spend_nodes(doc.count()) {
                self.diagnostics.push(Diagnostic::error(
                    display.to_string(),
                    doc.at.line,
                    0,
                    format!(
                        "kustomize: the build holds more than {} nodes; the rest is left out",
                        self.opts.max_nodes
                    ),
                ));
                break;
            }
            let kind = doc.get("kind").and_then(KNode::as_str).unwrap_or("");
            if kind.ends_with("List") && doc.get("items").is_some() {
                for item in doc.get("items").map(KNode::items).unwrap_or_default() {
                    out.push(Resource::new(item.clone(), false));
                }
                continue;
            }
            if kind.is_empty() || !doc.is_map() {
                self.diagnostics.push(Diagnostic::error(
                    display.to_string(),
                    doc.at.line,
                    0,
                    "kustomize: a resource without kind",
                ));
                continue;
            }
            out.push(Resource::new(doc, false));
        }
        out
    }

    /// Adds a resource, refusing a second object with the same identity.
    pub fn push(&mut self, k: &Kust, field: &str, at: Loc, ra: &mut Vec<Resource>, r: Resource) {
        if ra.len() >= self.opts.max_resources {
            if !self.exhausted {
                self.exhausted = true;
                self.error(
                    k,
                    field,
                    at,
                    format!(
                        "more than {} objects; the rest is left out",
                        self.opts.max_resources
                    ),
                );
            }
            return;
        }
        let same = ra.iter().any(|o| {
            o.kind() == r.kind()
                && o.group() == r.group()
                && o.name() == r.name()
                && o.namespace() == r.namespace()
        });
        if same {
            self.error(
                k,
                field,
                at,
                format!(
                    "may not add resource with an already registered id: {} {}{}",
                    r.kind(),
                    if r.namespace().is_empty() {
                        String::new()
                    } else {
                        format!("{}/", r.namespace())
                    },
                    r.name()
                ),
            );
            return;
        }
        ra.push(r);
    }

    fn configurations(&mut self, k: &Kust) {
        for item in k
            .field("configurations")
            .map(|n| n.items().to_vec())
            .unwrap_or_default()
        {
            let Some(s) = item.as_str() else { continue };
            let p = normalize(&k.dir.join(s));
            let (file, text) = match self.read(&p) {
                Ok(x) => x,
                Err(e) => {
                    self.error(k, "configurations", item.at, format!("{s}: {e}"));
                    continue;
                }
            };
            let display = self.disk.display(&p);
            for doc in self.parse_docs(&text, file, &display) {
                for field in ["commonLabels", "commonAnnotations", "namespace"] {
                    for spec in doc
                        .get(field)
                        .map(fieldspec::parse_specs)
                        .unwrap_or_default()
                    {
                        self.extra_specs.push((field.to_string(), spec));
                    }
                }
                for nr in doc
                    .get("nameReference")
                    .map(KNode::items)
                    .unwrap_or_default()
                {
                    let Some(kind) = nr.get("kind").and_then(KNode::as_str) else {
                        continue;
                    };
                    let group = nr
                        .get("group")
                        .and_then(KNode::as_str)
                        .unwrap_or("")
                        .to_string();
                    let specs = nr
                        .get("fieldSpecs")
                        .map(fieldspec::parse_specs)
                        .unwrap_or_default();
                    let referrers = specs.into_iter().map(|s| (s, fieldspec::RefShape::Name));
                    if let Some(existing) = self.namerefs.iter_mut().find(|n| n.kind == kind) {
                        existing.referrers.extend(referrers);
                    } else {
                        self.namerefs.push(NameRef {
                            kind: kind.to_string(),
                            group,
                            referrers: referrers.collect(),
                        });
                    }
                }
            }
        }
    }
}

/// `valuesInline` as Helm `--set` entries (`a.b=c`, `list[0]=x`).
fn flatten_values(node: &KNode, prefix: &str, out: &mut Vec<String>) {
    match &node.val {
        Val::Map(es) => {
            for e in es {
                let key = if prefix.is_empty() {
                    e.key.clone()
                } else {
                    format!("{prefix}.{}", e.key)
                };
                flatten_values(&e.node, &key, out);
            }
        }
        Val::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten_values(item, &format!("{prefix}[{i}]"), out);
            }
        }
        Val::Null => out.push(format!("{prefix}=null")),
        _ => out.push(format!(
            "{prefix}={}",
            node.scalar_text().unwrap_or_default()
        )),
    }
}

/// Moves every origin in a tree through `map` (unmapped origins are kept).
fn relocate_by(node: &mut KNode, map: &mut dyn FnMut(Loc) -> Option<Loc>) {
    if let Some(at) = map(node.at) {
        node.at = at;
    }
    match &mut node.val {
        Val::Seq(items) => items.iter_mut().for_each(|n| relocate_by(n, map)),
        Val::Map(es) => es.iter_mut().for_each(|e| {
            if let Some(at) = map(e.at) {
                e.at = at;
            }
            relocate_by(&mut e.node, map);
        }),
        _ => {}
    }
}
