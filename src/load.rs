//! From found files to parsed units: group files into scan units, read each
//! file once, decide its platform from name and content, parse it.
//!
//! A unit is the work one thread does at a time: a Terraform module
//! directory (all its `.tf` and `.tf.json` files, since variables, locals and
//! references cross files) or a single file of any other platform. A unit is
//! loaded, used and dropped, so memory does not grow with the tree.

use std::path::{Path, PathBuf};

use crate::detect;
use crate::diagnostic::Diagnostic;
use crate::discover::{Candidate, FoundFile};
use crate::parse::{self, Parsed, json::Strings};
use crate::platform::Platform;
use crate::source::{ReadError, SourceText, read_source};
use crate::tree::{LineIndex, Node};

/// Files scanned together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// The files, sorted by display path.
    pub files: Vec<FoundFile>,
}

/// How to read files.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Files larger than this many bytes are reported and not read.
    pub max_file_size: u64,
    /// Terraform variable values from the command line.
    pub terraform: std::sync::Arc<crate::eval::module::TerraformInputs>,
    /// Module directories already parsed, shared by every unit of a scan:
    /// the root module of a repository is called by each of its examples.
    pub parsed_modules: std::sync::Arc<crate::eval::modules::ParsedModules>,
}

impl LoadOptions {
    /// Options with this size cap and no Terraform inputs.
    pub fn with_max_file_size(max_file_size: u64) -> Self {
        LoadOptions {
            max_file_size,
            terraform: Default::default(),
            parsed_modules: Default::default(),
        }
    }
}

/// A file that was read and recognised.
#[derive(Clone, Debug)]
pub struct LoadedFile {
    /// The path as reports show it.
    pub display: String,
    /// The platform its content belongs to.
    pub platform: Platform,
    /// Its text (kept for source snippets in reports).
    pub source: SourceText,
    /// The documents that parsed; those that are not of the platform (a
    /// YAML stream's ConfigMap-less junk) are left out.
    pub documents: Vec<Node>,
    /// For a Terraform file read as part of a module call: the call chain
    /// (`module.network.module.sg`) its entities are named under.
    pub module: Option<String>,
    /// For a module instance: where the call that made it is written
    /// (file, line), shown beside its findings.
    pub module_call: Option<(String, u32)>,
}

/// The result of loading one unit.
#[derive(Debug, Default)]
pub struct LoadedUnit {
    /// Recognised files, in the unit's order.
    pub files: Vec<LoadedFile>,
    /// What could not be read or parsed, and deliberate skips.
    pub diagnostics: Vec<Diagnostic>,
    /// Bytes read, recognised or not.
    pub bytes_read: u64,
    /// The platforms of files recognised but with no document read (every
    /// document failed to parse), for the summary's counts.
    pub unparsed: Vec<Platform>,
}

/// Groups found files into units: Terraform files by directory, every other
/// file alone. Units come out in display-path order.
pub fn units(files: Vec<FoundFile>) -> Vec<Unit> {
    let mut terraform: Vec<(PathBuf, Vec<FoundFile>)> = Vec::new();
    let mut units = Vec::new();
    for file in files {
        if matches!(
            file.candidate,
            Candidate::TerraformHcl | Candidate::TerraformJson
        ) {
            let dir = file.path.parent().unwrap_or(Path::new("")).to_path_buf();
            match terraform.last_mut() {
                // Files arrive sorted, so a directory's files are adjacent
                // unless a subdirectory sorts between them.
                Some((d, group)) if *d == dir => group.push(file),
                _ => match terraform.iter_mut().find(|(d, _)| *d == dir) {
                    Some((_, group)) => group.push(file),
                    None => terraform.push((dir, vec![file])),
                },
            }
        } else {
            units.push(Unit { files: vec![file] });
        }
    }
    units.extend(terraform.into_iter().map(|(_, files)| Unit { files }));
    units.sort_by(|a, b| first_display(a).cmp(first_display(b)));
    units
}

fn first_display(unit: &Unit) -> &str {
    unit.files.first().map_or("", |f| f.display.as_str())
}

/// Reads and parses every file of a unit, and evaluates a Terraform
/// module's expressions with its variables and locals.
pub fn load_unit(unit: &Unit, options: &LoadOptions) -> LoadedUnit {
    let mut loaded = LoadedUnit::default();
    for file in &unit.files {
        load_file(file, options, &mut loaded);
    }
    if let Some(first) = unit.files.first()
        && loaded
            .files
            .iter()
            .any(|f| f.platform == Platform::Terraform)
    {
        let dir = first.path.parent().unwrap_or(Path::new("."));
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let inputs = crate::eval::module::Inputs::Root(&options.terraform);
        let diagnostics =
            crate::eval::module::evaluate(&mut loaded.files, dir, &options.terraform.roots, inputs);
        loaded.diagnostics.extend(diagnostics);
        crate::eval::modules::instantiate(&mut loaded, dir, options);
    }
    loaded
}

