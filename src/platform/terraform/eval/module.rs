//! The values of one Terraform module directory: input variables (as
//! Terraform orders them: defaults, `terraform.tfvars`,
//! `terraform.tfvars.json`, `*.auto.tfvars[.json]` in name order,
//! `--var-file`, `--var`), then `locals` (in dependency order, across files), then
//! every expression of every block evaluated with them.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::budget::Budget;
use super::{Scope, eval_node, is_known, order};
use crate::diagnostic::Diagnostic;
use crate::parse;
use crate::platform::LoadedFile;
use crate::platform::Platform;
use crate::tree::{LineIndex, Node, Value};

/// Values given on the command line, and the reads evaluation may make.
#[derive(Clone, Debug)]
pub struct TerraformInputs {
    /// Where evaluation reads files and modules.
    pub disk: std::sync::Arc<dyn super::Disk>,
    /// `--var-file FILE`, in order.
    pub var_files: Vec<PathBuf>,
    /// `--var name=value`, in order.
    pub vars: Vec<(String, String)>,
    /// The scanned paths, canonical: `file()` reads nothing outside them.
    pub roots: Vec<PathBuf>,
    /// Directories of downloaded modules (`--module-dir`):
    /// where remote module sources are looked for after the root module's
    /// own `.terraform/modules`; as given, so files are named as the
    /// user names them.
    pub module_dirs: Vec<PathBuf>,
}

/// The tfvars files Terraform loads automatically from a module directory,
/// in the order it loads them.
fn automatic_var_files(dir: &Path, disk: &dyn super::Disk) -> Vec<PathBuf> {
    let names = disk.list(dir);
    let named = |suffix: &str| -> Vec<PathBuf> {
        names
            .iter()
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(suffix))
            })
            .cloned()
            .collect()
    };
    // Any kind of file: reading refuses one that is not regular (a FIFO)
    // with a diagnostic instead of it being ignored silently.
    let mut files: Vec<PathBuf> = ["terraform.tfvars", "terraform.tfvars.json"]
        .iter()
        .map(|name| dir.join(name))
        .filter(|p| names.contains(p))
        .collect();
    let mut auto = named(".auto.tfvars");
    auto.extend(named(".auto.tfvars.json"));
    auto.sort();
    files.extend(auto);
    files
}

