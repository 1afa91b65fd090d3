//! A Terraform module made of the input: parsed, evaluated (variables,
//! locals, functions, `for`, templates) and scanned with every built-in
//! query, without a panic. Evaluation may read nothing from disk: the module
//! directory does not exist and no scan root is given, so `file()` and
//! tfvars find nothing.

#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rampart::load::{LoadOptions, LoadedUnit};
use rampart::platform::terraform::eval::module::{Inputs, evaluate};
use rampart::platform::{LoadedFile, Platform};
use rampart::query::engine::run_unit;
use rampart::query::registry::Registry;
use rampart::tree::{LineIndex, SourceText};

/// The built-in queries, compiled once for the whole run.
fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let no_dirs: &[&Path] = &[];
        match Registry::load(true, no_dirs) {
            Ok(registry) => registry,
            Err(errors) => panic!("the built-in queries do not load: {errors:?}"),
        }
    })
}

fuzz_target!(|bytes: &[u8]| {
    let Some(text) = rampart_fuzz::text_of(bytes) else {
        return;
    };
    let index = LineIndex::new(&text);
    let parsed = rampart::parse::hcl::parse(&text, &index);
    if parsed.documents.is_empty() {
        return;
    }
    let mut unit = LoadedUnit {
        files: vec![LoadedFile {
            display: "main.tf".to_string(),
            platform: Platform::Terraform,
            source: SourceText {
                text: text.clone(),
                bom_len: 0,
            },
            documents: parsed.documents,
            streamed: false,
            derived: false,
            module: None,
            module_call: None,
        }],
        ..LoadedUnit::default()
    };
    let dir = Path::new("/nonexistent/rampart-fuzz-module");
    // No scan roots: `file()` and `templatefile()` read nothing.
    let options = LoadOptions::with_max_file_size(1 << 20);
    evaluate(&mut unit.files, dir, &options.terraform, Inputs::Root);
    let result = run_unit(registry(), &unit, None);
    for finding in &result.findings {
        assert!(
            finding.span.end as usize <= text.len() || finding.span == Default::default(),
            "finding {} points past the end: {:?}",
            finding.query_id,
            finding.span
        );
    }
});
