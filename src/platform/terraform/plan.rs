//! Terraform plan JSON (`terraform show -json plan.out`): the values
//! Terraform will really apply, after every variable, module and function.
//!
//! Each planned resource becomes a Terraform resource (or data source)
//! entity with its planned values, in the JSON-syntax shape `.tf` files
//! parse into, so every Terraform query runs on it unchanged:
//!
//! - values come from `resource_changes[].change.after` (or, where that is
//!   null, `planned_values`); resources only being deleted are not checked;
//! - a value Terraform knows only after apply (`after_unknown`) is unknown
//!   to queries, carrying the `references` of its expression in
//!   `configuration`, so a public access block whose `bucket` is the id of a
//!   bucket still finds the bucket;
//! - a sensitive value (`after_sensitive`, `sensitive_values`, sensitive
//!   variables and outputs) is unknown to queries and masked in the text
//!   reports quote, so it never appears in any report;
//! - resources of module instances are named under their module address
//!   (`module.a["k"].aws_s3_bucket.b[0]`), relations staying inside one
//!   module instance as for `.tf` files;
//! - when the plan's `.tf` files are found (beside the plan, and the local
//!   module sources `configuration` names from there), a resource written
//!   in them is reported at its `.tf` lines: the attribute where it is
//!   written, else the resource's header.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::eval::module::INSTANCE_KEY;
use crate::diagnostic::Diagnostic;
use crate::platform::{LoadedFile, Platform};
use crate::tree::{Entry, Expression, Node, Object, SourceText, Span, Value};

/// Whether `text` may be a plan (or a damaged one): a JSON object naming
/// a plan's keys (`planned_values`, `resource_changes`), or Terraform's
/// `format_version` and `terraform_version`. A cheap test before parsing;
/// [`load`] decides on the parsed document.
pub fn looks_like_plan(text: &str) -> bool {
    let has = |key: &str| text.contains(key);
    text.trim_start().starts_with('{')
        && (has("\"planned_values\"")
            || has("\"resource_changes\"")
            || (has("\"format_version\"") && has("\"terraform_version\"")))
}

/// Reads the parsed `.tf` files of a module directory (the loader's safe
/// reader, limited to the scanned paths).
pub type ReadModule<'r> = &'r dyn Fn(&Path) -> Vec<LoadedFile>;

