//! The values of one Terraform module directory: input variables (as
//! Terraform orders them: defaults, `terraform.tfvars`,
//! `terraform.tfvars.json`, `*.auto.tfvars[.json]` in name order,
//! `--var-file`, `--var`), then `locals` (in any order, across files), then
//! every expression of every block evaluated with them.

use std::path::{Path, PathBuf};

use super::{Scope, eval_node, is_known};
use crate::diagnostic::Diagnostic;
use crate::load::LoadedFile;
use crate::parse;
use crate::platform::Platform;
use crate::source::read_source;
use crate::tree::{LineIndex, Node, Value};

/// Values given on the command line.
#[derive(Clone, Debug, Default)]
pub struct TerraformInputs {
    /// `--var-file FILE`, in order.
    pub var_files: Vec<PathBuf>,
    /// `--var name=value`, in order.
    pub vars: Vec<(String, String)>,
}

/// The tfvars files Terraform loads automatically from a module directory,
/// in the order it loads them.
fn automatic_var_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for name in ["terraform.tfvars", "terraform.tfvars.json"] {
        let p = dir.join(name);
        if p.is_file() {
            files.push(p);
        }
    }
    let mut auto: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                        n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json")
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    auto.sort();
    files.extend(auto);
    files
}

/// The attributes of a tfvars file (HCL or JSON).
fn read_var_file(path: &Path, diagnostics: &mut Vec<Diagnostic>) -> Vec<(String, Node)> {
    let display = crate::discover::display_path(path);
    let source = match read_source(path, crate::source::DEFAULT_MAX_FILE_SIZE) {
        Ok(s) => s,
        Err(e) => {
            diagnostics.push(Diagnostic::error(display, 0, 0, e.to_string()));
            return Vec::new();
        }
    };
    let index = LineIndex::with_base(&source.text, source.bom_len);
    let parsed = if display.ends_with(".json") {
        parse::json::parse(&source.text, &index, parse::json::Strings::Plain)
    } else {
        parse::hcl::parse(&source.text, &index)
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

/// Evaluates the expressions of a module directory's files in place.
/// Returns diagnostics about the variable files read.
pub fn evaluate(files: &mut [LoadedFile], dir: &Path, inputs: &TerraformInputs) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    if files.iter().all(|f| f.platform != Platform::Terraform) {
        return diagnostics;
    }
    let mut scope = Scope::default();
    // Declared variables and their defaults.
    let mut declared: Vec<String> = Vec::new();
    for f in files.iter() {
        for doc in &f.documents {
            for block in doc.get("variable").map(Node::items).unwrap_or_default() {
                for var in block
                    .as_object()
                    .map(|o| o.entries.as_slice())
                    .unwrap_or_default()
                {
                    declared.push(var.key.clone());
                    for body in var.value.items() {
                        if let Some(default) = body.get("default") {
                            let value = eval_node(default, &Scope::default());
                            if is_known(&value) {
                                scope.vars.insert(var.key.clone(), value);
                            }
                        }
                    }
                }
            }
        }
    }
    // Variable files and the command line, later ones winning.
    let mut assignments: Vec<(String, Node)> = Vec::new();
    for path in automatic_var_files(dir).iter().chain(&inputs.var_files) {
        assignments.extend(read_var_file(path, &mut diagnostics));
    }
    assignments.extend(inputs.vars.iter().map(|(k, v)| (k.clone(), cli_value(v))));
    for (name, value) in assignments {
        if !declared.contains(&name) {
            continue;
        }
        let value = eval_node(&value, &Scope::default());
        if is_known(&value) {
            scope.vars.insert(name, value);
        } else {
            scope.vars.remove(&name);
        }
    }
    // Locals, in dependency order whatever the order written: evaluate until
    // a pass learns nothing new (a cycle stays unknown).
    let mut pending: Vec<(String, Node)> = Vec::new();
    for f in files.iter() {
        for doc in &f.documents {
            for block in doc.get("locals").map(Node::items).unwrap_or_default() {
                for local in block
                    .as_object()
                    .map(|o| o.entries.as_slice())
                    .unwrap_or_default()
                {
                    pending.push((local.key.clone(), local.value.clone()));
                }
            }
        }
    }
    for _ in 0..=pending.len() {
        let mut learned = false;
        for (name, value) in &pending {
            let evaluated = eval_node(value, &scope);
            // An expression still entirely unevaluated tells nothing yet.
            let nothing_known = matches!(evaluated.value, Value::Expr(_));
            if !nothing_known && scope.locals.get(name) != Some(&evaluated) {
                scope.locals.insert(name.clone(), evaluated);
                learned = true;
            }
        }
        if !learned {
            break;
        }
    }
    // Every expression of every block, except variable declarations.
    for f in files.iter_mut() {
        for doc in &mut f.documents {
            let Value::Object(root) = &mut doc.value else {
                continue;
            };
            for entry in root.entries.iter_mut().filter(|e| e.key != "variable") {
                evaluate_in_place(&mut entry.value, &scope);
            }
        }
    }
    diagnostics
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
