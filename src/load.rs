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
use crate::platform::{Platform, cloudformation, kubernetes};
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
    /// A Kubernetes stream over [`STREAM_BATCH_BYTES`]: its documents are
    /// not parsed at load (`documents` is empty) but read a batch at a time
    /// by whoever runs queries over it ([`read_streamed`]), or all at once
    /// by [`read_streamed_whole`].
    pub streamed: bool,
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
            // A `.yaml` that is binary or huge is not worth a diagnostic
            // unless the user named it: most such files are not IaC.
            let quiet = !file.is_explicit()
                && matches!(file.candidate, Candidate::Yaml | Candidate::JsonOrYaml)
                && !matches!(err, ReadError::Io(_));
            if !quiet {
                let (line, column) = match err {
                    ReadError::NotUtf8 { line, column } => (line, column),
                    _ => (0, 0),
                };
                out.diagnostics.push(Diagnostic::error(
                    &file.display,
                    line,
                    column,
                    err.to_string(),
                ));
            }
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
    if platform == Platform::Kubernetes
        && syntax == Syntax::Yaml
        && source.text.len() > STREAM_BATCH_BYTES
    {
        // Its trees would take some twenty times its size if held whole
        // (issue 21, item 14): read when queries run, a batch at a time.
        out.files.push(LoadedFile {
            display: file.display.clone(),
            platform,
            source,
            documents: Vec::new(),
            streamed: true,
            module: None,
            module_call: None,
        });
        return;
    }
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
    let documents: Vec<Node> = match platform {
        Platform::Kubernetes => documents
            .into_iter()
            .filter(|d| kubernetes::object_kind(d).is_some())
            .collect(),
        Platform::CloudFormation => documents
            .into_iter()
            .filter(cloudformation::is_template)
            .collect(),
        Platform::Terraform | Platform::Dockerfile => documents,
    };
    if documents.is_empty() {
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
        streamed: false,
        module: None,
        module_call: None,
    });
}

/// Kubernetes streams larger than this many bytes are read and queried a
/// batch of documents of about this size at a time, so memory follows one
/// batch's trees (plus the text, which reports quote), not the stream's.
pub const STREAM_BATCH_BYTES: usize = 256 * 1024;

/// Reads a streamed file ([`LoadedFile::streamed`]) for `run`: first the
/// documents holding entities of `context_kinds` (what relations look for,
/// kept in view of every batch), then every document a batch at a time.
/// Returns what `run` returned, the parse errors as diagnostics, and the
/// number of documents read.
pub fn read_streamed<R>(
    file: &LoadedFile,
    context_kinds: &[String],
    run: impl FnOnce(&[Node], &mut dyn Iterator<Item = Vec<Node>>) -> R,
) -> (R, Vec<Diagnostic>, usize) {
    let text = &file.source.text;
    let index = LineIndex::with_base(text, file.source.bom_len);
    let stream = parse::yaml::Stream::new(text, &index);
    let context = context_documents(&stream, file.platform, context_kinds);
    let mut batches = Batches {
        stream: &stream,
        next: 0,
        budget: parse::yaml::Budget::for_text(text),
        errors: Vec::new(),
        documents: 0,
    };
    let result = run(&context, &mut batches);
    let diagnostics = batches
        .errors
        .into_iter()
        .map(|e| Diagnostic::error(&file.display, e.line, e.column, e.message))
        .collect();
    (result, diagnostics, batches.documents)
}

/// Parses the documents of the streamed files of `unit` at once, for
/// commands that show every tree (`inspect`); a file with no Kubernetes
/// document left is dropped, as [`load_file`] drops it.
pub fn read_streamed_whole(unit: &mut LoadedUnit) {
    for file in unit.files.iter_mut().filter(|f| f.streamed) {
        let index = LineIndex::with_base(&file.source.text, file.source.bom_len);
        let Parsed { documents, errors } = parse::yaml::parse(&file.source.text, &index);
        for e in errors {
            let d = Diagnostic::error(&file.display, e.line, e.column, e.message);
            unit.diagnostics.push(d);
        }
        file.documents = documents
            .into_iter()
            .filter(|d| kubernetes::object_kind(d).is_some())
            .collect();
        file.streamed = false;
    }
    unit.files
        .retain(|f| f.platform != Platform::Kubernetes || !f.documents.is_empty());
}

/// The documents of a stream holding an entity of one of `kinds`. A piece
/// whose text cannot name the object kind a selector asks for (no
/// `ServiceAccount` in it, and no escape that could spell it) is not parsed.
fn context_documents(
    stream: &parse::yaml::Stream<'_>,
    platform: Platform,
    kinds: &[String],
) -> Vec<Node> {
    let mut kept = Vec::new();
    if kinds.is_empty() {
        return kept;
    }
    let names: Option<Vec<&str>> = kinds.iter().map(|k| k.strip_prefix("object.")).collect();
    let mut budget = parse::yaml::Budget::for_text(stream.text());
    for i in 0..stream.len() {
        let piece = stream.piece_text(i);
        if let Some(names) = &names
            && !piece.contains('\\')
            && !names.iter().any(|name| piece.contains(name))
        {
            continue;
        }
        stream.read(i..i + 1, &mut budget, |doc| {
            let wanted = crate::platform::entities(platform, std::slice::from_ref(&doc))
                .iter()
                .any(|e| {
                    kinds
                        .iter()
                        .any(|k| crate::query::condition::kind_matches(k, &e.kind))
                });
            if wanted {
                kept.push(doc);
            }
        });
    }
    kept
}

/// A streamed file's Kubernetes documents, about [`STREAM_BATCH_BYTES`] of
/// source at a time, with the parse errors met on the way.
struct Batches<'s, 'a> {
    stream: &'s parse::yaml::Stream<'a>,
    /// The next piece to read.
    next: usize,
    budget: parse::yaml::Budget,
    errors: Vec<crate::parse::ParseError>,
    /// Documents handed out.
    documents: usize,
}

impl Iterator for Batches<'_, '_> {
    type Item = Vec<Node>;

    fn next(&mut self) -> Option<Vec<Node>> {
        if self.next >= self.stream.len() {
            return None;
        }
        let start = self.next;
        let mut bytes = 0;
        while self.next < self.stream.len() && (self.next == start || bytes < STREAM_BATCH_BYTES) {
            bytes += self.stream.piece_text(self.next).len();
            self.next += 1;
        }
        let mut batch = Vec::new();
        let errors = self.stream.read(start..self.next, &mut self.budget, |doc| {
            if kubernetes::object_kind(&doc).is_some() {
                batch.push(doc);
            }
        });
        self.errors.extend(errors);
        self.documents += batch.len();
        Some(batch)
    }
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
        let syntax = if text.trim_start().starts_with('{') {
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