/// The Terraform files a plan's resources are checked as: one per module
/// instance and file the resources are reported in (the plan, or the
/// `.tf` file a resource is written in), and the diagnostics.
pub fn load(
    display: &str,
    plan_dir: &Path,
    source: SourceText,
    document: &Node,
    read_module: ReadModule,
) -> (Vec<LoadedFile>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let changes = document.get("resource_changes");
    let planned_values = document.get("planned_values");
    if changes.is_none() && planned_values.is_none() {
        diagnostics.push(Diagnostic::error(
            display,
            document.span.start_line,
            document.span.start_col,
            "Terraform JSON with format_version but neither planned_values nor resource_changes: not a plan from `terraform show -json` (a state file, or a damaged plan); not checked",
        ));
        return (Vec::new(), diagnostics);
    }
    let mut planned = HashMap::new();
    if let Some(root) = planned_values.and_then(|p| p.get("root_module")) {
        planned_resources(root, &mut planned);
    }
    let configuration = document
        .get("configuration")
        .and_then(|c| c.get("root_module"));
    let mut resources = Vec::new();
    match changes {
        Some(changes) => {
            for change in changes.items() {
                if let Some(r) = from_change(change, &planned) {
                    resources.push(r);
                }
            }
        }
        None => {
            for (_, (resource, values, sensitive)) in planned.iter() {
                if let Some(r) = from_planned(resource, values, *sensitive) {
                    resources.push(r);
                }
            }
            resources.sort_by_key(|r| r.header.start);
        }
    }
    let mut sources = Sources::new(plan_dir, configuration, read_module);
    let masked = mask_sensitive(&source, document, configuration);
    let plan_file = LoadedFile {
        display: display.to_string(),
        platform: Platform::Terraform,
        source: masked,
        documents: Vec::new(),
        streamed: false,
        module: None,
        module_call: None,
        derived: false,
    };
    let mut groups: Vec<Group> = vec![Group {
        file: plan_file,
        bodies: Vec::new(),
    }];
    let mut expressions_of = HashMap::new();
    if let Some(root) = configuration {
        config_expressions(root, &mut Vec::new(), &mut expressions_of);
    }
    let mut group_of: HashMap<(String, Option<String>), usize> = HashMap::new();
    group_of.insert((display.to_string(), None), 0);
    for resource in resources {
        let expressions = expressions_of
            .get(&(resource.module_path.clone(), resource.config_address()))
            .copied();
        let mut body = merge(
            resource.values,
            resource.unknown,
            resource.sensitive,
            expressions,
            resource.header,
        );
        let written = sources.find(&resource);
        let (display, source, header, call) = match &written {
            Some(w) => {
                respan(&mut body, Some(&w.body), w.header);
                (
                    w.display.clone(),
                    Some(w.source.clone()),
                    w.header,
                    sources.call_site(&resource.module_path),
                )
            }
            None => (display.to_string(), None, resource.header, None),
        };
        if let Value::Object(o) = &mut body.value
            && let Some(index) = &resource.index
        {
            o.entries.push(Entry {
                key: INSTANCE_KEY.to_string(),
                key_span: header,
                value: Node::new(Value::String(index.clone()), header),
            });
        }
        let key = (display.clone(), resource.module.clone());
        let group = match group_of.get(&key) {
            Some(&i) => i,
            None => {
                let source = match source {
                    Some(s) => s,
                    None => groups[0].file.source.clone(),
                };
                groups.push(Group {
                    file: LoadedFile {
                        display: display.clone(),
                        platform: Platform::Terraform,
                        source,
                        documents: Vec::new(),
                        streamed: false,
                        module: resource.module.clone(),
                        module_call: call,
                        derived: false,
                    },
                    bodies: Vec::new(),
                });
                group_of.insert(key, groups.len() - 1);
                groups.len() - 1
            }
        };
        groups[group].bodies.push(Body {
            block: resource.block.to_string(),
            ty: resource.ty.clone(),
            name: resource.name.clone(),
            header,
            node: body,
        });
    }
    let files = groups
        .into_iter()
        .map(|g| {
            let mut file = g.file;
            file.documents = vec![document_of(g.bodies)];
            file
        })
        .collect();
    (files, diagnostics)
}

/// Resources reported in one file under one module instance.
struct Group {
    file: LoadedFile,
    bodies: Vec<Body>,
}

/// One resource's merged values, with where its header is.
struct Body {
    /// `resource` or `data`.
    block: String,
    ty: String,
    name: String,
    header: Span,
    node: Node,
}

/// The JSON-syntax Terraform document holding `bodies`:
/// `{"resource": {type: {name: [bodies]}}, "data": {...}}`. Every wrapper
/// gets a span no body shares, so an entity's header is its name's span
/// (see `terraform::header`), set to the resource's header.
fn document_of(bodies: Vec<Body>) -> Node {
    let apart = Span {
        start: u32::MAX,
        end: u32::MAX,
        ..Span::default()
    };
    let mut blocks: Vec<Entry> = Vec::new();
    for body in bodies {
        let block = match blocks.iter().position(|e| e.key == body.block) {
            Some(i) => i,
            None => {
                blocks.push(entry(&body.block, object(Vec::new(), apart), apart));
                blocks.len() - 1
            }
        };
        let Value::Object(types) = &mut blocks[block].value.value else {
            continue;
        };
        let ty = match types.entries.iter().position(|e| e.key == body.ty) {
            Some(i) => i,
            None => {
                types
                    .entries
                    .push(entry(&body.ty, object(Vec::new(), apart), apart));
                types.entries.len() - 1
            }
        };
        let Value::Object(names) = &mut types.entries[ty].value.value else {
            continue;
        };
        match names.entries.iter_mut().find(|e| e.key == body.name) {
            Some(existing) => {
                if let Value::Array(items) = &mut existing.value.value {
                    items.push(body.node);
                }
            }
            None => names.entries.push(Entry {
                key: body.name.clone(),
                key_span: body.header,
                value: Node::new(Value::Array(vec![body.node]), apart),
            }),
        }
    }
    object(blocks, apart)
}

