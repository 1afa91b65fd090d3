//! Local module calls: a `module` block whose `source` is a path inside the
//! scanned tree is instantiated with the arguments of the call, so a bucket
//! made public by the caller (`module "site" { acl = "public-read" }`) is
//! found in the module's file, named under the call
//! (`module.site.aws_s3_bucket.this`).
//!
//! Never a hang, never unbounded work: calls nest at most [`MAX_DEPTH`]
//! deep, a directory already on the call chain is a cycle (reported), and a
//! unit instantiates at most [`MAX_INSTANCES`] modules.

use std::path::{Path, PathBuf};

use super::module::{Inputs, evaluate};
use crate::diagnostic::Diagnostic;
use crate::discover::{Candidate, FoundFile, Origin, classify_name, display_path};
use crate::load::{LoadOptions, LoadedFile, LoadedUnit, load_file};
use crate::platform::Platform;
use crate::tree::Node;

/// Module calls nest at most this deep.
pub const MAX_DEPTH: usize = 8;

/// A unit instantiates at most this many modules, however they nest.
pub const MAX_INSTANCES: usize = 256;

/// A module call found in a module's files.
struct Call {
    /// `module.<name>` under its caller's chain.
    chain: String,
    /// The module's directory.
    dir: PathBuf,
    /// The call's arguments, evaluated in the caller.
    arguments: Vec<(String, Node)>,
    /// Where the call is written, for diagnostics.
    at: (String, u32),
}

/// Instantiates the local module calls of a loaded root module, appending
/// each instance's files (named under their call chain) to `unit`.
pub fn instantiate(unit: &mut LoadedUnit, root: &Path, options: &LoadOptions) {
    let mut budget = MAX_INSTANCES;
    let root_calls = calls(&unit.files, root, None);
    let mut chain_dirs = vec![canonical(root)];
    let mut out_files = Vec::new();
    let mut diagnostics = Vec::new();
    for call in root_calls {
        instantiate_call(
            call,
            options,
            &mut chain_dirs,
            &mut budget,
            &mut out_files,
            &mut diagnostics,
        );
    }
    unit.files.extend(out_files);
    unit.diagnostics.extend(diagnostics);
}

fn canonical(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

fn instantiate_call(
    call: Call,
    options: &LoadOptions,
    chain_dirs: &mut Vec<PathBuf>,
    budget: &mut usize,
    out: &mut Vec<LoadedFile>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let dir = canonical(&call.dir);
    if chain_dirs.contains(&dir) {
        diagnostics.push(Diagnostic::error(
            &call.at.0,
            call.at.1,
            1,
            format!(
                "{} calls a module that is already on its call chain (a cycle); not instantiated",
                call.chain
            ),
        ));
        return;
    }
    if chain_dirs.len() > MAX_DEPTH {
        diagnostics.push(Diagnostic::error(
            &call.at.0,
            call.at.1,
            1,
            format!(
                "{}: modules nest deeper than {MAX_DEPTH} levels; not instantiated",
                call.chain
            ),
        ));
        return;
    }
    if *budget == 0 {
        diagnostics.push(Diagnostic::error(
            &call.at.0,
            call.at.1,
            1,
            format!("{}: more than {MAX_INSTANCES} module instances in one configuration; not instantiated", call.chain),
        ));
        return;
    }
    *budget -= 1;
    let mut loaded = LoadedUnit::default();
    for file in module_files(&call.dir) {
        load_file(&file, options, &mut loaded);
    }
    if loaded.files.is_empty() {
        return;
    }
    // The module directory's own scan reports its read and parse errors.
    loaded.diagnostics.clear();
    let _ = evaluate(&mut loaded.files, Inputs::Call(call.arguments));
    for f in &mut loaded.files {
        f.module = Some(call.chain.clone());
    }
    let nested = calls(&loaded.files, &call.dir, Some(&call.chain));
    out.append(&mut loaded.files);
    chain_dirs.push(dir);
    for inner in nested {
        instantiate_call(inner, options, chain_dirs, budget, out, diagnostics);
    }
    chain_dirs.pop();
}

/// `a/./b/../c` as `a/c`, without touching the file system, so module
/// files are displayed as a user would write their path.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

/// The Terraform files of a module directory, in name order.
fn module_files(dir: &Path) -> Vec<FoundFile> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<FoundFile> = entries
        .flatten()
        .filter_map(|e| {
            let path = e.path();
            let name = path.file_name()?.to_str()?.to_string();
            let candidate = classify_name(&name)?;
            matches!(
                candidate,
                Candidate::TerraformHcl | Candidate::TerraformJson
            )
            .then(|| FoundFile {
                display: display_path(&path),
                path,
                candidate,
                origin: Origin::ModuleContext,
            })
        })
        .collect();
    files.sort();
    files
}

/// The local module calls written in `files` (a module's files), with
/// their arguments as evaluated there.
fn calls(files: &[LoadedFile], dir: &Path, chain: Option<&str>) -> Vec<Call> {
    let mut out = Vec::new();
    for f in files.iter().filter(|f| f.platform == Platform::Terraform) {
        for doc in &f.documents {
            for block in doc.get("module").map(Node::items).unwrap_or_default() {
                for entry in block
                    .as_object()
                    .map(|o| o.entries.as_slice())
                    .unwrap_or_default()
                {
                    for body in entry.value.items() {
                        let Some(source) = body.get("source").and_then(Node::as_str) else {
                            continue;
                        };
                        if !(source.starts_with("./") || source.starts_with("../")) {
                            continue;
                        }
                        // `count = 0` calls nothing.
                        if body
                            .get("count")
                            .and_then(Node::as_number)
                            .is_some_and(|n| n.as_f64() == 0.0)
                        {
                            continue;
                        }
                        let arguments = body
                            .as_object()
                            .map(|o| {
                                o.entries
                                    .iter()
                                    .filter(|a| {
                                        !matches!(
                                            a.key.as_str(),
                                            "source"
                                                | "version"
                                                | "count"
                                                | "for_each"
                                                | "providers"
                                                | "depends_on"
                                        )
                                    })
                                    .map(|a| (a.key.clone(), a.value.clone()))
                                    .collect()
                            })
                            .unwrap_or_default();
                        let name = format!("module.{}", entry.key);
                        out.push(Call {
                            chain: match chain {
                                Some(c) => format!("{c}.{name}"),
                                None => name,
                            },
                            dir: normalize(&dir.join(source)),
                            arguments,
                            at: (f.display.clone(), entry.key_span.start_line),
                        });
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize_lexically() {
        assert_eq!(normalize(Path::new("a/./b/../c")), PathBuf::from("a/c"));
        assert_eq!(
            normalize(Path::new("./modules/x")),
            PathBuf::from("modules/x")
        );
        assert_eq!(normalize(Path::new("../up/x")), PathBuf::from("../up/x"));
        assert_eq!(normalize(Path::new("a/..")), PathBuf::from("."));
    }
}