/// The attributes of a tfvars file (HCL or JSON).
fn read_var_file(
    path: &Path,
    disk: &dyn super::Disk,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<(String, Node)> {
    let display = disk.display(path);
    let text = match disk.read(path, VAR_FILE_CAP) {
        Ok(text) => text,
        Err(e) => {
            diagnostics.push(Diagnostic::error(display, 0, 0, e));
            return Vec::new();
        }
    };
    let index = LineIndex::new(&text);
    let parsed = if display.ends_with(".json") {
        parse::json::parse(&text, &index, parse::json::Strings::Plain)
    } else {
        parse::hcl::parse(&text, &index)
    };
    for e in &parsed.errors {
        diagnostics.push(Diagnostic::error(
            &display,
            e.line,
            e.column,
            e.message.clone(),
        ));
    }
    parsed
        .documents
        .into_iter()
        .next()
        .and_then(|d| match d.value {
            Value::Object(o) => Some(o.entries.into_iter().map(|e| (e.key, e.value)).collect()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Variable files larger than this are not read.
const VAR_FILE_CAP: u64 = 5 * 1024 * 1024;

/// A `--var` value: HCL for lists and maps, a string otherwise (as
/// Terraform reads primitive values given on the command line).
fn cli_value(text: &str) -> Node {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        let source = format!("v = {text}\n");
        let index = LineIndex::new(&source);
        let parsed = parse::hcl::parse(&source, &index);
        if let Some(v) = parsed.documents.first().and_then(|d| d.get("v")) {
            return v.clone();
        }
    }
    Node::new(Value::String(text.to_string()), Default::default())
}

/// Where a module's input variables get their values, besides defaults.
pub enum Inputs {
    /// The root module of a scan: its tfvars files and the command line.
    Root,
    /// A module called by another: the arguments of the `module` block,
    /// already evaluated in the caller (unknown ones stay unknown).
    Call(Vec<(String, Node)>),
}

/// Evaluates the expressions of the files of the module in `dir` in place,
/// with a budget of its own. Returns diagnostics about the variable files
/// read and the values left unknown for lack of budget.
pub fn evaluate(
    files: &mut [LoadedFile],
    dir: &Path,
    context: &TerraformInputs,
    inputs: Inputs,
) -> Vec<Diagnostic> {
    evaluate_with_budget(files, dir, context, inputs, &Rc::new(Budget::default()))
}

/// [`evaluate`], spending from `budget` (shared by the module instances
/// of one configuration).
pub fn evaluate_with_budget(
    files: &mut [LoadedFile],
    dir: &Path,
    context: &TerraformInputs,
    inputs: Inputs,
    budget: &Rc<Budget>,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    if files.iter().all(|f| f.platform != Platform::Terraform) {
        return diagnostics;
    }
    let mut scope = Scope {
        files: Some(std::sync::Arc::new(super::FileAccess {
            disk: context.disk.clone(),
            module_dir: dir.to_path_buf(),
            roots: context.roots.clone(),
            refused: Default::default(),
        })),
        budget: budget.clone(),
        ..Scope::default()
    };
    // Declared variables and their defaults (which can refer to nothing).
    let mut declared: HashSet<String> = HashSet::new();
    for f in files.iter() {
        let bare = Scope {
            budget: budget.clone(),
            file: f.display.as_str().into(),
            ..Scope::default()
        };
        for doc in &f.documents {
            for block in doc.get("variable").map(Node::items).unwrap_or_default() {
                for var in block
                    .as_object()
                    .map(|o| o.entries.as_slice())
                    .unwrap_or_default()
                {
                    declared.insert(var.key.clone());
                    for body in var.value.items() {
                        if let Some(default) = body.get("default") {
                            let value = eval_node(default, &bare);
                            if is_known(&value) {
                                Rc::make_mut(&mut scope.vars).insert(var.key.clone(), value);
                            }
                        }
                    }
                }
            }
        }
    }
    // Variable files and the command line, later ones winning.
    let mut assignments: Vec<(String, Node)> = Vec::new();
    match inputs {
        Inputs::Root => {
            let disk = context.disk.as_ref();
            for path in automatic_var_files(dir, disk)
                .iter()
                .chain(&context.var_files)
            {
                assignments.extend(read_var_file(path, disk, &mut diagnostics));
            }
            assignments.extend(context.vars.iter().map(|(k, v)| (k.clone(), cli_value(v))));
        }
        Inputs::Call(arguments) => assignments = arguments,
    }
    let bare = Scope {
        budget: budget.clone(),
        ..Scope::default()
    };
    for (name, value) in assignments {
        if !declared.contains(&name) {
            continue;
        }
        let value = eval_node(&value, &bare);
        if is_known(&value) {
            Rc::make_mut(&mut scope.vars).insert(name, value);
        } else {
            Rc::make_mut(&mut scope.vars).remove(&name);
        }
    }
    evaluate_locals(files, &mut scope, &mut diagnostics);
    // Policy documents, so `policy = data.aws_iam_policy_document.p.json`
    // reads as the policy JSON it produces. Documents may build on others
    // (`source_policy_documents`), so a few passes settle them.
    for _ in 0..3 {
        for f in files.iter() {
            scope.file = f.display.as_str().into();
            for doc in &f.documents {
                for (name, body) in data_bodies(doc, "aws_iam_policy_document") {
                    let mut body = body.clone();
                    evaluate_body(&mut body, &scope);
                    if let Some(json) =
                        crate::platform::terraform::eval::policy::document_json(&body)
                    {
                        let span = body.span;
                        let attrs = Node::new(
                            Value::Object(crate::tree::Object {
                                entries: vec![crate::tree::Entry {
                                    key: "json".into(),
                                    key_span: span,
                                    value: Node::new(Value::String(json), span),
                                }],
                            }),
                            span,
                        );
                        Rc::make_mut(&mut scope.data)
                            .insert(format!("aws_iam_policy_document.{name}"), attrs);
                    }
                }
            }
        }
    }
    // Every expression of every block, except variable declarations;
    // resources and data sources with `count` or `for_each` become one
    // body per instance, and `dynamic` blocks are expanded.
    for f in files.iter_mut() {
        scope.file = f.display.as_str().into();
        for doc in &mut f.documents {
            let Value::Object(root) = &mut doc.value else {
                continue;
            };
            for entry in root.entries.iter_mut().filter(|e| e.key != "variable") {
                if entry.key == "resource" || entry.key == "data" {
                    for block in items_mut(&mut entry.value) {
                        for ty in object_entries_mut(block) {
                            for name in items_mut(&mut ty.value) {
                                for instance in object_entries_mut(name) {
                                    expand_instances(&mut instance.value, &scope);
                                }
                            }
                        }
                    }
                } else if entry.key == "module" {
                    // A module call with `count`/`for_each` is one call per
                    // instance (none when empty), as a resource is.
                    for block in items_mut(&mut entry.value) {
                        for call in object_entries_mut(block) {
                            expand_instances(&mut call.value, &scope);
                        }
                    }
                } else {
                    evaluate_in_place(&mut entry.value, &scope);
                }
            }
        }
    }
    if let Some(files) = &scope.files {
        diagnostics.extend(files.take_refused());
    }
    diagnostics.extend(budget.take_diagnostics());
    diagnostics
}

/// One `name = value` of a `locals` block.
struct Local {
    name: String,
    value: Node,
    /// The file it is written in (display path) and where its name is.
    file: Rc<str>,
    at: crate::tree::Span,
}

/// Evaluates the module's locals into `scope`, each once, in dependency
/// order whatever the order written (across files). A local in a cycle of
/// references stays unknown, with a diagnostic per cycle.
fn evaluate_locals(files: &[LoadedFile], scope: &mut Scope, diagnostics: &mut Vec<Diagnostic>) {
    let mut locals: Vec<Local> = Vec::new();
    for f in files {
        let file: Rc<str> = f.display.as_str().into();
        for doc in &f.documents {
            for block in doc.get("locals").map(Node::items).unwrap_or_default() {
                for local in block
                    .as_object()
                    .map(|o| o.entries.as_slice())
                    .unwrap_or_default()
                {
                    locals.push(Local {
                        name: local.key.clone(),
                        value: local.value.clone(),
                        file: file.clone(),
                        at: local.key_span,
                    });
                }
            }
        }
    }
    // A name written twice (which Terraform rejects) is its last value.
    let by_name: HashMap<&str, usize> = locals
        .iter()
        .enumerate()
        .map(|(i, l)| (l.name.as_str(), i))
        .collect();
    let deps: Vec<Vec<usize>> = locals
        .iter()
        .map(|l| {
            let mut names = Vec::new();
            local_references(&l.value, &mut names);
            let mut deps: Vec<usize> = names
                .iter()
                .filter_map(|n| by_name.get(n.as_str()).copied())
                .collect();
            deps.sort_unstable();
            deps.dedup();
            deps
        })
        .collect();
    for component in order::components(&deps) {
        if order::is_cycle(&component, &deps) {
            diagnostics.push(cycle_diagnostic(&component, &locals));
            continue;
        }
        for i in component {
            let local = &locals[i];
            if by_name.get(local.name.as_str()) != Some(&i) {
                continue;
            }
            scope.file = local.file.clone();
            let evaluated = eval_node(&local.value, scope);
            // An expression still entirely unevaluated tells nothing.
            if !matches!(evaluated.value, Value::Expr(_)) {
                Rc::make_mut(&mut scope.locals).insert(local.name.clone(), evaluated);
            }
        }
    }
}

/// The names of the locals `node` refers to (`local.<name>...`).
fn local_references(node: &Node, out: &mut Vec<String>) {
    match &node.value {
        Value::Expr(e) => out.extend(e.references.iter().filter_map(|r| {
            let rest = r.strip_prefix("local.")?;
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            Some(rest[..end].to_string())
        })),
        Value::Array(items) => items.iter().for_each(|i| local_references(i, out)),
        Value::Object(o) => o
            .entries
            .iter()
            .for_each(|e| local_references(&e.value, out)),
        _ => {}
    }
}

/// One diagnostic for a cycle of locals, at its first member written.
fn cycle_diagnostic(component: &[usize], locals: &[Local]) -> Diagnostic {
    const SHOWN: usize = 5;
    let mut members: Vec<&Local> = component.iter().map(|&i| &locals[i]).collect();
    members.sort_by(|a, b| (&a.file, a.at.start).cmp(&(&b.file, b.at.start)));
    let first = members[0];
    let mut names: Vec<String> = members
        .iter()
        .take(SHOWN)
        .map(|l| format!("local.{}", l.name))
        .collect();
    if members.len() > SHOWN {
        names.push(format!("and {} more", members.len() - SHOWN));
    }
    Diagnostic::error(
        first.file.as_ref(),
        first.at.start_line,
        first.at.start_col,
        format!(
            "locals refer to each other in a cycle ({}); left unknown",
            names.join(", ")
        ),
    )
}

/// The bodies of the `data "<ty>" "<name>"` blocks of a document.
fn data_bodies<'a>(doc: &'a Node, ty: &str) -> Vec<(String, &'a Node)> {
    let mut out = Vec::new();
    for block in doc.get("data").map(Node::items).unwrap_or_default() {
        for names in block.get(ty).map(Node::items).unwrap_or_default() {
            for entry in names
                .as_object()
                .map(|o| o.entries.as_slice())
                .unwrap_or_default()
            {
                for body in entry.value.items() {
                    out.push((entry.key.clone(), body));
                }
            }
        }
    }
    out
}

fn items_mut(node: &mut Node) -> Vec<&mut Node> {
    if matches!(node.value, Value::Array(_)) {
        match &mut node.value {
            Value::Array(items) => items.iter_mut().collect(),
            _ => Vec::new(),
        }
    } else {
        vec![node]
    }
}

fn object_entries_mut(node: &mut Node) -> Vec<&mut crate::tree::Entry> {
    match &mut node.value {
        Value::Object(o) => o.entries.iter_mut().collect(),
        _ => Vec::new(),
    }
}

/// The key under which an instance body records its instance
/// (`["logs"]`, `[0]`), so the entity is named `aws_s3_bucket.b["logs"]`.
pub const INSTANCE_KEY: &str = "@instance";

/// Evaluates a resource or module call body; with a known `count` or
/// `for_each`, replaces
/// it by one body per instance, each evaluated with its `count.index` or
/// `each.key`/`each.value`. With an unknown one, the body is evaluated
/// once, as a template.
fn expand_instances(body: &mut Node, scope: &Scope) {
    let bodies: Vec<Node> = body.items().to_vec();
    let mut out = Vec::new();
    for original in bodies {
        let instances = instance_bindings(&original, scope).filter(|list| {
            charge_copies(&original, list.len(), "the instances of this block", scope)
        });
        match instances {
            Some(list) => {
                for (label, binding) in list {
                    let mut instance = original.clone();
                    let inner = scope.with_binding(binding);
                    evaluate_body(&mut instance, &inner);
                    if let Value::Object(o) = &mut instance.value {
                        o.entries.push(crate::tree::Entry {
                            key: INSTANCE_KEY.to_string(),
                            key_span: instance.span,
                            value: Node::new(Value::String(label), instance.span),
                        });
                    }
                    out.push(instance);
                }
            }
            None => {
                let mut template = original.clone();
                evaluate_body(&mut template, scope);
                out.push(template);
            }
        }
    }
    let span = body.span;
    *body = if out.len() == 1 {
        out.pop().unwrap_or_else(|| Node::new(Value::Null, span))
    } else {
        Node::new(Value::Array(out), span)
    };
}

/// Counts `copies` copies of `node` (`what`, for the diagnostic) against
/// the module's budget before they are made; false, with the module's one
/// diagnostic, when that spends it.
fn charge_copies(node: &Node, copies: usize, what: &str, scope: &Scope) -> bool {
    if scope.budget.charge_copies(node, copies) {
        return true;
    }
    scope.budget.refuse_spent(
        &scope.file,
        node.span.start_line,
        node.span.start_col,
        format!(
            "evaluation stopped at {what} ({copies} copies): the module's evaluation budget is spent ({}); they and later expressions are left unknown",
            scope.budget.spent_on()
        ),
    );
    false
}

/// Reports a `count` or `for_each` (`node`) with more instances than
/// rampart expands.
fn too_many_instances(node: &Node, what: &str, n: f64, scope: &Scope) {
    scope.budget.note(
        &scope.file,
        node.span.start_line,
        node.span.start_col,
        format!(
            "{what} gives {n} instances, more than the {MAX_INSTANCES} rampart expands; the block is evaluated once, with {what} unknown"
        ),
    );
}

/// `{key = .., value = ..}`: what `each`, and a dynamic block's iterator,
/// are bound to.
fn key_value(key: Node, value: Node, span: crate::tree::Span) -> Node {
    let entry = |k: &str, v: Node| crate::tree::Entry {
        key: k.into(),
        key_span: span,
        value: v,
    };
    Node::new(
        Value::Object(crate::tree::Object {
            entries: vec![entry("key", key), entry("value", value)],
        }),
        span,
    )
}

/// A resource expands into at most this many instances (`count`,
/// `for_each`); past it, it is evaluated once, as a template.
const MAX_INSTANCES: usize = 1024;

/// The instances a body's `count` or `for_each` declares, when known: each
/// with its label and its binding.
fn instance_bindings(body: &Node, scope: &Scope) -> Option<Vec<(String, (String, Node))>> {
    let span = body.span;
    let str_node = |s: &str| Node::new(Value::String(s.to_string()), span);
    if let Some(count) = body.get("count") {
        let count = eval_node(count, scope);
        let n = count.as_number()?.as_f64();
        if n > MAX_INSTANCES as f64 {
            too_many_instances(&count, "count", n, scope);
            return None;
        }
        if n < 0.0 || n.fract() != 0.0 {
            return None;
        }
        return Some(
            (0..n as i64)
                .map(|i| {
                    let index = Node::new(Value::Number(crate::tree::Number::Int(i)), span);
                    let binding = Node::new(
                        Value::Object(crate::tree::Object {
                            entries: vec![crate::tree::Entry {
                                key: "index".into(),
                                key_span: span,
                                value: index,
                            }],
                        }),
                        span,
                    );
                    (format!("[{i}]"), ("count".to_string(), binding))
                })
                .collect(),
        );
    }
    let for_each = eval_node(body.get("for_each")?, scope);
    if !is_known(&for_each) {
        return None;
    }
    let pairs: Vec<(String, Node)> = match &for_each.value {
        Value::Object(o) => o
            .entries
            .iter()
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(|s| (s.to_string(), i.clone())))
            .collect::<Option<_>>()?,
        _ => return None,
    };
    if pairs.len() > MAX_INSTANCES {
        too_many_instances(&for_each, "for_each", pairs.len() as f64, scope);
        return None;
    }
    Some(
        pairs
            .into_iter()
            .map(|(k, v)| {
                (
                    format!("[{k:?}]"),
                    ("each".to_string(), key_value(str_node(&k), v, span)),
                )
            })
            .collect(),
    )
}

/// Evaluates a block body in place, expanding its `dynamic` blocks.
fn evaluate_body(body: &mut Node, scope: &Scope) {
    expand_dynamic(body, scope);
    evaluate_in_place(body, scope);
}

/// Replaces each `dynamic "x" { for_each = ..., content { ... } }` whose
/// `for_each` is known by the `x` blocks it generates. One whose `for_each`
/// is unknown stays, and makes `x` unknown to queries.
fn expand_dynamic(body: &mut Node, scope: &Scope) {
    let Value::Object(obj) = &mut body.value else {
        return;
    };
    let Some(pos) = obj.entries.iter().position(|e| e.key == "dynamic") else {
        // Nested blocks may hold dynamic blocks of their own.
        for e in obj.entries.iter_mut() {
            for item in items_mut(&mut e.value) {
                if item.as_object().is_some() {
                    expand_dynamic(item, scope);
                }
            }
        }
        return;
    };
    let dynamic = obj.entries[pos].value.clone();
    let mut remaining = Vec::new();
    for group in dynamic.items() {
        for block in group
            .as_object()
            .map(|o| o.entries.as_slice())
            .unwrap_or_default()
        {
            for spec in block.value.items() {
                match generate(&block.key, spec, scope) {
                    Some(generated) => {
                        for g in generated {
                            push_block(obj, &block.key, g);
                        }
                    }
                    None => remaining.push(block.clone()),
                }
            }
        }
    }
    if remaining.is_empty() {
        obj.entries.retain(|e| e.key != "dynamic");
    } else {
        let span = obj.entries[pos].value.span;
        obj.entries[pos].value = Node::new(
            Value::Object(crate::tree::Object { entries: remaining }),
            span,
        );
    }
    for e in obj.entries.iter_mut().filter(|e| e.key != "dynamic") {
        for item in items_mut(&mut e.value) {
            if item.as_object().is_some() {
                expand_dynamic(item, scope);
            }
        }
    }
}

/// The blocks one dynamic block generates, when its `for_each` is known.
fn generate(name: &str, spec: &Node, scope: &Scope) -> Option<Vec<Node>> {
    let for_each = eval_node(spec.get("for_each")?, scope);
    if !is_known(&for_each) {
        return None;
    }
    let iterator = spec.get("iterator").and_then(|i| match &i.value {
        Value::String(s) => Some(s.clone()),
        Value::Expr(e) => Some(e.source.clone()),
        _ => None,
    });
    let iterator = iterator.unwrap_or_else(|| name.to_string());
    let content = spec.get("content")?;
    let span = content.span;
    let elements: Vec<(Node, Node)> = match &for_each.value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                (
                    Node::new(Value::Number(crate::tree::Number::Int(i as i64)), span),
                    v.clone(),
                )
            })
            .collect(),
        Value::Object(o) => o
            .entries
            .iter()
            .map(|e| {
                (
                    Node::new(Value::String(e.key.clone()), span),
                    e.value.clone(),
                )
            })
            .collect(),
        _ => return None,
    };
    if !charge_copies(spec, elements.len(), &format!("dynamic \"{name}\""), scope) {
        return None;
    }
    let mut out = Vec::new();
    for (key, value) in elements {
        let binding = key_value(key, value, span);
        let inner = scope.with_binding((iterator.clone(), binding));
        let mut block = content.clone();
        evaluate_body(&mut block, &inner);
        // A generated block is where its `dynamic` block is written: a
        // finding about the block, or a suppression above it, lands there.
        block.span = spec.span;
        out.push(block);
    }
    Some(out)
}

/// Adds a generated block under `key`, as a written one would be: an object
/// the first time, an array once there are several.
fn push_block(obj: &mut crate::tree::Object, key: &str, block: Node) {
    match obj.entries.iter_mut().find(|e| e.key == key) {
        Some(entry) => {
            let span = entry.value.span;
            match &mut entry.value.value {
                Value::Array(items) => items.push(block),
                _ => {
                    let first = std::mem::replace(&mut entry.value, Node::new(Value::Null, span));
                    entry.value = Node::new(Value::Array(vec![first, block]), span);
                }
            }
        }
        None => obj.entries.push(crate::tree::Entry {
            key: key.to_string(),
            key_span: block.span,
            value: block,
        }),
    }
}

fn evaluate_in_place(node: &mut Node, scope: &Scope) {
    match &mut node.value {
        Value::Expr(_) => *node = eval_node(node, scope),
        Value::Array(items) => items.iter_mut().for_each(|n| evaluate_in_place(n, scope)),
        Value::Object(o) => o
            .entries
            .iter_mut()
            .for_each(|e| evaluate_in_place(&mut e.value, scope)),
        _ => {}
    }
}