fn entry(key: &str, value: Node, span: Span) -> Entry {
    Entry {
        key: key.to_string(),
        key_span: span,
        value,
    }
}

fn object(entries: Vec<Entry>, span: Span) -> Node {
    Node::new(Value::Object(Object { entries }), span)
}

/// A planned resource, before merging.
struct Planned<'a> {
    /// `resource` or `data`.
    block: &'static str,
    ty: String,
    name: String,
    /// `[0]` or `["k"]`.
    index: Option<String>,
    /// `module.a["k"].module.b`, `None` in the root module.
    module: Option<String>,
    /// The module calls' names (`["a", "b"]`), to find configuration.
    module_path: Vec<String>,
    values: Option<&'a Node>,
    unknown: Option<&'a Node>,
    sensitive: Option<&'a Node>,
    /// The span of its `address` in the plan.
    header: Span,
}

impl Planned<'_> {
    /// Its address in its module's configuration (`data.x.y`, `x.y`).
    fn config_address(&self) -> String {
        match self.block {
            "data" => format!("data.{}.{}", self.ty, self.name),
            _ => format!("{}.{}", self.ty, self.name),
        }
    }
}

/// `planned_values` resources by address: the resource, its values and
/// its `sensitive_values`.
type PlannedValues<'a> = HashMap<&'a str, (&'a Node, Option<&'a Node>, Option<&'a Node>)>;

fn planned_resources<'a>(module: &'a Node, out: &mut PlannedValues<'a>) {
    for r in module.get("resources").map(Node::items).unwrap_or_default() {
        if let Some(address) = r.get("address").and_then(Node::as_str) {
            out.insert(address, (r, r.get("values"), r.get("sensitive_values")));
        }
    }
    for child in module
        .get("child_modules")
        .map(Node::items)
        .unwrap_or_default()
    {
        planned_resources(child, out);
    }
}

/// The resource a `resource_changes` entry plans, unless it is only
/// deleted (or forgotten): what is going away is not checked.
fn from_change<'a>(change: &'a Node, planned: &PlannedValues<'a>) -> Option<Planned<'a>> {
    let c = change.get("change")?;
    let actions: Vec<&str> = c
        .get("actions")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(Node::as_str)
        .collect();
    let keeps = actions
        .iter()
        .any(|a| matches!(*a, "create" | "update" | "no-op" | "read"));
    if !keeps {
        return None;
    }
    let address = change.get("address").and_then(Node::as_str)?;
    let planned = planned.get(address);
    let after = c.get("after").filter(|a| !matches!(a.value, Value::Null));
    let values = after.or_else(|| planned.and_then(|p| p.1));
    let sensitive = c
        .get("after_sensitive")
        .or_else(|| planned.and_then(|p| p.2));
    let mut resource = base(change, address, change.get("module_address"))?;
    resource.values = values;
    resource.unknown = c.get("after_unknown");
    resource.sensitive = sensitive;
    Some(resource)
}

/// A resource of `planned_values`, for a plan without `resource_changes`.
fn from_planned<'a>(
    resource: &'a Node,
    values: &Option<&'a Node>,
    sensitive: Option<&'a Node>,
) -> Option<Planned<'a>> {
    let address = resource.get("address").and_then(Node::as_str)?;
    let mut planned = base(resource, address, None)?;
    planned.values = *values;
    planned.sensitive = sensitive;
    Some(planned)
}