pub(crate) fn load_file(file: &FoundFile, options: &LoadOptions, out: &mut LoadedUnit) {
    let source = match read_source(&file.path, options.max_file_size) {
        Ok(source) => source,
        Err(err) => {
            out.diagnostics.extend(unread(file, &err));
            return;
        }
    };
    out.bytes_read += source.text.len() as u64 + u64::from(source.bom_len);
    let Some((platform, syntax)) = decide(file, &source.text) else {
        if file.is_explicit() {
            out.diagnostics.push(Diagnostic::notice(
                &file.display,
                0,
                0,
                "not a Terraform, Kubernetes, CloudFormation or Dockerfile file; skipped",
            ));
        }
        return;
    };
    let index = LineIndex::with_base(&source.text, source.bom_len);
    let parsed = match syntax {
        Syntax::Hcl => parse::hcl::parse(&source.text, &index),
        Syntax::TerraformJson => {
            parse::json::parse(&source.text, &index, Strings::TerraformTemplates)
        }
        Syntax::Json => parse::json::parse(&source.text, &index, Strings::Plain),
        Syntax::Yaml => parse::yaml::parse(&source.text, &index),
        Syntax::Dockerfile => parse::dockerfile::parse(&source.text, &index),
    };
    let Parsed { documents, errors } = parsed;
    let had_errors = !errors.is_empty();
    for err in errors {
        out.diagnostics.push(Diagnostic::error(
            &file.display,
            err.line,
            err.column,
            err.message,
        ));
    }
    let model = platform.model();
    let documents: Vec<Node> = documents.into_iter().filter(|d| model.accepts(d)).collect();
    if documents.is_empty() {
        if had_errors {
            // Counted as what it was read as, so the summary says what the
            // parse errors are about.
            out.unparsed.push(platform);
        }
        // Either the parse errors above say why, or the text looked like IaC
        // but no document is: not ours, said only if the user named the file.
        if file.is_explicit() && !had_errors {
            out.diagnostics.push(Diagnostic::notice(
                &file.display,
                0,
                0,
                format!("no {platform} document found; skipped"),
            ));
        }
        return;
    }
    out.files.push(LoadedFile {
        display: file.display.clone(),
        platform,
        source,
        documents,
        module: None,
        module_call: None,
    });
}

/// The diagnostic for a file that could not be read, if it deserves one.
///
/// Every file that could be IaC and is not read is named (issue 21, item
/// 2): a file named on the command line, a Terraform file or a Dockerfile,
/// and any file that is not a regular file or that the system refused. A
/// `.yaml`, `.yml`, `.json` or `.template` found by walking may be anything
/// (a lockfile, a data set), so its first bytes decide: when they look like
/// Kubernetes or CloudFormation, it is an error; otherwise a file that is
/// too large is left out silently (a big `package-lock.json` is not IaC)
/// and a badly encoded one gets a notice (text that no tool can read is
/// worth a word).
fn unread(file: &FoundFile, err: &ReadError) -> Option<Diagnostic> {
    let (line, column) = match err {
        ReadError::NotUtf8 { line, column } => (*line, *column),
        _ => (0, 0),
    };
    let error = || Diagnostic::error(&file.display, line, column, err.to_string());
    let structured = matches!(file.candidate, Candidate::Yaml | Candidate::JsonOrYaml);
    if file.is_explicit() || !structured || !(err.is_encoding() || is_too_large(err)) {
        return Some(error());
    }
    let looks_like_iac = crate::source::read_head_lossy(&file.path)
        .is_ok_and(|head| detect::sniff_structured(&head).is_some());
    if looks_like_iac {
        Some(error())
    } else if err.is_encoding() {
        Some(Diagnostic::notice(
            &file.display,
            line,
            column,
            format!("{err}; skipped"),
        ))
    } else {
        None
    }
}

fn is_too_large(err: &ReadError) -> bool {
    matches!(err, ReadError::TooLarge { .. })
}

/// The syntax a file is parsed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Syntax {
    Hcl,
    TerraformJson,
    Json,
    Yaml,
    Dockerfile,
}

/// Decides platform and syntax from the name's candidate and the content.
fn decide(file: &FoundFile, text: &str) -> Option<(Platform, Syntax)> {
    let structured = |text: &str| {
        let platform = detect::sniff_structured(text)?;
        let syntax = if detect::is_json(text) {
            Syntax::Json
        } else {
            Syntax::Yaml
        };
        Some((platform, syntax))
    };
    match file.candidate {
        Candidate::TerraformHcl => Some((Platform::Terraform, Syntax::Hcl)),
        Candidate::TerraformJson => Some((Platform::Terraform, Syntax::TerraformJson)),
        Candidate::Dockerfile => Some((Platform::Dockerfile, Syntax::Dockerfile)),
        Candidate::Yaml | Candidate::JsonOrYaml => structured(text),
        Candidate::Unknown => structured(text).or_else(|| {
            detect::looks_like_dockerfile(text)
                .then_some((Platform::Dockerfile, Syntax::Dockerfile))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(path: &str, candidate: Candidate) -> FoundFile {
        FoundFile {
            path: PathBuf::from(path),
            display: path.to_string(),
            candidate,
            origin: crate::discover::Origin::Walked,
        }
    }

    #[test]
    fn terraform_files_group_by_directory() {
        let units = units(vec![
            found("a/main.tf", Candidate::TerraformHcl),
            found("a/sub/x.tf", Candidate::TerraformHcl),
            found("a/vars.tf.json", Candidate::TerraformJson),
            found("b/Dockerfile", Candidate::Dockerfile),
            found("b/k.yaml", Candidate::Yaml),
        ]);
        let shape: Vec<Vec<&str>> = units
            .iter()
            .map(|u| u.files.iter().map(|f| f.display.as_str()).collect())
            .collect();
        assert_eq!(
            shape,
            vec![
                vec!["a/main.tf", "a/vars.tf.json"],
                vec!["a/sub/x.tf"],
                vec!["b/Dockerfile"],
                vec!["b/k.yaml"],
            ]
        );
    }
}
