//! Module calls: a `module` block whose `source` is a path inside the
//! scanned tree, or a module `terraform init` downloaded (found through
//! `.terraform/modules/modules.json`), is instantiated with the arguments of
//! the call, so a bucket
//! made public by the caller (`module "site" { acl = "public-read" }`) is
//! found in the module's file, named under the call
//! (`module.site.aws_s3_bucket.this`).
//!
//! Never a hang, never unbounded work: calls nest at most [`MAX_DEPTH`]
//! deep, a directory already on the call chain is a cycle (reported), a
//! unit instantiates at most [`MAX_INSTANCES`] modules, and the instances
//! of a unit share one evaluation budget.
//!
//! Never a read where the user did not ask: a module directory outside the
//! scanned paths and their repository (`source = "../../../../elsewhere"`,
//! or an absolute `Dir` in `modules.json`) is not read, and the call is
//! named in a diagnostic (issue 21, item 20).

use std::path::{Path, PathBuf};

use std::rc::Rc;

use super::budget::Budget;
use super::module::TerraformInputs;
use super::module::{INSTANCE_KEY, Inputs, evaluate_with_budget};
use crate::diagnostic::{Diagnostic, Level};
use crate::platform::{LoadedFile, Platform};
use crate::tree::Node;

/// Module calls nest at most this deep.
pub const MAX_DEPTH: usize = 8;

/// A unit instantiates at most this many modules, however they nest.
pub const MAX_INSTANCES: usize = 256;

/// A module call found in a module's files.
struct Call {
    /// `module.<name>` under its caller's chain.
    chain: String,
    /// The call's key in `.terraform/modules/modules.json` (`vpc.subnets`).
    key: String,
    /// The `source` as written.
    source: String,
    /// The module's directory.
    dir: PathBuf,
    /// The call's arguments, evaluated in the caller.
    arguments: Vec<(String, Node)>,
    /// Where the call is written, for diagnostics.
    at: (String, u32),
}

/// What instantiating a root module's calls keeps track of.
struct State {
    /// Module instances left to make.
    instances_left: usize,
    /// The directories modules may be read from (canonical).
    allowed: Vec<PathBuf>,
    /// What evaluating every instance may spend, together.
    budget: Rc<Budget>,
    /// The directories on the current call chain, for cycles.
    chain_dirs: Vec<PathBuf>,
    /// Downloaded modules, by call key.
    manifest: Vec<(String, PathBuf)>,
    /// Instances already evaluated, by (directory, arguments): a module
    /// called the same way twice is read and evaluated once.
    cache: std::collections::HashMap<(PathBuf, String), Vec<LoadedFile>>,
    /// The call written in the root module that the current chain started
    /// from: what a finding deep in nested modules names as its caller.
    outermost: Option<(String, u32)>,
    /// Calls to remote sources rampart has no download of, in order met.
    unresolved: Vec<Unresolved>,
    /// The instance cap was reached and said so: one diagnostic, not one
    /// per instance left out (a `for_each` of hundreds).
    cap_reported: bool,

    out: Vec<LoadedFile>,
    diagnostics: Vec<Diagnostic>,
}

/// Instantiates the module calls of a loaded root module, appending each
/// instance's files (named under their call chain) to `unit`.
pub fn instantiate(
    files: &mut Vec<LoadedFile>,
    diagnostics: &mut Vec<Diagnostic>,
    root: &Path,
    context: &TerraformInputs,
) {
    let mut state = State {
        instances_left: MAX_INSTANCES,
        allowed: allowed_dirs(context, root),
        budget: Rc::new(Budget::default()),
        chain_dirs: vec![canonical(root)],
        manifest: manifest(root, context),
        cache: std::collections::HashMap::new(),
        outermost: None,
        unresolved: Vec::new(),
        cap_reported: false,
        out: Vec::new(),
        diagnostics: Vec::new(),
    };
    for call in calls(files, root, None, &state.manifest, &mut state.unresolved) {
        instantiate_call(call, context, &mut state);
    }
    files.extend(state.out);
    diagnostics.extend(state.diagnostics);
    diagnostics.extend(unresolved_notices(&state.unresolved));
}

/// A module call (one instance) whose remote source has no download.
struct Unresolved {
    source: String,
    /// Where the call is written.
    at: (String, u32),
}

/// One notice per remote source not seen into, at its first call, with
/// the number of calls (instances) rampart could not check inside.
fn unresolved_notices(unresolved: &[Unresolved]) -> Vec<Diagnostic> {
    let mut sources: Vec<(&str, &(String, u32), usize)> = Vec::new();
    for u in unresolved {
        match sources.iter_mut().find(|(s, _, _)| *s == u.source) {
            Some((_, _, n)) => *n += 1,
            None => sources.push((&u.source, &u.at, 1)),
        }
    }
    sources
        .into_iter()
        .map(|(source, (file, line), n)| {
            Diagnostic::notice(
                file,
                *line,
                1,
                format!(
                    "module source \"{source}\" is not downloaded (not in .terraform/modules): {n} module call{} not checked inside; run `terraform init` or pass --module-dir",
                    if n == 1 { "" } else { "s" }
                ),
            )
        })
        .collect()
}