/// What every resource entry of a plan says about itself.
fn base<'a>(entry: &'a Node, address: &str, module: Option<&'a Node>) -> Option<Planned<'a>> {
    let block = match entry.get("mode").and_then(Node::as_str) {
        Some("data") => "data",
        Some("managed") | None => "resource",
        Some(_) => return None,
    };
    let ty = entry.get("type").and_then(Node::as_str)?.to_string();
    let name = entry.get("name").and_then(Node::as_str)?.to_string();
    let index = entry.get("index").and_then(|i| match &i.value {
        Value::Number(n) => Some(format!("[{n}]")),
        Value::String(s) => Some(format!(
            "[{}]",
            serde_json::to_string(s).unwrap_or_default()
        )),
        _ => None,
    });
    let module = module
        .and_then(Node::as_str)
        .map(str::to_string)
        .or_else(|| module_of(address));
    let module_path = module.as_deref().map(call_names).unwrap_or_default();
    let header = entry.get("address").map_or(entry.span, |a| a.span);
    Some(Planned {
        block,
        ty,
        name,
        index,
        module,
        module_path,
        values: None,
        unknown: None,
        sensitive: None,
        header,
    })
}

/// The module part of a resource address (`module.a["x"].module.b` of
/// `module.a["x"].module.b.aws_s3_bucket.c`), when it has one.
fn module_of(address: &str) -> Option<String> {
    let mut end = 0;
    let mut rest = address;
    while let Some(after) = rest.strip_prefix("module.") {
        let len = call_len(after);
        end += "module.".len() + len;
        rest = after.get(len..)?;
        match rest.strip_prefix('.') {
            Some(r) => {
                rest = r;
                end += 1;
            }
            None => break,
        }
    }
    (end > 0).then(|| address[..end].trim_end_matches('.').to_string())
}

/// The length of one call step (`a["x.y"]`, `b[0]`, `c`), brackets and
/// quoted keys (which may hold dots) included.
fn call_len(text: &str) -> usize {
    let mut depth = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth -= 1,
            '.' if !quoted && depth == 0 => return i,
            _ => {}
        }
    }
    text.len()
}

/// The call names of a module address (`["a", "b"]` for
/// `module.a["x"].module.b`).
fn call_names(module: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = module;
    while let Some(after) = rest.strip_prefix("module.") {
        let len = call_len(after);
        let step = &after[..len];
        names.push(step.split('[').next().unwrap_or(step).to_string());
        rest = after[len..].strip_prefix('.').unwrap_or("");
    }
    names
}

/// The `expressions` of every resource of the configuration, by the
/// module calls leading to its module and its address there.
fn config_expressions<'a>(
    module: &'a Node,
    path: &mut Vec<String>,
    out: &mut HashMap<(Vec<String>, String), &'a Node>,
) {
    for r in module.get("resources").map(Node::items).unwrap_or_default() {
        if let (Some(address), Some(expressions)) = (
            r.get("address").and_then(Node::as_str),
            r.get("expressions"),
        ) {
            out.insert((path.clone(), address.to_string()), expressions);
        }
    }
    if let Some(Value::Object(calls)) = module.get("module_calls").map(|c| &c.value) {
        for call in &calls.entries {
            if let Some(inner) = call.value.get("module") {
                path.push(call.key.clone());
                config_expressions(inner, path, out);
                path.pop();
            }
        }
    }
}