fn canonical(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// Where modules may be read from: the scanned paths (the directory of a
/// scanned file), or the unit's own directory when none are known, each
/// with the repository it is in (a scanned `envs/prod` may call
/// `../../modules/vpc`); as `file()`, nothing else on the disk.
pub fn allowed_dirs(context: &TerraformInputs, unit_dir: &Path) -> Vec<PathBuf> {
    let roots = &context.roots;
    let scanned: Vec<PathBuf> = if roots.is_empty() {
        vec![canonical(unit_dir)]
    } else {
        roots
            .iter()
            .map(|r| match r.parent() {
                Some(parent) if r.is_file() => parent.to_path_buf(),
                _ => r.clone(),
            })
            .collect()
    };
    let mut allowed = scanned.clone();
    // Downloaded modules the user pointed at are read as asked.
    allowed.extend(context.module_dirs.iter().map(|d| canonical(d)));
    allowed.extend(
        scanned
            .iter()
            .filter_map(|d| context.disk.repository_root(d)),
    );
    allowed
}

/// Whether `path` (canonical) is inside one of the `allowed` directories.
fn is_allowed(path: &Path, allowed: &[PathBuf]) -> bool {
    allowed.iter().any(|a| path.starts_with(a))
}

/// A `modules.json` larger than this is not read.
const MANIFEST_CAP: u64 = 5 * 1024 * 1024;

/// Where each downloaded module is, by call key: first
/// `.terraform/modules/modules.json` of the root module (written by
/// `terraform init`), then each `--module-dir`: its `modules.json` (whose
/// `.terraform/modules/x` paths are read as `x` inside it), then its
/// subdirectories by name (`terraform init` names them by call key).
fn manifest(root: &Path, context: &TerraformInputs) -> Vec<(String, PathBuf)> {
    let mut out = read_manifest(
        &root.join(".terraform/modules/modules.json"),
        context,
        |dir| normalize(&root.join(dir)),
    );
    for downloads in &context.module_dirs {
        out.extend(read_manifest(
            &downloads.join("modules.json"),
            context,
            |dir| {
                let dir = normalize(Path::new(dir));
                match dir.strip_prefix(".terraform/modules") {
                    Ok(rest) => downloads.join(rest),
                    Err(_) => downloads.join(dir),
                }
            },
        ));
        out.extend(
            context
                .disk
                .list(downloads)
                .into_iter()
                .filter(|p| p.is_dir())
                .filter_map(|p| Some((p.file_name()?.to_str()?.to_string(), p.clone()))),
        );
    }
    out
}

/// The entries of one `modules.json`, their `Dir` resolved by `resolve`.
fn read_manifest(
    path: &Path,
    context: &TerraformInputs,
    resolve: impl Fn(&str) -> PathBuf,
) -> Vec<(String, PathBuf)> {
    // Through the safe reader: a FIFO there must not hang the scan.
    let Ok(text) = context.disk.read(path, MANIFEST_CAP) else {
        return Vec::new();
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    json["Modules"]
        .as_array()
        .map(|modules| {
            modules
                .iter()
                .filter_map(|m| {
                    let key = m["Key"].as_str()?;
                    let dir = m["Dir"].as_str()?;
                    (!key.is_empty()).then(|| (key.to_string(), resolve(dir)))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn instantiate_call(call: Call, context: &TerraformInputs, state: &mut State) {
    if state.chain_dirs.len() == 1 {
        state.outermost = Some(call.at.clone());
    }
    let dir = canonical(&call.dir);
    // A module that is not there (a partial checkout, a test fixture) has
    // nothing to read, as before.
    if !dir.is_dir() {
        return;
    }
    // One not to be read is skipped on purpose (a notice); one that cannot
    // be instantiated as written is an error.
    let problem = if !is_allowed(&dir, &state.allowed) {
        Some((
            Level::Notice,
            format!(
                "source \"{}\" is {}, outside the scanned paths and their repository",
                call.source,
                context.disk.display(&dir)
            ),
        ))
    } else if state.chain_dirs.contains(&dir) {
        Some((
            Level::Error,
            "calls a module that is already on its call chain (a cycle)".to_string(),
        ))
    } else if state.chain_dirs.len() > MAX_DEPTH {
        Some((
            Level::Error,
            format!("modules nest deeper than {MAX_DEPTH} levels"),
        ))
    } else if state.instances_left == 0 {
        if state.cap_reported {
            return;
        }
        state.cap_reported = true;
        Some((
            Level::Error,
            format!(
                "more than {MAX_INSTANCES} module instances in one configuration (this and later instances)"
            ),
        ))
    } else {
        None
    };
    if let Some((level, problem)) = problem {
        let message = format!("{} {problem}; not instantiated", call.chain);
        let (file, line) = (&call.at.0, call.at.1);
        state.diagnostics.push(match level {
            Level::Error => Diagnostic::error(file, line, 1, message),
            Level::Notice => Diagnostic::notice(file, line, 1, message),
        });
        return;
    }
    state.instances_left -= 1;
    let arguments: Vec<(String, serde_json::Value)> = call
        .arguments
        .iter()
        .map(|(k, v)| (k.clone(), v.to_json()))
        .collect();
    let cache_key = (
        dir.clone(),
        serde_json::to_string(&arguments).unwrap_or_default(),
    );
    let mut files = match state.cache.get(&cache_key) {
        Some(files) => files.clone(),
        None => {
            let mut module_files = context.disk.module_files(&call.dir, &state.allowed);
            // The module directory's own scan reports its read and parse
            // errors; what the instance adds is its evaluation's own (a
            // value over budget with the caller's arguments).
            let diagnostics = evaluate_with_budget(
                &mut module_files,
                &call.dir,
                context,
                Inputs::Call(call.arguments),
                &state.budget,
            );
            state
                .diagnostics
                .extend(diagnostics.into_iter().map(|mut d| {
                    d.message = format!("in {}: {}", call.chain, d.message);
                    d
                }));
            state.cache.insert(cache_key, module_files.clone());
            module_files
        }
    };
    if files.is_empty() {
        return;
    }
    // Every instance is a copy of the module's files: counted, so fan-out
    // (a module calling another twice, eight deep) stays within budget.
    if !charge_files(&files, &state.budget) {
        state.diagnostics.push(Diagnostic::error(
            &call.at.0,
            call.at.1,
            1,
            format!(
                "{}: the module instances' evaluation budget is spent ({}); not instantiated",
                call.chain,
                state.budget.spent_on()
            ),
        ));
        return;
    }
    for f in &mut files {
        f.module = Some(call.chain.clone());
        // The outermost call is what the user wrote in the scanned module.
        f.module_call = state.outermost.clone().or_else(|| Some(call.at.clone()));
    }
    let nested = calls(
        &files,
        &call.dir,
        Some((&call.chain, &call.key)),
        &state.manifest,
        &mut state.unresolved,
    );
    state.out.extend(files);
    state.chain_dirs.push(dir);
    for inner in nested {
        instantiate_call(inner, context, state);
    }
    state.chain_dirs.pop();
}

/// Counts the documents of `files` against `budget`; false when spent.
fn charge_files(files: &[LoadedFile], budget: &Budget) -> bool {
    files
        .iter()
        .flat_map(|f| &f.documents)
        .all(|doc| budget.charge_copies(doc, 1))
}

/// `a/./b/../c` as `a/c`, without touching the file system, so module
/// files are displayed as a user would write their path.
pub fn normalize(path: &Path) -> PathBuf {
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

/// Arguments of a `module` block that are not module inputs.
const META_ARGUMENTS: [&str; 7] = [
    INSTANCE_KEY,
    "source",
    "version",
    "count",
    "for_each",
    "providers",
    "depends_on",
];

/// The module calls written in `files` (a module's files) whose source is
/// a local path or a module `terraform init` downloaded, with their
/// arguments as evaluated there. `parent` is the caller's (chain, key).
fn calls(
    files: &[LoadedFile],
    dir: &Path,
    parent: Option<(&str, &str)>,
    manifest: &[(String, PathBuf)],
    unresolved: &mut Vec<Unresolved>,
) -> Vec<Call> {
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
                        let key = match parent {
                            Some((_, k)) => format!("{k}.{}", entry.key),
                            None => entry.key.clone(),
                        };
                        let module_dir = if source.starts_with("./") || source.starts_with("../") {
                            normalize(&dir.join(source))
                        } else {
                            match manifest.iter().find(|(k, _)| *k == key) {
                                Some((_, d)) => d.clone(),
                                None => {
                                    unresolved.push(Unresolved {
                                        source: source.to_string(),
                                        at: (f.display.clone(), entry.key_span.start_line),
                                    });
                                    continue;
                                }
                            }
                        };
                        // `count = 0` and an empty `for_each` left no
                        // instance body: nothing is called. An instance
                        // is named by its key (`module.a["k"]`).
                        let instance = body.get(INSTANCE_KEY).and_then(Node::as_str).unwrap_or("");
                        let arguments = body
                            .as_object()
                            .map(|o| {
                                o.entries
                                    .iter()
                                    .filter(|a| !META_ARGUMENTS.contains(&a.key.as_str()))
                                    .map(|a| (a.key.clone(), a.value.clone()))
                                    .collect()
                            })
                            .unwrap_or_default();
                        let name = format!("module.{}{instance}", entry.key);
                        out.push(Call {
                            chain: match parent {
                                Some((c, _)) => format!("{c}.{name}"),
                                None => name,
                            },
                            key,
                            source: source.to_string(),
                            dir: module_dir,
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