/// A value as queries see it: the planned value, with what is unknown
/// until apply (`unknown` marks `true`) and what is sensitive
/// (`sensitive` marks `true`) unknown. `expression` is the configuration's
/// expression for the same value, whose `references` an unknown value
/// keeps (what it will be made from).
fn merge(
    value: Option<&Node>,
    unknown: Option<&Node>,
    sensitive: Option<&Node>,
    expression: Option<&Node>,
    at: Span,
) -> Node {
    let span = value.map_or(at, |v| v.span);
    if is_true(sensitive) {
        return unknown_value("(sensitive value)", Vec::new(), span);
    }
    if is_true(unknown) {
        return unknown_value("(known after apply)", references(expression), span);
    }
    match value.map(|v| &v.value) {
        Some(Value::Object(o)) => {
            let mut entries: Vec<Entry> = o
                .entries
                .iter()
                .map(|e| Entry {
                    key: e.key.clone(),
                    key_span: e.key_span,
                    value: merge(
                        Some(&e.value),
                        unknown.and_then(|u| u.get(&e.key)),
                        sensitive.and_then(|s| s.get(&e.key)),
                        expression_child(expression, &e.key),
                        e.value.span,
                    ),
                })
                .collect();
            // Attributes absent from the values because they are unknown.
            if let Some(Value::Object(u)) = unknown.map(|u| &u.value) {
                for e in &u.entries {
                    if o.get(&e.key).is_none() && holds_unknown(&e.value) {
                        entries.push(Entry {
                            key: e.key.clone(),
                            key_span: span,
                            value: merge(
                                None,
                                Some(&e.value),
                                sensitive.and_then(|s| s.get(&e.key)),
                                expression_child(expression, &e.key),
                                span,
                            ),
                        });
                    }
                }
            }
            Node::new(Value::Object(Object { entries }), span)
        }
        Some(Value::Array(items)) => {
            let mut out: Vec<Node> = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    merge(
                        Some(item),
                        unknown.and_then(|u| u.items().get(i)),
                        sensitive.and_then(|s| s.items().get(i)),
                        expression_item(expression, i),
                        item.span,
                    )
                })
                .collect();
            if let Some(Value::Array(u)) = unknown.map(|u| &u.value) {
                for (i, marks) in u.iter().enumerate().skip(items.len()) {
                    if holds_unknown(marks) {
                        out.push(merge(
                            None,
                            Some(marks),
                            None,
                            expression_item(expression, i),
                            span,
                        ));
                    }
                }
            }
            Node::new(Value::Array(out), span)
        }
        Some(_) => value.map_or_else(|| Node::new(Value::Null, span), Node::clone),
        // Only unknown parts: a block whose attributes are all unknown.
        None => match unknown.map(|u| &u.value) {
            Some(Value::Object(u)) => {
                let entries = u
                    .entries
                    .iter()
                    .filter(|e| holds_unknown(&e.value))
                    .map(|e| Entry {
                        key: e.key.clone(),
                        key_span: span,
                        value: merge(
                            None,
                            Some(&e.value),
                            None,
                            expression_child(expression, &e.key),
                            span,
                        ),
                    })
                    .collect();
                Node::new(Value::Object(Object { entries }), span)
            }
            Some(Value::Array(u)) => Node::new(
                Value::Array(
                    u.iter()
                        .enumerate()
                        .map(|(i, m)| {
                            merge(None, Some(m), None, expression_item(expression, i), span)
                        })
                        .collect(),
                ),
                span,
            ),
            _ => Node::new(Value::Null, span),
        },
    }
}

fn is_true(marks: Option<&Node>) -> bool {
    marks.is_some_and(|m| matches!(m.value, Value::Bool(true)))
}

/// Whether an `after_unknown` tree marks anything unknown.
fn holds_unknown(marks: &Node) -> bool {
    match &marks.value {
        Value::Bool(b) => *b,
        Value::Array(items) => items.iter().any(holds_unknown),
        Value::Object(o) => o.entries.iter().any(|e| holds_unknown(&e.value)),
        _ => false,
    }
}

/// A value queries treat as unknown, named by `what` where shown.
fn unknown_value(what: &str, references: Vec<String>, span: Span) -> Node {
    Node::new(
        Value::Expr(Box::new(Expression {
            source: what.to_string(),
            references,
            literal_parts: Vec::new(),
        })),
        span,
    )
}

/// The `references` of a configuration expression.
fn references(expression: Option<&Node>) -> Vec<String> {
    expression
        .and_then(|e| e.get("references"))
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.as_str().map(str::to_string))
        .collect()
}

/// The expression of attribute `key` inside `expression` (a block's
/// expressions); an attribute's own expression covers all of its value.
fn expression_child<'a>(expression: Option<&'a Node>, key: &str) -> Option<&'a Node> {
    let e = expression?;
    if is_attribute(e) {
        return Some(e);
    }
    match &e.value {
        Value::Array(items) => items.first()?.get(key),
        _ => e.get(key),
    }
}

/// The expression of element `i` inside `expression` (nested blocks are
/// arrays of blocks in configuration).
fn expression_item(expression: Option<&Node>, i: usize) -> Option<&Node> {
    let e = expression?;
    if is_attribute(e) {
        return Some(e);
    }
    match &e.value {
        Value::Array(items) => items.get(i),
        _ => Some(e),
    }
}

fn is_attribute(expression: &Node) -> bool {
    expression.get("references").is_some() || expression.get("constant_value").is_some()
}

/// Moves a merged value's spans onto the `.tf` text: a value written
/// there (`written`) points where it is written, one that is not (a
/// provider default, a value built elsewhere) where its nearest written
/// parent is, the resource's header for the resource's own attributes.
fn respan(node: &mut Node, written: Option<&Node>, fallback: Span) {
    node.span = written.map_or(fallback, |w| w.span);
    let inner = written.map_or(fallback, |w| w.span);
    match &mut node.value {
        Value::Object(o) => {
            for e in &mut o.entries {
                let w = written.and_then(|w| w.entry(&e.key));
                e.key_span = w.map_or(inner, |w| w.key_span);
                respan(&mut e.value, w.map(|w| &w.value), inner);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                // A block written once is an object in the `.tf` shape,
                // a one-element array in the plan.
                let w = written.and_then(|w| match &w.value {
                    Value::Array(ws) => ws.get(i),
                    _ if i == 0 => Some(w),
                    _ => None,
                });
                respan(item, w, inner);
            }
        }
        _ => {}
    }
}

/// Where a resource is written in the configuration's `.tf` files.
struct Written {
    display: String,
    source: SourceText,
    body: Node,
    header: Span,
}

/// The `.tf` files of the plan's modules, read once each.
struct Sources<'a, 'r> {
    plan_dir: PathBuf,
    configuration: Option<&'a Node>,
    read_module: ReadModule<'r>,
    /// Parsed files by module path (call names).
    modules: HashMap<Vec<String>, Vec<LoadedFile>>,
}

impl<'a, 'r> Sources<'a, 'r> {
    fn new(plan_dir: &Path, configuration: Option<&'a Node>, read_module: ReadModule<'r>) -> Self {
        Sources {
            plan_dir: plan_dir.to_path_buf(),
            configuration,
            read_module,
            modules: HashMap::new(),
        }
    }

    /// The directory of the module at `path`: the plan's for the root
    /// module, then each call's local `source` from its caller's.
    fn dir(&self, path: &[String]) -> Option<PathBuf> {
        let mut dir = self.plan_dir.clone();
        let mut module = self.configuration;
        for name in path {
            let call = module?.get("module_calls")?.get(name)?;
            let source = call.get("source").and_then(Node::as_str)?;
            if !(source.starts_with("./") || source.starts_with("../")) {
                return None;
            }
            dir = super::eval::modules::normalize(&dir.join(source));
            module = call.get("module");
        }
        Some(dir)
    }

    fn files(&mut self, path: &[String]) -> &[LoadedFile] {
        if !self.modules.contains_key(path) {
            let files = self
                .dir(path)
                .map(|d| (self.read_module)(&d))
                .unwrap_or_default();
            self.modules.insert(path.to_vec(), files);
        }
        self.modules.get(path).map_or(&[], Vec::as_slice)
    }

    /// Where `resource` is written, when its module's `.tf` files are at
    /// hand and declare it.
    fn find(&mut self, resource: &Planned) -> Option<Written> {
        let files = self.files(&resource.module_path);
        for f in files {
            for doc in &f.documents {
                for block in doc.get(resource.block).map(Node::items).unwrap_or_default() {
                    let Some(names) = block.get(&resource.ty) else {
                        continue;
                    };
                    for names in names.items() {
                        let Some(entry) = names.entry(&resource.name) else {
                            continue;
                        };
                        let Some(body) = entry.value.items().first() else {
                            continue;
                        };
                        return Some(Written {
                            display: f.display.clone(),
                            source: f.source.clone(),
                            body: body.clone(),
                            header: super::header(block.span, body.span, entry.key_span),
                        });
                    }
                }
            }
        }
        None
    }

    /// Where the root module calls the first module of `path` (file,
    /// line), as a `.tf` scan names the call of a module's findings.
    fn call_site(&mut self, path: &[String]) -> Option<(String, u32)> {
        let first = path.first()?;
        for f in self.files(&[]) {
            for doc in &f.documents {
                for block in doc.get("module").map(Node::items).unwrap_or_default() {
                    if let Some(entry) = block.entry(first) {
                        return Some((f.display.clone(), entry.key_span.start_line));
                    }
                }
            }
        }
        None
    }
}

/// The plan's text with every sensitive value masked (each character of
/// the value's text replaced by `*`, quotes kept, so every span still
/// points where it did): values marked by `after_sensitive`,
/// `before_sensitive`, `sensitive_values`, sensitive variables and
/// outputs, and every other place the same text appears (the prior state,
/// the variables), so no report can quote it.
fn mask_sensitive(
    source: &SourceText,
    document: &Node,
    configuration: Option<&Node>,
) -> SourceText {
    let mut secrets: Vec<Span> = Vec::new();
    for change in document
        .get("resource_changes")
        .map(Node::items)
        .unwrap_or_default()
    {
        if let Some(c) = change.get("change") {
            sensitive_spans(c.get("after"), c.get("after_sensitive"), &mut secrets);
            sensitive_spans(c.get("before"), c.get("before_sensitive"), &mut secrets);
        }
    }
    for values in ["planned_values", "prior_state"] {
        let root = document.get(values).map(|v| {
            v.get("root_module")
                .or(v.get("values").and_then(|v| v.get("root_module")))
        });
        if let Some(Some(root)) = root {
            module_sensitive_spans(root, &mut secrets);
        }
        // Sensitive outputs.
        let outputs = document.get(values).and_then(|v| {
            v.get("outputs")
                .or(v.get("values").and_then(|v| v.get("outputs")))
        });
        if let Some(Value::Object(o)) = outputs.map(|o| &o.value) {
            for e in &o.entries {
                if e.value.get("sensitive").and_then(|s| s.as_bool()) == Some(true) {
                    all_spans(e.value.get("value"), &mut secrets);
                }
            }
        }
    }
    if let Some(Value::Object(o)) = document.get("output_changes").map(|o| &o.value) {
        for e in &o.entries {
            if let Some(c) = e.value.get("change") {
                for (value, marks) in [("after", "after_sensitive"), ("before", "before_sensitive")]
                {
                    if is_true(c.get(marks)) {
                        all_spans(c.get(value), &mut secrets);
                    }
                }
            }
        }
    }
    // Sensitive input variables: their values are in `variables`.
    if let (Some(Value::Object(declared)), Some(values)) = (
        configuration
            .and_then(|c| c.get("variables"))
            .map(|v| &v.value),
        document.get("variables"),
    ) {
        for v in &declared.entries {
            if v.value.get("sensitive").and_then(|s| s.as_bool()) == Some(true) {
                all_spans(
                    values.get(&v.key).and_then(|x| x.get("value")),
                    &mut secrets,
                );
            }
        }
    }
    let base = source.bom_len as usize;
    let text = &source.text;
    let range =
        |s: &Span| Some((s.start as usize).checked_sub(base)?..(s.end as usize).checked_sub(base)?);
    let mut bytes = text.clone().into_bytes();
    // A sensitive string is masked wherever the same string appears (the
    // variables, the prior state); another value (a number) where it is.
    let mut strings: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for span in &secrets {
        let Some(r) = range(span) else { continue };
        match text.get(r.clone()) {
            Some(token) if token.len() >= 2 && token.starts_with('"') => {
                strings.insert(token);
            }
            Some(_) => mask_bytes(&mut bytes[r]),
            None => {}
        }
    }
    // One pass over the string literals of the text (valid JSON: it parsed).
    let raw = text.as_bytes();
    let mut at = 0;
    while at < raw.len() {
        if raw[at] != b'"' {
            at += 1;
            continue;
        }
        let start = at;
        at += 1;
        while at < raw.len() && raw[at] != b'"' {
            at += if raw[at] == b'\\' { 2 } else { 1 };
        }
        let end = (at + 1).min(raw.len());
        if text.get(start..end).is_some_and(|t| strings.contains(t)) && end - start >= 2 {
            mask_bytes(&mut bytes[start + 1..end - 1]);
        }
        at = end;
    }
    SourceText {
        // Only ASCII bytes were written over whole characters' bytes.
        text: String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        bom_len: source.bom_len,
    }
}

/// Overwrites `bytes` with `*`.
fn mask_bytes(bytes: &mut [u8]) {
    bytes.iter_mut().for_each(|b| *b = b'*');
}

/// The spans of the scalar values of `value` that `marks` says are
/// sensitive.
fn sensitive_spans(value: Option<&Node>, marks: Option<&Node>, out: &mut Vec<Span>) {
    let (Some(value), Some(marks)) = (value, marks) else {
        return;
    };
    match (&value.value, &marks.value) {
        (_, Value::Bool(true)) => all_spans(Some(value), out),
        (Value::Object(o), Value::Object(_)) => {
            for e in &o.entries {
                sensitive_spans(Some(&e.value), marks.get(&e.key), out);
            }
        }
        (Value::Array(items), Value::Array(m)) => {
            for (item, mark) in items.iter().zip(m) {
                sensitive_spans(Some(item), Some(mark), out);
            }
        }
        _ => {}
    }
}

/// [`sensitive_spans`] for every resource of a module tree
/// (`planned_values`, `prior_state`).
fn module_sensitive_spans(module: &Node, out: &mut Vec<Span>) {
    for r in module.get("resources").map(Node::items).unwrap_or_default() {
        sensitive_spans(r.get("values"), r.get("sensitive_values"), out);
    }
    for child in module
        .get("child_modules")
        .map(Node::items)
        .unwrap_or_default()
    {
        module_sensitive_spans(child, out);
    }
}

/// The spans of every scalar in `value`.
fn all_spans(value: Option<&Node>, out: &mut Vec<Span>) {
    let Some(value) = value else {
        return;
    };
    match &value.value {
        Value::Object(o) => o
            .entries
            .iter()
            .for_each(|e| all_spans(Some(&e.value), out)),
        Value::Array(items) => items.iter().for_each(|i| all_spans(Some(i), out)),
        Value::Null => {}
        _ => out.push(value.span),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_addresses_split_into_call_names() {
        assert_eq!(
            module_of("module.a[\"x.y\"].module.b[0].aws_s3_bucket.c[\"k\"]").as_deref(),
            Some("module.a[\"x.y\"].module.b[0]")
        );
        assert_eq!(module_of("aws_s3_bucket.c"), None);
        assert_eq!(
            call_names("module.a[\"x.y\"].module.b[0]"),
            vec!["a".to_string(), "b".to_string()]
        );
    }

    #[test]
    fn sensitive_values_are_masked_in_place_wherever_they_appear() {
        let text = r#"{"resource_changes": [{"change": {"after": {"p": "s3cr\"t", "n": 42, "x": 42}, "after_sensitive": {"p": true, "n": true}}}], "variables": {"v": {"value": "s3cr\"t"}}}"#;
        let index = crate::tree::LineIndex::new(text);
        let parsed = crate::parse::json::parse(text, &index, crate::parse::json::Strings::Plain);
        let source = SourceText {
            text: text.to_string(),
            bom_len: 0,
        };
        let masked = mask_sensitive(&source, &parsed.documents[0], None);
        assert_eq!(
            masked.text,
            r#"{"resource_changes": [{"change": {"after": {"p": "*******", "n": **, "x": 42}, "after_sensitive": {"p": true, "n": true}}}], "variables": {"v": {"value": "*******"}}}"#
        );
    }
}
